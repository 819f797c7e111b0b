//! Writing cues back out as SRT or WebVTT (exports, and the round-trip tests
//! that keep the parsers honest).

use std::fmt::Write;

use super::cue::Cue;
use crate::time::Millis;

/// SubRip: `HH:MM:SS,mmm`, hours widen past 99 when needed.
pub fn to_srt(cues: &[Cue]) -> String {
    let mut out = String::new();
    for (index, cue) in cues.iter().enumerate() {
        let _ = write!(
            out,
            "{}\n{} --> {}\n{}\n\n",
            index + 1,
            clock(cue.start, ','),
            clock(cue.end, ','),
            payload(&cue.text)
        );
    }
    out
}

/// WebVTT with `&`, `<` and `>` escaped, as its payload syntax requires.
pub fn to_vtt(cues: &[Cue]) -> String {
    let mut out = String::from("WEBVTT\n\n");
    for cue in cues {
        let text = payload(&cue.text)
            .replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;");
        let _ = write!(
            out,
            "{} --> {}\n{}\n\n",
            clock(cue.start, '.'),
            clock(cue.end, '.'),
            text
        );
    }
    out
}

fn clock(at: Millis, separator: char) -> String {
    let ms = at.get();
    format!(
        "{:02}:{:02}:{:02}{separator}{:03}",
        ms / 3_600_000,
        ms / 60_000 % 60,
        ms / 1000 % 60,
        ms % 1000
    )
}

/// A blank line would end the cue early, so empty lines are dropped.
fn payload(text: &str) -> String {
    text.lines()
        .map(str::trim_end)
        .filter(|line| !line.trim().is_empty())
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn writes_both_formats() {
        let cues = [Cue {
            start: Millis::new(360_000_000 + 1_500),
            end: Millis::new(360_002_000),
            text: "a < b\n\nc".into(),
            words: None,
        }];
        assert_eq!(
            to_srt(&cues),
            "1\n100:00:01,500 --> 100:00:02,000\na < b\nc\n\n"
        );
        assert_eq!(
            to_vtt(&cues),
            "WEBVTT\n\n100:00:01.500 --> 100:00:02.000\na &lt; b\nc\n\n"
        );
    }
}
