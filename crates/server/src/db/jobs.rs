//! The job queue's statements (see `crate::jobs` for the worker).

use serde_json::Value;
use sqlx::{PgConnection, PgPool};
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
/// connection, so the job runs again.
pub async fn claim(conn: &mut PgConnection) -> Result<Option<Job>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, kind, payload, attempts, max_attempts FROM jobs
         WHERE failed_at IS NULL AND run_at <= now()
         ORDER BY run_at
         LIMIT 1
         FOR UPDATE SKIP LOCKED",
    )
    .fetch_optional(conn)
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
