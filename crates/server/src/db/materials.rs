//! Materials. Every statement is scoped by `user_id`: another user's id is
//! simply not found.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::{PgConnection, PgExecutor, PgPool};
use uuid::Uuid;

use crate::domain::{MaterialKind, SourceType};

/// A material as the API shows it; `media_url` is where to fetch the media
/// through the API (when it is in object storage).
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Material {
    pub id: Uuid,
    #[serde(rename = "type")]
    #[sqlx(rename = "type")]
    pub kind: MaterialKind,
    pub source_type: SourceType,
    pub title: String,
    pub language: Option<String>,
    #[schema(value_type = Object)]
    pub metadata: serde_json::Value,
    pub media_url: Option<String>,
    pub media_size: Option<i64>,
    pub media_content_type: Option<String>,
    /// Milliseconds, when known.
    pub duration: Option<i64>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// The per-user change number (sync cursor).
    pub change_seq: i64,
    /// The hybrid logical clock of the write that made this version
    /// (decision 0024); `null` for rows written before clocks.
    pub hlc: Option<String>,
}

pub(crate) const COLUMNS: &str = "id, type, source_type, title, language, metadata,
    CASE WHEN media_url IS NULL THEN NULL ELSE '/api/v1/materials/' || id || '/media' END AS media_url,
    media_size, media_content_type, duration, created_at, updated_at, change_seq, hlc";

pub struct NewMaterial<'a> {
    pub id: Uuid,
    pub kind: MaterialKind,
    pub source_type: SourceType,
    pub title: &'a str,
    pub language: Option<&'a str>,
    pub metadata: serde_json::Value,
    pub duration: Option<i64>,
}

/// Inserts, or revives a deleted material with the same id, stamped with
/// `hlc`. `None`: a live material with this id exists already (the caller
/// returns it: creation is idempotent).
pub async fn insert(
    db: impl PgExecutor<'_>,
    user_id: Uuid,
    new: NewMaterial<'_>,
    hlc: &str,
) -> Result<Option<Material>, sqlx::Error> {
    let sql = format!(
        "INSERT INTO materials AS m (user_id, id, type, source_type, title, language, metadata, duration, hlc)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
         ON CONFLICT (user_id, id) DO UPDATE SET
            type = EXCLUDED.type, source_type = EXCLUDED.source_type, title = EXCLUDED.title,
            language = EXCLUDED.language, metadata = EXCLUDED.metadata, duration = EXCLUDED.duration,
            media_url = NULL, media_size = NULL, media_content_type = NULL,
            created_at = now(), deleted_at = NULL, hlc = EXCLUDED.hlc
         WHERE m.deleted_at IS NOT NULL
         RETURNING {COLUMNS}"
    );
    sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(user_id)
        .bind(new.id)
        .bind(new.kind)
        .bind(new.source_type)
        .bind(new.title)
        .bind(new.language)
        .bind(new.metadata)
        .bind(new.duration)
        .bind(hlc)
        .fetch_optional(db)
        .await
}

pub async fn get(
    db: impl PgExecutor<'_>,
    user_id: Uuid,
    id: Uuid,
) -> Result<Option<Material>, sqlx::Error> {
    let sql = format!(
        "SELECT {COLUMNS} FROM materials WHERE user_id = $1 AND id = $2 AND deleted_at IS NULL"
    );
    sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(user_id)
        .bind(id)
        .fetch_optional(db)
        .await
}

/// The material's duration, locking the row for the rest of the
/// transaction (segment writes). `None`: no such live material.
pub async fn lock(
    db: impl PgExecutor<'_>,
    user_id: Uuid,
    id: Uuid,
) -> Result<Option<Option<i64>>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT duration FROM materials WHERE user_id = $1 AND id = $2 AND deleted_at IS NULL FOR UPDATE",
    )
    .bind(user_id)
    .bind(id)
    .fetch_optional(db)
    .await
}

/// What the merge rules and an update's checks need of a stored material,
/// live or a tombstone.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StoredMaterial {
    pub kind: MaterialKind,
    pub source_type: SourceType,
    pub external_id: Option<String>,
    pub hlc: Option<String>,
    pub deleted: bool,
}

/// The material, live or deleted, locked for the rest of the transaction
/// (a pushed change decides against it). `None`: no such id of the user's.
pub async fn lock_stored(
    db: impl PgExecutor<'_>,
    user_id: Uuid,
    id: Uuid,
) -> Result<Option<StoredMaterial>, sqlx::Error> {
    sqlx::query_as(
        "SELECT type AS kind, source_type, metadata->>'external_id' AS external_id, hlc,
                deleted_at IS NOT NULL AS deleted
         FROM materials WHERE user_id = $1 AND id = $2 FOR UPDATE",
    )
    .bind(user_id)
    .bind(id)
    .fetch_optional(db)
    .await
}

pub struct MaterialChanges<'a> {
    pub title: Option<&'a str>,
    /// `Some(None)`: clear.
    pub language: Option<Option<&'a str>>,
    pub metadata: Option<serde_json::Value>,
    pub duration: Option<i64>,
}

/// Applies the changes to a live material and stamps it with `hlc`.
pub async fn update(
    db: impl PgExecutor<'_>,
    user_id: Uuid,
    id: Uuid,
    changes: MaterialChanges<'_>,
    hlc: &str,
) -> Result<Option<Material>, sqlx::Error> {
    let sql = format!(
        "UPDATE materials SET
            title = COALESCE($3, title),
            language = CASE WHEN $4 THEN $5 ELSE language END,
            metadata = COALESCE($6, metadata),
            duration = COALESCE($7, duration),
            hlc = $8
         WHERE user_id = $1 AND id = $2 AND deleted_at IS NULL
         RETURNING {COLUMNS}"
    );
    sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(user_id)
        .bind(id)
        .bind(changes.title)
        .bind(changes.language.is_some())
        .bind(changes.language.flatten())
        .bind(changes.metadata)
        .bind(changes.duration)
        .bind(hlc)
        .fetch_optional(db)
        .await
}

/// The latest segment end of a material (a new duration may not cut it).
pub async fn last_segment_end(
    db: impl PgExecutor<'_>,
    user_id: Uuid,
    id: Uuid,
) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT max(end_time) FROM segments WHERE user_id = $1 AND material_id = $2 AND deleted_at IS NULL",
    )
    .bind(user_id)
    .bind(id)
    .fetch_one(db)
    .await
}

/// The latest clock among a live material and the live rows its delete
/// tombstones (segments, progress, recordings), with the material and its
/// recordings locked for the rest of the transaction (segments and
/// progress are written only under the material's lock). `None`: no such
/// live material; `Some(None)`: none of them has a clock.
pub async fn lock_latest_clock(
    conn: &mut PgConnection,
    user_id: Uuid,
    id: Uuid,
) -> Result<Option<Option<String>>, sqlx::Error> {
    sqlx::query_scalar(
        "WITH m AS (
            SELECT hlc FROM materials WHERE user_id = $1 AND id = $2 AND deleted_at IS NULL FOR UPDATE),
         r AS (
            SELECT r.hlc FROM recordings r
            JOIN segments s ON s.user_id = r.user_id AND s.id = r.segment_id
            WHERE r.user_id = $1 AND s.material_id = $2 AND r.deleted_at IS NULL
            FOR UPDATE OF r)
         SELECT (SELECT max(c.hlc COLLATE \"C\") FROM (
                    SELECT hlc FROM m
                    UNION ALL SELECT hlc::text FROM segments
                        WHERE user_id = $1 AND material_id = $2 AND deleted_at IS NULL
                    UNION ALL SELECT hlc FROM learning_progress
                        WHERE user_id = $1 AND material_id = $2 AND deleted_at IS NULL
                    UNION ALL SELECT hlc FROM r) AS c(hlc))
         FROM m",
    )
    .bind(user_id)
    .bind(id)
    .fetch_optional(conn)
    .await
}

/// Soft-deletes a material with its segments, progress and recordings (the
/// rows stay as tombstones for sync, the synced ones stamped with `hlc`)
/// and forgets sound uploaded to transcribe it, in the caller's
/// transaction. Returns the object keys to remove once committed, or
/// `None` when there was no such live material.
pub async fn soft_delete_in(
    conn: &mut PgConnection,
    user_id: Uuid,
    id: Uuid,
    hlc: &str,
) -> Result<Option<Vec<String>>, sqlx::Error> {
    let media: Option<Option<String>> = sqlx::query_scalar(
        "UPDATE materials m SET deleted_at = now(), media_url = NULL, media_size = NULL, media_content_type = NULL,
            hlc = $3
         FROM (SELECT media_url FROM materials WHERE user_id = $1 AND id = $2 AND deleted_at IS NULL FOR UPDATE) old
         WHERE m.user_id = $1 AND m.id = $2
         RETURNING old.media_url",
    )
    .bind(user_id)
    .bind(id)
    .bind(hlc)
    .fetch_optional(&mut *conn)
    .await?;
    let Some(media) = media else {
        return Ok(None);
    };
    let mut keys: Vec<String> = media.into_iter().collect();
    let audio: Vec<String> = sqlx::query_scalar(
        "WITH old AS (
            SELECT r.id, r.cloud_url FROM recordings r
            JOIN segments s ON s.user_id = r.user_id AND s.id = r.segment_id
            WHERE r.user_id = $1 AND s.material_id = $2 AND r.deleted_at IS NULL
            FOR UPDATE OF r)
         UPDATE recordings r SET deleted_at = now(), cloud_url = NULL, audio_size = NULL, audio_content_type = NULL,
            hlc = $3
         FROM old WHERE r.user_id = $1 AND r.id = old.id AND old.cloud_url IS NOT NULL
         RETURNING old.cloud_url",
    )
    .bind(user_id)
    .bind(id)
    .bind(hlc)
    .fetch_all(&mut *conn)
    .await?;
    keys.extend(audio);
    sqlx::query(
        "UPDATE recordings r SET deleted_at = now(), hlc = $3 FROM segments s
         WHERE r.user_id = $1 AND s.user_id = $1 AND s.id = r.segment_id AND s.material_id = $2 AND r.deleted_at IS NULL",
    )
    .bind(user_id)
    .bind(id)
    .bind(hlc)
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "UPDATE segments SET deleted_at = now(), hlc = (SELECT $3::hlc_text)
         WHERE user_id = $1 AND material_id = $2 AND deleted_at IS NULL",
    )
    .bind(user_id)
    .bind(id)
    .bind(hlc)
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "UPDATE learning_progress SET deleted_at = now(), hlc = $3
         WHERE user_id = $1 AND material_id = $2 AND deleted_at IS NULL",
    )
    .bind(user_id)
    .bind(id)
    .bind(hlc)
    .execute(&mut *conn)
    .await?;
    keys.extend(super::transcription_sources::delete(&mut *conn, user_id, id).await?);
    Ok(Some(keys))
}

/// Filters of the list endpoint (all optional).
#[derive(Debug, Default)]
pub struct ListFilter<'a> {
    pub kind: Option<MaterialKind>,
    pub source_type: Option<SourceType>,
    pub language: Option<&'a str>,
    pub updated_since: Option<DateTime<Utc>>,
    /// Keyset position: the last row of the previous page.
    pub after: Option<(DateTime<Utc>, Uuid)>,
}

/// Newest change first; `limit + 1` rows so the caller knows whether more follow.
pub async fn list(
    pool: &PgPool,
    user_id: Uuid,
    filter: &ListFilter<'_>,
    limit: i64,
) -> Result<Vec<Material>, sqlx::Error> {
    let sql = format!(
        "SELECT {COLUMNS} FROM materials
         WHERE user_id = $1 AND deleted_at IS NULL
           AND ($2::material_type IS NULL OR type = $2)
           AND ($3::material_source_type IS NULL OR source_type = $3)
           AND ($4::text IS NULL OR language = $4)
           AND ($5::timestamptz IS NULL OR updated_at > $5)
           AND ($6::timestamptz IS NULL OR (updated_at, id) < ($6, $7))
         ORDER BY updated_at DESC, id DESC
         LIMIT $8"
    );
    let (after_at, after_id) = filter.after.unzip();
    sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(user_id)
        .bind(filter.kind)
        .bind(filter.source_type)
        .bind(filter.language)
        .bind(filter.updated_since)
        .bind(after_at)
        .bind(after_id)
        .bind(limit + 1)
        .fetch_all(pool)
        .await
}

/// Where the material's media object is: key, size and type.
pub async fn media_object(
    pool: &PgPool,
    user_id: Uuid,
    id: Uuid,
) -> Result<Option<(Option<String>, Option<String>)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT media_url, media_content_type FROM materials WHERE user_id = $1 AND id = $2 AND deleted_at IS NULL",
    )
    .bind(user_id)
    .bind(id)
    .fetch_optional(pool)
    .await
}
