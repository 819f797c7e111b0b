//! Advanced SubStation Alpha (`.ass`) and SubStation Alpha (`.ssa`): only the
//! `[Events]` section matters here. `Dialogue:` lines are read through the
//! section's `Format:` line; override tags `{\…}` are removed, text drawn in
//! drawing mode (`{\p1}m 0 0 l …{\p0}`) is dropped, `\N` breaks lines, and a
//! line repeated on several layers (outline/shadow tricks) is kept once.

use std::collections::HashSet;

use super::cue::{Cue, CueCollector, ParsedCues};
use super::error::{SkippedCue, SubtitleError};
use super::timecode::parse_clock;
use crate::time::Millis;

/// Field order when a file has no `Format:` line (the ASS v4+ default).
const DEFAULT_FORMAT: &[&str] = &[
    "layer", "start", "end", "style", "name", "marginl", "marginr", "marginv", "effect", "text",
];

pub fn parse(text: &str) -> Result<ParsedCues, SubtitleError> {
    let mut collector = CueCollector::default();
    let mut in_events = false;
    let mut format: Vec<String> = DEFAULT_FORMAT
        .iter()
        .map(|field| (*field).to_owned())
        .collect();
    let mut seen: HashSet<(Millis, Millis, String)> = HashSet::new();
    for (index, line) in text.split('\n').enumerate() {
        let line_number = index + 1;
        let line = line.trim_start_matches('\u{feff}').trim();
        if line.starts_with('[') {
            in_events = line.eq_ignore_ascii_case("[events]");
            continue;
        }
        if !in_events {
            continue;
        }
        let Some((kind, fields)) = line.split_once(':') else {
            continue;
        };
        match kind.trim().to_ascii_lowercase().as_str() {
            "format" => {
                format = fields
                    .split(',')
                    .map(|f| f.trim().to_ascii_lowercase())
                    .collect()
            }
            "dialogue" => match read_dialogue(fields, &format) {
                Ok(cue) => {
                    if seen.insert((cue.start, cue.end, cue.text.clone())) {
                        collector.push(line_number, cue)?;
                    }
                }
                Err(reason) => collector.skip(SkippedCue::new(line_number, None, reason)),
            },
            _ => {}
        }
    }
    collector.finish()
}

fn read_dialogue(fields: &str, format: &[String]) -> Result<Cue, String> {
    let position = |name: &str| format.iter().position(|f| f == name);
    let (Some(start_at), Some(end_at), Some(text_at)) =
        (position("start"), position("end"), position("text"))
    else {
        return Err("the [Events] Format line lacks Start, End or Text".to_owned());
    };
    // Text is the last field and may itself contain commas.
    let values: Vec<&str> = fields.splitn(format.len(), ',').collect();
    if values.len() < format.len() {
        return Err(format!(
            "expected {} comma-separated fields, found {}",
            format.len(),
            values.len()
        ));
    }
    let start = parse_clock(values[start_at]).map_err(|reason| format!("start time: {reason}"))?;
    let end = parse_clock(values[end_at]).map_err(|reason| format!("end time: {reason}"))?;
    Ok(Cue {
        start,
        end,
        text: plain_text(values[text_at]),
        words: None,
    })
}

/// Removes override blocks and drawings, turns `\N` into a line break and
/// `\n`/`\h` into spaces.
fn plain_text(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut drawing = false;
    let mut rest = raw;
    while !rest.is_empty() {
        if let Some(after_brace) = rest.strip_prefix('{') {
            let Some(close) = after_brace.find('}') else {
                out.push_str(rest);
                break;
            };
            let block = &after_brace[..close];
            if let Some(level) = drawing_level(block) {
                drawing = level > 0;
            }
            rest = &after_brace[close + 1..];
            continue;
        }
        let next_brace = rest.find('{').unwrap_or(rest.len());
        if !drawing {
            out.push_str(&rest[..next_brace]);
        }
        rest = &rest[next_brace..];
    }
    let out = out
        .replace("\\N", "\n")
        .replace("\\n", " ")
        .replace("\\h", " ");
    out.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .collect::<Vec<_>>()
        .join("\n")
}

/// The last `\pN` in an override block, if any (`\pos`, `\pbo` are other tags).
fn drawing_level(block: &str) -> Option<u32> {
    block
        .split('\\')
        .filter_map(|tag| tag.strip_prefix('p'))
        .filter_map(|value| value.trim().parse::<u32>().ok())
        .next_back()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const HEADER: &str = "[Script Info]\nScriptType: v4.00+\n\n[Events]\nFormat: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text\n";

    #[test]
    fn strips_overrides_and_drawings_and_dedupes_layers() {
        let file = format!(
            "{HEADER}Dialogue: 1,0:00:01.00,0:00:02.50,Default,,0,0,0,,{{\\i1}}Hello,{{\\i0}} world\\Nline two\nDialogue: 0,0:00:01.00,0:00:02.50,Shadow,,0,0,0,,Hello, world\\Nline two\nDialogue: 0,0:00:03.00,0:00:04.00,Sign,,0,0,0,,{{\\p1}}m 0 0 l 100 0 100 100{{\\p0}}\nComment: 0,0:00:05.00,0:00:06.00,Default,,0,0,0,,note\n"
        );
        let parsed = parse(&file).unwrap();
        assert_eq!(parsed.cues.len(), 1);
        assert_eq!(parsed.cues[0].text, "Hello, world\nline two");
        assert_eq!(parsed.cues[0].end, Millis::new(2_500));
    }

    #[test]
    fn ssa_marked_field_and_bad_time() {
        let file = "[Events]\nFormat: Marked, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text\nDialogue: Marked=0,0:00:01.00,0:00:02.00,Default,,0,0,0,,Hi\nDialogue: Marked=0,0:00:xx.00,0:00:02.00,Default,,0,0,0,,Bad\n";
        let parsed = parse(file).unwrap();
        assert_eq!(parsed.cues[0].text, "Hi");
        assert_eq!(parsed.skipped[0].line, 4);
    }
}
