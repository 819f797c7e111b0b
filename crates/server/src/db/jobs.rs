//! The job queue's statements (see `crate::jobs` for the worker).

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::{PgConnection, PgExecutor, PgPool};
use uuid::Uuid;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Job {
    pub id: Uuid,
    pub kind: String,
    pub payload: Value,
    pub attempts: i32,
    pub max_attempts: i32,
}

/// Queues a job; a job that a unique index says is already pending is not
/// queued twice. Returns whether a row was added.
pub async fn enqueue(
    conn: &mut PgConnection,
    kind: &str,
    payload: &Value,
) -> Result<bool, sqlx::Error> {
    let done =
        sqlx::query("INSERT INTO jobs (kind, payload) VALUES ($1, $2) ON CONFLICT DO NOTHING")
            .bind(kind)
            .bind(payload)
            .execute(conn)
            .await?;
    Ok(done.rows_affected() == 1)
}

/// Claims the next due job for the caller's transaction: other workers skip
/// the locked row, and if this worker dies the lock goes with its
/// connection, so the job runs again. `long`: a job of `long_kinds`, else
/// any other. Jobs of `spare_kinds` (work ahead of need) run only when no
/// other due job of the lane waits. Jobs of `unable_kinds` are left to
/// instances that can run them.
pub async fn claim(
    conn: &mut PgConnection,
    long_kinds: &[&str],
    long: bool,
    spare_kinds: &[&str],
    unable_kinds: &[&str],
) -> Result<Option<Job>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, kind, payload, attempts, max_attempts FROM jobs
         WHERE failed_at IS NULL AND run_at <= now() AND (kind = ANY($1)) = $2
           AND NOT kind = ANY($4)
         ORDER BY kind = ANY($3), run_at
         LIMIT 1
         FOR UPDATE SKIP LOCKED",
    )
    .bind(long_kinds)
    .bind(long)
    .bind(spare_kinds)
    .bind(unable_kinds)
    .fetch_optional(conn)
    .await
}

/// Whether a job of the quick lane other than `spare_kinds` is due (one
/// another worker runs counts too: a spare job may stop early for it).
pub async fn others_due(
    conn: &mut PgConnection,
    long_kinds: &[&str],
    spare_kinds: &[&str],
) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM jobs
         WHERE failed_at IS NULL AND run_at <= now()
           AND NOT kind = ANY($1) AND NOT kind = ANY($2))",
    )
    .bind(long_kinds)
    .bind(spare_kinds)
    .fetch_one(conn)
    .await
}

pub async fn complete(conn: &mut PgConnection, id: Uuid) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM jobs WHERE id = $1")
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Records a failed attempt: retried later with exponential backoff, or
/// marked failed for an operator once it has used all its attempts.
pub async fn fail(pool: &PgPool, id: Uuid, error: &str) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE jobs SET
             attempts = attempts + 1,
             last_error = left($2, 2000),
             last_error_code = NULL,
             run_at = now() + make_interval(secs => least(3600, 2 ^ least(attempts + 1, 12))),
             failed_at = CASE WHEN attempts + 1 >= max_attempts THEN now() END,
             updated_at = now()
         WHERE id = $1",
    )
    .bind(id)
    .bind(error)
    .execute(pool)
    .await?;
    Ok(())
}

/// Ends a job for good now, with a reason the user may be shown (`code` is
/// stable, `detail` a sentence); it stays in the table, failed.
pub async fn give_up(pool: &PgPool, id: Uuid, code: &str, detail: &str) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE jobs SET
             attempts = attempts + 1,
             last_error = left($3, 2000),
             last_error_code = $2,
             failed_at = now(),
             updated_at = now()
         WHERE id = $1",
    )
    .bind(id)
    .bind(code)
    .bind(detail)
    .execute(pool)
    .await?;
    Ok(())
}

/// Puts a job off until `at` without counting an attempt (it could not
/// run yet, nothing went wrong), saying why.
pub async fn defer(
    pool: &PgPool,
    id: Uuid,
    at: DateTime<Utc>,
    code: &str,
    detail: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE jobs SET
             run_at = $2,
             last_error = left($4, 2000),
             last_error_code = $3,
             updated_at = now()
         WHERE id = $1",
    )
    .bind(id)
    .bind(at)
    .bind(code)
    .bind(detail)
    .execute(pool)
    .await?;
    Ok(())
}

/// Where a job stands, as its owner may be told.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct JobState {
    pub run_at: DateTime<Utc>,
    pub failed_at: Option<DateTime<Utc>>,
    pub last_error_code: Option<String>,
    pub last_error: Option<String>,
}

/// The transcription job of one material (`crate::jobs::transcribe_material`);
/// the kind is written out so the planner can use
/// `jobs_material_transcribe_once`.
pub async fn material_transcription(
    db: impl PgExecutor<'_>,
    user_id: Uuid,
    material_id: Uuid,
) -> Result<Option<JobState>, sqlx::Error> {
    sqlx::query_as(
        "SELECT run_at, failed_at, last_error_code, last_error FROM jobs
         WHERE kind = 'material.transcribe' AND payload ->> 'user_id' = $1 AND payload ->> 'material_id' = $2",
    )
    .bind(user_id.to_string())
    .bind(material_id.to_string())
    .fetch_optional(db)
    .await
}

/// The scoring job of one recording (`crate::jobs::assess_recording`); the
/// kind is written out so the planner can use `jobs_recording_assess_once`.
pub async fn recording_assessment(
    db: impl PgExecutor<'_>,
    user_id: Uuid,
    recording_id: Uuid,
) -> Result<Option<JobState>, sqlx::Error> {
    sqlx::query_as(
        "SELECT run_at, failed_at, last_error_code, last_error FROM jobs
         WHERE kind = 'recording.assess' AND payload ->> 'user_id' = $1 AND payload ->> 'recording_id' = $2",
    )
    .bind(user_id.to_string())
    .bind(recording_id.to_string())
    .fetch_optional(db)
    .await
}

/// Drops every job of a user except those of `keep_kind` (the deletion that
/// is running).
pub async fn delete_others_of_user(
    conn: &mut PgConnection,
    keep_kind: &str,
    user_id: Uuid,
) -> Result<u64, sqlx::Error> {
    let done = sqlx::query("DELETE FROM jobs WHERE payload ->> 'user_id' = $1 AND kind <> $2")
        .bind(user_id.to_string())
        .bind(keep_kind)
        .execute(conn)
        .await?;
    Ok(done.rows_affected())
}

/// Drops the given-up job of `kind` whose payload contains `payload`, so
/// the work can be queued again.
pub async fn drop_failed(
    conn: &mut PgConnection,
    kind: &str,
    payload: &Value,
) -> Result<u64, sqlx::Error> {
    let done =
        sqlx::query("DELETE FROM jobs WHERE kind = $1 AND payload @> $2 AND failed_at IS NOT NULL")
            .bind(kind)
            .bind(payload)
            .execute(conn)
            .await?;
    Ok(done.rows_affected())
}

/// Drops pending jobs of `kind` whose payload contains `payload` (the work
/// was done another way).
pub async fn cancel(
    conn: &mut PgConnection,
    kind: &str,
    payload: &Value,
) -> Result<u64, sqlx::Error> {
    let done = sqlx::query("DELETE FROM jobs WHERE kind = $1 AND payload @> $2")
        .bind(kind)
        .bind(payload)
        .execute(conn)
        .await?;
    Ok(done.rows_affected())
}

/// Jobs by kind and state (`due`, `waiting`, `failed`), for metrics. Every
/// state of a kind that has jobs is listed, zeros included, so a gauge
/// drops to 0 when its jobs are gone.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct QueueCount {
    pub kind: String,
    pub state: String,
    pub count: i64,
}

pub async fn queue(
    db: impl PgExecutor<'_>,
    known_kinds: &[&str],
) -> Result<Vec<QueueCount>, sqlx::Error> {
    sqlx::query_as(
        "SELECT k.kind, s.state, count(j.id) AS count
         FROM (SELECT DISTINCT kind FROM jobs UNION SELECT unnest($1::text[])) k
         CROSS JOIN unnest(ARRAY['due', 'waiting', 'failed']) AS s(state)
         LEFT JOIN jobs j ON j.kind = k.kind AND s.state = CASE
             WHEN j.failed_at IS NOT NULL THEN 'failed'
             WHEN j.run_at <= now() THEN 'due'
             ELSE 'waiting' END
         GROUP BY k.kind, s.state
         ORDER BY k.kind, s.state",
    )
    .bind(known_kinds)
    .fetch_all(db)
    .await
}
