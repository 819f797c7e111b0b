//! Echoloop's speech engines: audio decoding, the built-in offline
//! pronunciation assessor, the shadowing comparison and Whisper
//! transcription (docs/speech.md).
//! Results use `echoloop_core::assessment` types.

pub mod acoustic;
pub mod align;
pub mod assess;
pub mod audio;
pub mod error;
pub mod fluency;
pub mod fusion;
pub mod gop;
pub mod phones;
pub mod prosody;
pub mod reference;
pub mod renditions;
pub mod take_quality;
pub mod transcribe;
pub mod transcript_check;
pub mod wer;
pub mod whisper;
pub mod word_match;

pub use assess::{Assessor, assess, decode_clip};
pub use error::{Result, SpeechError};
pub use renditions::Rendition;
pub use transcribe::transcribe;
pub use transcript_check::TranscriptModels;
pub use whisper::{DecodeOptions, EngineSettings, WhisperModel};
