//! Pronunciation-assessment and transcription results: the shape the server
//! stores and the browser reads, whichever engine produced it.
//!
//! The shape follows the cloud service learners already know (overall
//! "PronScore", accuracy, fluency, completeness, prosody; per word an error
//! type; per phone an accuracy and the best alternatives), so a cloud engine
//! can sit behind the same type: [`from_azure_json`] maps its JSON. Pure data
//! and pure functions only: this module builds for wasm32.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Scores for a whole take, each 0–100.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct Scores {
    /// The headline number ("PronScore").
    pub overall: f32,
    /// How close the phones are to a native reference.
    pub accuracy: f32,
    /// Pauses and speaking rate.
    pub fluency: f32,
    /// Share of reference words that were spoken.
    pub completeness: f32,
    /// Intonation and rhythm; `None` when the engine did not judge it.
    pub prosody: Option<f32>,
}

/// What went wrong with one word. The first four are about the sounds, the
/// last three about prosody; a word has one [`WordResult::error`] (the
/// sound-level verdict) and any number of [`WordResult::prosody_errors`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
pub enum ErrorType {
    #[default]
    None,
    /// A reference word that was not spoken.
    Omission,
    /// A spoken word that is not in the reference.
    Insertion,
    /// A spoken reference word whose accuracy is below the threshold.
    Mispronunciation,
    /// A pause inside a phrase where a native speaker would not pause.
    UnexpectedBreak,
    /// No pause where a native speaker would pause (e.g. at a comma).
    MissingBreak,
    /// Flat pitch over the word.
    Monotone,
}

impl ErrorType {
    /// Parses the names the cloud service uses; unknown names are `None`
    /// rather than an error so a new value upstream cannot break a result.
    pub fn from_name(name: &str) -> Self {
        match name {
            "Omission" => Self::Omission,
            "Insertion" => Self::Insertion,
            "Mispronunciation" => Self::Mispronunciation,
            "UnexpectedBreak" => Self::UnexpectedBreak,
            "MissingBreak" => Self::MissingBreak,
            "Monotone" => Self::Monotone,
            _ => Self::None,
        }
    }
}

/// An alternative phone the engine heard, with its score 0–100.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PhoneCandidate {
    pub phone: String,
    pub score: f32,
}

/// One expected phone of a reference word.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PhoneResult {
    /// The phone the reference expects (IPA for the built-in engine; the
    /// cloud engine's alphabet otherwise).
    pub expected: String,
    pub accuracy: f32,
    pub offset_ms: Option<u64>,
    pub duration_ms: Option<u64>,
    /// What the engine heard instead, best first (may include `expected`).
    pub alternatives: Vec<PhoneCandidate>,
}

/// One word of the reference text (or an inserted word) in the take.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WordResult {
    pub word: String,
    pub accuracy: f32,
    pub error: ErrorType,
    pub prosody_errors: Vec<ErrorType>,
    /// Where the word is in the take; `None` for omitted words.
    pub offset_ms: Option<u64>,
    pub duration_ms: Option<u64>,
    pub phones: Vec<PhoneResult>,
}

/// How a shadowing take lines up against the original clip, word by word.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ShadowingWord {
    pub word: String,
    /// Start of the word in the take minus its start in the original
    /// (both measured from the start of their own audio). Positive = late.
    pub lag_ms: i64,
    /// Duration in the take divided by duration in the original.
    pub duration_ratio: f32,
}

/// The shadowing comparison between a take and the original clip.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ShadowingResult {
    /// Median lag over words.
    pub lag_ms: i64,
    /// 0–100: how evenly the take keeps the original's rhythm.
    pub rhythm: f32,
    /// Pearson correlation of the pitch contours (semitones) along the
    /// alignment, −1…1; `None` when either side has too little voicing.
    pub pitch_correlation: Option<f32>,
    pub words: Vec<ShadowingWord>,
}

/// Something wrong with the recording itself rather than with the
/// pronunciation, which the learner can put right before the next take.
/// Said beside the verdict so a poor score is not blamed on the learner's
/// sounds alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TakeIssue {
    /// No speech in the recording: a muted or wrong microphone, or nothing
    /// said.
    NoSpeech,
    /// Speech runs into the start or the end of the recording: it started
    /// after the learner began or stopped before they finished, so the
    /// first or last word may be cut.
    CutOff,
    /// Too loud: the peaks are clipped, which distorts the sounds.
    Clipped,
}

impl TakeIssue {
    pub const ALL: [TakeIssue; 3] = [TakeIssue::NoSpeech, TakeIssue::CutOff, TakeIssue::Clipped];

    /// The name stored and sent (`no_speech`, `cut_off`, `clipped`).
    pub fn name(self) -> &'static str {
        match self {
            TakeIssue::NoSpeech => "no_speech",
            TakeIssue::CutOff => "cut_off",
            TakeIssue::Clipped => "clipped",
        }
    }

    /// What to do about it, in English (the command line's wording; the web
    /// client words it in the learner's language).
    pub fn advice(self) -> &'static str {
        match self {
            TakeIssue::NoSpeech => "no speech was heard: is the microphone on and the right one?",
            TakeIssue::CutOff => {
                "speech runs into the start or end: start recording before speaking and stop after"
            }
            TakeIssue::Clipped => "too loud, the sound is distorted: move back from the microphone",
        }
    }
}

/// The full verdict on one take.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Assessment {
    /// Which engine produced this, e.g. `"builtin-hama"`, `"azure"`.
    pub engine: String,
    pub scores: Scores,
    pub words: Vec<WordResult>,
    pub shadowing: Option<ShadowingResult>,
    /// What is wrong with the recording itself, if anything (none from a
    /// cloud engine, which does not say).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub take_issues: Vec<TakeIssue>,
}

/// One recognised word with its time in the audio.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TranscriptWord {
    pub word: String,
    pub start_ms: u64,
    pub end_ms: u64,
    /// 0–1 where the engine gives one.
    pub confidence: Option<f32>,
}

/// A stretch of speech as the engine segmented it (a subtitle cue).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TranscriptSegment {
    pub start_ms: u64,
    pub end_ms: u64,
    pub text: String,
}

/// A transcription of one recording.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Transcript {
    pub text: String,
    /// ISO 639-1 code, given or detected.
    pub language: Option<String>,
    /// In order; empty for silence. Absent in results from before segments
    /// were kept.
    #[serde(default)]
    pub segments: Vec<TranscriptSegment>,
    pub words: Vec<TranscriptWord>,
}

/// Why a cloud result could not be mapped.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CloudMappingError {
    #[error("not JSON: {0}")]
    NotJson(String),
    #[error("no pronunciation assessment in the result (RecognitionStatus {0:?})")]
    NoAssessment(Option<String>),
}

/// One Azure time unit ("tick") is 100 ns.
const TICKS_PER_MS: u64 = 10_000;

/// Maps an Azure Speech pronunciation-assessment result into [`Assessment`].
///
/// Accepts both documented forms: the REST "detailed" form, where the scores
/// sit directly on `NBest[0]` and on each word (`AccuracyScore`, `ErrorType`),
/// and the SDK form, where they sit in a nested `PronunciationAssessment`
/// object. A bare `NBest` entry (no envelope) is accepted too. `Offset` and
/// `Duration` are 100-ns ticks.
pub fn from_azure_json(json: &str) -> Result<Assessment, CloudMappingError> {
    let root: Value =
        serde_json::from_str(json).map_err(|e| CloudMappingError::NotJson(e.to_string()))?;
    let best = root.get("NBest").and_then(|n| n.get(0)).unwrap_or(&root);
    let take_scores = field(best, "PronScore")
        .or_else(|| field(best, "AccuracyScore"))
        .map(|_| scores_of(best));
    let Some(scores) = take_scores else {
        let status = root
            .get("RecognitionStatus")
            .and_then(Value::as_str)
            .map(str::to_owned);
        return Err(CloudMappingError::NoAssessment(status));
    };
    let words = best
        .get("Words")
        .and_then(Value::as_array)
        .map(|ws| ws.iter().map(word_of).collect())
        .unwrap_or_default();
    Ok(Assessment {
        engine: "azure".to_owned(),
        scores,
        words,
        shadowing: None,
        take_issues: Vec::new(),
    })
}

/// Reads a field from `obj` or, failing that, from its nested
/// `PronunciationAssessment` object (the two documented layouts).
fn field<'a>(obj: &'a Value, name: &str) -> Option<&'a Value> {
    obj.get(name)
        .or_else(|| obj.get("PronunciationAssessment")?.get(name))
}

fn number(obj: &Value, name: &str) -> Option<f32> {
    field(obj, name).and_then(Value::as_f64).map(|v| v as f32)
}

fn ticks_to_ms(obj: &Value, name: &str) -> Option<u64> {
    obj.get(name)
        .and_then(Value::as_u64)
        .map(|ticks| (ticks + TICKS_PER_MS / 2) / TICKS_PER_MS)
}

fn scores_of(best: &Value) -> Scores {
    let accuracy = number(best, "AccuracyScore").unwrap_or(0.0);
    Scores {
        // Older results have no PronScore; accuracy is the closest stand-in.
        overall: number(best, "PronScore").unwrap_or(accuracy),
        accuracy,
        fluency: number(best, "FluencyScore").unwrap_or(0.0),
        completeness: number(best, "CompletenessScore").unwrap_or(0.0),
        prosody: number(best, "ProsodyScore"),
    }
}

fn word_of(w: &Value) -> WordResult {
    let error = field(w, "ErrorType")
        .and_then(Value::as_str)
        .map(ErrorType::from_name)
        .unwrap_or_default();
    let omitted = error == ErrorType::Omission;
    let phones = w
        .get("Phonemes")
        .and_then(Value::as_array)
        .map(|ps| ps.iter().map(phone_of).collect())
        .unwrap_or_default();
    WordResult {
        word: w
            .get("Word")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned(),
        accuracy: number(w, "AccuracyScore").unwrap_or(0.0),
        error,
        prosody_errors: prosody_errors_of(w),
        // Azure reports omitted words with a zero duration at the previous
        // word's end; that is not a place in the take.
        offset_ms: if omitted {
            None
        } else {
            ticks_to_ms(w, "Offset")
        },
        duration_ms: if omitted {
            None
        } else {
            ticks_to_ms(w, "Duration")
        },
        phones,
    }
}

/// Collects `Feedback.Prosody.Break.ErrorTypes` and
/// `Feedback.Prosody.Intonation.ErrorTypes`, dropping "None".
fn prosody_errors_of(w: &Value) -> Vec<ErrorType> {
    let Some(prosody) = field(w, "Feedback").and_then(|f| f.get("Prosody")) else {
        return Vec::new();
    };
    ["Break", "Intonation"]
        .iter()
        .filter_map(|part| prosody.get(part)?.get("ErrorTypes")?.as_array())
        .flatten()
        .filter_map(Value::as_str)
        .map(ErrorType::from_name)
        .filter(|e| *e != ErrorType::None)
        .collect()
}

fn phone_of(p: &Value) -> PhoneResult {
    let alternatives = field(p, "NBestPhonemes")
        .and_then(Value::as_array)
        .map(|alts| {
            alts.iter()
                .filter_map(|a| {
                    Some(PhoneCandidate {
                        phone: a.get("Phoneme")?.as_str()?.to_owned(),
                        score: a.get("Score")?.as_f64()? as f32,
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    PhoneResult {
        expected: p
            .get("Phoneme")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned(),
        accuracy: number(p, "AccuracyScore").unwrap_or(0.0),
        offset_ms: ticks_to_ms(p, "Offset"),
        duration_ms: ticks_to_ms(p, "Duration"),
        alternatives,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn take_issues_travel_by_their_names_and_older_results_have_none() {
        let result = Assessment {
            engine: "builtin-hama".into(),
            scores: Scores::default(),
            words: Vec::new(),
            shadowing: None,
            take_issues: vec![TakeIssue::NoSpeech, TakeIssue::CutOff, TakeIssue::Clipped],
        };
        let json = serde_json::to_value(&result).unwrap();
        assert_eq!(
            json["takeIssues"],
            serde_json::json!(["no_speech", "cut_off", "clipped"])
        );
        for issue in TakeIssue::ALL {
            assert_eq!(serde_json::to_value(issue).unwrap(), issue.name());
        }
        let clean = Assessment {
            take_issues: Vec::new(),
            ..result
        };
        let json = serde_json::to_value(&clean).unwrap();
        assert!(json.get("takeIssues").is_none(), "{json}");
        let read: Assessment = serde_json::from_value(json).unwrap();
        assert_eq!(read, clean);
    }

    /// The REST short-audio "detailed" layout: scores flat on NBest and words.
    const FLAT: &str = r#"{
      "RecognitionStatus": "Success",
      "Offset": 400000,
      "Duration": 11000000,
      "NBest": [{
        "Confidence": 0.97,
        "Lexical": "good morning",
        "AccuracyScore": 91.0,
        "FluencyScore": 88.0,
        "CompletenessScore": 100.0,
        "PronScore": 89.5,
        "Words": [
          {"Word": "good", "Offset": 500000, "Duration": 2700000,
           "AccuracyScore": 100.0, "ErrorType": "None"},
          {"Word": "morning", "Offset": 5300000, "Duration": 3900000,
           "AccuracyScore": 42.0, "ErrorType": "Mispronunciation"}
        ]
      }]
    }"#;

    /// The SDK layout: everything under `PronunciationAssessment`, with
    /// phonemes, NBest phonemes and prosody feedback.
    const NESTED: &str = r#"{
      "Id": "abc",
      "RecognitionStatus": "Success",
      "DisplayText": "Hello world.",
      "NBest": [{
        "Confidence": 0.9,
        "Lexical": "hello world",
        "PronunciationAssessment": {
          "AccuracyScore": 75.0, "FluencyScore": 60.0,
          "CompletenessScore": 50.0, "PronScore": 62.4, "ProsodyScore": 70.5
        },
        "Words": [
          {"Word": "hello", "Offset": 7000000, "Duration": 4500000,
           "PronunciationAssessment": {
             "AccuracyScore": 75.0, "ErrorType": "None",
             "Feedback": {"Prosody": {
               "Break": {"ErrorTypes": ["UnexpectedBreak"], "BreakLength": 5000000},
               "Intonation": {"ErrorTypes": ["Monotone"]}
             }}
           },
           "Phonemes": [
             {"Phoneme": "h", "Offset": 7000000, "Duration": 1000000,
              "PronunciationAssessment": {"AccuracyScore": 98.0,
                "NBestPhonemes": [{"Phoneme": "h", "Score": 98.0},
                                  {"Phoneme": "x", "Score": 20.0}]}},
             {"Phoneme": "ə", "Offset": 8000005, "Duration": 500000,
              "PronunciationAssessment": {"AccuracyScore": 30.0}}
           ]},
          {"Word": "world", "Offset": 11500000, "Duration": 0,
           "PronunciationAssessment": {"ErrorType": "Omission"}}
        ]
      }]
    }"#;

    #[test]
    fn maps_flat_rest_layout() {
        let a = from_azure_json(FLAT).unwrap();
        assert_eq!(a.engine, "azure");
        assert_eq!(a.scores.overall, 89.5);
        assert_eq!(a.scores.accuracy, 91.0);
        assert_eq!(a.scores.fluency, 88.0);
        assert_eq!(a.scores.completeness, 100.0);
        assert_eq!(a.scores.prosody, None);
        assert_eq!(a.words.len(), 2);
        assert_eq!(a.words[0].offset_ms, Some(50));
        assert_eq!(a.words[0].duration_ms, Some(270));
        assert_eq!(a.words[1].error, ErrorType::Mispronunciation);
        assert_eq!(a.words[1].accuracy, 42.0);
        assert_eq!(a.words[1].offset_ms, Some(530));
    }

    #[test]
    fn maps_nested_sdk_layout_with_phones_and_prosody() {
        let a = from_azure_json(NESTED).unwrap();
        assert_eq!(a.scores.overall, 62.4);
        assert_eq!(a.scores.prosody, Some(70.5));
        let hello = &a.words[0];
        assert_eq!(hello.error, ErrorType::None);
        assert_eq!(
            hello.prosody_errors,
            vec![ErrorType::UnexpectedBreak, ErrorType::Monotone]
        );
        assert_eq!(hello.offset_ms, Some(700));
        assert_eq!(hello.phones.len(), 2);
        assert_eq!(hello.phones[0].expected, "h");
        assert_eq!(hello.phones[0].alternatives[1].phone, "x");
        assert_eq!(hello.phones[0].alternatives[1].score, 20.0);
        // 8000005 ticks rounds to 800 ms.
        assert_eq!(hello.phones[1].offset_ms, Some(800));
        assert_eq!(hello.phones[1].accuracy, 30.0);
        let world = &a.words[1];
        assert_eq!(world.error, ErrorType::Omission);
        assert_eq!(world.offset_ms, None);
        assert_eq!(world.duration_ms, None);
    }

    #[test]
    fn accepts_a_bare_nbest_entry() {
        let root: Value = serde_json::from_str(NESTED).unwrap();
        let bare = root["NBest"][0].to_string();
        let a = from_azure_json(&bare).unwrap();
        assert_eq!(a.words.len(), 2);
        assert_eq!(a.scores.accuracy, 75.0);
    }

    #[test]
    fn rejects_results_without_assessment() {
        let no_match = r#"{"RecognitionStatus": "NoMatch", "Offset": 0, "Duration": 0}"#;
        assert_eq!(
            from_azure_json(no_match),
            Err(CloudMappingError::NoAssessment(Some("NoMatch".into())))
        );
        assert!(matches!(
            from_azure_json("not json"),
            Err(CloudMappingError::NotJson(_))
        ));
    }

    #[test]
    fn unknown_error_names_map_to_none() {
        assert_eq!(ErrorType::from_name("SomethingNew"), ErrorType::None);
        assert_eq!(
            ErrorType::from_name("MissingBreak"),
            ErrorType::MissingBreak
        );
    }

    #[test]
    fn assessment_round_trips_through_json_in_camel_case() {
        let a = from_azure_json(NESTED).unwrap();
        let json = serde_json::to_string(&a).unwrap();
        assert!(json.contains("\"offsetMs\":700"));
        assert!(json.contains("\"prosodyErrors\":[\"UnexpectedBreak\",\"Monotone\"]"));
        let back: Assessment = serde_json::from_str(&json).unwrap();
        assert_eq!(back, a);
    }
}
