//! Subtitle import: bytes in any encoding and any of the supported formats
//! → learner-sized [`Segment`]s, plus the cues that had to be skipped.
//!
//! ```text
//! bytes ─ encoding::decode ─ detect::detect_format ─ srt|vtt|ass|ttml|youtube|lrc
//!       ─ Vec<Cue> ─ segment::segment_cues ─ Vec<Segment> (─ pair::pair_translations)
//! ```
//!
//! The browser reaches the same functions through `echoloop-wasm`; both sides
//! produce the JSON of [`import_to_json`], so they can be compared byte for
//! byte.

mod ass;
pub mod cue;
pub mod detect;
pub mod encoding;
pub mod error;
pub mod limits;
mod lrc;
mod markup;
pub mod pair;
pub mod segment;
pub mod serialise;
mod srt;
mod timecode;
mod ttml;
mod vtt;
mod xml;
mod youtube;

use serde::{Deserialize, Serialize};

pub use cue::{Cue, ParsedCues, WordTiming};
pub use detect::SubtitleFormat;
pub use error::{SkippedCue, SubtitleError};
pub use segment::{Segment, SegmentOptions};

use limits::MAX_FILE_BYTES;

/// Options of [`import`]; in JSON, `{maxChars, maxDurationMs, pauseMs,
/// language, keepCues}`, every field optional.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ImportOptions {
    #[serde(flatten)]
    pub segmentation: SegmentOptions,
    /// Return the cues as they are, one segment per cue, instead of
    /// re-cutting them into sentences.
    pub keep_cues: bool,
}

/// The result of an import, as serialised for the web client.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Imported {
    pub format: SubtitleFormat,
    pub encoding: String,
    pub segments: Vec<Segment>,
    pub skipped: Vec<SkippedCue>,
}

/// A decoded and parsed file, before segmentation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedFile {
    pub format: SubtitleFormat,
    pub encoding: &'static str,
    pub parsed: ParsedCues,
}

/// Decodes, detects the format (from content; the file name only breaks
/// ties) and parses.
pub fn parse_bytes(bytes: &[u8], file_name: Option<&str>) -> Result<ParsedFile, SubtitleError> {
    if bytes.is_empty() {
        return Err(SubtitleError::Empty);
    }
    if bytes.len() > MAX_FILE_BYTES {
        return Err(SubtitleError::TooLarge { size: bytes.len() });
    }
    let decoded = encoding::decode(bytes)?;
    let text = normalise_line_breaks(&decoded.text);
    if text.trim().is_empty() {
        return Err(SubtitleError::Empty);
    }
    let format = detect::detect_format(&text, file_name).ok_or(SubtitleError::UnknownFormat)?;
    let parsed = parse_text(&text, format)?;
    Ok(ParsedFile {
        format,
        encoding: decoded.encoding,
        parsed,
    })
}

/// Parses text already decoded, with `\n` line breaks, in a known format.
pub fn parse_text(text: &str, format: SubtitleFormat) -> Result<ParsedCues, SubtitleError> {
    match format {
        SubtitleFormat::Srt => srt::parse(text),
        SubtitleFormat::Vtt => vtt::parse(text),
        SubtitleFormat::Ass => ass::parse(text),
        SubtitleFormat::Ttml => ttml::parse(text),
        SubtitleFormat::Json3 => youtube::parse_json3(text),
        SubtitleFormat::Srv3 => youtube::parse_srv3(text),
        SubtitleFormat::Lrc => lrc::parse(text),
    }
}

/// Bytes of a subtitle file → segments ready for practice.
pub fn import(
    bytes: &[u8],
    file_name: Option<&str>,
    options: &ImportOptions,
) -> Result<Imported, SubtitleError> {
    let file = parse_bytes(bytes, file_name)?;
    // Lyrics lines are already the unit a learner sings back.
    let keep_cues = options.keep_cues || file.format == SubtitleFormat::Lrc;
    let segments = if keep_cues {
        file.parsed.cues.iter().map(cue_as_segment).collect()
    } else {
        segment::segment_cues(&file.parsed.cues, &options.segmentation)
    };
    Ok(Imported {
        format: file.format,
        encoding: file.encoding.to_owned(),
        segments,
        skipped: file.parsed.skipped,
    })
}

/// [`import`] as the JSON the web client receives.
pub fn import_to_json(
    bytes: &[u8],
    file_name: Option<&str>,
    options: &ImportOptions,
) -> Result<String, SubtitleError> {
    let imported = import(bytes, file_name, options)?;
    Ok(serde_json::to_string(&imported).unwrap_or_default())
}

/// Segments as JSON (`[{startTime, endTime, text, …}]`) plus a translation
/// file → the same segments with `translation` filled in, as JSON.
pub fn pair_translations_json(
    segments_json: &str,
    translation_bytes: &[u8],
    file_name: Option<&str>,
) -> Result<String, SubtitleError> {
    let mut segments: Vec<Segment> =
        serde_json::from_str(segments_json).map_err(|error| SubtitleError::Malformed {
            line: error.line(),
            column: Some(error.column()),
            reason: format!("segments are not valid JSON: {error}"),
        })?;
    let translation = parse_bytes(translation_bytes, file_name)?;
    segments.sort_by_key(|segment| segment.start_time);
    pair::pair_translations(&mut segments, &translation.parsed.cues);
    Ok(serde_json::to_string(&segments).unwrap_or_default())
}

fn cue_as_segment(cue: &Cue) -> Segment {
    Segment {
        start_time: cue.start,
        end_time: cue.end,
        text: cue.text.clone(),
        words: cue.words.clone(),
        translation: None,
    }
}

/// CRLF and lone CR become LF and a leading BOM goes, so the parsers see one
/// kind of line break and line numbers stay those an editor shows.
fn normalise_line_breaks(text: &str) -> std::borrow::Cow<'_, str> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if text.contains('\r') {
        text.replace("\r\n", "\n").replace('\r', "\n").into()
    } else {
        text.into()
    }
}
