//! Transcription with word timings: the one-call entry point over
//! [`crate::whisper`] for callers that transcribe now and then. A server
//! transcribing often keeps a [`WhisperModel`] loaded instead.

use std::path::Path;

use echoloop_core::assessment::Transcript;

use crate::error::Result;
use crate::whisper::{DecodeOptions, EngineSettings, WhisperModel, catalog};

/// Transcribes `path` (any format `audio::AudioStream` reads). `lang` is a
/// BCP 47 tag or `None` to detect it; the model is tiny.en for English,
/// base otherwise (see [`catalog::default_for`]).
pub fn transcribe(path: &Path, lang: Option<&str>) -> Result<Transcript> {
    let primary = lang.map(|l| {
        l.split(['-', '_'])
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase()
    });
    let model = WhisperModel::load(
        catalog::default_for(primary.as_deref()),
        EngineSettings::default(),
    )?;
    let options = DecodeOptions {
        language: lang.map(str::to_owned),
        ..DecodeOptions::default()
    };
    model.transcribe_file(path, &options)
}
