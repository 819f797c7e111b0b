//! Sentence segmentation: from captions as they were timed for the screen
//! (rolling auto-captions, one-word events, lines broken mid-sentence) to
//! segments a learner can hear and repeat in one breath.
//!
//! The steps, in order:
//! 1. Each cue becomes a run of pieces (words and punctuation, by Unicode
//!    word boundaries). Bracketed sound descriptions (`[Music]`) and leading
//!    dialogue dashes are dropped.
//! 2. Rolling captions repeat the previous cue's tail at the start of the next
//!    one; when cues touch or overlap in time, that repeated prefix is removed.
//! 3. Every piece gets a time: its own when the source has word timings,
//!    otherwise a share of its cue's span proportional to its length.
//! 4. The pieces are joined into one text and split at Unicode sentence
//!    boundaries (UAX #29) and at pauses; a sentence longer than the limits
//!    is split at its last clause mark (`,` `;` `:` `、` `，`…) or caption
//!    boundary that leaves a reasonable first part, else where it overflows.

use serde::{Deserialize, Serialize};
use unicode_segmentation::UnicodeSegmentation;

use super::cue::{Cue, WordTiming};
use crate::text::script::{display_weight, is_unspaced_script};
use crate::time::Millis;

/// How segments are cut. Lengths are in characters, ideographs counting two.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct SegmentOptions {
    pub max_chars: usize,
    pub max_duration_ms: u64,
    /// A silence at least this long ends a segment even without punctuation.
    pub pause_ms: u64,
    /// BCP 47 tag of the subtitles' language, when known.
    pub language: Option<String>,
}

impl Default for SegmentOptions {
    fn default() -> Self {
        SegmentOptions {
            max_chars: 120,
            max_duration_ms: 10_000,
            pause_ms: 1_200,
            language: None,
        }
    }
}

/// A learner-sized piece of the material.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Segment {
    pub start_time: Millis,
    pub end_time: Millis,
    pub text: String,
    /// Word timings, when the source had them for every word here.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub words: Option<Vec<WordTiming>>,
    /// Filled in by [`super::pair::pair_translations`].
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub translation: Option<String>,
}

/// Longest repeated run (in pieces) looked for between rolling captions;
/// bounds the work per cue.
const MAX_ROLLING_OVERLAP: usize = 64;

/// English abbreviations after which a full stop does not end a sentence.
const ABBREVIATIONS: &[&str] = &[
    "mr", "mrs", "ms", "dr", "prof", "st", "jr", "sr", "vs", "etc", "mt", "no",
];

#[derive(Debug, Clone)]
struct Piece {
    text: String,
    is_word: bool,
    space_before: bool,
    starts_cue: bool,
    start: u64,
    end: u64,
    timed: bool,
}

pub fn segment_cues(cues: &[Cue], options: &SegmentOptions) -> Vec<Segment> {
    let pieces = timed_pieces(cues);
    if pieces.is_empty() {
        return Vec::new();
    }
    let breaks = sentence_ends(&pieces, options.language.as_deref());
    group(&pieces, &breaks, options)
}

/// Steps 1–3: all cues as one stream of timed pieces.
fn timed_pieces(cues: &[Cue]) -> Vec<Piece> {
    let mut stream = Vec::new();
    let mut previous: Option<(u64, Vec<String>)> = None;
    for cue in cues {
        let text = learner_text(&cue.text);
        let mut pieces = match cue
            .words
            .as_deref()
            .filter(|words| same_letters(words, &text))
        {
            Some(words) => pieces_of_words(words),
            None => pieces_of_text(&text, cue.start.get(), cue.end.get()),
        };
        let keys: Vec<String> = pieces.iter().map(|p| p.text.to_lowercase()).collect();
        let repeated = match &previous {
            Some((previous_end, previous_keys)) if cue.start.get() <= *previous_end => {
                rolling_overlap(previous_keys, &keys)
            }
            _ => 0,
        };
        previous = Some((cue.end.get(), keys));
        pieces.drain(..repeated);
        if let Some(first) = pieces.first_mut() {
            first.starts_cue = true;
            first.space_before = true;
        }
        stream.extend(pieces);
    }
    stream
}

/// Drops lines that only describe sounds (`[Music]`, `[Applause]`) and the
/// dashes that mark a change of speaker.
fn learner_text(text: &str) -> String {
    text.lines()
        .map(str::trim)
        .filter(|line| !(line.starts_with('[') && line.ends_with(']')))
        .map(|line| {
            for dash in ["- ", "– ", "— ", "‐ "] {
                if let Some(rest) = line.strip_prefix(dash) {
                    return rest.trim_start();
                }
            }
            line
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Word timings are used only when they cover exactly the cue's text.
fn same_letters(words: &[WordTiming], text: &str) -> bool {
    let from_words = words
        .iter()
        .flat_map(|w| w.text.chars())
        .filter(|c| !c.is_whitespace());
    from_words.eq(text.chars().filter(|c| !c.is_whitespace()))
}

fn split_pieces(text: &str) -> Vec<(String, bool)> {
    let mut pieces = Vec::new();
    let mut space_pending = false;
    for piece in text.split_word_bounds() {
        if piece.chars().all(char::is_whitespace) {
            space_pending = true;
        } else {
            pieces.push((piece.to_owned(), space_pending));
            space_pending = false;
        }
    }
    pieces
}

fn new_piece(text: String, space_before: bool, start: u64, end: u64, timed: bool) -> Piece {
    let is_word = text.chars().any(char::is_alphanumeric);
    Piece {
        text,
        is_word,
        space_before,
        starts_cue: false,
        start,
        end,
        timed,
    }
}

fn pieces_of_words(words: &[WordTiming]) -> Vec<Piece> {
    let mut pieces = Vec::new();
    for word in words {
        for (index, (text, space_before)) in split_pieces(&word.text).into_iter().enumerate() {
            let space_before = if index == 0 { true } else { space_before };
            pieces.push(new_piece(
                text,
                space_before,
                word.start_time.get(),
                word.end_time.get(),
                true,
            ));
        }
    }
    pieces
}

/// Untimed text: each piece gets a share of the cue's span in proportion to
/// its length (with the space before it), so a sentence ending mid-cue ends
/// at about the right moment.
fn pieces_of_text(text: &str, start: u64, end: u64) -> Vec<Piece> {
    let split = split_pieces(text);
    let weight = |(text, space): &(String, bool)| text.chars().count() as u64 + u64::from(*space);
    let total: u64 = split.iter().map(weight).sum::<u64>().max(1);
    let span = end.saturating_sub(start);
    // In u128: a span of years times a long text overflows u64.
    let share =
        |done: u64| start + (u128::from(span) * u128::from(done) / u128::from(total)) as u64;
    let mut done = 0;
    let mut pieces = Vec::with_capacity(split.len());
    for item in split {
        let piece_start = share(done);
        done += weight(&item);
        let piece_end = share(done);
        pieces.push(new_piece(item.0, item.1, piece_start, piece_end, false));
    }
    pieces
}

/// The longest run of pieces that ends the previous cue and begins this one.
fn rolling_overlap(previous: &[String], current: &[String]) -> usize {
    let longest = previous.len().min(current.len()).min(MAX_ROLLING_OVERLAP);
    (1..=longest)
        .rev()
        .find(|&length| previous[previous.len() - length..] == current[..length])
        .unwrap_or(0)
}

/// Whether a space goes between two pieces when they are joined.
fn needs_space(before: &str, piece: &Piece) -> bool {
    let last = before.chars().next_back();
    let first = piece.text.chars().next();
    piece.space_before
        && !matches!((last, first), (Some(a), Some(b)) if is_unspaced_script(a) && is_unspaced_script(b))
}

/// Step 4a: `ends[i]` says a sentence ends after piece `i`.
fn sentence_ends(pieces: &[Piece], language: Option<&str>) -> Vec<bool> {
    let mut joined = String::new();
    let mut offsets = Vec::with_capacity(pieces.len());
    for piece in pieces {
        if !joined.is_empty() && needs_space(&joined, piece) {
            joined.push(' ');
        }
        offsets.push(joined.len());
        joined.push_str(&piece.text);
    }
    let mut ends = vec![false; pieces.len()];
    for (boundary, _) in joined.split_sentence_bound_indices().skip(1) {
        let next = offsets.partition_point(|&offset| offset < boundary);
        if next > 0 {
            ends[next - 1] = true;
        }
    }
    let english = language.is_none_or(|tag| tag.to_ascii_lowercase().starts_with("en"));
    if english {
        for index in 1..pieces.len() {
            let abbreviation = pieces[index].text == "."
                && !pieces[index].space_before
                && ABBREVIATIONS.contains(&pieces[index - 1].text.to_lowercase().as_str());
            if abbreviation && ends[index] {
                ends[index] = false;
            }
        }
    }
    ends
}

fn is_clause_mark(text: &str) -> bool {
    matches!(
        text,
        "," | ";" | ":" | "、" | "，" | "；" | "：" | "–" | "—" | "-" | "…" | "..."
    )
}

/// Step 4b: pieces into segments.
fn group(pieces: &[Piece], sentence_ends: &[bool], options: &SegmentOptions) -> Vec<Segment> {
    let mut segments = Vec::new();
    let mut first = 0;
    let mut weight = 0;
    for index in 0..pieces.len() {
        weight += piece_weight(&pieces[index]);
        let Some(next) = pieces.get(index + 1) else {
            break;
        };
        let pause = next.start.saturating_sub(pieces[index].end) >= options.pause_ms;
        if sentence_ends[index] || pause {
            segments.push(build(&pieces[first..=index]));
            first = index + 1;
            weight = 0;
            continue;
        }
        let too_long = weight + piece_weight(next) > options.max_chars
            || next.end.saturating_sub(pieces[first].start) > options.max_duration_ms;
        if too_long && !is_attached_punctuation(next) {
            let cut = soft_break(pieces, first, index, options.max_chars / 3).unwrap_or(index);
            segments.push(build(&pieces[first..=cut]));
            first = cut + 1;
            weight = pieces[first..=index].iter().map(piece_weight).sum();
        }
    }
    if first < pieces.len() {
        segments.push(build(&pieces[first..]));
    }
    segments
}

/// Punctuation written against the word before it, never to be split off.
fn is_attached_punctuation(piece: &Piece) -> bool {
    !piece.space_before && !piece.is_word
}

fn piece_weight(piece: &Piece) -> usize {
    piece.text.chars().map(display_weight).sum::<usize>() + usize::from(piece.space_before)
}

/// The last clause mark, or failing that the last caption boundary, after
/// which the first part has at least `min_weight`.
fn soft_break(pieces: &[Piece], first: usize, last: usize, min_weight: usize) -> Option<usize> {
    let mut weight_to = Vec::with_capacity(last + 1 - first);
    let mut total = 0;
    for piece in &pieces[first..=last] {
        total += piece_weight(piece);
        weight_to.push(total);
    }
    let candidates = first..last;
    let long_enough = |cut: &usize| weight_to[cut - first] >= min_weight;
    candidates
        .clone()
        .rev()
        .filter(long_enough)
        .find(|&cut| is_clause_mark(&pieces[cut].text))
        .or_else(|| {
            candidates.rev().filter(long_enough).find(|&cut| {
                pieces[cut + 1].starts_cue && !is_attached_punctuation(&pieces[cut + 1])
            })
        })
}

fn build(pieces: &[Piece]) -> Segment {
    let mut text = String::new();
    for piece in pieces {
        if !text.is_empty() && needs_space(&text, piece) {
            text.push(' ');
        }
        text.push_str(&piece.text);
    }
    let start = pieces.iter().map(|p| p.start).min().unwrap_or(0);
    let end = pieces
        .iter()
        .map(|p| p.end)
        .max()
        .unwrap_or(0)
        .max(start + 1);
    let all_timed = pieces.iter().filter(|p| p.is_word).all(|p| p.timed);
    let words = all_timed.then(|| {
        pieces
            .iter()
            .filter(|p| p.is_word)
            .map(|p| WordTiming {
                text: p.text.clone(),
                start_time: Millis::new(p.start),
                end_time: Millis::new(p.end),
            })
            .collect()
    });
    Segment {
        start_time: Millis::new(start),
        end_time: Millis::new(end),
        text,
        words,
        translation: None,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn cue(start: u64, end: u64, text: &str) -> Cue {
        Cue {
            start: Millis::new(start),
            end: Millis::new(end),
            text: text.to_owned(),
            words: None,
        }
    }

    fn summary(segments: &[Segment]) -> Vec<(u64, u64, &str)> {
        segments
            .iter()
            .map(|s| (s.start_time.get(), s.end_time.get(), s.text.as_str()))
            .collect()
    }

    #[test]
    fn joins_lines_broken_mid_sentence_and_splits_sentences_inside_cues() {
        let cues = [
            cue(0, 2_000, "I went to the"),
            cue(2_000, 4_000, "market. Then I"),
            cue(4_000, 5_000, "came home."),
        ];
        let segments = segment_cues(&cues, &SegmentOptions::default());
        assert_eq!(
            summary(&segments),
            [
                (0, 3_000, "I went to the market."),
                (3_000, 5_000, "Then I came home.")
            ]
        );
    }

    #[test]
    fn pauses_split_unpunctuated_captions_and_abbreviations_do_not() {
        let cues = [
            cue(0, 1_000, "so Mr. Smith said"),
            cue(1_000, 2_000, "hello there"),
            cue(4_000, 5_000, "okay"),
        ];
        let segments = segment_cues(&cues, &SegmentOptions::default());
        assert_eq!(
            summary(&segments),
            [
                (0, 2_000, "so Mr. Smith said hello there"),
                (4_000, 5_000, "okay")
            ]
        );
    }

    #[test]
    fn rolling_repeats_are_removed() {
        let cues = [
            cue(0, 2_000, "the first line"),
            cue(2_000, 2_010, "the first line"),
            cue(2_010, 4_000, "the first line\nand the second."),
        ];
        let segments = segment_cues(&cues, &SegmentOptions::default());
        assert_eq!(
            summary(&segments),
            [(0, 4_000, "the first line and the second.")]
        );
    }

    #[test]
    fn long_sentences_split_at_clause_marks() {
        let options = SegmentOptions {
            max_chars: 40,
            ..SegmentOptions::default()
        };
        let cues = [cue(
            0,
            6_000,
            "When the rain stopped, we walked down to the river and sat there until dark.",
        )];
        let texts: Vec<_> = segment_cues(&cues, &options)
            .into_iter()
            .map(|s| s.text)
            .collect();
        assert_eq!(
            texts,
            [
                "When the rain stopped,",
                "we walked down to the river and sat",
                "there until dark."
            ]
        );
    }

    #[test]
    fn chinese_lines_join_without_spaces() {
        let cues = [
            cue(0, 1_000, "我们今天"),
            cue(1_000, 2_000, "学习中文。你好！"),
        ];
        let texts: Vec<_> = segment_cues(
            &cues,
            &SegmentOptions {
                language: Some("zh".into()),
                ..Default::default()
            },
        )
        .into_iter()
        .map(|s| s.text)
        .collect();
        assert_eq!(texts, ["我们今天学习中文。", "你好！"]);
    }
}
