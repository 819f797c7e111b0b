//! A pronunciation assessment of one recording, in the shape SPEC section 6
//! fixes (the shape learners know from the leading cloud service, so a cloud
//! engine can be plugged in behind it): overall, accuracy, fluency,
//! completeness and prosody scores 0–100 and per reference word its score,
//! error type, timing in the recording and, where available, syllables and
//! phonemes.

use serde::{Deserialize, Serialize};

/// Most words one assessment may carry.
pub const MAX_WORDS: usize = 2_000;
const MAX_UNITS_PER_WORD: usize = 64;
/// Most alternatives listed for one phoneme.
pub const MAX_ALTERNATIVES: usize = 8;

/// A score 0..=100 (finite).
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(try_from = "f64", into = "f64")]
#[schema(value_type = f64, minimum = 0, maximum = 100)]
pub struct Score(f32);

impl Score {
    pub fn parse(value: f64) -> Result<Self, String> {
        if !value.is_finite() || !(0.0..=100.0).contains(&value) {
            return Err("must be a number from 0 to 100".into());
        }
        #[allow(clippy::cast_possible_truncation)]
        Ok(Score(value as f32))
    }

    pub fn get(self) -> f32 {
        self.0
    }
}

impl TryFrom<f64> for Score {
    type Error = String;
    fn try_from(value: f64) -> Result<Self, Self::Error> {
        Score::parse(value)
    }
}

impl From<Score> for f64 {
    fn from(score: Score) -> f64 {
        f64::from(score.0)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub enum ErrorType {
    None,
    Omission,
    Insertion,
    Mispronunciation,
}

/// A phoneme or syllable inside a word.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UnitResult {
    /// The phoneme (IPA) or syllable.
    #[schema(max_length = 32)]
    pub unit: String,
    pub accuracy_score: Score,
    /// Milliseconds from the start of the recording.
    pub offset_ms: Option<u32>,
    pub duration_ms: Option<u32>,
    /// What the engine heard there, best first (may include `unit` itself):
    /// "you said /h/ where /n/ belongs".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alternatives: Option<Vec<UnitCandidate>>,
}

/// A phoneme the engine heard in place of the expected one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UnitCandidate {
    #[schema(max_length = 32)]
    pub unit: String,
    /// How strongly it was heard, 0–100.
    pub score: Score,
}

/// One reference word (or an inserted word).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WordResult {
    #[schema(min_length = 1, max_length = 100)]
    pub word: String,
    pub accuracy_score: Score,
    pub error_type: ErrorType,
    /// Milliseconds from the start of the recording; absent for an omitted word.
    pub offset_ms: Option<u32>,
    pub duration_ms: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub syllables: Option<Vec<UnitResult>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phonemes: Option<Vec<UnitResult>>,
}

impl Score {
    /// An engine's number, held to 0..=100 (a NaN counts as 0).
    pub fn clamped(value: f32) -> Self {
        Score(if value.is_nan() {
            0.0
        } else {
            value.clamp(0.0, 100.0)
        })
    }
}

impl WordResult {
    /// The built-in engine's verdict on one word, in the API's shape: the
    /// sound-level error type (prosody findings have no place in it yet)
    /// and the word's phones as phonemes.
    pub fn from_engine(word: &echoloop_core::assessment::WordResult) -> Self {
        use echoloop_core::assessment::ErrorType as Engine;
        let millis = |value: Option<u64>| value.map(|ms| u32::try_from(ms).unwrap_or(u32::MAX));
        let phonemes: Vec<UnitResult> = word
            .phones
            .iter()
            .filter(|phone| !phone.expected.trim().is_empty())
            .take(MAX_UNITS_PER_WORD)
            .map(|phone| {
                let alternatives: Vec<UnitCandidate> = phone
                    .alternatives
                    .iter()
                    .filter(|heard| is_unit_name(&heard.phone))
                    .take(MAX_ALTERNATIVES)
                    .map(|heard| UnitCandidate {
                        unit: heard.phone.clone(),
                        score: Score::clamped(heard.score),
                    })
                    .collect();
                UnitResult {
                    unit: phone.expected.chars().take(32).collect(),
                    accuracy_score: Score::clamped(phone.accuracy),
                    offset_ms: millis(phone.offset_ms),
                    duration_ms: millis(phone.duration_ms),
                    alternatives: (!alternatives.is_empty()).then_some(alternatives),
                }
            })
            .collect();
        WordResult {
            word: word.word.chars().take(100).collect(),
            accuracy_score: Score::clamped(word.accuracy),
            error_type: match word.error {
                Engine::Omission => ErrorType::Omission,
                Engine::Insertion => ErrorType::Insertion,
                Engine::Mispronunciation => ErrorType::Mispronunciation,
                _ => ErrorType::None,
            },
            offset_ms: millis(word.offset_ms),
            duration_ms: millis(word.duration_ms),
            syllables: None,
            phonemes: (!phonemes.is_empty()).then_some(phonemes),
        }
    }
}

fn is_unit_name(unit: &str) -> bool {
    !unit.trim().is_empty() && unit.chars().count() <= 32
}

/// Checks what serde's types cannot: sizes and per-word consistency.
/// Returns the field path and the reason.
pub fn check_words(words: &[WordResult]) -> Result<(), (String, String)> {
    if words.len() > MAX_WORDS {
        return Err((
            "word_results".into(),
            format!("must have at most {MAX_WORDS} words"),
        ));
    }
    for (index, word) in words.iter().enumerate() {
        let path = format!("word_results[{index}]");
        if word.word.trim().is_empty() || word.word.chars().count() > 100 {
            return Err((format!("{path}.word"), "must be 1 to 100 characters".into()));
        }
        if word.error_type != ErrorType::Omission
            && (word.offset_ms.is_none() || word.duration_ms.is_none())
        {
            return Err((
                format!("{path}.offset_ms"),
                "offset_ms and duration_ms are required unless the word was omitted".into(),
            ));
        }
        for (name, units) in [("syllables", &word.syllables), ("phonemes", &word.phonemes)] {
            let Some(units) = units else { continue };
            if units.len() > MAX_UNITS_PER_WORD {
                return Err((
                    format!("{path}.{name}"),
                    format!("must have at most {MAX_UNITS_PER_WORD} entries"),
                ));
            }
            for (unit_index, unit) in units.iter().enumerate() {
                let unit_path = format!("{path}.{name}[{unit_index}]");
                if !is_unit_name(&unit.unit) {
                    return Err((
                        format!("{unit_path}.unit"),
                        "must be 1 to 32 characters".into(),
                    ));
                }
                let alternatives = unit.alternatives.as_deref().unwrap_or_default();
                if alternatives.len() > MAX_ALTERNATIVES {
                    return Err((
                        format!("{unit_path}.alternatives"),
                        format!("must have at most {MAX_ALTERNATIVES} entries"),
                    ));
                }
                if let Some(bad) = alternatives.iter().position(|a| !is_unit_name(&a.unit)) {
                    return Err((
                        format!("{unit_path}.alternatives[{bad}].unit"),
                        "must be 1 to 32 characters".into(),
                    ));
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use serde_json::json;

    use super::*;

    fn word(value: serde_json::Value) -> Result<WordResult, serde_json::Error> {
        serde_json::from_value(value)
    }

    #[test]
    fn scores_outside_0_to_100_are_rejected() {
        assert!(Score::parse(-0.1).is_err());
        assert!(Score::parse(100.1).is_err());
        assert!(Score::parse(f64::NAN).is_err());
        assert!(Score::parse(87.5).is_ok());
    }

    #[test]
    fn a_word_in_the_cloud_shape_parses() {
        let parsed = word(json!({
            "word": "hello", "accuracy_score": 92.0, "error_type": "None",
            "offset_ms": 120, "duration_ms": 400,
            "phonemes": [{"unit": "h", "accuracy_score": 90.0}]
        }))
        .unwrap();
        assert_eq!(parsed.error_type, ErrorType::None);
        assert!(check_words(&[parsed]).is_ok());
    }

    #[test]
    fn unknown_error_type_is_rejected() {
        assert!(word(json!({"word": "a", "accuracy_score": 1, "error_type": "Wrong"})).is_err());
    }

    #[test]
    fn unknown_keys_are_rejected() {
        assert!(
            word(json!({"word": "a", "accuracy_score": 1, "error_type": "None", "extra": 1}))
                .is_err()
        );
    }

    #[test]
    fn negative_offsets_are_rejected() {
        assert!(
            word(json!({"word": "a", "accuracy_score": 1, "error_type": "None", "offset_ms": -1}))
                .is_err()
        );
    }

    #[test]
    fn a_spoken_word_needs_its_timing() {
        let parsed =
            word(json!({"word": "a", "accuracy_score": 1, "error_type": "Mispronunciation"}))
                .unwrap();
        assert_eq!(
            check_words(&[parsed]).unwrap_err().0,
            "word_results[0].offset_ms"
        );
        let omitted =
            word(json!({"word": "a", "accuracy_score": 0, "error_type": "Omission"})).unwrap();
        assert!(check_words(&[omitted]).is_ok());
    }

    #[test]
    fn blank_word_is_rejected() {
        let parsed =
            word(json!({"word": " ", "accuracy_score": 0, "error_type": "Omission"})).unwrap();
        assert_eq!(
            check_words(&[parsed]).unwrap_err().0,
            "word_results[0].word"
        );
    }
    #[test]
    fn a_phonemes_alternatives_are_checked() {
        let with = |alternatives: serde_json::Value| {
            word(json!({
                "word": "night", "accuracy_score": 30, "error_type": "Mispronunciation",
                "offset_ms": 0, "duration_ms": 300,
                "phonemes": [{"unit": "n", "accuracy_score": 0, "alternatives": alternatives}]
            }))
        };
        let heard = with(json!([{"unit": "h", "score": 97}, {"unit": "n", "score": 2}])).unwrap();
        assert!(check_words(&[heard]).is_ok());
        let blank = with(json!([{"unit": "", "score": 97}])).unwrap();
        assert_eq!(
            check_words(&[blank]).unwrap_err().0,
            "word_results[0].phonemes[0].alternatives[0].unit"
        );
        let many: Vec<_> = (0..9).map(|_| json!({"unit": "h", "score": 1})).collect();
        assert_eq!(
            check_words(&[with(json!(many)).unwrap()]).unwrap_err().0,
            "word_results[0].phonemes[0].alternatives"
        );
        assert!(with(json!([{"unit": "h", "score": 101}])).is_err());
    }

    #[test]
    fn the_engines_phones_keep_what_was_heard_instead() {
        use echoloop_core::assessment as engine;
        let result = WordResult::from_engine(&engine::WordResult {
            word: "night".into(),
            accuracy: 31.0,
            error: engine::ErrorType::Mispronunciation,
            prosody_errors: vec![engine::ErrorType::Monotone],
            offset_ms: Some(1200),
            duration_ms: Some(350),
            phones: vec![engine::PhoneResult {
                expected: "n".into(),
                accuracy: f32::NAN,
                offset_ms: Some(1200),
                duration_ms: Some(60),
                alternatives: vec![
                    engine::PhoneCandidate {
                        phone: "h".into(),
                        score: 120.0,
                    },
                    engine::PhoneCandidate {
                        phone: "".into(),
                        score: 1.0,
                    },
                ],
            }],
        });
        assert_eq!(result.error_type, ErrorType::Mispronunciation);
        let phone = &result.phonemes.as_ref().unwrap()[0];
        assert_eq!(phone.accuracy_score, Score::clamped(0.0));
        let heard = phone.alternatives.as_ref().unwrap();
        assert_eq!(heard.len(), 1);
        assert_eq!((heard[0].unit.as_str(), heard[0].score.get()), ("h", 100.0));
        assert!(check_words(&[result]).is_ok());
    }
}
