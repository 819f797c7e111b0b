//! Forced alignment of the reference phones to CTC log-posteriors, with a
//! skip path over each word (→ Omission) and a garbage loop between words
//! (→ Insertion).
//!
//! The graph, per word: phone states (each a class of accepted tokens) with
//! optional blank states between them, CTC style. Between words (and before
//! the first, after the last) sits a gap made of a blank state and a garbage
//! state; garbage emits "any phone" at a per-frame cost, so speech that
//! matches no reference word is cheaper there than forced into blanks or a
//! neighbouring word. Skipping word j costs a fixed penalty plus a per-phone
//! penalty; it is an epsilon move from gap j to gap j+1. Viterbi finds the
//! best path.

/// Tunable costs, in nats (log-probability units).
#[derive(Debug, Clone, Copy)]
pub struct AlignCosts {
    /// Per frame spent in the garbage loop.
    pub garbage_per_frame: f32,
    /// Once per entry into the garbage loop.
    pub garbage_entry: f32,
    /// Fixed part of skipping a word.
    pub skip_word: f32,
    /// Per phone of a skipped word.
    pub skip_per_phone: f32,
}

impl Default for AlignCosts {
    fn default() -> Self {
        Self {
            // Chosen on the synthetic evaluation set (eval/, see
            // BENCHMARKS.md): lower costs find more omissions and insertions
            // and invent more of them.
            garbage_per_frame: 1.0,
            garbage_entry: 3.0,
            skip_word: 4.0,
            skip_per_phone: 2.0,
        }
    }
}

/// Per-word and per-gap corrections to [`AlignCosts`], in nats, from
/// evidence outside the acoustic model (the transcript cross-check). Costs
/// never go below zero.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CostBias {
    /// Added to the cost of skipping word j (missing entries: 0).
    pub skip: Vec<f32>,
    /// Added to the garbage entry cost in gap j (missing entries: 0).
    pub garbage_entry: Vec<f32>,
}

/// One frame's log-probabilities, reduced to what the graph needs.
pub struct FrameScores {
    /// Per phone class (indexed like `AlignInput::classes`): log of the summed
    /// probability of the class's tokens.
    pub class: Vec<f32>,
    /// log p(blank or word boundary).
    pub blank: f32,
    /// Best single non-blank token's log p.
    pub best_phone: f32,
}

/// Where a phone landed: frames `[start, end)`, and the frame inside where
/// the expected class was most probable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PhoneSpan {
    pub start: usize,
    pub end: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub enum WordAlignment {
    Spoken { phones: Vec<PhoneSpan> },
    Skipped,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Alignment {
    pub words: Vec<WordAlignment>,
    /// Garbage runs: (gap index, start frame, end frame). Gap j is before
    /// word j; gap n is after the last word.
    pub garbage: Vec<(usize, usize, usize)>,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Kind {
    GapBlank(usize),
    Garbage(usize),
    /// (word, phone index, class index)
    Phone(usize, usize, usize),
    /// Blank between phone m and m+1 of a word.
    InnerBlank(usize),
}

/// A back-pointer is one byte per state and frame (a 5-minute take has
/// ~15,000 frames and ~9,000 states): the index of the predecessor in the
/// state's list, or one of these.
const NONE: u8 = u8::MAX;
/// From the previous gap in the same frame (the word between skipped).
const SKIPPED_TO: u8 = u8::MAX - 1;

/// Aligns `words` (each a list of class indices into the frame scores) to
/// the frames.
pub fn align(frames: &[FrameScores], words: &[Vec<usize>], costs: &AlignCosts) -> Alignment {
    align_biased(frames, words, costs, &CostBias::default())
}

/// [`align`] with the skip and garbage costs corrected word by word.
pub fn align_biased(
    frames: &[FrameScores],
    words: &[Vec<usize>],
    costs: &AlignCosts,
    bias: &CostBias,
) -> Alignment {
    let n = words.len();
    let garbage_entry = |gap: usize| {
        (costs.garbage_entry + bias.garbage_entry.get(gap).copied().unwrap_or(0.0)).max(0.0)
    };
    // Build states and predecessor lists (with transition costs).
    let mut kinds: Vec<Kind> = Vec::new();
    let mut gap_blank = Vec::with_capacity(n + 1);
    let mut garbage = Vec::with_capacity(n + 1);
    let mut word_phones: Vec<Vec<usize>> = Vec::with_capacity(n);
    for j in 0..=n {
        gap_blank.push(kinds.len());
        kinds.push(Kind::GapBlank(j));
        garbage.push(kinds.len());
        kinds.push(Kind::Garbage(j));
        if let Some(word) = words.get(j) {
            let mut ids = Vec::new();
            for (m, &class) in word.iter().enumerate() {
                if m > 0 {
                    kinds.push(Kind::InnerBlank(j));
                }
                ids.push(kinds.len());
                kinds.push(Kind::Phone(j, m, class));
            }
            word_phones.push(ids);
        }
    }
    let states = kinds.len();
    let mut preds: Vec<Vec<(usize, f32)>> = vec![Vec::new(); states];
    for j in 0..=n {
        let (gb, gg) = (gap_blank[j], garbage[j]);
        preds[gb].push((gb, 0.0));
        preds[gb].push((gg, 0.0));
        preds[gg].push((gg, 0.0));
        preds[gg].push((gb, -garbage_entry(j)));
        if let Some(&last) = j.checked_sub(1).and_then(|p| word_phones[p].last()) {
            preds[gb].push((last, 0.0));
            preds[gg].push((last, -garbage_entry(j)));
        }
        if j < n {
            let phones = &word_phones[j];
            let Some(&first) = phones.first() else {
                continue;
            };
            preds[first].push((gb, 0.0));
            preds[first].push((gg, 0.0));
            // Straight from the previous word's last phone, when the two
            // phones differ (CTC needs a blank between repeats).
            if let Some(&prev_last) = j.checked_sub(1).and_then(|p| word_phones[p].last())
                && class_of(kinds[prev_last]) != class_of(kinds[first])
            {
                preds[first].push((prev_last, 0.0));
            }
            for (m, &p) in phones.iter().enumerate() {
                preds[p].push((p, 0.0));
                if m > 0 {
                    let prev = phones[m - 1];
                    let blank = p - 1; // the InnerBlank pushed just before
                    preds[blank].push((blank, 0.0));
                    preds[blank].push((prev, 0.0));
                    preds[p].push((blank, 0.0));
                    if class_of(kinds[prev]) != class_of(kinds[p]) {
                        preds[p].push((prev, 0.0));
                    }
                }
            }
        }
    }
    debug_assert!(preds.iter().all(|p| p.len() < usize::from(SKIPPED_TO)));
    let skip_cost: Vec<f32> = words
        .iter()
        .enumerate()
        .map(|(j, w)| {
            let base = costs.skip_word + costs.skip_per_phone * w.len() as f32;
            (base + bias.skip.get(j).copied().unwrap_or(0.0)).max(0.0)
        })
        .collect();

    let emit = |s: usize, f: &FrameScores| -> f32 {
        match kinds[s] {
            Kind::GapBlank(_) | Kind::InnerBlank(_) => f.blank,
            Kind::Garbage(_) => f.best_phone.max(f.blank) - costs.garbage_per_frame,
            Kind::Phone(_, _, c) => f.class[c],
        }
    };

    // Viterbi. `back[t][s]` is the predecessor state at t-1, or a same-frame
    // predecessor when tagged SAME_FRAME.
    let mut score = vec![f32::NEG_INFINITY; states];
    let mut back: Vec<Vec<u8>> = Vec::with_capacity(frames.len());
    // Before the first frame: in gap 0, or (by skipping) in a later gap.
    score[gap_blank[0]] = 0.0;
    let mut init_back = vec![NONE; states];
    skip_pass(&mut score, &mut init_back, &gap_blank, &skip_cost);
    let mut next = vec![f32::NEG_INFINITY; states];
    for f in frames {
        let mut bp = vec![NONE; states];
        for s in 0..states {
            let mut best = f32::NEG_INFINITY;
            let mut arg = NONE;
            for (i, &(p, cost)) in preds[s].iter().enumerate() {
                let v = score[p] + cost;
                if v > best {
                    best = v;
                    arg = i as u8;
                }
            }
            next[s] = best + emit(s, f);
            bp[s] = arg;
        }
        skip_pass(&mut next, &mut bp, &gap_blank, &skip_cost);
        std::mem::swap(&mut score, &mut next);
        back.push(bp);
    }

    // Best final state: the last gap, or the last word's last phone.
    let mut finals = vec![gap_blank[n], garbage[n]];
    if let Some(&last) = word_phones.last().and_then(|w| w.last()) {
        finals.push(last);
    }
    let mut current = finals
        .into_iter()
        .max_by(|a, b| score[*a].total_cmp(&score[*b]))
        .unwrap_or(gap_blank[n]);

    // Trace back into a per-frame state path, noting skipped words.
    let mut path = vec![0usize; frames.len()];
    let mut skipped = vec![false; n];
    let mut follow_skips = |bp: &[u8], mut state: usize| {
        while bp[state] == SKIPPED_TO {
            let Kind::GapBlank(j) = kinds[state] else {
                break;
            };
            // Gap j was reached from gap j − 1: word j − 1 was skipped.
            let Some(word) = j.checked_sub(1) else { break };
            skipped[word] = true;
            state = gap_blank[word];
        }
        state
    };
    for t in (0..frames.len()).rev() {
        current = follow_skips(&back[t], current);
        path[t] = current;
        match back[t][current] {
            NONE => break,
            i => match preds[current].get(usize::from(i)) {
                Some(&(from, _)) => current = from,
                None => break,
            },
        }
    }
    // Skips taken before the first frame.
    follow_skips(&init_back, current);

    collect(&path, &kinds, &word_phones, &skipped, n)
}

fn class_of(kind: Kind) -> Option<usize> {
    match kind {
        Kind::Phone(_, _, c) => Some(c),
        _ => None,
    }
}

/// Epsilon moves gap j → gap j+1 (skipping word j), in order so that
/// several words can be skipped at once.
fn skip_pass(score: &mut [f32], bp: &mut [u8], gap_blank: &[usize], skip_cost: &[f32]) {
    for j in 0..skip_cost.len() {
        let (from, to) = (gap_blank[j], gap_blank[j + 1]);
        let v = score[from] - skip_cost[j];
        if v > score[to] {
            score[to] = v;
            bp[to] = SKIPPED_TO;
        }
    }
}

fn collect(
    path: &[usize],
    kinds: &[Kind],
    word_phones: &[Vec<usize>],
    skipped: &[bool],
    n: usize,
) -> Alignment {
    let mut phone_spans: Vec<Vec<Option<PhoneSpan>>> =
        word_phones.iter().map(|w| vec![None; w.len()]).collect();
    let mut garbage_runs = Vec::new();
    let mut t = 0;
    while t < path.len() {
        let s = path[t];
        let mut end = t + 1;
        while end < path.len() && path[end] == s {
            end += 1;
        }
        match kinds[s] {
            Kind::Phone(w, m, _) => {
                phone_spans[w][m] = Some(PhoneSpan { start: t, end });
            }
            Kind::Garbage(j) => garbage_runs.push((j, t, end)),
            _ => {}
        }
        t = end;
    }
    let words = (0..n)
        .map(|w| {
            let spans: Option<Vec<PhoneSpan>> = phone_spans[w].iter().copied().collect();
            match spans {
                Some(phones) if !skipped[w] && !phones.is_empty() => {
                    WordAlignment::Spoken { phones }
                }
                _ => WordAlignment::Skipped,
            }
        })
        .collect();
    Alignment {
        words,
        garbage: garbage_runs,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// Frames from a symbolic script: Some(class) = that class is certain,
    /// None = blank. Two classes (0 and 1) plus an unknown phone (2) that no
    /// word uses.
    fn frames(script: &[Option<usize>]) -> Vec<FrameScores> {
        let low = -12.0;
        script
            .iter()
            .map(|s| match s {
                None => FrameScores {
                    class: vec![low, low, low],
                    blank: -0.01,
                    best_phone: low,
                },
                Some(c) => {
                    let mut class = vec![low, low, low];
                    class[*c] = -0.01;
                    FrameScores {
                        class,
                        blank: low,
                        best_phone: -0.01,
                    }
                }
            })
            .collect()
    }

    #[test]
    fn aligns_all_words_when_all_are_spoken() {
        let f = frames(&[None, Some(0), None, Some(1), None, Some(0), Some(1), None]);
        let a = align(&f, &[vec![0, 1], vec![0, 1]], &AlignCosts::default());
        assert_eq!(a.words.len(), 2);
        let WordAlignment::Spoken { phones } = &a.words[0] else {
            panic!("first word skipped: {a:?}")
        };
        assert_eq!(phones[0].start, 1);
        assert!(matches!(a.words[1], WordAlignment::Spoken { .. }));
        assert!(a.garbage.is_empty());
    }

    /// Two words of classes [0, 1], one after the other.
    fn first_and_last_spoken() -> Vec<FrameScores> {
        frames(&[
            None,
            Some(0),
            None,
            Some(1),
            None,
            None,
            Some(0),
            None,
            Some(1),
            None,
        ])
    }

    #[test]
    fn a_missing_word_is_skipped() {
        // Reference: [0,1] [1,0,1,0] [0,1]; spoken: first and last only.
        let f = first_and_last_spoken();
        let a = align(
            &f,
            &[vec![0, 1], vec![1, 0, 1, 0], vec![0, 1]],
            &AlignCosts::default(),
        );
        assert!(matches!(a.words[0], WordAlignment::Spoken { .. }));
        assert_eq!(a.words[1], WordAlignment::Skipped);
        assert!(matches!(a.words[2], WordAlignment::Spoken { .. }));
    }

    #[test]
    fn two_missing_words_in_a_row_are_both_skipped() {
        // Reference: [0,1] [1,0,1,0] [1,0,1,0] [0,1]; spoken: first and last.
        let f = first_and_last_spoken();
        let a = align(
            &f,
            &[vec![0, 1], vec![1, 0, 1, 0], vec![1, 0, 1, 0], vec![0, 1]],
            &AlignCosts::default(),
        );
        assert!(matches!(a.words[0], WordAlignment::Spoken { .. }));
        assert_eq!(a.words[1], WordAlignment::Skipped);
        assert_eq!(a.words[2], WordAlignment::Skipped);
        assert!(matches!(a.words[3], WordAlignment::Spoken { .. }));
    }

    #[test]
    fn a_leading_missing_word_is_skipped() {
        let f = frames(&[None, Some(0), None, Some(1), None]);
        let a = align(&f, &[vec![1, 0, 1, 0], vec![0, 1]], &AlignCosts::default());
        assert_eq!(a.words[0], WordAlignment::Skipped);
        assert!(matches!(a.words[1], WordAlignment::Spoken { .. }));
    }

    #[test]
    fn a_bias_moves_the_decision_between_skipping_and_speaking() {
        // The middle word's phones are spoken only faintly: a class-1 frame
        // among blanks, where the word expects 1, 0, 1, 0.
        let faint = |c: Option<usize>, p: f32| {
            let mut f = frames(&[c]).remove(0);
            if let Some(c) = c {
                f.class[c] = p;
            }
            f
        };
        let mut f = frames(&[None, Some(0), None, Some(1), None]);
        f.push(faint(Some(1), -4.0));
        f.extend(frames(&[None, Some(0), None, Some(1), None]));
        let words = [vec![0, 1], vec![1, 0, 1, 0], vec![0, 1]];
        let costs = AlignCosts::default();
        let plain = align(&f, &words, &costs);
        let cheaper = CostBias {
            skip: vec![0.0, -20.0, 0.0],
            garbage_entry: Vec::new(),
        };
        let dearer = CostBias {
            skip: vec![0.0, 20.0, 0.0],
            garbage_entry: Vec::new(),
        };
        assert_eq!(
            align_biased(&f, &words, &costs, &cheaper).words[1],
            WordAlignment::Skipped
        );
        assert!(matches!(
            align_biased(&f, &words, &costs, &dearer).words[1],
            WordAlignment::Spoken { .. }
        ));
        // With no bias the result is the unbiased alignment.
        assert_eq!(
            align_biased(&f, &words, &costs, &CostBias::default()),
            plain
        );
    }

    #[test]
    fn unknown_speech_between_words_is_garbage() {
        let f = frames(&[
            None,
            Some(0),
            None,
            Some(1),
            None,
            Some(2),
            Some(2),
            None,
            Some(2),
            Some(2),
            None,
            Some(0),
            None,
            Some(1),
            None,
        ]);
        let a = align(&f, &[vec![0, 1], vec![0, 1]], &AlignCosts::default());
        assert!(
            a.words
                .iter()
                .all(|w| matches!(w, WordAlignment::Spoken { .. }))
        );
        assert!(a.garbage.iter().any(|&(gap, _, _)| gap == 1), "{a:?}");
    }
}
