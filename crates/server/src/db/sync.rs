//! Every change of one user after a change number, across the synced
//! tables (decision 0002): the pull of the sync protocol.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::postgres::PgRow;
use sqlx::{FromRow, PgConnection, Row};
use uuid::Uuid;

use super::assessments::Assessment;
use super::materials::Material;
use super::progress::Progress;
use super::recordings::Recording;
use super::segments::Segment;
use super::vocabulary::{self, ReviewLog, VocabularyItem};

/// A changed row, in the shape its own endpoint answers with.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(tag = "kind", content = "data", rename_all = "snake_case")]
pub enum ChangedRow {
    Material(Material),
    Segment(Segment),
    Progress(Progress),
    Recording(Recording),
    Assessment(Assessment),
    VocabularyItem(VocabularyItem),
    /// Review logs are append-only: never a tombstone (they go with their word).
    ReviewLog(ReviewLog),
}

/// Reads one table's row into its change.
type Decode = fn(&PgRow) -> Result<ChangedRow, sqlx::Error>;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Change {
    pub change_seq: i64,
    /// Set for a deletion (a tombstone): the client removes its copy.
    pub deleted_at: Option<DateTime<Utc>>,
    #[serde(flatten)]
    pub row: ChangedRow,
}

/// The first `limit` changes after `cursor`, in change-number order, and
/// whether more follow. Reads one snapshot (the caller's transaction
/// should be REPEATABLE READ), so the tables agree with each other.
pub async fn changes_after(
    conn: &mut PgConnection,
    user_id: Uuid,
    cursor: i64,
    limit: i64,
) -> Result<(Vec<Change>, bool), sqlx::Error> {
    // Each table gives at most `limit + 1`; the merge keeps the first
    // `limit` overall, and one more anywhere means another page.
    let take = limit + 1;
    let mut changes = Vec::new();
    let plain = |table: &str, columns: &str| {
        format!(
            "SELECT {columns}, deleted_at FROM {table}
             WHERE user_id = $1 AND change_seq > $2 ORDER BY change_seq LIMIT $3"
        )
    };
    let tables: [(String, Decode); 7] = [
        (plain("materials", super::materials::COLUMNS), |row| {
            Material::from_row(row).map(ChangedRow::Material)
        }),
        (plain("segments", super::segments::COLUMNS), |row| {
            Segment::from_row(row).map(ChangedRow::Segment)
        }),
        (
            plain("learning_progress", super::progress::COLUMNS),
            |row| Progress::from_row(row).map(ChangedRow::Progress),
        ),
        (
            format!(
                "{} WHERE r.user_id = $1 AND r.change_seq > $2 ORDER BY r.change_seq LIMIT $3",
                super::recordings::SELECT
            ),
            |row| Recording::from_row(row).map(ChangedRow::Recording),
        ),
        (
            plain("pronunciation_assessments", super::assessments::COLUMNS),
            |row| Assessment::from_row(row).map(ChangedRow::Assessment),
        ),
        (
            format!(
                "SELECT {}, v.deleted_at FROM vocabulary_items v JOIN word_cores w ON w.id = v.word_core_id
                 WHERE v.user_id = $1 AND v.change_seq > $2 ORDER BY v.change_seq LIMIT $3",
                vocabulary::COLUMNS
            ),
            |row| {
                vocabulary::Row::from_row(row)
                    .map(|item| ChangedRow::VocabularyItem(item.into()))
            },
        ),
        (
            format!(
                "SELECT {}, NULL::timestamptz AS deleted_at FROM review_logs
                 WHERE user_id = $1 AND change_seq > $2 ORDER BY change_seq LIMIT $3",
                vocabulary::REVIEW_LOG_COLUMNS
            ),
            |row| ReviewLog::from_row(row).map(ChangedRow::ReviewLog),
        ),
    ];
    for (sql, decode) in tables {
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(user_id)
            .bind(cursor)
            .bind(take)
            .fetch_all(&mut *conn)
            .await?;
        for row in rows {
            changes.push(Change {
                change_seq: row.try_get("change_seq")?,
                deleted_at: row.try_get("deleted_at")?,
                row: decode(&row)?,
            });
        }
    }
    changes.sort_by_key(|change| change.change_seq);
    let more = changes.len() as i64 > limit;
    changes.truncate(usize::try_from(limit).unwrap_or_default());
    Ok((changes, more))
}
