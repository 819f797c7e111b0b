//! WebVTT: a `WEBVTT` header, then blocks separated by blank lines — cues
//! (optional identifier, `start --> end settings`, payload) and NOTE, STYLE
//! and REGION blocks, which carry nothing a learner reads.
//!
//! Payload markup (`<c.class>`, `<v Speaker>`, `<i>`, `<b>`, `<u>`, `<lang>`,
//! `<ruby>`) is stripped, ruby readings (`<rt>`) dropped, and inline
//! timestamps (`<00:00:01.500>`, as in YouTube's auto-captions) become word
//! timings.

use super::cue::{Cue, CueCollector, ParsedCues, WordTiming};
use super::error::{SkippedCue, SubtitleError};
use super::markup::{decode_entities, tidy_lines};
use super::srt::parse_timing_line;
use super::timecode::parse_clock;
use crate::time::Millis;

pub fn parse(text: &str) -> Result<ParsedCues, SubtitleError> {
    let lines: Vec<&str> = text.split('\n').collect();
    let header = lines
        .first()
        .map_or("", |line| line.trim_start_matches('\u{feff}'));
    if !header.starts_with("WEBVTT") {
        return Err(SubtitleError::Malformed {
            line: 1,
            column: Some(1),
            reason: "a WebVTT file must start with `WEBVTT`".to_owned(),
        });
    }
    let mut collector = CueCollector::default();
    let mut index = end_of_block(&lines, 0);
    while index < lines.len() {
        if lines[index].trim().is_empty() {
            index += 1;
            continue;
        }
        let block_start = index;
        let block_end = end_of_block(&lines, index);
        index = block_end;
        let first = lines[block_start];
        if is_block_of_kind(first, "NOTE")
            || is_block_of_kind(first, "STYLE")
            || is_block_of_kind(first, "REGION")
        {
            continue;
        }
        let timing_at = if first.contains("-->") {
            block_start
        } else {
            block_start + 1
        };
        let Some(timing_line) = lines
            .get(timing_at)
            .filter(|line| timing_at < block_end && line.contains("-->"))
        else {
            collector.skip(SkippedCue::new(
                block_start + 1,
                None,
                "a block that is neither a cue nor a NOTE, STYLE or REGION",
            ));
            continue;
        };
        let (start, end) = match parse_timing_line(timing_line) {
            Ok(times) => times,
            Err((column, reason)) => {
                collector.skip(SkippedCue::new(timing_at + 1, Some(column), reason));
                continue;
            }
        };
        let payload = lines[timing_at + 1..block_end].join("\n");
        let (text, words) = read_payload(&payload, start, end);
        collector.push(
            timing_at + 1,
            Cue {
                start,
                end,
                text,
                words,
            },
        )?;
    }
    collector.finish()
}

/// A block runs until an empty line (a line holding only spaces belongs to
/// the payload: YouTube starts its rolling cues with one). A timing line
/// inside a block also starts a new one, since some writers omit the blank
/// line between cues.
fn end_of_block(lines: &[&str], from: usize) -> usize {
    let mut at = from + 1;
    while at < lines.len() && !lines[at].is_empty() {
        let timing_next = lines[at].contains("-->") && at > from + 1;
        let id_then_timing =
            lines.get(at + 1).is_some_and(|next| next.contains("-->")) && at > from + 1;
        if timing_next || id_then_timing {
            break;
        }
        at += 1;
    }
    at
}

fn is_block_of_kind(first_line: &str, kind: &str) -> bool {
    first_line
        .strip_prefix(kind)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with([' ', '\t']))
}

/// Plain text of a payload and, when it carries inline timestamps, the
/// timed chunks between them.
fn read_payload(payload: &str, start: Millis, end: Millis) -> (String, Option<Vec<WordTiming>>) {
    let mut plain = String::with_capacity(payload.len());
    let mut chunks: Vec<(Millis, String)> = vec![(start, String::new())];
    let mut has_timestamps = false;
    let mut rest = payload;
    while let Some(open) = rest.find('<') {
        push_text(&mut plain, &mut chunks, &rest[..open]);
        let after = &rest[open..];
        let Some(close) = after.find('>') else {
            push_text(&mut plain, &mut chunks, after);
            rest = "";
            break;
        };
        let tag = &after[1..close];
        rest = &after[close + 1..];
        if tag.starts_with(|c: char| c.is_ascii_digit()) {
            if let Ok(at) = parse_clock(tag) {
                has_timestamps = true;
                // Not `clamp`: a cue that ends before it starts must not panic here.
                chunks.push((at.max(start).min(end), String::new()));
            }
        } else if tag.eq_ignore_ascii_case("rt") {
            rest = rest
                .find("</rt>")
                .map_or("", |close_rt| &rest[close_rt + 5..]);
        }
    }
    push_text(&mut plain, &mut chunks, rest);
    let text = tidy_lines(&decode_entities(&plain));
    if !has_timestamps {
        return (text, None);
    }
    let mut words = Vec::new();
    for (index, (chunk_start, chunk_text)) in chunks.iter().enumerate() {
        let chunk_end = chunks.get(index + 1).map_or(end, |next| next.0);
        let chunk_text = decode_entities(
            chunk_text
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
                .as_str(),
        );
        if !chunk_text.is_empty() && chunk_start < &chunk_end {
            words.push(WordTiming {
                text: chunk_text,
                start_time: *chunk_start,
                end_time: chunk_end,
            });
        }
    }
    (text, Some(words))
}

fn push_text(plain: &mut String, chunks: &mut [(Millis, String)], text: &str) {
    plain.push_str(text);
    if let Some(last) = chunks.last_mut() {
        last.1.push_str(text);
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn skips_note_style_and_strips_markup() {
        let file = "WEBVTT - demo\nKind: captions\n\nNOTE a comment\n-->\n\nSTYLE\n::cue { color: red }\n\nintro\n00:01.000 --> 00:02.000 align:start position:10%\n<v Roger>Hi &amp; <c.loud>welcome</c></v>\n<ruby>漢<rt>かん</rt></ruby>字\n";
        let parsed = parse(file).unwrap();
        assert_eq!(parsed.cues.len(), 1);
        assert_eq!(parsed.cues[0].text, "Hi & welcome\n漢字");
        assert_eq!(parsed.cues[0].start, Millis::new(1_000));
    }

    #[test]
    fn inline_timestamps_become_word_timings() {
        let file = "WEBVTT\n\n00:00:01.000 --> 00:00:03.000\nhello<00:00:01.500><c> big</c><00:00:02.000><c> world</c>\n";
        let cue = &parse(file).unwrap().cues[0];
        assert_eq!(cue.text, "hello big world");
        let words: Vec<_> = cue
            .words
            .as_ref()
            .unwrap()
            .iter()
            .map(|w| (w.text.as_str(), w.start_time.get(), w.end_time.get()))
            .collect();
        assert_eq!(
            words,
            [
                ("hello", 1000, 1500),
                ("big", 1500, 2000),
                ("world", 2000, 3000)
            ]
        );
    }

    #[test]
    fn timestamps_in_a_backwards_cue_do_not_panic() {
        let file = "WEBVTT\n\n00:00:05.000 --> 00:00:01.000\nso<00:00:03.000> today\n";
        assert!(parse(file).is_err());
    }

    #[test]
    fn missing_header_is_an_error() {
        assert!(matches!(
            parse("00:01.000 --> 00:02.000\nx\n"),
            Err(SubtitleError::Malformed { line: 1, .. })
        ));
    }
}
