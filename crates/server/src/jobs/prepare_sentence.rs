//! `segment.prepare`: renders a sentence the learner is about to say in
//! every voice its takes are judged against, and stores the renditions
//! (`db::renditions`), so the first take of it is scored without waiting
//! for them (about a second of CPU that would otherwise come after the
//! take). Queued for the next sentence when a take is scored.
//!
//! Best effort: a segment gone, a language not scored or a server without
//! models ends the job quietly; only database trouble is retried.

use serde_json::{Value, json};
use sqlx::PgConnection;
use uuid::Uuid;

use super::{JobContext, JobError, Lane, payload_id};
use crate::db;
use crate::db::renditions::Sentence;
use crate::scoring::{Scoring, language_of};

pub const KIND: &str = "segment.prepare";

/// A preparation still waiting this long after it was queued is dropped:
/// the learner has said the sentence or moved on.
const STALE_AFTER_MS: i64 = 2 * 60 * 1000;

pub fn payload(user_id: Uuid, segment_id: Uuid) -> Value {
    json!({
        "user_id": user_id,
        "segment_id": segment_id,
        "queued_ms": chrono::Utc::now().timestamp_millis(),
    })
}

/// Queues the preparation of a segment in the caller's transaction (once
/// while pending, `jobs_segment_prepare_once`; one that ran out of
/// attempts is replaced).
pub async fn schedule(
    conn: &mut PgConnection,
    user_id: Uuid,
    segment_id: Uuid,
) -> Result<bool, sqlx::Error> {
    let key = json!({ "user_id": user_id, "segment_id": segment_id });
    db::jobs::drop_failed(&mut *conn, KIND, &key).await?;
    db::jobs::enqueue(conn, KIND, &payload(user_id, segment_id)).await
}

/// Queues the preparation of the sentence at `index` of a material (the
/// one a learner's progress points at), when this server scores.
pub async fn schedule_at(
    conn: &mut PgConnection,
    scoring: Option<&Scoring>,
    user_id: Uuid,
    material_id: Uuid,
    index: i32,
) -> Result<(), sqlx::Error> {
    if scoring.is_none() {
        return Ok(());
    }
    if let Some(segment_id) =
        db::assessments::segment_at(&mut *conn, user_id, material_id, index).await?
    {
        schedule(conn, user_id, segment_id).await?;
    }
    Ok(())
}

pub async fn run(
    conn: &mut PgConnection,
    payload: &Value,
    context: &JobContext,
) -> Result<(), JobError> {
    let (Ok(user_id), Ok(segment_id)) = (
        payload_id(payload, "user_id"),
        payload_id(payload, "segment_id"),
    ) else {
        tracing::warn!(%payload, "a preparation without its ids is dropped");
        return Ok(());
    };
    let Some(scoring) = &context.scoring else {
        return Ok(());
    };
    if is_stale(payload, chrono::Utc::now().timestamp_millis()) {
        return Ok(());
    }
    let Some(sentence) = db::assessments::sentence_of(&mut *conn, user_id, segment_id).await?
    else {
        return Ok(());
    };
    if !scoring.scores(sentence.language.as_deref()) {
        return Ok(());
    }
    let language = language_of(sentence.language.as_deref());
    let engine = match scoring.rendition_engine().await {
        Ok(engine) => engine,
        Err(error) => {
            tracing::info!(%error, "no sentence prepared: the engine is unavailable");
            return Ok(());
        }
    };
    let key = Sentence {
        engine: &engine,
        language: &language,
        text: &sentence.text,
    };
    let started = std::time::Instant::now();
    let mut rendered = 0;
    let batches = match scoring.preparation_batches(&language).await {
        Ok(batches) => batches,
        Err(error) => {
            tracing::info!(%error, "no sentence prepared: the engine is unavailable");
            return Ok(());
        }
    };
    for (i, voices) in batches.into_iter().enumerate() {
        // A batch takes ~0.05 s of the worker; a take that became due
        // meanwhile goes first, and its own scoring renders what is left.
        if i > 0 && db::jobs::others_due(&mut *conn, Lane::LONG_KINDS, Lane::SPARE_KINDS).await? {
            tracing::info!("sentence preparation stopped for a due job");
            break;
        }
        let stored = db::renditions::load(&mut *conn, &key).await?;
        let new = match scoring
            .prepare(sentence.text.clone(), language.clone(), stored, voices)
            .await
        {
            Ok(new) => new,
            Err(error) => {
                tracing::warn!(%error, "the sentence could not be prepared");
                break;
            }
        };
        db::renditions::store(&mut *conn, &key, &new).await?;
        rendered += new.len();
    }
    tracing::info!(
        prepare_ms = started.elapsed().as_millis() as u64,
        rendered,
        "sentence prepared"
    );
    Ok(())
}

/// Queued over [`STALE_AFTER_MS`] before `now_ms` (or with no time).
fn is_stale(payload: &Value, now_ms: i64) -> bool {
    payload
        .get("queued_ms")
        .and_then(Value::as_i64)
        .is_none_or(|at| now_ms - at > STALE_AFTER_MS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_preparation_left_waiting_for_minutes_is_stale() {
        let queued = payload(Uuid::new_v4(), Uuid::new_v4());
        let at = queued["queued_ms"].as_i64().unwrap_or_default();
        assert!(!is_stale(&queued, at));
        assert!(!is_stale(&queued, at + STALE_AFTER_MS));
        assert!(is_stale(&queued, at + STALE_AFTER_MS + 1));
        assert!(is_stale(&json!({ "segment_id": Uuid::new_v4() }), at));
    }
}
