//! Resumable upload state (tus), shared by every instance.

use sqlx::{PgExecutor, PgPool};
use uuid::Uuid;

use crate::storage::upload::StagedState;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Upload {
    pub id: Uuid,
    pub user_id: Uuid,
    pub target: String,
    pub target_id: Uuid,
    pub segment_id: Option<Uuid>,
    pub object_key: String,
    pub upload_length: i64,
    pub upload_offset: i64,
    pub metadata: String,
    pub content_type: Option<String>,
    pub multipart_id: Option<String>,
    pub parts: Vec<String>,
    pub tail_len: i64,
}

pub const TARGET_MATERIAL: &str = "material_media";
pub const TARGET_RECORDING: &str = "recording_audio";
/// Sound kept only until its transcription ends (`db::transcription_sources`).
pub const TARGET_TRANSCRIPTION: &str = "transcription_sound";

impl Upload {
    pub fn staged(&self) -> StagedState {
        StagedState {
            offset: u64::try_from(self.upload_offset).unwrap_or_default(),
            multipart_id: self.multipart_id.clone(),
            parts: self.parts.clone(),
            tail_len: u64::try_from(self.tail_len).unwrap_or_default(),
        }
    }
}

const COLUMNS: &str =
    "id, user_id, target, target_id, segment_id, object_key, upload_length, upload_offset,
    metadata, content_type, multipart_id, parts, tail_len";

pub struct NewUpload<'a> {
    pub id: Uuid,
    pub target: &'a str,
    pub target_id: Uuid,
    pub segment_id: Option<Uuid>,
    pub object_key: &'a str,
    pub length: i64,
    pub metadata: &'a str,
    pub multipart_id: Option<&'a str>,
}

pub async fn insert(
    db: impl PgExecutor<'_>,
    user_id: Uuid,
    new: &NewUpload<'_>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO media_uploads (id, user_id, target, target_id, segment_id, object_key, upload_length, metadata, multipart_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(new.id)
    .bind(user_id)
    .bind(new.target)
    .bind(new.target_id)
    .bind(new.segment_id)
    .bind(new.object_key)
    .bind(new.length)
    .bind(new.metadata)
    .bind(new.multipart_id)
    .execute(db)
    .await?;
    Ok(())
}

pub async fn get(
    db: impl PgExecutor<'_>,
    user_id: Uuid,
    id: Uuid,
) -> Result<Option<Upload>, sqlx::Error> {
    let sql = format!(
        "SELECT {COLUMNS} FROM media_uploads WHERE user_id = $1 AND id = $2 AND expires_at > now()"
    );
    sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(user_id)
        .bind(id)
        .fetch_optional(db)
        .await
}

/// Takes the write lease of an upload for one PATCH. `None`: another
/// request holds it (or no such upload).
pub async fn claim(
    pool: &PgPool,
    user_id: Uuid,
    id: Uuid,
    token: Uuid,
) -> Result<Option<Upload>, sqlx::Error> {
    let sql = format!(
        "UPDATE media_uploads SET lock_token = $3, locked_until = now() + interval '15 minutes'
         WHERE user_id = $1 AND id = $2 AND expires_at > now() AND (locked_until IS NULL OR locked_until < now())
         RETURNING {COLUMNS}"
    );
    sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(user_id)
        .bind(id)
        .bind(token)
        .fetch_optional(pool)
        .await
}

/// Records durable progress (and keeps the lease while `keep_lock`).
pub async fn save_progress(
    pool: &PgPool,
    id: Uuid,
    token: Uuid,
    state: &StagedState,
    content_type: Option<&str>,
    keep_lock: bool,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE media_uploads SET upload_offset = $3, parts = $4, tail_len = $5,
            content_type = COALESCE($6, content_type), updated_at = now(),
            lock_token = CASE WHEN $7 THEN lock_token END,
            locked_until = CASE WHEN $7 THEN now() + interval '15 minutes' END
         WHERE id = $1 AND lock_token = $2",
    )
    .bind(id)
    .bind(token)
    .bind(i64::try_from(state.offset).unwrap_or(i64::MAX))
    .bind(&state.parts)
    .bind(i64::try_from(state.tail_len).unwrap_or(i64::MAX))
    .bind(content_type)
    .bind(keep_lock)
    .execute(pool)
    .await?;
    Ok(())
}

pub async fn release(pool: &PgPool, id: Uuid, token: Uuid) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE media_uploads SET lock_token = NULL, locked_until = NULL WHERE id = $1 AND lock_token = $2")
        .bind(id)
        .bind(token)
        .execute(pool)
        .await?;
    Ok(())
}

pub async fn delete(db: impl PgExecutor<'_>, id: Uuid) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM media_uploads WHERE id = $1")
        .bind(id)
        .execute(db)
        .await?;
    Ok(())
}

/// Bytes the user keeps in object storage, counting uploads in progress at
/// their full announced length.
pub async fn storage_used(db: impl PgExecutor<'_>, user_id: Uuid) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT ((SELECT COALESCE(sum(media_size), 0) FROM materials WHERE user_id = $1 AND deleted_at IS NULL)
              + (SELECT COALESCE(sum(audio_size), 0) FROM recordings WHERE user_id = $1 AND deleted_at IS NULL)
              + (SELECT COALESCE(sum(size_bytes), 0) FROM transcription_sources WHERE user_id = $1)
              + (SELECT COALESCE(sum(upload_length), 0) FROM media_uploads WHERE user_id = $1 AND expires_at > now()))::bigint",
    )
    .bind(user_id)
    .fetch_one(db)
    .await
    .map(|used: Option<i64>| used.unwrap_or_default())
}

/// Every upload of a user, expired or not (account deletion aborts them).
pub async fn of_user(db: impl PgExecutor<'_>, user_id: Uuid) -> Result<Vec<Upload>, sqlx::Error> {
    let sql = format!("SELECT {COLUMNS} FROM media_uploads WHERE user_id = $1");
    sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(user_id)
        .fetch_all(db)
        .await
}

/// Uploads past their expiry (the sweeper aborts them).
pub async fn take_expired(pool: &PgPool, limit: i64) -> Result<Vec<Upload>, sqlx::Error> {
    let sql = format!("SELECT {COLUMNS} FROM media_uploads WHERE expires_at <= now() LIMIT $1");
    sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(limit)
        .fetch_all(pool)
        .await
}

/// The ids among `ids` that no upload row has (any more).
pub async fn unrecorded(pool: &PgPool, ids: &[Uuid]) -> Result<Vec<Uuid>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT id FROM unnest($1::uuid[]) AS staged(id)
         WHERE NOT EXISTS (SELECT 1 FROM media_uploads u WHERE u.id = staged.id)",
    )
    .bind(ids)
    .fetch_all(pool)
    .await
}

/// The keys among `keys` no live material, recording, upload or
/// transcription source points at.
pub async fn unreferenced_keys(pool: &PgPool, keys: &[String]) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT key FROM unnest($1::text[]) AS k(key)
         WHERE NOT EXISTS (SELECT 1 FROM materials WHERE media_url = k.key)
           AND NOT EXISTS (SELECT 1 FROM recordings WHERE cloud_url = k.key)
           AND NOT EXISTS (SELECT 1 FROM media_uploads WHERE object_key = k.key)
           AND NOT EXISTS (SELECT 1 FROM transcription_sources WHERE object_key = k.key)",
    )
    .bind(keys)
    .fetch_all(pool)
    .await
}

/// A media object to attach to a material, as the upload measured it.
pub struct AttachedMedia<'a> {
    pub key: &'a str,
    pub size: i64,
    pub content_type: &'a str,
    /// Kept only when the material has no duration yet.
    pub duration: Option<i64>,
    /// Attaching is a write stamped with the server's clock.
    pub hlc: &'a str,
}

/// Points a live material at its new media object; returns the previous
/// object's key (to delete), or `None` when the material is gone.
pub async fn attach_material_media(
    db: impl PgExecutor<'_>,
    user_id: Uuid,
    material_id: Uuid,
    media: &AttachedMedia<'_>,
) -> Result<Option<Option<String>>, sqlx::Error> {
    sqlx::query_scalar(
        "UPDATE materials m SET media_url = $3, media_size = $4, media_content_type = $5,
            duration = COALESCE(m.duration, $6), hlc = $7
         FROM (SELECT media_url FROM materials WHERE user_id = $1 AND id = $2 AND deleted_at IS NULL FOR UPDATE) old
         WHERE m.user_id = $1 AND m.id = $2
         RETURNING old.media_url",
    )
    .bind(user_id)
    .bind(material_id)
    .bind(media.key)
    .bind(media.size)
    .bind(media.content_type)
    .bind(media.duration)
    .bind(media.hlc)
    .fetch_optional(db)
    .await
}
