//! The one error type of the speech engines.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum SpeechError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The file holds no audio at all (0 bytes, or no samples decoded).
    #[error("{0}: the file contains no audio")]
    EmptyAudio(PathBuf),
    /// Neither symphonia nor ffmpeg recognises the file.
    #[error("{path}: unsupported or unrecognised audio format ({detail})")]
    UnsupportedFormat { path: PathBuf, detail: String },
    /// The format was recognised but the data is damaged beyond use.
    #[error("{path}: corrupt audio ({detail})")]
    CorruptAudio { path: PathBuf, detail: String },
    #[error(transparent)]
    Resample(#[from] echoloop_core::audio::resample::ResampleError),
    /// A helper program (espeak-ng, ffmpeg) is missing or failed.
    #[error("{program}: {detail}")]
    Tool {
        program: &'static str,
        detail: String,
    },
    /// The acoustic model files are missing or the engine refused them.
    #[error("acoustic model: {0} (run scripts/fetch-models.sh)")]
    Model(String),
    #[error("the reference text has no words")]
    EmptyReference,
    /// A Whisper model is not installed where it is looked for.
    #[error(
        "the Whisper model {name} is not installed (looked for {looked_for}); install it with scripts/fetch-models.sh"
    )]
    WhisperModelMissing { name: String, looked_for: String },
    /// The language is not one the model knows, or the model is English-only.
    #[error("{0}")]
    UnsupportedLanguage(String),
    /// CTranslate2 refused the model or failed while decoding.
    #[error("transcription failed: {0}")]
    Transcription(String),
}

impl SpeechError {
    /// A model is not installed or cannot be loaded: trying again does not
    /// help until an operator installs it.
    pub fn is_missing_model(&self) -> bool {
        matches!(
            self,
            SpeechError::Model(_) | SpeechError::WhisperModelMissing { .. }
        )
    }

    /// The input is no usable audio: trying again does not help.
    pub fn is_unreadable_audio(&self) -> bool {
        matches!(
            self,
            SpeechError::EmptyAudio(_)
                | SpeechError::UnsupportedFormat { .. }
                | SpeechError::CorruptAudio { .. }
        )
    }
}

pub type Result<T, E = SpeechError> = std::result::Result<T, E>;
