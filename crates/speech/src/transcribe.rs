//! Transcription with word timings.
//!
//! Whisper (CTranslate2 through `ct2rs`) was planned behind a `whisper`
//! feature; it does not build on the project machines in reasonable time
//! (see docs/speech.md), so this entry point exists for the CLI and server
//! to call and reports that transcription is unavailable.

use std::path::Path;

use echoloop_core::assessment::Transcript;

use crate::error::{Result, SpeechError};

/// Transcribes `path` (any format `audio::AudioStream` reads) in `lang`.
pub fn transcribe(path: &Path, lang: Option<&str>) -> Result<Transcript> {
    let _ = (path, lang);
    Err(SpeechError::TranscriptionUnavailable)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn without_an_engine_transcription_says_so() {
        assert!(matches!(
            transcribe(Path::new("take.webm"), Some("en")),
            Err(SpeechError::TranscriptionUnavailable)
        ));
    }
}
