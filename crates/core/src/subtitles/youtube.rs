//! YouTube timed text: `json3` (`{"events":[{"tStartMs","dDurationMs","segs":[{"utf8","tOffsetMs"}]}]}`)
//! and `srv3` (`<timedtext format="3"><body><p t d><s t>…</s></p>`).
//!
//! Auto-generated captions send one event per displayed line, the words of
//! which arrive one by one (`tOffsetMs` / `<s t>`); the event stays on screen
//! while the next line rolls in, so events overlap. Each word therefore ends
//! where the next word starts, and a line's last word ends no later than the
//! next event's start (not when the line scrolls away). Events that only
//! append a line feed carry no text and are dropped.

use serde::Deserialize;

use super::cue::{Cue, CueCollector, ParsedCues, WordTiming};
use super::error::{SkippedCue, SubtitleError};
use super::xml::{attribute, line_of, parse_document};
use crate::time::Millis;

#[derive(Deserialize)]
struct Json3 {
    #[serde(default)]
    events: Vec<Json3Event>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Json3Event {
    #[serde(default)]
    t_start_ms: Option<i64>,
    #[serde(default)]
    d_duration_ms: Option<i64>,
    #[serde(default)]
    segs: Vec<Json3Seg>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Json3Seg {
    #[serde(default)]
    utf8: String,
    #[serde(default)]
    t_offset_ms: Option<i64>,
}

/// An event in either encoding, before timing is resolved.
struct RawEvent {
    line: usize,
    start: Option<i64>,
    duration: Option<i64>,
    /// Text pieces with their offset from the event start, when given.
    segs: Vec<(Option<i64>, String)>,
}

pub fn parse_json3(text: &str) -> Result<ParsedCues, SubtitleError> {
    let document: Json3 = serde_json::from_str(text).map_err(|error| SubtitleError::Malformed {
        line: error.line(),
        column: Some(error.column()),
        reason: format!("invalid YouTube json3: {error}"),
    })?;
    let events = document
        .events
        .into_iter()
        .enumerate()
        .map(|(index, event)| RawEvent {
            // JSON has no useful line per event; report the event's position.
            line: index + 1,
            start: event.t_start_ms,
            duration: event.d_duration_ms,
            segs: event
                .segs
                .into_iter()
                .map(|seg| (seg.t_offset_ms, seg.utf8))
                .collect(),
        })
        .collect();
    resolve_events(events, "event")
}

pub fn parse_srv3(text: &str) -> Result<ParsedCues, SubtitleError> {
    let document = parse_document(text)?;
    let root = document.root_element();
    if root.tag_name().name() != "timedtext" {
        return Err(SubtitleError::Malformed {
            line: line_of(root),
            column: None,
            reason: "the root element is not <timedtext>".to_owned(),
        });
    }
    let number =
        |node, name| attribute(node, name).and_then(|v: &str| v.trim().parse::<i64>().ok());
    let events = root
        .descendants()
        .filter(|node| node.is_element() && node.tag_name().name() == "p")
        .map(|paragraph| {
            let mut segs = Vec::new();
            for child in paragraph.children() {
                if child.is_text() {
                    segs.push((None, child.text().unwrap_or_default().to_owned()));
                } else if child.has_tag_name("br") {
                    segs.push((None, "\n".to_owned()));
                } else if child.has_tag_name("s") {
                    let text: String = child
                        .descendants()
                        .filter(|n| n.is_text())
                        .filter_map(|n| n.text())
                        .collect();
                    segs.push((Some(number(child, "t").unwrap_or(0)), text));
                }
            }
            RawEvent {
                line: line_of(paragraph),
                start: number(paragraph, "t"),
                duration: number(paragraph, "d"),
                segs,
            }
        })
        .collect();
    resolve_events(events, "line")
}

fn resolve_events(events: Vec<RawEvent>, unit: &str) -> Result<ParsedCues, SubtitleError> {
    let mut collector = CueCollector::default();
    let timed: Vec<(usize, u64, u64, &RawEvent)> = events
        .iter()
        .filter(|event| event.segs.iter().any(|(_, text)| !text.trim().is_empty()))
        .filter_map(|event| match (event.start, event.duration) {
            (Some(start), Some(duration)) if start >= 0 && duration >= 0 => Some((
                event.line,
                start as u64,
                (start as u64).saturating_add(duration as u64),
                event,
            )),
            _ => {
                let reason = format!("the {unit} lacks a valid start time or duration");
                collector.skip(SkippedCue::new(event.line, None, reason));
                None
            }
        })
        .collect();
    for (index, &(line, start, end, event)) in timed.iter().enumerate() {
        let next_start = timed
            .get(index + 1)
            .map(|next| next.1)
            .filter(|&next| next > start);
        let text = event
            .segs
            .iter()
            .map(|(_, text)| text.as_str())
            .collect::<String>();
        let text = text
            .lines()
            .map(str::trim)
            .filter(|line| !line.is_empty())
            .collect::<Vec<_>>()
            .join("\n");
        let words = word_timings(event, start, end, next_start);
        collector.push(
            line,
            Cue {
                start: Millis::new(start),
                end: Millis::new(end),
                text,
                words,
            },
        )?;
    }
    collector.finish()
}

/// Word timings for an event whose segs carry offsets (auto-captions);
/// `None` for manual captions, which come as one untimed seg.
fn word_timings(
    event: &RawEvent,
    start: u64,
    end: u64,
    next_start: Option<u64>,
) -> Option<Vec<WordTiming>> {
    if !event.segs.iter().any(|(offset, _)| offset.is_some()) {
        return None;
    }
    let pieces: Vec<(u64, &str)> = event
        .segs
        .iter()
        .filter(|(_, text)| !text.trim().is_empty())
        .map(|(offset, text)| {
            (
                start
                    .saturating_add(offset.unwrap_or(0).max(0) as u64)
                    .min(end),
                text.trim(),
            )
        })
        .collect();
    let last_end = next_start.map_or(end, |next| next.min(end));
    let mut words = Vec::with_capacity(pieces.len());
    for (index, &(word_start, text)) in pieces.iter().enumerate() {
        let word_end = pieces
            .get(index + 1)
            .map_or(last_end, |next| next.0)
            .max(word_start);
        let word_end = if word_end == word_start {
            end.max(word_start)
        } else {
            word_end
        };
        words.push(WordTiming {
            text: text.to_owned(),
            start_time: Millis::new(word_start),
            end_time: Millis::new(word_end),
        });
    }
    Some(words)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn json3_auto_captions_get_word_timings_ending_at_next_line() {
        let file = r#"{"wireMagic":"pb3","events":[
            {"tStartMs":0,"dDurationMs":9000,"id":1,"wpWinPosId":1},
            {"tStartMs":100,"dDurationMs":4000,"wWinId":1,"segs":[{"utf8":"so","acAsrConf":0},{"utf8":" today","tOffsetMs":400}]},
            {"tStartMs":2000,"dDurationMs":2100,"wWinId":1,"aAppend":1,"segs":[{"utf8":"\n"}]},
            {"tStartMs":2000,"dDurationMs":3000,"wWinId":1,"segs":[{"utf8":"we"},{"utf8":" cook","tOffsetMs":300}]}]}"#;
        let parsed = parse_json3(file).unwrap();
        assert_eq!(parsed.cues.len(), 2);
        let words: Vec<_> = parsed
            .cues
            .iter()
            .flat_map(|c| c.words.clone().unwrap_or_default())
            .map(|w| (w.text, w.start_time.get(), w.end_time.get()))
            .collect();
        assert_eq!(
            words,
            [
                ("so".to_owned(), 100, 500),
                ("today".to_owned(), 500, 2000),
                ("we".to_owned(), 2000, 2300),
                ("cook".to_owned(), 2300, 5000)
            ]
        );
    }

    #[test]
    fn srv3_manual_and_auto() {
        let file = "<?xml version=\"1.0\" encoding=\"utf-8\" ?><timedtext format=\"3\"><body>\n<p t=\"0\" d=\"1500\">Hello &amp; bye</p>\n<p t=\"2000\" d=\"2000\" w=\"1\"><s ac=\"0\">one</s><s t=\"500\"> two</s></p>\n</body></timedtext>";
        let parsed = parse_srv3(file).unwrap();
        assert_eq!(parsed.cues[0].text, "Hello & bye");
        assert!(parsed.cues[0].words.is_none());
        assert_eq!(
            parsed.cues[1].words.as_ref().unwrap()[1].start_time,
            Millis::new(2500)
        );
    }

    #[test]
    fn bad_json_reports_line_and_column() {
        assert!(matches!(
            parse_json3("{\"events\": [\n{,}]}"),
            Err(SubtitleError::Malformed {
                line: 2,
                column: Some(2),
                ..
            })
        ));
    }
}
