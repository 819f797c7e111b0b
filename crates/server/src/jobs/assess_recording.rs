//! `recording.assess`: the server scores an uploaded recording with the
//! built-in engine and stores the result as the recording's assessment.
//! Queued when the recording's audio upload completes.

use anyhow::Context;
use serde_json::{Value, json};
use sqlx::PgConnection;
use uuid::Uuid;

use super::{JobContext, JobError, fetch_object, payload_id, prepare_sentence};
use crate::db;
use crate::db::assessments::NewAssessment;
use crate::db::renditions::Sentence;
use crate::domain::assessment::check_words;
use crate::domain::{Score, WordResult};
use crate::entitlements;
use crate::scoring::{ScoringError, language_of};
use echoloop_speech::SpeechError;

pub const KIND: &str = "recording.assess";

/// Longest take scored: a shadowed sentence lasts seconds, and the engine's
/// cost grows with the take (a 5-minute take is its tested limit), so a
/// long file uploaded as a take does not tie up the worker.
pub const MAX_TAKE_MS: i64 = 5 * 60 * 1000;

pub fn payload(user_id: Uuid, recording_id: Uuid) -> Value {
    json!({ "user_id": user_id, "recording_id": recording_id })
}

/// The id of the server's assessment of a recording: derived from the
/// recording, so a job that runs twice can never store two.
pub fn assessment_id(recording_id: Uuid) -> Uuid {
    Uuid::new_v5(&recording_id, b"echoloop:builtin-assessment")
}

/// Queues the scoring of a recording in the caller's transaction (one job
/// per recording at a time, `jobs_recording_assess_once`).
pub async fn schedule(
    conn: &mut PgConnection,
    user_id: Uuid,
    recording_id: Uuid,
) -> Result<bool, sqlx::Error> {
    db::jobs::enqueue(conn, KIND, &payload(user_id, recording_id)).await
}

/// Queues the scoring again of every stored take of these segments, whose
/// text just changed in the caller's transaction (in a language `scoring`
/// scores). A job that gave up (say, on a blank sentence) is replaced; a
/// pending one reads the new text when it runs. Returns how many takes.
pub async fn rescore_segments(
    conn: &mut PgConnection,
    scoring: &crate::scoring::Scoring,
    user_id: Uuid,
    segment_ids: &[Uuid],
) -> Result<usize, sqlx::Error> {
    if segment_ids.is_empty() {
        return Ok(0);
    }
    let takes = db::assessments::stored_takes_of(&mut *conn, user_id, segment_ids).await?;
    let mut queued = 0;
    for (recording_id, language) in takes {
        if !scoring.scores(language.as_deref()) {
            continue;
        }
        let payload = payload(user_id, recording_id);
        db::jobs::drop_failed(&mut *conn, KIND, &payload).await?;
        db::jobs::enqueue(&mut *conn, KIND, &payload).await?;
        queued += 1;
    }
    Ok(queued)
}

pub async fn run(
    conn: &mut PgConnection,
    payload: &Value,
    context: &JobContext,
) -> Result<(), JobError> {
    let failed = |detail| JobError::GiveUp {
        code: "scoring_failed",
        detail,
    };
    let user_id = payload_id(payload, "user_id").map_err(failed)?;
    let recording_id = payload_id(payload, "recording_id").map_err(failed)?;
    let Some(scoring) = &context.scoring else {
        return Err(JobError::GiveUp {
            code: "scoring_unavailable",
            detail: "this server does not score recordings".into(),
        });
    };
    let Some(target) = db::assessments::scoring_target(&mut *conn, user_id, recording_id).await?
    else {
        // Deleted meanwhile: nothing left to score.
        return Ok(());
    };
    let id = assessment_id(recording_id);
    let stored = db::assessments::get(&mut *conn, user_id, id).await?;
    if stored
        .as_ref()
        .is_some_and(|stored| stored.reference_text.as_deref() == Some(target.text.as_str()))
    {
        return Ok(());
    }
    // Scored before against another text: the sentence was corrected.
    let rescoring = stored.is_some();
    if target.duration > MAX_TAKE_MS {
        return Err(JobError::GiveUp {
            code: "take_too_long",
            detail: format!(
                "takes of up to {} minutes are scored; this one lasts {} s",
                MAX_TAKE_MS / 60_000,
                target.duration / 1000
            ),
        });
    }
    let Some(audio_key) = target.audio_key else {
        return Err(JobError::Retry(anyhow::anyhow!(
            "the recording has no stored audio yet"
        )));
    };
    // A cheap look first, so a used-up day does not cost an assessment's
    // CPU; the count is checked again under the plan lock before storing.
    // A re-score is not a new assessment of the day.
    if !rescoring {
        day_allowance(conn, context, user_id, false).await?;
    }

    let audio = tempfile::NamedTempFile::new().context("creating a file for the recording")?;
    fetch_object(context, &audio_key, audio.path()).await?;
    if !scoring.scores(target.language.as_deref()) {
        return Err(JobError::GiveUp {
            code: "language_unsupported",
            detail: scoring.unsupported_language(target.language.as_deref()),
        });
    }
    let language = language_of(target.language.as_deref());
    let engine = scoring.rendition_engine().await.map_err(give_up_or_retry)?;
    let sentence = Sentence {
        engine: &engine,
        language: &language,
        text: &target.text,
    };
    let stored = db::renditions::load(&mut *conn, &sentence).await?;
    let started = std::time::Instant::now();
    let (result, rendered) = scoring
        .assess(
            audio.path().to_owned(),
            target.text.clone(),
            language.clone(),
            stored,
        )
        .await
        .map_err(give_up_or_retry)?;
    tracing::info!(
        assess_ms = started.elapsed().as_millis() as u64,
        overall = result.scores.overall,
        engine = %result.engine,
        rendered = rendered.len(),
        "recording scored"
    );
    // Shared rows, not the learner's: written before their change counter
    // is taken, in one order (db::renditions::store).
    db::renditions::store(&mut *conn, &sentence, &rendered).await?;
    // The learner shadows in order: their next sentence is likely next.
    if let Some(next) =
        db::assessments::next_segment(&mut *conn, user_id, target.segment_id).await?
    {
        prepare_sentence::schedule(&mut *conn, user_id, next).await?;
    }

    let word_results: Vec<WordResult> = result.words.iter().map(WordResult::from_engine).collect();
    if let Err((field, reason)) = check_words(&word_results) {
        return Err(JobError::GiveUp {
            code: "scoring_failed",
            detail: format!("the engine's result is not valid ({field}: {reason})"),
        });
    }
    let scores = &result.scores;
    let new = NewAssessment {
        id,
        recording_id,
        overall: Score::clamped(scores.overall).get(),
        accuracy: Some(Score::clamped(scores.accuracy).get()),
        fluency: Some(Score::clamped(scores.fluency).get()),
        completeness: Some(Score::clamped(scores.completeness).get()),
        prosody: scores.prosody.map(|p| Score::clamped(p).get()),
        word_results: serde_json::to_value(&word_results).context("encoding word results")?,
        engine: &result.engine,
        reference_text: Some(&target.text),
        take_issues: result
            .take_issues
            .iter()
            .map(|issue| issue.name())
            .collect(),
    };
    // The learner's change counter before the plan's lock and the write,
    // as every write of theirs takes it; only now, not while scoring.
    db::sync::lock_change_counter(&mut *conn, user_id).await?;
    if rescoring {
        db::assessments::rescore(&mut *conn, user_id, new).await?;
        return Ok(());
    }
    day_allowance(conn, context, user_id, true).await?;
    db::assessments::insert(&mut *conn, user_id, new).await?;
    Ok(())
}

/// Defers the job to the next UTC day when the plan's assessments for today
/// are used. With `lock`, holds the plan lock until the job's transaction
/// ends, as a posted assessment does.
async fn day_allowance(
    conn: &mut PgConnection,
    context: &JobContext,
    user_id: Uuid,
    lock: bool,
) -> Result<(), JobError> {
    let (plan, limits) = if lock {
        entitlements::lock_limits(&mut *conn, &context.entitlements, user_id).await?
    } else {
        entitlements::plan_limits(&mut *conn, &context.entitlements, user_id).await?
    };
    let today = entitlements::assessments_today(&mut *conn, user_id).await?;
    if today < limits.assessments_per_day {
        return Ok(());
    }
    Err(JobError::Defer {
        at: entitlements::next_day_start(chrono::Utc::now()),
        code: "assessment_limit_reached",
        detail: format!(
            "the {plan} plan includes {} pronunciation assessments a day; this one is scored after midnight UTC",
            limits.assessments_per_day
        ),
    })
}

/// What the learner is told when scoring cannot succeed by trying again;
/// anything else (a helper program that failed, a panic) is retried.
fn give_up_or_retry(error: ScoringError) -> JobError {
    let give_up = |code, detail: String| JobError::GiveUp { code, detail };
    match error {
        ScoringError::Speech(error) if error.is_missing_model() => give_up(
            "scoring_unavailable",
            "this server has no pronunciation models installed".into(),
        ),
        ScoringError::Speech(error) if error.is_unreadable_audio() => give_up(
            "unreadable_audio",
            "the recording's audio cannot be decoded".into(),
        ),
        ScoringError::Speech(SpeechError::EmptyReference) => give_up(
            "no_text",
            "the sentence has no words to judge the recording against".into(),
        ),
        ScoringError::Speech(SpeechError::UnsupportedLanguage(reason)) => {
            give_up("language_unsupported", reason)
        }
        other => JobError::Retry(anyhow::Error::new(other)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_recording_has_one_server_assessment_id() {
        let recording = Uuid::new_v4();
        assert_eq!(assessment_id(recording), assessment_id(recording));
        assert_ne!(assessment_id(recording), assessment_id(Uuid::new_v4()));
    }

    #[test]
    fn missing_models_and_bad_audio_are_final_but_a_failing_tool_is_retried() {
        let code = |error| match give_up_or_retry(error) {
            JobError::GiveUp { code, .. } => code,
            JobError::Retry(_) => "retry",
            JobError::Defer { code, .. } => code,
        };
        assert_eq!(
            code(SpeechError::Model("gone".into()).into()),
            "scoring_unavailable"
        );
        assert_eq!(
            code(SpeechError::EmptyAudio("x".into()).into()),
            "unreadable_audio"
        );
        assert_eq!(code(SpeechError::EmptyReference.into()), "no_text");
        assert_eq!(
            code(
                SpeechError::Tool {
                    program: "espeak-ng",
                    detail: "exit 1".into()
                }
                .into()
            ),
            "retry"
        );
    }
}
