//! What can go wrong with a subtitle file: one fatal [`SubtitleError`] for a
//! file we cannot use at all, and [`SkippedCue`]s for the parts of a usable
//! file that we had to leave out.

use serde::{Deserialize, Serialize};

use super::limits::{MAX_CUES, MAX_FILE_BYTES};

/// A file that yields nothing usable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SubtitleError {
    #[error("the file is empty")]
    Empty,
    #[error("the file is {size} bytes; the limit is {MAX_FILE_BYTES} bytes")]
    TooLarge { size: usize },
    #[error("the file has more than {MAX_CUES} cues")]
    TooManyCues,
    #[error(
        "the file is not in a subtitle format we know (SRT, WebVTT, ASS/SSA, TTML/DFXP, YouTube json3/srv3, LRC)"
    )]
    UnknownFormat,
    #[error("the file's text encoding could not be decoded")]
    Undecodable,
    /// The file is broken at a point that makes the rest unreadable (bad XML,
    /// bad JSON), or not one cue in it could be read.
    #[error("{}", describe_position(*.line, *.column, .reason))]
    Malformed {
        line: usize,
        column: Option<usize>,
        reason: String,
    },
}

fn describe_position(line: usize, column: Option<usize>, reason: &str) -> String {
    match column {
        Some(column) => format!("line {line}, column {column}: {reason}"),
        None => format!("line {line}: {reason}"),
    }
}

/// A cue left out of an otherwise usable file. Lines and columns count from 1.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SkippedCue {
    pub line: usize,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub column: Option<usize>,
    pub reason: String,
}

impl SkippedCue {
    pub fn new(line: usize, column: Option<usize>, reason: impl Into<String>) -> Self {
        SkippedCue {
            line,
            column,
            reason: reason.into(),
        }
    }
}

impl From<SkippedCue> for SubtitleError {
    fn from(skipped: SkippedCue) -> Self {
        SubtitleError::Malformed {
            line: skipped.line,
            column: skipped.column,
            reason: skipped.reason,
        }
    }
}
