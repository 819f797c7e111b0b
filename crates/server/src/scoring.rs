//! The built-in pronunciation engine as the server runs it: the models are
//! loaded on first use (not at start-up, so a server without them still
//! serves everything else) and then shared by every scoring job.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use echoloop_core::assessment::Assessment;
use echoloop_speech::{Assessor, SpeechError, TranscriptModels};
use tokio::sync::OnceCell;

#[derive(Clone)]
pub struct Scoring {
    assessor: Arc<OnceCell<Arc<Assessor>>>,
    /// `None`: `ECHOLOOP_MODELS_DIR`, else the nearest `models/`.
    models_dir: Option<PathBuf>,
    /// Primary language subtags scored (lowercase).
    languages: Arc<Vec<String>>,
}

/// Languages scored unless the operator says otherwise: the engine is
/// calibrated on English only, and its phone recogniser hears every
/// language as English phones (docs/speech.md, "Limits"), so a French
/// learner's right /y/ would be marked wrong.
pub const DEFAULT_LANGUAGES: &[&str] = &["en"];

/// Language judged when neither the material nor the account names one.
pub const FALLBACK_LANGUAGE: &str = "en";

/// The engine's language for a material's or account's tag: its primary
/// subtag ("en-GB" → "en"), or English when there is none.
pub fn language_of(tag: Option<&str>) -> String {
    tag.and_then(|tag| tag.split('-').next())
        .filter(|primary| !primary.is_empty())
        .unwrap_or(FALLBACK_LANGUAGE)
        .to_ascii_lowercase()
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
    pub fn new(models_dir: Option<PathBuf>, languages: &[String]) -> Self {
        Scoring {
            assessor: Arc::default(),
            models_dir,
            languages: Arc::new(languages.iter().map(|l| language_of(Some(l))).collect()),
        }
    }

    /// Whether takes in `tag` (a material's or account's language) are
    /// scored here.
    pub fn scores(&self, tag: Option<&str>) -> bool {
        self.languages.contains(&language_of(tag))
    }

    /// What a learner is told when their language is not scored.
    pub fn unsupported_language(&self, tag: Option<&str>) -> String {
        format!(
            "pronunciation scores on this server are for {} so far, not {}",
            self.languages.join(", "),
            language_of(tag)
        )
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_engine_judges_the_primary_language() {
        assert_eq!(language_of(Some("en-GB")), "en");
        assert_eq!(language_of(Some("FR")), "fr");
        assert_eq!(language_of(None), "en");
    }

    #[test]
    fn only_the_configured_languages_are_scored() {
        let english = Scoring::new(None, &["en".into()]);
        assert!(english.scores(Some("en-US")) && english.scores(None));
        assert!(!english.scores(Some("fr-CA")));
        assert_eq!(
            english.unsupported_language(Some("fr-CA")),
            "pronunciation scores on this server are for en so far, not fr"
        );
        let both = Scoring::new(None, &["EN".into(), "fr".into()]);
        assert!(both.scores(Some("fr")));
    }
}
