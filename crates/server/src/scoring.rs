//! The built-in pronunciation engine as the server runs it: the models are
//! loaded on first use (not at start-up, so a server without them still
//! serves everything else) and then shared by every scoring job.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use echoloop_core::assessment::Assessment;
use echoloop_speech::{Assessor, Rendition, SpeechError, TranscriptModels};
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

    /// The engine, loaded on first use. A failed load is not remembered:
    /// models installed later are picked up by the next job.
    async fn assessor(&self) -> Result<Arc<Assessor>, ScoringError> {
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
            .await?;
        Ok(Arc::clone(assessor))
    }

    /// What stored renditions must have been made by to be used here
    /// (`db::renditions`).
    pub async fn rendition_engine(&self) -> Result<String, ScoringError> {
        Ok(self.assessor().await?.rendition_engine().to_owned())
    }

    /// Judges the take in `audio` (any format the speech crate decodes)
    /// against `text`, with the sentence's `stored` renditions; returns
    /// the assessment and the renditions it had to render (to store).
    pub async fn assess(
        &self,
        audio: PathBuf,
        text: String,
        language: String,
        stored: Vec<Rendition>,
    ) -> Result<(Assessment, Vec<Rendition>), ScoringError> {
        let assessor = self.assessor().await?;
        tokio::task::spawn_blocking(move || {
            let take = echoloop_speech::audio::decode_file(&audio)?;
            let known = adopt(&assessor, &text, &language, stored)?;
            let spoken = assessor.renditions_spoken();
            let assessment = assessor.assess_samples(&take, &text, &language, None)?;
            count_rendered(&assessor, spoken);
            Ok((
                assessment,
                rendered_since(&assessor, &text, &language, &known),
            ))
        })
        .await
        .map_err(|error| ScoringError::Panicked(error.to_string()))?
    }

    /// The batches of voices a sentence is prepared in, each heard at
    /// once (`Assessor::rendition_voices`, `renditions_at_once`).
    pub async fn preparation_batches(
        &self,
        language: &str,
    ) -> Result<Vec<Vec<(String, u32)>>, ScoringError> {
        let assessor = self.assessor().await?;
        let voices = assessor.rendition_voices(language);
        Ok(voices
            .chunks(assessor.renditions_at_once().max(1))
            .map(<[_]>::to_vec)
            .collect())
    }

    /// Renders `text` in `voices`, beside its `stored` renditions, so its
    /// first take is scored without waiting for them; returns the
    /// renditions rendered (to store).
    pub async fn prepare(
        &self,
        text: String,
        language: String,
        stored: Vec<Rendition>,
        voices: Vec<(String, u32)>,
    ) -> Result<Vec<Rendition>, ScoringError> {
        let assessor = self.assessor().await?;
        tokio::task::spawn_blocking(move || {
            let known = adopt(&assessor, &text, &language, stored)?;
            let spoken = assessor.renditions_spoken();
            assessor.prepare_renditions_in(&text, &language, &voices)?;
            count_rendered(&assessor, spoken);
            Ok(rendered_since(&assessor, &text, &language, &known))
        })
        .await
        .map_err(|error| ScoringError::Panicked(error.to_string()))?
    }
}

/// Gives the assessor the stored renditions it can use; returns them all
/// (what need not be stored again).
fn adopt(
    assessor: &Assessor,
    text: &str,
    language: &str,
    stored: Vec<Rendition>,
) -> Result<Vec<Rendition>, SpeechError> {
    let offered = stored.len();
    let taken = assessor.adopt_renditions(text, language, stored.clone())?;
    crate::metrics::renditions("stored", taken);
    if taken < offered {
        tracing::warn!(
            offered,
            taken,
            "stored renditions that do not fit their sentence were left out"
        );
    }
    Ok(stored)
}

/// The renditions of `text` the assessor holds that are not among
/// `stored` (rendered here, or stored wrong).
fn rendered_since(
    assessor: &Assessor,
    text: &str,
    language: &str,
    stored: &[Rendition],
) -> Vec<Rendition> {
    assessor
        .renditions_of(text, language)
        .into_iter()
        .filter(|r| !stored.contains(r))
        .collect()
}

/// Counts the renditions spoken since the assessor had spoken `before`
/// (one scoring worker per instance: no other job's count in between).
fn count_rendered(assessor: &Assessor, before: u64) {
    let spoken = assessor.renditions_spoken().saturating_sub(before);
    crate::metrics::renditions("rendered", usize::try_from(spoken).unwrap_or(usize::MAX));
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
