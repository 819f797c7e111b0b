//! Sound uploaded only to be transcribed (migration 0013): one per
//! material at most, kept until its transcription ends or its day is over.

use sqlx::{PgConnection, PgExecutor, PgPool};
use uuid::Uuid;

pub struct NewSource<'a> {
    pub material_id: Uuid,
    pub object_key: &'a str,
    pub size_bytes: i64,
    pub content_type: &'a str,
    pub duration_ms: Option<i64>,
}

/// Hours a source waits for its transcription to be asked for.
pub const KEPT_UNASKED_HOURS: i32 = 24;

/// Keeps `new` as the material's source, replacing an earlier one.
/// Returns the replaced object's key (to delete after commit), `Ok(None)`
/// when the material is not live (nothing written), `Ok(Some(None))` when
/// it had no source.
pub async fn put(
    conn: &mut PgConnection,
    user_id: Uuid,
    new: &NewSource<'_>,
) -> Result<Option<Option<String>>, sqlx::Error> {
    let previous: Option<Option<String>> = sqlx::query_scalar(
        "SELECT (SELECT object_key FROM transcription_sources WHERE user_id = $1 AND material_id = $2 FOR UPDATE)
         FROM materials WHERE user_id = $1 AND id = $2 AND deleted_at IS NULL FOR UPDATE",
    )
    .bind(user_id)
    .bind(new.material_id)
    .fetch_optional(&mut *conn)
    .await?;
    let Some(previous) = previous else {
        return Ok(None);
    };
    sqlx::query(
        "INSERT INTO transcription_sources (user_id, material_id, object_key, size_bytes, content_type, duration_ms)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (user_id, material_id) DO UPDATE SET
            object_key = EXCLUDED.object_key, size_bytes = EXCLUDED.size_bytes,
            content_type = EXCLUDED.content_type, duration_ms = EXCLUDED.duration_ms,
            created_at = now()",
    )
    .bind(user_id)
    .bind(new.material_id)
    .bind(new.object_key)
    .bind(new.size_bytes)
    .bind(new.content_type)
    .bind(new.duration_ms)
    .execute(&mut *conn)
    .await?;
    Ok(Some(previous))
}

/// Forgets the material's source; returns its object's key.
pub async fn delete(
    db: impl PgExecutor<'_>,
    user_id: Uuid,
    material_id: Uuid,
) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar(
        "DELETE FROM transcription_sources WHERE user_id = $1 AND material_id = $2 RETURNING object_key",
    )
    .bind(user_id)
    .bind(material_id)
    .fetch_optional(db)
    .await
}

/// Forgets sources no transcription will read: the material is gone, or
/// the source is older than `KEPT_UNASKED_HOURS` and no transcription of it is
/// queued or running. Returns their objects' keys.
pub async fn take_stale(pool: &PgPool, limit: i64) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar(
        "DELETE FROM transcription_sources t
         WHERE (t.user_id, t.material_id) IN (
             SELECT s.user_id, s.material_id FROM transcription_sources s
             JOIN materials m ON m.user_id = s.user_id AND m.id = s.material_id
             WHERE (m.deleted_at IS NOT NULL OR s.created_at < now() - make_interval(hours => $1))
               AND NOT EXISTS (
                   SELECT 1 FROM jobs j
                   WHERE j.kind = 'material.transcribe' AND j.failed_at IS NULL
                     AND j.payload ->> 'user_id' = s.user_id::text
                     AND j.payload ->> 'material_id' = s.material_id::text)
             LIMIT $2
             FOR UPDATE OF s SKIP LOCKED)
         RETURNING t.object_key",
    )
    .bind(KEPT_UNASKED_HOURS)
    .bind(limit)
    .fetch_all(pool)
    .await
}
