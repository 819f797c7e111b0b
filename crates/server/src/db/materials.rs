//! Materials. Every statement is scoped by `user_id`: another user's id is
//! simply not found.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::{PgExecutor, PgPool};
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
}

pub(crate) const COLUMNS: &str = "id, type, source_type, title, language, metadata,
    CASE WHEN media_url IS NULL THEN NULL ELSE '/api/v1/materials/' || id || '/media' END AS media_url,
    media_size, media_content_type, duration, created_at, updated_at, change_seq";

pub struct NewMaterial<'a> {
    pub id: Uuid,
    pub kind: MaterialKind,
    pub source_type: SourceType,
    pub title: &'a str,
    pub language: Option<&'a str>,
    pub metadata: serde_json::Value,
    pub duration: Option<i64>,
}

/// Inserts, or revives a deleted material with the same id. `None`: a live
/// material with this id exists already (the caller returns it: creation is
/// idempotent).
pub async fn insert(
    pool: &PgPool,
    user_id: Uuid,
    new: NewMaterial<'_>,
) -> Result<Option<Material>, sqlx::Error> {
    let sql = format!(
        "INSERT INTO materials AS m (user_id, id, type, source_type, title, language, metadata, duration)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
         ON CONFLICT (user_id, id) DO UPDATE SET
            type = EXCLUDED.type, source_type = EXCLUDED.source_type, title = EXCLUDED.title,
            language = EXCLUDED.language, metadata = EXCLUDED.metadata, duration = EXCLUDED.duration,
            media_url = NULL, media_size = NULL, media_content_type = NULL,
            created_at = now(), deleted_at = NULL
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
        .fetch_optional(pool)
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

pub struct MaterialChanges<'a> {
    pub title: Option<&'a str>,
    /// `Some(None)`: clear.
    pub language: Option<Option<&'a str>>,
    pub metadata: Option<serde_json::Value>,
    pub duration: Option<i64>,
}

pub async fn update(
    pool: &PgPool,
    user_id: Uuid,
    id: Uuid,
    changes: MaterialChanges<'_>,
) -> Result<Option<Material>, sqlx::Error> {
    let sql = format!(
        "UPDATE materials SET
            title = COALESCE($3, title),
            language = CASE WHEN $4 THEN $5 ELSE language END,
            metadata = COALESCE($6, metadata),
            duration = COALESCE($7, duration)
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
        .fetch_optional(pool)
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

/// Soft-deletes a material with its segments, progress and recordings (the
/// rows stay as tombstones for sync) and forgets sound uploaded to
/// transcribe it. Returns the object keys to remove, or
/// `None` when there was no such live material.
pub async fn soft_delete(
    pool: &PgPool,
    user_id: Uuid,
    id: Uuid,
) -> Result<Option<Vec<String>>, sqlx::Error> {
    let mut tx = pool.begin().await?;
    let media: Option<Option<String>> = sqlx::query_scalar(
        "UPDATE materials m SET deleted_at = now(), media_url = NULL, media_size = NULL, media_content_type = NULL
         FROM (SELECT media_url FROM materials WHERE user_id = $1 AND id = $2 AND deleted_at IS NULL FOR UPDATE) old
         WHERE m.user_id = $1 AND m.id = $2
         RETURNING old.media_url",
    )
    .bind(user_id)
    .bind(id)
    .fetch_optional(&mut *tx)
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
         UPDATE recordings r SET deleted_at = now(), cloud_url = NULL, audio_size = NULL, audio_content_type = NULL
         FROM old WHERE r.user_id = $1 AND r.id = old.id AND old.cloud_url IS NOT NULL
         RETURNING old.cloud_url",
    )
    .bind(user_id)
    .bind(id)
    .fetch_all(&mut *tx)
    .await?;
    keys.extend(audio);
    sqlx::query(
        "UPDATE recordings r SET deleted_at = now() FROM segments s
         WHERE r.user_id = $1 AND s.user_id = $1 AND s.id = r.segment_id AND s.material_id = $2 AND r.deleted_at IS NULL",
    )
    .bind(user_id)
    .bind(id)
    .execute(&mut *tx)
    .await?;
    sqlx::query("UPDATE segments SET deleted_at = now() WHERE user_id = $1 AND material_id = $2 AND deleted_at IS NULL")
        .bind(user_id)
        .bind(id)
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "UPDATE learning_progress SET deleted_at = now() WHERE user_id = $1 AND material_id = $2 AND deleted_at IS NULL",
    )
    .bind(user_id)
    .bind(id)
    .execute(&mut *tx)
    .await?;
    keys.extend(super::transcription_sources::delete(&mut *tx, user_id, id).await?);
    tx.commit().await?;
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
