//! Which format a file is in, judged from its content first (files arrive
//! renamed, or as `.txt`/`.xml`), the extension only breaking ties.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SubtitleFormat {
    Srt,
    Vtt,
    Ass,
    Ttml,
    Json3,
    Srv3,
    Lrc,
}

impl SubtitleFormat {
    pub fn name(self) -> &'static str {
        match self {
            SubtitleFormat::Srt => "srt",
            SubtitleFormat::Vtt => "vtt",
            SubtitleFormat::Ass => "ass",
            SubtitleFormat::Ttml => "ttml",
            SubtitleFormat::Json3 => "json3",
            SubtitleFormat::Srv3 => "srv3",
            SubtitleFormat::Lrc => "lrc",
        }
    }

    fn from_extension(file_name: &str) -> Option<Self> {
        let extension = file_name.rsplit_once('.')?.1.to_ascii_lowercase();
        Some(match extension.as_str() {
            "srt" => SubtitleFormat::Srt,
            "vtt" | "webvtt" => SubtitleFormat::Vtt,
            "ass" | "ssa" => SubtitleFormat::Ass,
            "ttml" | "dfxp" | "xml" => SubtitleFormat::Ttml,
            "json3" | "json" => SubtitleFormat::Json3,
            "srv3" => SubtitleFormat::Srv3,
            "lrc" => SubtitleFormat::Lrc,
            _ => return None,
        })
    }
}

/// How far into the file the content sniffing looks.
const SNIFF_BYTES: usize = 8 * 1024;

pub fn detect_format(text: &str, file_name: Option<&str>) -> Option<SubtitleFormat> {
    sniff(text).or_else(|| file_name.and_then(SubtitleFormat::from_extension))
}

fn sniff(text: &str) -> Option<SubtitleFormat> {
    let text = text.trim_start_matches(['\u{feff}', ' ', '\t', '\r', '\n']);
    let head = match text.char_indices().nth(SNIFF_BYTES) {
        Some((cut, _)) => &text[..cut],
        None => text,
    };
    if head.starts_with("WEBVTT") {
        return Some(SubtitleFormat::Vtt);
    }
    if head.starts_with('{') {
        return head.contains("\"events\"").then_some(SubtitleFormat::Json3);
    }
    if head.starts_with('<') {
        if head.contains("<timedtext") {
            return Some(SubtitleFormat::Srv3);
        }
        if head.contains("<tt ") || head.contains("<tt>") || head.contains(":tt ") {
            return Some(SubtitleFormat::Ttml);
        }
        return None;
    }
    let lower_head = head.to_ascii_lowercase();
    if lower_head.starts_with("[script info]")
        || lower_head.contains("\ndialogue:")
        || lower_head.contains("[events]")
    {
        return Some(SubtitleFormat::Ass);
    }
    if head
        .lines()
        .any(|line| line.contains("-->") && line.contains(':'))
    {
        return Some(SubtitleFormat::Srt);
    }
    let lrc_lines = head
        .lines()
        .filter(|line| is_lrc_time_tag(line.trim_start()))
        .count();
    (lrc_lines > 0).then_some(SubtitleFormat::Lrc)
}

fn is_lrc_time_tag(line: &str) -> bool {
    let Some(rest) = line.strip_prefix('[') else {
        return false;
    };
    let Some(close) = rest.find(']') else {
        return false;
    };
    let tag = &rest[..close];
    tag.contains(':')
        && tag
            .bytes()
            .all(|b| b.is_ascii_digit() || b == b':' || b == b'.')
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn content_beats_extension() {
        assert_eq!(
            detect_format("WEBVTT\n\n", Some("x.srt")),
            Some(SubtitleFormat::Vtt)
        );
        assert_eq!(
            detect_format("1\n00:00:01,000 --> 00:00:02,000\nHi\n", Some("x.txt")),
            Some(SubtitleFormat::Srt)
        );
        assert_eq!(
            detect_format("[Script Info]\n", None),
            Some(SubtitleFormat::Ass)
        );
        assert_eq!(
            detect_format("<?xml version=\"1.0\"?>\n<tt xmlns=\"\">", None),
            Some(SubtitleFormat::Ttml)
        );
        assert_eq!(
            detect_format("<timedtext format=\"3\">", None),
            Some(SubtitleFormat::Srv3)
        );
        assert_eq!(
            detect_format("{\"wireMagic\":\"pb3\",\"events\":[]}", None),
            Some(SubtitleFormat::Json3)
        );
        assert_eq!(
            detect_format("[ar:X]\n[00:01.00]la\n", None),
            Some(SubtitleFormat::Lrc)
        );
        assert_eq!(detect_format("just some text", Some("notes.txt")), None);
        assert_eq!(
            detect_format("just some text", Some("a.SRT")),
            Some(SubtitleFormat::Srt)
        );
    }
}
