//! TTML / DFXP (`.ttml`, `.dfxp`, `.xml`), as Netflix and broadcasters deliver
//! it: `<p begin end|dur>` with `<br/>` and `<span>`s inside, times in clock
//! time (`00:00:01.500`, `00:00:01:12` with frames) or offset time (`1.5s`,
//! `1500ms`, `36f`, `15000000t`) governed by `ttp:tickRate`, `ttp:frameRate`,
//! `ttp:frameRateMultiplier` and `ttp:subFrameRate`. Times on enclosing
//! `<body>`/`<div>` elements offset their children. Regions and styles only
//! place text on screen, so they are ignored.

use roxmltree::Node;

use super::cue::{Cue, CueCollector, ParsedCues};
use super::error::{SkippedCue, SubtitleError};
use super::xml::{attribute, line_of, parse_document};
use crate::time::Millis;

/// The timing parameters declared on `<tt>`.
#[derive(Debug, Clone, Copy, PartialEq)]
struct TimeBase {
    frame_rate: f64,
    sub_frame_rate: f64,
    tick_rate: f64,
}

impl TimeBase {
    fn from_root(root: Node<'_, '_>) -> Self {
        let number = |name: &str| {
            attribute(root, name)
                .and_then(|v| v.trim().parse::<f64>().ok())
                .filter(|v| v.is_finite() && *v > 0.0)
        };
        let multiplier = attribute(root, "frameRateMultiplier")
            .and_then(|value| {
                let mut parts = value.split_whitespace().map(str::parse::<f64>);
                match (parts.next(), parts.next()) {
                    (Some(Ok(numerator)), Some(Ok(denominator)))
                        if numerator > 0.0 && denominator > 0.0 =>
                    {
                        Some(numerator / denominator)
                    }
                    _ => None,
                }
            })
            .unwrap_or(1.0);
        let frame_rate = number("frameRate").unwrap_or(30.0) * multiplier;
        let sub_frame_rate = number("subFrameRate").unwrap_or(1.0);
        // TTML: without tickRate, ticks count frames × sub-frames, or seconds.
        let tick_rate = number("tickRate").unwrap_or(if number("frameRate").is_some() {
            frame_rate * sub_frame_rate
        } else {
            1.0
        });
        TimeBase {
            frame_rate,
            sub_frame_rate,
            tick_rate,
        }
    }

    /// A time expression in milliseconds.
    fn parse(&self, expression: &str) -> Result<Millis, String> {
        let expression = expression.trim();
        let seconds = if expression.contains(':') {
            self.clock_time(expression)
        } else {
            self.offset_time(expression)
        }
        .ok_or_else(|| format!("`{expression}` is not a TTML time expression"))?;
        if !(0.0..=1.0e10).contains(&seconds) {
            return Err(format!("`{expression}` is out of range"));
        }
        Ok(Millis::new((seconds * 1000.0).round() as u64))
    }

    /// `hh:mm:ss`, `hh:mm:ss.fraction` or `hh:mm:ss:frames[.subframes]`.
    fn clock_time(&self, expression: &str) -> Option<f64> {
        let parts: Vec<&str> = expression.split(':').collect();
        let number = |text: &str| -> Option<f64> {
            (!text.is_empty() && text.bytes().all(|b| b.is_ascii_digit() || b == b'.'))
                .then(|| text.parse::<f64>().ok())
                .flatten()
        };
        let hours = number(parts.first()?)?;
        let minutes = number(parts.get(1)?)?;
        let seconds = number(parts.get(2)?)?;
        let frames = match parts.get(3) {
            Some(frames) => {
                let (whole, sub) = frames.split_once('.').unwrap_or((frames, "0"));
                (number(whole)? + number(sub)? / self.sub_frame_rate) / self.frame_rate
            }
            None => 0.0,
        };
        if parts.len() > 4 || minutes >= 60.0 || seconds >= 61.0 {
            return None;
        }
        Some(hours * 3600.0 + minutes * 60.0 + seconds + frames)
    }

    /// `<number><metric>` with metric `h`, `m`, `s`, `ms`, `f` or `t`.
    fn offset_time(&self, expression: &str) -> Option<f64> {
        let split = expression.find(|c: char| !(c.is_ascii_digit() || c == '.'))?;
        let (value, metric) = expression.split_at(split);
        if value.is_empty() {
            return None;
        }
        let value: f64 = value.parse().ok()?;
        Some(match metric {
            "h" => value * 3600.0,
            "m" => value * 60.0,
            "s" => value,
            "ms" => value / 1000.0,
            "f" => value / self.frame_rate,
            "t" => value / self.tick_rate,
            _ => return None,
        })
    }
}

pub fn parse(text: &str) -> Result<ParsedCues, SubtitleError> {
    let document = parse_document(text)?;
    let root = document.root_element();
    if root.tag_name().name() != "tt" {
        return Err(SubtitleError::Malformed {
            line: line_of(root),
            column: None,
            reason: "the root element is not <tt>".to_owned(),
        });
    }
    let time_base = TimeBase::from_root(root);
    let mut collector = CueCollector::default();
    for paragraph in root
        .descendants()
        .filter(|node| node.is_element() && node.tag_name().name() == "p")
    {
        let line = line_of(paragraph);
        match read_paragraph(paragraph, &time_base) {
            Ok(cue) => collector.push(line, cue)?,
            Err(reason) => collector.skip(SkippedCue::new(line, None, reason)),
        }
    }
    collector.finish()
}

fn read_paragraph(paragraph: Node<'_, '_>, time_base: &TimeBase) -> Result<Cue, String> {
    let mut offset = Millis::ZERO;
    for ancestor in paragraph
        .ancestors()
        .skip(1)
        .filter(|node| node.is_element())
    {
        if let Some(begin) = attribute(ancestor, "begin") {
            offset = Millis::new(offset.get() + time_base.parse(begin)?.get());
        }
    }
    let begin = attribute(paragraph, "begin").ok_or("the <p> has no begin time")?;
    let start = time_base
        .parse(begin)
        .map_err(|reason| format!("begin: {reason}"))?;
    let end = match (attribute(paragraph, "end"), attribute(paragraph, "dur")) {
        (Some(end), _) => time_base
            .parse(end)
            .map_err(|reason| format!("end: {reason}"))?,
        (None, Some(duration)) => Millis::new(
            start.get()
                + time_base
                    .parse(duration)
                    .map_err(|reason| format!("dur: {reason}"))?
                    .get(),
        ),
        (None, None) => return Err("the <p> has neither end nor dur".to_owned()),
    };
    let mut raw = String::new();
    collect_text(paragraph, &mut raw);
    Ok(Cue {
        start: Millis::new(start.get() + offset.get()),
        end: Millis::new(end.get() + offset.get()),
        text: collapse_whitespace(&raw),
        words: None,
    })
}

/// Text in document order; `<br/>` becomes a line break, `<metadata>` is not
/// shown on screen and so is skipped.
fn collect_text(node: Node<'_, '_>, out: &mut String) {
    for child in node.children() {
        if child.is_text() {
            out.push_str(child.text().unwrap_or_default());
        } else if child.is_element() {
            match child.tag_name().name() {
                "br" => out.push('\n'),
                "metadata" => {}
                _ => collect_text(child, out),
            }
        }
    }
}

/// XML's default whitespace handling: runs of spaces, tabs and source line
/// breaks become one space; explicit `<br/>` breaks stay.
fn collapse_whitespace(raw: &str) -> String {
    raw.split('\n')
        .map(|line| line.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|line| !line.is_empty())
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn reads_ticks_frames_clock_and_offsets() {
        let file = r#"<?xml version="1.0" encoding="UTF-8"?>
<tt xmlns="http://www.w3.org/ns/ttml" xmlns:ttp="http://www.w3.org/ns/ttml#parameter" ttp:tickRate="10000000" ttp:frameRate="24" ttp:frameRateMultiplier="1000 1001">
<body><div>
<p begin="10000000t" end="25000000t">Hello<br/><span>world</span></p>
<p begin="00:00:03:12" end="00:00:04.000">Frames</p>
<p begin="5s" dur="1500ms">Offset</p>
</div></body></tt>"#;
        let parsed = parse(file).unwrap();
        let cues: Vec<_> = parsed
            .cues
            .iter()
            .map(|c| (c.start.get(), c.end.get(), c.text.as_str()))
            .collect();
        assert_eq!(
            cues,
            [
                (1000, 2500, "Hello\nworld"),
                (3500, 4000, "Frames"),
                (5000, 6500, "Offset")
            ]
        );
    }

    #[test]
    fn broken_xml_reports_position() {
        let error = parse("<tt>\n<body><p begin=\"1s\" end=\"2s\">x</body></tt>").unwrap_err();
        assert!(
            matches!(
                error,
                SubtitleError::Malformed {
                    line: 2,
                    column: Some(_),
                    ..
                }
            ),
            "{error:?}"
        );
    }
}
