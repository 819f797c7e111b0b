//! Segments of a material. A list is replaced as a whole inside one
//! transaction that holds the material's row lock.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::{PgExecutor, Postgres, Transaction};
use uuid::Uuid;

use crate::domain::{NewSegment, SegmentOrigin, stable_segment_id};

#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Segment {
    pub id: Uuid,
    pub material_id: Uuid,
    /// Milliseconds.
    pub start_time: i64,
    pub end_time: i64,
    pub text: String,
    pub translation: Option<String>,
    pub origin: SegmentOrigin,
    pub updated_at: DateTime<Utc>,
    pub change_seq: i64,
}

const COLUMNS: &str =
    "id, material_id, start_time, end_time, text, translation, origin, updated_at, change_seq";

pub async fn list(
    db: impl PgExecutor<'_>,
    user_id: Uuid,
    material_id: Uuid,
) -> Result<Vec<Segment>, sqlx::Error> {
    let sql = format!(
        "SELECT {COLUMNS} FROM segments
         WHERE user_id = $1 AND material_id = $2 AND deleted_at IS NULL
         ORDER BY start_time, end_time"
    );
    sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(user_id)
        .bind(material_id)
        .fetch_all(db)
        .await
}

pub async fn get(
    db: impl PgExecutor<'_>,
    user_id: Uuid,
    id: Uuid,
) -> Result<Option<Segment>, sqlx::Error> {
    let sql = format!(
        "SELECT {COLUMNS} FROM segments WHERE user_id = $1 AND id = $2 AND deleted_at IS NULL"
    );
    sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(user_id)
        .bind(id)
        .fetch_optional(db)
        .await
}

/// Why a list could not be stored.
#[derive(Debug)]
pub enum ReplaceError {
    /// The client named an id that is a segment of another material
    /// (index in the time-ordered list).
    IdOfAnotherMaterial(usize),
    Database(sqlx::Error),
}

impl From<sqlx::Error> for ReplaceError {
    fn from(error: sqlx::Error) -> Self {
        ReplaceError::Database(error)
    }
}

/// Replaces the material's segment list (the material row must be locked
/// by `tx`). Ids: the client's, else the id of an existing live segment with
/// the same times and text, else the deterministic v5 id. Unchanged rows
/// are not rewritten (their change number stays).
pub async fn replace(
    tx: &mut Transaction<'_, Postgres>,
    user_id: Uuid,
    material_id: Uuid,
    segments: &[NewSegment],
) -> Result<(), ReplaceError> {
    let existing: Vec<(Uuid, i64, i64, String)> = sqlx::query_as(
        "SELECT id, start_time, end_time, text FROM segments
         WHERE user_id = $1 AND material_id = $2 AND deleted_at IS NULL",
    )
    .bind(user_id)
    .bind(material_id)
    .fetch_all(&mut **tx)
    .await?;
    let by_content: HashMap<(i64, i64, &str), Uuid> = existing
        .iter()
        .map(|(id, start, end, text)| ((*start, *end, text.as_str()), *id))
        .collect();

    let mut ids = Vec::with_capacity(segments.len());
    let mut starts = Vec::with_capacity(segments.len());
    let mut ends = Vec::with_capacity(segments.len());
    let mut texts = Vec::with_capacity(segments.len());
    let mut translations = Vec::with_capacity(segments.len());
    let mut origins = Vec::with_capacity(segments.len());
    for segment in segments {
        let key = (
            segment.span.start(),
            segment.span.end(),
            segment.text.as_str(),
        );
        let id = segment
            .id
            .or_else(|| by_content.get(&key).copied())
            .unwrap_or_else(|| stable_segment_id(material_id, segment.span, &segment.text));
        ids.push(id);
        starts.push(segment.span.start());
        ends.push(segment.span.end());
        texts.push(segment.text.as_str());
        translations.push(segment.translation.as_deref());
        origins.push(segment.origin);
    }

    // A client-chosen id may not move a segment between materials.
    let foreign: Option<Uuid> = sqlx::query_scalar(
        "SELECT id FROM segments WHERE user_id = $1 AND id = ANY($2) AND material_id <> $3 LIMIT 1",
    )
    .bind(user_id)
    .bind(&ids)
    .bind(material_id)
    .fetch_optional(&mut **tx)
    .await?;
    if let Some(foreign) = foreign {
        let index = ids.iter().position(|id| *id == foreign).unwrap_or_default();
        return Err(ReplaceError::IdOfAnotherMaterial(index));
    }

    // One block of change numbers for every row this replacement writes
    // (migration 0005): at most the existing rows plus the new ones.
    let block = i64::try_from(existing.len() + segments.len()).unwrap_or(i64::MAX);
    let base: i64 = sqlx::query_scalar(
        "INSERT INTO user_change_counters AS c (user_id, last_change_seq) VALUES ($1, $2)
         ON CONFLICT (user_id) DO UPDATE SET last_change_seq = c.last_change_seq + $2
         RETURNING last_change_seq - $2",
    )
    .bind(user_id)
    .bind(block.max(1))
    .fetch_one(&mut **tx)
    .await?;
    sqlx::query("SELECT set_config('echoloop.change_seq_reserved', 'on', true)")
        .execute(&mut **tx)
        .await?;

    let deleted = sqlx::query(
        "UPDATE segments s SET deleted_at = now(), change_seq = $4 + gone.n
         FROM (SELECT id, row_number() OVER (ORDER BY id) AS n FROM segments
               WHERE user_id = $1 AND material_id = $2 AND deleted_at IS NULL AND NOT (id = ANY($3))) gone
         WHERE s.user_id = $1 AND s.id = gone.id",
    )
    .bind(user_id)
    .bind(material_id)
    .bind(&ids)
    .bind(base)
    .execute(&mut **tx)
    .await?
    .rows_affected();
    let base = base + i64::try_from(deleted).unwrap_or_default();

    sqlx::query(
        "INSERT INTO segments AS s (user_id, material_id, id, start_time, end_time, text, translation, origin, change_seq)
         SELECT $1, $2, u.id, u.start_time, u.end_time, u.text, u.translation, u.origin, $9 + u.n
         FROM unnest($3::uuid[], $4::bigint[], $5::bigint[], $6::text[], $7::text[], $8::segment_origin[])
              WITH ORDINALITY AS u(id, start_time, end_time, text, translation, origin, n)
         ON CONFLICT (user_id, id) DO UPDATE SET
            start_time = EXCLUDED.start_time, end_time = EXCLUDED.end_time, text = EXCLUDED.text,
            translation = EXCLUDED.translation, origin = EXCLUDED.origin, deleted_at = NULL,
            change_seq = EXCLUDED.change_seq
         WHERE s.material_id = EXCLUDED.material_id
           AND (s.start_time, s.end_time, s.text, s.translation, s.origin, s.deleted_at)
               IS DISTINCT FROM (EXCLUDED.start_time, EXCLUDED.end_time, EXCLUDED.text, EXCLUDED.translation, EXCLUDED.origin, NULL)",
    )
    .bind(user_id)
    .bind(material_id)
    .bind(&ids)
    .bind(&starts)
    .bind(&ends)
    .bind(&texts)
    .bind(&translations)
    .bind(&origins)
    .bind(base)
    .execute(&mut **tx)
    .await?;
    sqlx::query("SELECT set_config('echoloop.change_seq_reserved', 'off', true)")
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// The live neighbours of a segment in time order (for overlap checks when
/// one segment changes): the end of the previous one and the start of the next.
pub async fn neighbours(
    db: impl PgExecutor<'_>,
    user_id: Uuid,
    material_id: Uuid,
    id: Uuid,
    start: i64,
) -> Result<(Option<i64>, Option<i64>), sqlx::Error> {
    sqlx::query_as(
        "SELECT
            (SELECT max(end_time) FROM segments WHERE user_id = $1 AND material_id = $2 AND id <> $3
                AND deleted_at IS NULL AND start_time <= $4),
            (SELECT min(start_time) FROM segments WHERE user_id = $1 AND material_id = $2 AND id <> $3
                AND deleted_at IS NULL AND start_time > $4)",
    )
    .bind(user_id)
    .bind(material_id)
    .bind(id)
    .bind(start)
    .fetch_one(db)
    .await
}

pub struct SegmentChanges {
    pub start_time: i64,
    pub end_time: i64,
    pub text: String,
    pub translation: Option<String>,
}

pub async fn update(
    db: impl PgExecutor<'_>,
    user_id: Uuid,
    id: Uuid,
    changes: &SegmentChanges,
) -> Result<Option<Segment>, sqlx::Error> {
    let sql = format!(
        "UPDATE segments SET start_time = $3, end_time = $4, text = $5, translation = $6
         WHERE user_id = $1 AND id = $2 AND deleted_at IS NULL
         RETURNING {COLUMNS}"
    );
    sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(user_id)
        .bind(id)
        .bind(changes.start_time)
        .bind(changes.end_time)
        .bind(&changes.text)
        .bind(&changes.translation)
        .fetch_optional(db)
        .await
}

/// Number of live segments of a material (progress bounds).
pub async fn count(
    db: impl PgExecutor<'_>,
    user_id: Uuid,
    material_id: Uuid,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT count(*) FROM segments WHERE user_id = $1 AND material_id = $2 AND deleted_at IS NULL")
        .bind(user_id)
        .bind(material_id)
        .fetch_one(db)
        .await
}

/// A version of the material's list for `ETag`: the last change number
/// among its segments, tombstones included (a removal is a change too);
/// 0 for none. `None`: no such live material.
pub async fn version(
    db: &sqlx::PgPool,
    user_id: Uuid,
    material_id: Uuid,
) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT (SELECT COALESCE(max(change_seq), 0) FROM segments WHERE user_id = $1 AND material_id = $2)
         FROM materials WHERE user_id = $1 AND id = $2 AND deleted_at IS NULL",
    )
    .bind(user_id)
    .bind(material_id)
    .fetch_optional(db)
    .await
}
