//! Learning progress per (user, material).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::PgExecutor;
use uuid::Uuid;

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, sqlx::Type, utoipa::ToSchema,
)]
#[sqlx(type_name = "progress_status", rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum ProgressStatus {
    InProgress,
    Completed,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Progress {
    pub material_id: Uuid,
    pub last_segment_index: i32,
    pub status: ProgressStatus,
    pub completed_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
    pub change_seq: i64,
    /// The hybrid logical clock of the write that made this version
    /// (decision 0024); `null` for rows written before clocks.
    pub hlc: Option<String>,
}

pub(crate) const COLUMNS: &str =
    "material_id, last_segment_index, status, completed_at, updated_at, change_seq, hlc";

/// What the merge rules need of stored progress, live or a tombstone.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StoredProgress {
    pub last_segment_index: i32,
    pub status: ProgressStatus,
    pub hlc: Option<String>,
    pub deleted: bool,
}

/// The material's progress locked for the rest of the transaction.
pub async fn lock_stored(
    db: impl PgExecutor<'_>,
    user_id: Uuid,
    material_id: Uuid,
) -> Result<Option<StoredProgress>, sqlx::Error> {
    sqlx::query_as(
        "SELECT last_segment_index, status, hlc, deleted_at IS NOT NULL AS deleted
         FROM learning_progress WHERE user_id = $1 AND material_id = $2 FOR UPDATE",
    )
    .bind(user_id)
    .bind(material_id)
    .fetch_optional(db)
    .await
}

pub async fn get(
    db: impl PgExecutor<'_>,
    user_id: Uuid,
    material_id: Uuid,
) -> Result<Option<Progress>, sqlx::Error> {
    let sql = format!(
        "SELECT {COLUMNS} FROM learning_progress WHERE user_id = $1 AND material_id = $2 AND deleted_at IS NULL"
    );
    sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(user_id)
        .bind(material_id)
        .fetch_optional(db)
        .await
}

/// Records progress, stamped with `hlc`. "Completed" never goes back to
/// "in progress": a write that says in_progress after completion only
/// moves the position.
pub async fn upsert(
    db: impl PgExecutor<'_>,
    user_id: Uuid,
    material_id: Uuid,
    last_segment_index: i32,
    status: ProgressStatus,
    hlc: Option<&str>,
) -> Result<Progress, sqlx::Error> {
    let sql = format!(
        "INSERT INTO learning_progress AS p (user_id, material_id, last_segment_index, status, completed_at, hlc)
         VALUES ($1, $2, $3, $4, CASE WHEN $4 = 'completed'::progress_status THEN now() END, $5)
         ON CONFLICT (user_id, material_id) DO UPDATE SET
            last_segment_index = EXCLUDED.last_segment_index,
            status = CASE WHEN p.status = 'completed' AND p.deleted_at IS NULL THEN p.status ELSE EXCLUDED.status END,
            completed_at = CASE WHEN p.status = 'completed' AND p.deleted_at IS NULL THEN p.completed_at
                                ELSE EXCLUDED.completed_at END,
            deleted_at = NULL,
            hlc = EXCLUDED.hlc
         RETURNING {COLUMNS}"
    );
    sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(user_id)
        .bind(material_id)
        .bind(last_segment_index)
        .bind(status)
        .bind(hlc)
        .fetch_one(db)
        .await
}
