//! Whisper transcription as the server runs it: a material's media becomes
//! learner-sized segments (the seed's `origin = 'asr_cloud'`). Models load
//! on first use, not at start-up (a server without them serves everything
//! else), and then stay loaded, one per model, shared by every job.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use echoloop_core::subtitles::{Cue, Segment, SegmentOptions, WordTiming, segment::segment_cues};
use echoloop_core::time::Millis;
use echoloop_speech::audio::AudioStream;
use echoloop_speech::whisper::{self, catalog};
use echoloop_speech::{DecodeOptions, EngineSettings, SpeechError, WhisperModel};
use tokio::sync::Mutex;

#[derive(Clone, Default)]
pub struct Transcription {
    /// `None`: `ECHOLOOP_MODELS_DIR`, else the nearest `models/`.
    models_dir: Option<PathBuf>,
    loaded: Arc<Mutex<HashMap<&'static str, Arc<WhisperModel>>>>,
}

impl std::fmt::Debug for Transcription {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transcription")
            .field("models_dir", &self.models_dir)
            .finish()
    }
}

/// A finished transcription.
#[derive(Debug, Clone)]
pub struct Transcribed {
    pub model: &'static str,
    /// ISO 639-1 code, given or detected; `None` when nothing was heard to
    /// detect it from.
    pub language: Option<String>,
    pub media_ms: u64,
    /// Sentences cut as imported subtitles are (`segment_cues`), in order.
    pub segments: Vec<Segment>,
}

#[derive(Debug, thiserror::Error)]
pub enum TranscriptionError {
    #[error(transparent)]
    Speech(#[from] SpeechError),
    #[error("the transcriber stopped unexpectedly: {0}")]
    Panicked(String),
}

impl Transcription {
    pub fn new(models_dir: Option<PathBuf>) -> Self {
        Transcription {
            models_dir,
            loaded: Arc::default(),
        }
    }

    /// The model a transcription in `language` (a primary subtag; `None`:
    /// detect it) would use. An error when none is installed, naming what
    /// to install; cheap (looks at files only).
    pub fn model_for(&self, language: Option<&str>) -> Result<&'static str, SpeechError> {
        catalog::installed_for(self.models_dir.as_deref(), language).map(|(name, _)| name)
    }

    /// Transcribes the media in `path` (any format the speech crate reads,
    /// video containers through ffmpeg) in constant memory. `heard` gets
    /// the end (ms) of each stretch of speech as it is decoded.
    pub async fn transcribe(
        &self,
        path: PathBuf,
        language: Option<String>,
        heard: tokio::sync::watch::Sender<u64>,
    ) -> Result<Transcribed, TranscriptionError> {
        let (name, dir) = catalog::installed_for(self.models_dir.as_deref(), language.as_deref())?;
        let model = self.model(name, dir).await?;
        tokio::task::spawn_blocking(move || transcribe_file(&model, &path, language, &heard))
            .await
            .map_err(|error| TranscriptionError::Panicked(error.to_string()))?
    }

    async fn model(
        &self,
        name: &'static str,
        dir: PathBuf,
    ) -> Result<Arc<WhisperModel>, TranscriptionError> {
        // Held while loading, so two jobs never load the same model twice.
        let mut loaded = self.loaded.lock().await;
        if let Some(model) = loaded.get(name) {
            return Ok(model.clone());
        }
        let model = tokio::task::spawn_blocking(move || {
            WhisperModel::load_dir(&dir, name, EngineSettings::default())
        })
        .await
        .map_err(|error| TranscriptionError::Panicked(error.to_string()))??;
        tracing::info!(model = name, "transcription model loaded");
        let model = Arc::new(model);
        loaded.insert(name, model.clone());
        Ok(model)
    }
}

fn transcribe_file(
    model: &WhisperModel,
    path: &Path,
    language: Option<String>,
    heard: &tokio::sync::watch::Sender<u64>,
) -> Result<Transcribed, TranscriptionError> {
    let options = DecodeOptions {
        language,
        ..DecodeOptions::default()
    };
    let mut cues = Vec::new();
    let info = model.transcribe_stream(AudioStream::open(path)?, &options, &mut |segment| {
        heard.send_replace(segment.end_ms);
        if let Some(cue) = cue_of(segment) {
            cues.push(cue);
        }
    })?;
    let segments = segment_cues(
        &cues,
        &SegmentOptions {
            language: info.language.clone(),
            ..SegmentOptions::default()
        },
    );
    Ok(Transcribed {
        model: catalog::KNOWN_MODELS
            .iter()
            .map(|known| known.name)
            .find(|known| *known == model.name())
            .unwrap_or("whisper"),
        language: info.language,
        media_ms: info.duration_ms,
        segments,
    })
}

/// A Whisper segment as a subtitle cue, with its word timings (so the
/// sentences are cut where the words were said).
fn cue_of(segment: whisper::Segment) -> Option<Cue> {
    let text = segment.text.trim();
    if text.is_empty() || segment.start_ms >= segment.end_ms {
        return None;
    }
    let words: Vec<WordTiming> = segment
        .words
        .iter()
        .filter(|word| !word.word.trim().is_empty())
        .map(|word| WordTiming {
            text: word.word.trim().to_owned(),
            start_time: Millis::new(word.start_ms),
            end_time: Millis::new(word.end_ms.max(word.start_ms + 1)),
        })
        .collect();
    Some(Cue {
        start: Millis::new(segment.start_ms),
        end: Millis::new(segment.end_ms),
        text: text.to_owned(),
        words: (!words.is_empty()).then_some(words),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use echoloop_core::assessment::TranscriptWord;

    fn segment(
        text: &str,
        start_ms: u64,
        end_ms: u64,
        words: &[(&str, u64, u64)],
    ) -> whisper::Segment {
        whisper::Segment {
            start_ms,
            end_ms,
            text: text.into(),
            words: words
                .iter()
                .map(|(word, start_ms, end_ms)| TranscriptWord {
                    word: (*word).into(),
                    start_ms: *start_ms,
                    end_ms: *end_ms,
                    confidence: None,
                })
                .collect(),
            avg_logprob: -0.2,
            no_speech_prob: 0.0,
            temperature: 0.0,
            compression_ratio: 1.0,
        }
    }

    #[test]
    fn a_whisper_segment_becomes_a_cue_with_its_word_timings() {
        let cue = cue_of(segment(
            " Hello there.",
            0,
            900,
            &[(" Hello", 0, 400), (" there.", 400, 900)],
        ))
        .unwrap_or_else(|| panic!("a cue"));
        assert_eq!(cue.text, "Hello there.");
        let words = cue.words.unwrap_or_default();
        assert_eq!(words.len(), 2);
        assert_eq!(words[1].text, "there.");
        assert_eq!(words[1].start_time, Millis::new(400));
    }

    #[test]
    fn empty_or_timeless_segments_are_dropped() {
        assert!(cue_of(segment("  ", 0, 500, &[])).is_none());
        assert!(cue_of(segment("Hi.", 500, 500, &[])).is_none());
    }

    #[test]
    fn two_sentences_in_one_window_become_two_segments() {
        let cue = cue_of(segment(
            " I saw a ship. It was red.",
            0,
            3000,
            &[
                (" I", 0, 200),
                (" saw", 200, 500),
                (" a", 500, 600),
                (" ship.", 600, 1200),
                (" It", 1800, 2000),
                (" was", 2000, 2300),
                (" red.", 2300, 3000),
            ],
        ))
        .unwrap_or_else(|| panic!("a cue"));
        let segments = segment_cues(&[cue], &SegmentOptions::default());
        let texts: Vec<&str> = segments.iter().map(|s| s.text.as_str()).collect();
        assert_eq!(texts, ["I saw a ship.", "It was red."]);
        assert_eq!(segments[1].start_time, Millis::new(1800));
    }
}
