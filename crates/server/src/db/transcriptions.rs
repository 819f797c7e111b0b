//! Finished transcriptions of materials (migration 0010): what a material's
//! transcription produced, and the month's transcription minutes.

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;
use uuid::Uuid;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Transcription {
    pub language: Option<String>,
    pub model: String,
    pub media_ms: i64,
    pub segments: i32,
    pub created_at: DateTime<Utc>,
}

pub struct NewTranscription<'a> {
    pub material_id: Uuid,
    pub language: Option<&'a str>,
    pub model: &'a str,
    pub media_ms: i64,
    pub segments: i32,
}

pub async fn insert(
    db: impl PgExecutor<'_>,
    user_id: Uuid,
    new: NewTranscription<'_>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO transcriptions (user_id, id, material_id, language, model, media_ms, segments)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(user_id)
    .bind(Uuid::new_v4())
    .bind(new.material_id)
    .bind(new.language)
    .bind(new.model)
    .bind(new.media_ms)
    .bind(new.segments)
    .execute(db)
    .await?;
    Ok(())
}

/// The material's latest finished transcription.
pub async fn latest(
    db: impl PgExecutor<'_>,
    user_id: Uuid,
    material_id: Uuid,
) -> Result<Option<Transcription>, sqlx::Error> {
    sqlx::query_as(
        "SELECT language, model, media_ms, segments, created_at FROM transcriptions
         WHERE user_id = $1 AND material_id = $2 ORDER BY created_at DESC LIMIT 1",
    )
    .bind(user_id)
    .bind(material_id)
    .fetch_optional(db)
    .await
}

/// Milliseconds of media transcribed since the start of the month (UTC).
pub async fn media_ms_this_month(
    db: impl PgExecutor<'_>,
    user_id: Uuid,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT COALESCE(sum(media_ms), 0)::bigint FROM transcriptions
         WHERE user_id = $1
           AND created_at >= date_trunc('month', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'",
    )
    .bind(user_id)
    .fetch_one(db)
    .await
}

/// What the server needs to transcribe a live material.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TranscriptionTarget {
    /// The object to transcribe: the material's stored media, else sound
    /// uploaded for transcription only; `None`: neither is on the server.
    pub media_key: Option<String>,
    /// The object is sound uploaded for transcription only (forgotten when
    /// the transcription ends).
    pub transient: bool,
    pub language: Option<String>,
    /// Milliseconds, as ffprobe measured the object (or the client said).
    pub duration: Option<i64>,
}

pub async fn target(
    db: impl PgExecutor<'_>,
    user_id: Uuid,
    material_id: Uuid,
) -> Result<Option<TranscriptionTarget>, sqlx::Error> {
    sqlx::query_as(
        "SELECT COALESCE(m.media_url, s.object_key) AS media_key,
                m.media_url IS NULL AND s.object_key IS NOT NULL AS transient,
                m.language,
                CASE WHEN m.media_url IS NULL THEN COALESCE(s.duration_ms, m.duration) ELSE m.duration END AS duration
         FROM materials m
         LEFT JOIN transcription_sources s ON s.user_id = m.user_id AND s.material_id = m.id
         WHERE m.user_id = $1 AND m.id = $2 AND m.deleted_at IS NULL",
    )
    .bind(user_id)
    .bind(material_id)
    .fetch_optional(db)
    .await
}

/// Gives a material without a language the one its speech was heard in
/// (a write stamped with the server's clock `hlc`).
pub async fn set_language_if_unknown(
    db: impl PgExecutor<'_>,
    user_id: Uuid,
    material_id: Uuid,
    language: &str,
    hlc: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE materials SET language = $3, hlc = $4 WHERE user_id = $1 AND id = $2 AND language IS NULL",
    )
    .bind(user_id)
    .bind(material_id)
    .bind(language)
    .bind(hlc)
    .execute(db)
    .await?;
    Ok(())
}

/// How far a running transcription has got (migration 0012).
#[derive(Debug, Clone, Copy, sqlx::FromRow)]
pub struct Progress {
    pub done_ms: i64,
    pub total_ms: Option<i64>,
}

pub async fn set_progress(
    db: impl PgExecutor<'_>,
    user_id: Uuid,
    material_id: Uuid,
    progress: Progress,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO transcription_progress AS p (user_id, material_id, done_ms, total_ms)
         VALUES ($1, $2, $3, $4)
         ON CONFLICT (user_id, material_id) DO UPDATE SET
             done_ms = EXCLUDED.done_ms, total_ms = EXCLUDED.total_ms, updated_at = now()",
    )
    .bind(user_id)
    .bind(material_id)
    .bind(progress.done_ms)
    .bind(progress.total_ms)
    .execute(db)
    .await?;
    Ok(())
}

pub async fn progress(
    db: impl PgExecutor<'_>,
    user_id: Uuid,
    material_id: Uuid,
) -> Result<Option<Progress>, sqlx::Error> {
    sqlx::query_as(
        "SELECT done_ms, total_ms FROM transcription_progress WHERE user_id = $1 AND material_id = $2",
    )
    .bind(user_id)
    .bind(material_id)
    .fetch_optional(db)
    .await
}

pub async fn clear_progress(
    db: impl PgExecutor<'_>,
    user_id: Uuid,
    material_id: Uuid,
) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM transcription_progress WHERE user_id = $1 AND material_id = $2")
        .bind(user_id)
        .bind(material_id)
        .execute(db)
        .await?;
    Ok(())
}
