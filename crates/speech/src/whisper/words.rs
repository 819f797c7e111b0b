//! Word timestamps from the cross-attention alignment
//! (faster-whisper's `find_alignment` + `add_word_timestamps`).
//!
//! CTranslate2 aligns the window's text tokens (plus end-of-text) to the
//! encoder frames by DTW over the alignment heads' attention. A token
//! starts where the path first reaches its row; a word runs from its first
//! token's start to the next word's. Then the reference implementation's
//! clean-ups: punctuation joins its word, words at sentence ends and after
//! long pauses are cut to twice the median word length, and segment bounds
//! and word bounds are reconciled.

use super::vocab::Vocabulary;

/// Encoder frames (alignment columns) per second: 20 ms each.
const TOKENS_PER_SECOND: f64 = 50.0;
pub const PREPEND_PUNCTUATION: &str = "\"'“¿([{-";
pub const APPEND_PUNCTUATION: &str = "\"'.。,，!！?？:：”)]}、";
const SENTENCE_END_MARKS: &str = ".。!！?？";

/// One word as aligned; times in seconds from the window start, then (after
/// [`assign_words`]) from the file start.
#[derive(Debug, Clone, PartialEq)]
pub struct Word {
    pub text: String,
    pub tokens: Vec<usize>,
    pub start: f64,
    pub end: f64,
    pub probability: f32,
}

/// A segment of one window, times in seconds from the file start.
#[derive(Debug, Clone, PartialEq)]
pub struct TimedSegment {
    pub start: f64,
    pub end: f64,
    pub tokens: Vec<usize>,
    pub words: Vec<Word>,
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// Words of `text_tokens` with window-relative times from the DTW path
/// `alignments` (pairs of token row, encoder frame) and per-token
/// probabilities.
pub fn words_from_alignment(
    vocab: &Vocabulary,
    language: &str,
    text_tokens: &[usize],
    alignments: &[(i64, i64)],
    token_probs: &[f32],
) -> Vec<Word> {
    let mut ids = text_tokens.to_vec();
    ids.push(vocab.eot);
    let words = vocab.split_to_words(&ids, language);
    if words.len() <= 1 {
        return Vec::new();
    }
    let mut boundaries = Vec::with_capacity(words.len());
    boundaries.push(0usize);
    for (_, tokens) in &words[..words.len() - 1] {
        boundaries.push(boundaries[boundaries.len() - 1] + tokens.len());
    }
    let jump_times: Vec<f64> = alignments
        .iter()
        .enumerate()
        .filter(|&(k, &(row, _))| k == 0 || alignments[k - 1].0 != row)
        .map(|(_, &(_, frame))| frame as f64 / TOKENS_PER_SECOND)
        .collect();
    let mut out = Vec::with_capacity(words.len() - 1);
    for (w, (text, tokens)) in words.into_iter().enumerate().take(boundaries.len() - 1) {
        let (from, to) = (boundaries[w], boundaries[w + 1]);
        let (Some(&start), Some(&end)) = (jump_times.get(from), jump_times.get(to)) else {
            break;
        };
        let probs = token_probs.get(from..to).unwrap_or(&[]);
        let probability = if probs.is_empty() {
            0.0
        } else {
            probs.iter().sum::<f32>() / probs.len() as f32
        };
        out.push(Word {
            text,
            tokens,
            start,
            end,
            probability,
        });
    }
    out
}

fn median(values: &mut [f64]) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    values.sort_by(f64::total_cmp);
    let n = values.len();
    if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    }
}

/// Leading quotes and brackets join the next word, closing punctuation the
/// previous one; the emptied entries keep their place with no text.
pub fn merge_punctuation(words: &mut [Word]) {
    if words.len() >= 2 {
        let mut j = words.len() - 1;
        for i in (0..words.len() - 1).rev() {
            let prev = &words[i];
            if prev.text.starts_with(' ') && PREPEND_PUNCTUATION.contains(prev.text.trim()) {
                let (left, right) = words.split_at_mut(j);
                let (prev, next) = (&mut left[i], &mut right[0]);
                next.text = format!("{}{}", prev.text, next.text);
                let mut tokens = std::mem::take(&mut prev.tokens);
                tokens.append(&mut next.tokens);
                next.tokens = tokens;
                prev.text.clear();
            } else {
                j = i;
            }
        }
    }
    let mut i = 0;
    for j in 1..words.len() {
        let (left, right) = words.split_at_mut(j);
        let (prev, next) = (&mut left[i], &mut right[0]);
        if !prev.text.ends_with(' ') && APPEND_PUNCTUATION.contains(next.text.as_str()) {
            prev.text.push_str(&next.text);
            prev.tokens.append(&mut next.tokens);
            next.text.clear();
        } else {
            i = j;
        }
    }
}

/// Hands the window's aligned `words` (window-relative) to its `segments`
/// by token count and applies the reference clean-ups. `window_start` is in
/// seconds; `last_speech` is the end of the previous speech and is returned
/// updated.
pub fn assign_words(
    segments: &mut [TimedSegment],
    mut words: Vec<Word>,
    window_start: f64,
    eot: usize,
    mut last_speech: f64,
) -> f64 {
    let mut durations: Vec<f64> = words
        .iter()
        .map(|w| w.end - w.start)
        .filter(|&d| d != 0.0)
        .collect();
    let has_durations = !durations.is_empty();
    let median_duration = median(&mut durations).min(0.7);
    let max_duration = median_duration * 2.0;

    // Sentence ends are not longer than twice the median word.
    if has_durations {
        for i in 1..words.len() {
            if words[i].end - words[i].start > max_duration {
                if SENTENCE_END_MARKS.contains(words[i].text.as_str()) && !words[i].text.is_empty()
                {
                    words[i].end = words[i].start + max_duration;
                } else if SENTENCE_END_MARKS.contains(words[i - 1].text.as_str())
                    && !words[i - 1].text.is_empty()
                {
                    words[i].start = words[i].end - max_duration;
                }
            }
        }
    }
    merge_punctuation(&mut words);

    let mut next = 0;
    for segment in segments.iter_mut() {
        let token_count = segment.tokens.iter().filter(|&&t| t < eot).count();
        let mut saved = 0;
        let mut mine: Vec<Word> = Vec::new();
        while next < words.len() && saved < token_count {
            let w = &words[next];
            if !w.text.is_empty() {
                mine.push(Word {
                    start: round2(window_start + w.start),
                    end: round2(window_start + w.end),
                    ..w.clone()
                });
            }
            saved += w.tokens.len();
            next += 1;
        }
        if let Some(first_end) = mine.first().map(|w| w.end) {
            // The first words after a pause are not longer than twice the
            // median either.
            let long_first = mine[0].end - mine[0].start > max_duration
                || (mine.len() > 1 && mine[1].end - mine[0].start > max_duration * 2.0);
            if first_end - last_speech > median_duration * 4.0 && long_first {
                if mine.len() > 1 && mine[1].end - mine[1].start > max_duration {
                    let boundary = (mine[1].end / 2.0).max(mine[1].end - max_duration);
                    mine[0].end = boundary;
                    mine[1].start = boundary;
                }
                mine[0].start = (mine[0].end - max_duration).max(0.0);
            }
            // Prefer the segment's start if the first word is too long, else
            // the word's.
            if segment.start < mine[0].end && segment.start - 0.5 > mine[0].start {
                mine[0].start = (mine[0].end - median_duration).min(segment.start).max(0.0);
            } else {
                segment.start = mine[0].start;
            }
            let last = mine.len() - 1;
            if segment.end > mine[last].start && segment.end + 0.5 < mine[last].end {
                mine[last].end = (mine[last].start + median_duration).max(segment.end);
            } else {
                segment.end = mine[last].end;
            }
            last_speech = segment.end;
        }
        segment.words = mine;
    }
    last_speech
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::super::vocab::tests::toy;
    use super::*;

    fn word(text: &str, start: f64, end: f64) -> Word {
        Word {
            text: text.to_owned(),
            tokens: vec![0],
            start,
            end,
            probability: 0.9,
        }
    }

    #[test]
    fn words_start_where_the_path_reaches_their_first_token() {
        let v = toy();
        // Tokens: "Hello" " world" "." → words Hello | world | . | <eot>.
        // Path rows 0,0,1,1,1,2,3 over frames 10..16 (20 ms each).
        let path: Vec<(i64, i64)> = [
            (0, 10),
            (0, 11),
            (1, 12),
            (1, 13),
            (1, 14),
            (2, 15),
            (3, 16),
        ]
        .into_iter()
        .collect();
        let words = words_from_alignment(&v, "en", &[0, 1, 2], &path, &[0.5, 0.7, 0.9]);
        assert_eq!(words.len(), 3);
        assert_eq!(words[0].text, "Hello");
        assert!((words[0].start - 0.20).abs() < 1e-9);
        assert!((words[0].end - 0.24).abs() < 1e-9);
        assert_eq!(words[1].text, " world");
        assert!((words[1].end - 0.30).abs() < 1e-9);
        assert_eq!(words[2].text, ".");
        assert!((words[2].end - 0.32).abs() < 1e-9);
        assert!((words[1].probability - 0.7).abs() < 1e-6);
        // Nothing to align.
        assert!(words_from_alignment(&v, "en", &[], &[(0, 0)], &[]).is_empty());
    }

    #[test]
    fn punctuation_joins_its_word() {
        let mut words = vec![
            word(" (", 0.0, 0.1),
            word("yes", 0.1, 0.4),
            word(")", 0.4, 0.5),
            word(" no", 0.5, 0.8),
            word(".", 0.8, 0.9),
        ];
        merge_punctuation(&mut words);
        let texts: Vec<&str> = words.iter().map(|w| w.text.as_str()).collect();
        assert_eq!(texts, ["", " (yes)", "", " no.", ""]);
        assert_eq!(words[1].tokens.len(), 3);
    }

    #[test]
    fn words_go_to_their_segments_and_set_the_segment_bounds() {
        let mut segments = vec![
            TimedSegment {
                start: 10.0,
                end: 11.0,
                tokens: vec![1000, 0, 1, 1010],
                words: vec![],
            },
            TimedSegment {
                start: 11.0,
                end: 12.0,
                tokens: vec![1010, 2, 1020],
                words: vec![],
            },
        ];
        let words = vec![
            word("Hello", 0.1, 0.4),
            word(" world", 0.4, 0.9),
            word(" again", 1.2, 1.6),
        ];
        let last = assign_words(&mut segments, words, 10.0, 14, 9.0);
        assert_eq!(segments[0].words.len(), 2);
        assert_eq!(segments[1].words.len(), 1);
        assert!((segments[0].start - 10.1).abs() < 1e-9);
        assert!((segments[0].end - 10.9).abs() < 1e-9);
        assert!((segments[1].start - 11.2).abs() < 1e-9);
        assert!((last - 11.6).abs() < 1e-9);
    }

    #[test]
    fn a_word_stretched_over_a_pause_is_cut_to_twice_the_median() {
        // Median 0.3 s → at most 0.6 s; "after" spans the pause after ".".
        let mut segments = vec![TimedSegment {
            start: 0.0,
            end: 5.0,
            tokens: vec![0, 1, 2, 3, 4],
            words: vec![],
        }];
        let words = vec![
            word("One", 0.0, 0.3),
            word(" two", 0.3, 0.6),
            word(".", 0.6, 0.6),
            word(" After", 0.6, 3.0),
            word(" it", 3.0, 3.3),
        ];
        assign_words(&mut segments, words, 0.0, 14, 0.0);
        let after = segments[0]
            .words
            .iter()
            .find(|w| w.text == " After")
            .unwrap();
        assert!((after.start - 2.4).abs() < 1e-9, "{after:?}");
    }
}
