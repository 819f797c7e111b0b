//! SubRip (`.srt`): numbered blocks of `start --> end` and text lines.
//!
//! Real files break the rules in predictable ways, so the reader is lenient
//! where the intent is clear: missing or wrong indices, missing blank lines
//! between cues, `.` instead of `,`, coordinates after the end time, HTML
//! styling tags and `{\an8}` position tags.

use super::cue::{Cue, CueCollector, ParsedCues};
use super::error::{SkippedCue, SubtitleError};
use super::markup::{strip_known_tags, strip_override_blocks, tidy_lines};
use super::timecode::parse_clock;
use crate::time::Millis;

const STYLING_TAGS: &[&str] = &["i", "b", "u", "s", "font"];

pub fn parse(text: &str) -> Result<ParsedCues, SubtitleError> {
    let lines: Vec<&str> = text.split('\n').collect();
    let mut collector = CueCollector::default();
    let mut index = 0;
    while index < lines.len() {
        let line = lines[index];
        let line_number = index + 1;
        if !line.contains("-->") {
            let trimmed = line.trim();
            let is_index = trimmed.bytes().all(|b| b.is_ascii_digit());
            if !is_index {
                collector.skip(SkippedCue::new(line_number, None, "text outside any cue"));
                index = skip_to_blank(&lines, index);
            }
            index += 1;
            continue;
        }
        let body_start = index + 1;
        let body_end = end_of_body(&lines, body_start);
        index = body_end;
        let (start, end) = match parse_timing_line(line) {
            Ok(times) => times,
            Err((column, reason)) => {
                collector.skip(SkippedCue::new(line_number, Some(column), reason));
                continue;
            }
        };
        let raw = lines[body_start..body_end].join("\n");
        let text = tidy_lines(&strip_override_blocks(&strip_known_tags(
            &raw,
            STYLING_TAGS,
        )));
        if text.is_empty() && body_start == body_end {
            collector.skip(SkippedCue::new(line_number, None, "the cue has no text"));
            continue;
        }
        collector.push(
            line_number,
            Cue {
                start,
                end,
                text,
                words: None,
            },
        )?;
    }
    collector.finish()
}

/// A cue's text runs to the next blank line, or stops early when the next
/// cue begins without one (an index line followed by a timing line, or a
/// timing line directly).
fn end_of_body(lines: &[&str], from: usize) -> usize {
    let mut at = from;
    while at < lines.len() {
        let line = lines[at];
        if line.trim().is_empty() || line.contains("-->") {
            break;
        }
        let next_is_timing = lines.get(at + 1).is_some_and(|next| next.contains("-->"));
        if next_is_timing
            && !line.trim().is_empty()
            && line.trim().bytes().all(|b| b.is_ascii_digit())
        {
            break;
        }
        at += 1;
    }
    at
}

fn skip_to_blank(lines: &[&str], from: usize) -> usize {
    let mut at = from;
    while at + 1 < lines.len() && !lines[at + 1].trim().is_empty() && !lines[at + 1].contains("-->")
    {
        at += 1;
    }
    at
}

/// `00:00:01,000 --> 00:00:04,000 X1:40 …` → the two times, or the 1-based
/// column of the part that is wrong and why.
pub(crate) fn parse_timing_line(line: &str) -> Result<(Millis, Millis), (usize, String)> {
    let Some(arrow) = line.find("-->") else {
        return Err((1, "expected `start --> end`".to_owned()));
    };
    let left = &line[..arrow];
    let start_column = column_of(line, left.len() - left.trim_start().len());
    let start =
        parse_clock(left).map_err(|reason| (start_column, format!("start time: {reason}")))?;
    let right = &line[arrow + 3..];
    let end_offset = arrow + 3 + (right.len() - right.trim_start().len());
    let end_text = right.split_whitespace().next().unwrap_or_default();
    let end = parse_clock(end_text)
        .map_err(|reason| (column_of(line, end_offset), format!("end time: {reason}")))?;
    Ok((start, end))
}

/// 1-based column in characters of a byte offset.
pub(crate) fn column_of(line: &str, byte_offset: usize) -> usize {
    line.get(..byte_offset)
        .map_or(1, |prefix| prefix.chars().count() + 1)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn reads_cues_without_blank_lines_and_with_tags() {
        let parsed = parse("1\n00:00:01,000 --> 00:00:02,000\n<i>Hello</i>\n2\n00:00:03,000 --> 00:00:04,500 X1:1\n{\\an8}World\n").unwrap();
        let texts: Vec<_> = parsed.cues.iter().map(|c| c.text.as_str()).collect();
        assert_eq!(texts, ["Hello", "World"]);
        assert_eq!(parsed.cues[1].end, Millis::new(4_500));
        assert!(parsed.skipped.is_empty());
    }

    #[test]
    fn bad_timing_is_skipped_with_line_and_column() {
        let parsed = parse(
            "1\n00:00:01,000 --> 00:00:02,000\nGood\n\n2\n00:00:03,000 --> 00:0x:04,000\nBad\n",
        )
        .unwrap();
        assert_eq!(parsed.cues.len(), 1);
        assert_eq!(
            parsed.skipped,
            [SkippedCue::new(
                6,
                Some(18),
                "end time: minutes `0x` must be digits"
            )]
        );
    }

    #[test]
    fn file_with_no_good_cue_is_an_error() {
        assert!(matches!(
            parse("hello\nworld\n"),
            Err(SubtitleError::Malformed { line: 1, .. })
        ));
    }
}
