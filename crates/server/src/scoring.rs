//! The built-in pronunciation engine as the server runs it: the models are
//! loaded on first use (not at start-up, so a server without them still
//! serves everything else) and then shared by every scoring job.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use echoloop_core::assessment::Assessment;
use echoloop_speech::{Assessor, SpeechError, TranscriptModels};
use tokio::sync::OnceCell;

#[derive(Clone, Default)]
pub struct Scoring {
    assessor: Arc<OnceCell<Arc<Assessor>>>,
    /// `None`: `ECHOLOOP_MODELS_DIR`, else the nearest `models/`.
    models_dir: Option<PathBuf>,
}

impl std::fmt::Debug for Scoring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scoring")
            .field("loaded", &self.assessor.initialized())
            .finish()
    }
}

impl Scoring {
    /// Models from `models_dir` (`hama/`, `whisper-*/`); with `None`, from
    /// `ECHOLOOP_MODELS_DIR`, else the nearest `models/` directory (what
    /// `echoloop models list` shows).
    pub fn new(models_dir: Option<PathBuf>) -> Self {
        Scoring {
            assessor: Arc::default(),
            models_dir,
        }
    }

    fn load(models_dir: Option<&Path>) -> Result<Assessor, SpeechError> {
        match models_dir {
            Some(dir) => Ok(Assessor::load(&dir.join("hama"))?
                .with_transcript(Some(TranscriptModels::in_dir(dir)))),
            None => Assessor::load_default(),
        }
    }

    /// Judges the take in `audio` (any format the speech crate decodes)
    /// against `text`. A failed model load is not remembered: models
    /// installed later are picked up by the next job.
    pub async fn assess(
        &self,
        audio: PathBuf,
        text: String,
        language: String,
    ) -> Result<Assessment, ScoringError> {
        let assessor = self
            .assessor
            .get_or_try_init(|| async {
                let dir = self.models_dir.clone();
                let loaded = tokio::task::spawn_blocking(move || Self::load(dir.as_deref()))
                    .await
                    .map_err(|error| ScoringError::Panicked(error.to_string()))??;
                tracing::info!("pronunciation models loaded");
                Ok::<_, ScoringError>(Arc::new(loaded))
            })
            .await?
            .clone();
        tokio::task::spawn_blocking(move || {
            let take = echoloop_speech::audio::decode_file(&audio)?;
            assessor.assess_samples(&take, &text, &language, None)
        })
        .await
        .map_err(|error| ScoringError::Panicked(error.to_string()))?
        .map_err(ScoringError::from)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ScoringError {
    #[error(transparent)]
    Speech(#[from] SpeechError),
    #[error("the assessor stopped unexpectedly: {0}")]
    Panicked(String),
}
