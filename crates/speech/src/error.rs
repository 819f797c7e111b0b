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
    #[error("resampling failed: {0}")]
    Resample(String),
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
    #[error("transcription is not available in this build")]
    TranscriptionUnavailable,
}

pub type Result<T, E = SpeechError> = std::result::Result<T, E>;
