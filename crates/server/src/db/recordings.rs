//! Recordings of the learner shadowing a segment. A row exists once its
//! audio is in object storage (the duration is measured from that audio).

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::{PgExecutor, PgPool};
use uuid::Uuid;

#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Recording {
    pub id: Uuid,
    pub segment_id: Uuid,
    pub material_id: Uuid,
    /// Milliseconds, measured by the server.
    pub duration: i64,
    /// Where to fetch the audio through the API.
    pub cloud_url: Option<String>,
    pub audio_size: Option<i64>,
    pub audio_content_type: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub change_seq: i64,
    /// The hybrid logical clock of the write that made this version
    /// (decision 0024); `null` for rows written before clocks.
    pub hlc: Option<String>,
}

/// `deleted_at` is selected for the sync pull (`Recording` ignores it).
pub(crate) const SELECT: &str = "SELECT r.id, r.segment_id, s.material_id, r.duration,
        CASE WHEN r.cloud_url IS NULL THEN NULL ELSE '/api/v1/recordings/' || r.id || '/audio' END AS cloud_url,
        r.audio_size, r.audio_content_type, r.created_at, r.updated_at, r.change_seq, r.hlc, r.deleted_at
    FROM recordings r JOIN segments s ON s.user_id = r.user_id AND s.id = r.segment_id";

pub async fn get(
    db: impl PgExecutor<'_>,
    user_id: Uuid,
    id: Uuid,
) -> Result<Option<Recording>, sqlx::Error> {
    let sql = format!("{SELECT} WHERE r.user_id = $1 AND r.id = $2 AND r.deleted_at IS NULL");
    sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(user_id)
        .bind(id)
        .fetch_optional(db)
        .await
}

/// A segment's recordings, newest first.
pub async fn for_segment(
    pool: &PgPool,
    user_id: Uuid,
    segment_id: Uuid,
) -> Result<Vec<Recording>, sqlx::Error> {
    let sql = format!(
        "{SELECT} WHERE r.user_id = $1 AND r.segment_id = $2 AND r.deleted_at IS NULL ORDER BY r.created_at DESC, r.id"
    );
    sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(user_id)
        .bind(segment_id)
        .fetch_all(pool)
        .await
}

/// Whether the segment is live and belongs to one of the user's live materials.
pub async fn segment_is_mine(
    db: impl PgExecutor<'_>,
    user_id: Uuid,
    segment_id: Uuid,
) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM segments s JOIN materials m ON m.user_id = s.user_id AND m.id = s.material_id
                        WHERE s.user_id = $1 AND s.id = $2 AND s.deleted_at IS NULL AND m.deleted_at IS NULL)",
    )
    .bind(user_id)
    .bind(segment_id)
    .fetch_one(db)
    .await
}

/// Whether a recording with this id exists (live or deleted): ids are not reused.
pub async fn id_taken(
    db: impl PgExecutor<'_>,
    user_id: Uuid,
    id: Uuid,
) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM recordings WHERE user_id = $1 AND id = $2)")
        .bind(user_id)
        .bind(id)
        .fetch_one(db)
        .await
}

pub struct NewRecording<'a> {
    pub id: Uuid,
    /// The server's clock at the upload's completion.
    pub hlc: &'a str,
    pub segment_id: Uuid,
    pub duration: i64,
    pub key: &'a str,
    pub size: i64,
    pub content_type: &'a str,
}

/// Inserts the recording; `false` when the id exists already.
pub async fn insert(
    db: impl PgExecutor<'_>,
    user_id: Uuid,
    new: &NewRecording<'_>,
) -> Result<bool, sqlx::Error> {
    let inserted = sqlx::query(
        "INSERT INTO recordings (user_id, id, segment_id, duration, cloud_url, audio_size, audio_content_type, hlc)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (user_id, id) DO NOTHING",
    )
    .bind(user_id)
    .bind(new.id)
    .bind(new.segment_id)
    .bind(new.duration)
    .bind(new.key)
    .bind(new.size)
    .bind(new.content_type)
    .bind(new.hlc)
    .execute(db)
    .await?;
    Ok(inserted.rows_affected() == 1)
}

/// Soft-deletes, stamping the tombstone with `hlc`; returns the audio key
/// to remove once committed (`Some(None)`: no audio; `None`: no such live
/// recording).
pub async fn soft_delete(
    db: impl PgExecutor<'_>,
    user_id: Uuid,
    id: Uuid,
    hlc: &str,
) -> Result<Option<Option<String>>, sqlx::Error> {
    sqlx::query_scalar(
        "UPDATE recordings r SET deleted_at = now(), cloud_url = NULL, audio_size = NULL, audio_content_type = NULL,
            hlc = $3
         FROM (SELECT cloud_url FROM recordings WHERE user_id = $1 AND id = $2 AND deleted_at IS NULL FOR UPDATE) old
         WHERE r.user_id = $1 AND r.id = $2
         RETURNING old.cloud_url",
    )
    .bind(user_id)
    .bind(id)
    .bind(hlc)
    .fetch_optional(db)
    .await
}

/// The recording's clock and whether it is a tombstone, locked for the
/// rest of the transaction. `None`: no such id of the user's.
pub async fn lock_clock(
    db: impl PgExecutor<'_>,
    user_id: Uuid,
    id: Uuid,
) -> Result<Option<(Option<String>, bool)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT hlc, deleted_at IS NOT NULL FROM recordings WHERE user_id = $1 AND id = $2 FOR UPDATE",
    )
    .bind(user_id)
    .bind(id)
    .fetch_optional(db)
    .await
}

/// The audio object of a live recording: key and type.
pub async fn audio_object(
    pool: &PgPool,
    user_id: Uuid,
    id: Uuid,
) -> Result<Option<(Option<String>, Option<String>)>, sqlx::Error> {
    sqlx::query_as("SELECT cloud_url, audio_content_type FROM recordings WHERE user_id = $1 AND id = $2 AND deleted_at IS NULL")
        .bind(user_id)
        .bind(id)
        .fetch_optional(pool)
        .await
}
