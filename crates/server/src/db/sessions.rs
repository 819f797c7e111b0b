use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Session {
    pub id: Uuid,
    pub user_id: Uuid,
    pub user_agent: Option<String>,
    pub created_at: DateTime<Utc>,
    pub last_used_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

const COLUMNS: &str = "id, user_id, user_agent, created_at, last_used_at, expires_at";

pub async fn insert(
    conn: &mut PgConnection,
    user_id: Uuid,
    token_hash: &[u8],
    user_agent: Option<&str>,
    ttl: Duration,
) -> Result<Session, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "INSERT INTO sessions (user_id, token_hash, user_agent, expires_at)
         VALUES ($1, $2, $3, now() + make_interval(secs => $4))
         RETURNING {COLUMNS}"
    )))
    .bind(user_id)
    .bind(token_hash)
    .bind(user_agent)
    .bind(ttl.as_secs_f64())
    .fetch_one(conn)
    .await
}

/// The session behind a token hash if it is live and its user exists.
/// Records the use and slides the expiry forward by `ttl`, at most once a
/// minute per session, so a busy client does not write on every request.
pub async fn authenticate(
    pool: &PgPool,
    token_hash: &[u8],
    ttl: Duration,
) -> Result<Option<(Uuid, Uuid)>, sqlx::Error> {
    sqlx::query_as(
        "WITH found AS (
             SELECT s.id, s.user_id, s.last_used_at
             FROM sessions s JOIN users u ON u.id = s.user_id
             WHERE s.token_hash = $1 AND s.expires_at > now() AND u.deleted_at IS NULL
         ), touched AS (
             UPDATE sessions
             SET last_used_at = now(),
                 expires_at = greatest(sessions.expires_at, now() + make_interval(secs => $2))
             FROM found
             WHERE sessions.id = found.id AND found.last_used_at < now() - interval '1 minute'
         )
         SELECT id, user_id FROM found",
    )
    .bind(token_hash)
    .bind(ttl.as_secs_f64())
    .fetch_optional(pool)
    .await
}

/// The user's live sessions, most recently used first.
pub async fn list(pool: &PgPool, user_id: Uuid) -> Result<Vec<Session>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM sessions WHERE user_id = $1 AND expires_at > now()
         ORDER BY last_used_at DESC, created_at DESC"
    )))
    .bind(user_id)
    .fetch_all(pool)
    .await
}

/// Revokes one of the user's sessions; another user's id matches nothing.
pub async fn delete(pool: &PgPool, user_id: Uuid, id: Uuid) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("DELETE FROM sessions WHERE id = $1 AND user_id = $2")
        .bind(id)
        .bind(user_id)
        .execute(pool)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Revokes every session of the user except `keep` (if given).
pub async fn delete_all(
    conn: &mut PgConnection,
    user_id: Uuid,
    keep: Option<Uuid>,
) -> Result<u64, sqlx::Error> {
    let done =
        sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND ($2::uuid IS NULL OR id <> $2)")
            .bind(user_id)
            .bind(keep)
            .execute(conn)
            .await?;
    Ok(done.rows_affected())
}

/// Housekeeping: expired sessions can never authenticate again.
pub async fn delete_expired(pool: &PgPool) -> Result<u64, sqlx::Error> {
    let done = sqlx::query("DELETE FROM sessions WHERE expires_at <= now()")
        .execute(pool)
        .await?;
    Ok(done.rows_affected())
}
