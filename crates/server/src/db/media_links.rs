//! Short-lived media links (`media_links`): a token that stands for one
//! user's one media object, for players that stream without headers.

use chrono::{DateTime, Utc};
use sqlx::{PgPool, postgres::PgQueryResult};
use uuid::Uuid;

/// What a link points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaTarget {
    Material(Uuid),
    Recording(Uuid),
}

/// A link as it is found by its token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FoundLink {
    pub user_id: Uuid,
    pub target: MediaTarget,
    pub expired: bool,
}

pub async fn insert(
    pool: &PgPool,
    token_hash: &[u8],
    user_id: Uuid,
    target: MediaTarget,
    expires_at: DateTime<Utc>,
) -> Result<PgQueryResult, sqlx::Error> {
    let (material_id, recording_id) = match target {
        MediaTarget::Material(id) => (Some(id), None),
        MediaTarget::Recording(id) => (None, Some(id)),
    };
    sqlx::query(
        "INSERT INTO media_links (token_hash, user_id, material_id, recording_id, expires_at)
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(token_hash)
    .bind(user_id)
    .bind(material_id)
    .bind(recording_id)
    .bind(expires_at)
    .execute(pool)
    .await
}

pub async fn find(pool: &PgPool, token_hash: &[u8]) -> Result<Option<FoundLink>, sqlx::Error> {
    let row: Option<(Uuid, Option<Uuid>, Option<Uuid>, bool)> = sqlx::query_as(
        "SELECT user_id, material_id, recording_id, expires_at <= now()
         FROM media_links WHERE token_hash = $1",
    )
    .bind(token_hash)
    .fetch_optional(pool)
    .await?;
    Ok(
        row.and_then(|(user_id, material_id, recording_id, expired)| {
            let target = match (material_id, recording_id) {
                (Some(id), _) => MediaTarget::Material(id),
                (None, Some(id)) => MediaTarget::Recording(id),
                (None, None) => return None,
            };
            Some(FoundLink {
                user_id,
                target,
                expired,
            })
        }),
    )
}

/// Housekeeping: links expired a day ago answer "unknown" instead of
/// "expired" once removed, which no player can tell from a typo anyway.
pub async fn delete_expired(pool: &PgPool) -> Result<u64, sqlx::Error> {
    let done = sqlx::query("DELETE FROM media_links WHERE expires_at <= now() - interval '1 day'")
        .execute(pool)
        .await?;
    Ok(done.rows_affected())
}
