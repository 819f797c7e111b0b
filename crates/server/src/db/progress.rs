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
}

pub(crate) const COLUMNS: &str =
    "material_id, last_segment_index, status, completed_at, updated_at, change_seq";

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

/// Records progress. "Completed" never goes back to "in progress": a
/// write that says in_progress after completion only moves the position.
pub async fn upsert(
    db: impl PgExecutor<'_>,
    user_id: Uuid,
    material_id: Uuid,
    last_segment_index: i32,
    status: ProgressStatus,
) -> Result<Progress, sqlx::Error> {
    let sql = format!(
        "INSERT INTO learning_progress AS p (user_id, material_id, last_segment_index, status, completed_at)
         VALUES ($1, $2, $3, $4, CASE WHEN $4 = 'completed'::progress_status THEN now() END)
         ON CONFLICT (user_id, material_id) DO UPDATE SET
            last_segment_index = EXCLUDED.last_segment_index,
            status = CASE WHEN p.status = 'completed' AND p.deleted_at IS NULL THEN p.status ELSE EXCLUDED.status END,
            completed_at = CASE WHEN p.status = 'completed' AND p.deleted_at IS NULL THEN p.completed_at
                                ELSE EXCLUDED.completed_at END,
            deleted_at = NULL
         RETURNING {COLUMNS}"
    );
    sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(user_id)
        .bind(material_id)
        .bind(last_segment_index)
        .bind(status)
        .fetch_one(db)
        .await
}
