//! The common shape every parser produces: timed cues of plain text.

use serde::{Deserialize, Serialize};

use super::error::{SkippedCue, SubtitleError};
use super::limits::{MAX_CUES, MAX_SKIPPED_LISTED};
use crate::time::Millis;

/// One word (or seg) with its own timing, as word-timed sources carry it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WordTiming {
    pub text: String,
    pub start_time: Millis,
    pub end_time: Millis,
}

/// A caption as the file states it: `start < end`, plain text (markup
/// stripped, lines joined with `\n`), word timings when the source has them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cue {
    pub start: Millis,
    pub end: Millis,
    pub text: String,
    pub words: Option<Vec<WordTiming>>,
}

/// A parser's result: the cues it could read and the ones it had to skip.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ParsedCues {
    pub cues: Vec<Cue>,
    pub skipped: Vec<SkippedCue>,
}

/// Collects cues while enforcing [`MAX_CUES`] and [`MAX_SKIPPED_LISTED`].
#[derive(Debug, Default)]
pub(crate) struct CueCollector {
    parsed: ParsedCues,
    unlisted_problems: usize,
}

impl CueCollector {
    /// Adds a cue whose text is already plain. Cues with no visible text are
    /// dropped silently (ASS drawings, YouTube line-feed events); cues that
    /// end before they start are listed as skipped.
    pub fn push(&mut self, line: usize, cue: Cue) -> Result<(), SubtitleError> {
        if cue.text.trim().is_empty() {
            return Ok(());
        }
        if cue.start >= cue.end {
            self.skip(SkippedCue::new(
                line,
                None,
                format!(
                    "the cue ends ({}) before or when it starts ({})",
                    cue.end, cue.start
                ),
            ));
            return Ok(());
        }
        if self.parsed.cues.len() >= MAX_CUES {
            return Err(SubtitleError::TooManyCues);
        }
        self.parsed.cues.push(cue);
        Ok(())
    }

    pub fn skip(&mut self, skipped: SkippedCue) {
        if self.parsed.skipped.len() < MAX_SKIPPED_LISTED {
            self.parsed.skipped.push(skipped);
        } else {
            self.unlisted_problems += 1;
        }
    }

    /// The result, cues ordered by start time (stable, so layers and
    /// simultaneous speakers keep file order). A file that had problems but
    /// not one good cue is an error at its first problem.
    pub fn finish(mut self) -> Result<ParsedCues, SubtitleError> {
        if self.unlisted_problems > 0 {
            let line = self.parsed.skipped.last().map_or(0, |s| s.line);
            self.parsed.skipped.push(SkippedCue::new(
                line,
                None,
                format!(
                    "{} more problems after this line not listed",
                    self.unlisted_problems
                ),
            ));
        }
        if self.parsed.cues.is_empty() {
            return Err(match self.parsed.skipped.into_iter().next() {
                Some(first) => first.into(),
                None => SubtitleError::Malformed {
                    line: 1,
                    column: None,
                    reason: "the file holds no cues".to_owned(),
                },
            });
        }
        self.parsed.cues.sort_by_key(|cue| cue.start);
        Ok(self.parsed)
    }
}
