//! Every change of one user after a change number, across the synced
//! tables (decision 0002): the pull of the sync protocol. The same
//! shapes answer a push (`rows`).

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::postgres::PgRow;
use sqlx::{FromRow, PgConnection, PgPool, Postgres, Row, Transaction};
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

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Change {
    pub change_seq: i64,
    /// Set for a deletion (a tombstone): the client removes its copy.
    pub deleted_at: Option<DateTime<Utc>>,
    #[serde(flatten)]
    pub row: ChangedRow,
}

/// The synced tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    Material,
    Segment,
    Progress,
    Recording,
    Assessment,
    VocabularyItem,
    ReviewLog,
}

impl Kind {
    const ALL: [Kind; 7] = [
        Kind::Material,
        Kind::Segment,
        Kind::Progress,
        Kind::Recording,
        Kind::Assessment,
        Kind::VocabularyItem,
        Kind::ReviewLog,
    ];

    /// `SELECT … FROM …` of the kind's rows with `change_seq` and
    /// `deleted_at`, the alias prefix of its own columns, and the column
    /// that names a row (a progress row is named by its material).
    fn select(self) -> (String, &'static str, &'static str) {
        let plain =
            |table: &str, columns: &str| format!("SELECT {columns}, deleted_at FROM {table}");
        match self {
            Kind::Material => (plain("materials", super::materials::COLUMNS), "", "id"),
            Kind::Segment => (plain("segments", super::segments::COLUMNS), "", "id"),
            Kind::Progress => (
                plain("learning_progress", super::progress::COLUMNS),
                "",
                "material_id",
            ),
            Kind::Recording => (super::recordings::SELECT.to_owned(), "r.", "r.id"),
            Kind::Assessment => (
                plain("pronunciation_assessments", super::assessments::COLUMNS),
                "",
                "id",
            ),
            Kind::VocabularyItem => (
                format!(
                    "SELECT {}, v.deleted_at FROM vocabulary_items v JOIN word_cores w ON w.id = v.word_core_id",
                    vocabulary::COLUMNS
                ),
                "v.",
                "v.id",
            ),
            Kind::ReviewLog => (
                format!(
                    "SELECT {}, NULL::timestamptz AS deleted_at FROM review_logs",
                    vocabulary::REVIEW_LOG_COLUMNS
                ),
                "",
                "id",
            ),
        }
    }

    fn decode(self, row: &PgRow) -> Result<Change, sqlx::Error> {
        let data = match self {
            Kind::Material => Material::from_row(row).map(ChangedRow::Material),
            Kind::Segment => Segment::from_row(row).map(ChangedRow::Segment),
            Kind::Progress => Progress::from_row(row).map(ChangedRow::Progress),
            Kind::Recording => Recording::from_row(row).map(ChangedRow::Recording),
            Kind::Assessment => Assessment::from_row(row).map(ChangedRow::Assessment),
            Kind::VocabularyItem => {
                vocabulary::Row::from_row(row).map(|item| ChangedRow::VocabularyItem(item.into()))
            }
            Kind::ReviewLog => ReviewLog::from_row(row).map(ChangedRow::ReviewLog),
        }?;
        Ok(Change {
            change_seq: row.try_get("change_seq")?,
            deleted_at: row.try_get("deleted_at")?,
            row: data,
        })
    }
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
    for kind in Kind::ALL {
        let (select, p, _) = kind.select();
        let sql = format!(
            "{select} WHERE {p}user_id = $1 AND {p}change_seq > $2 ORDER BY {p}change_seq LIMIT $3"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(user_id)
            .bind(cursor)
            .bind(take)
            .fetch_all(&mut *conn)
            .await?;
        for row in rows {
            changes.push(kind.decode(&row)?);
        }
    }
    changes.sort_by_key(|change| change.change_seq);
    let more = changes.len() as i64 > limit;
    changes.truncate(usize::try_from(limit).unwrap_or_default());
    Ok((changes, more))
}

/// The rows of one kind named by `ids` as they are now, tombstones
/// included, in the pull's shape, with the id each answers for (a
/// progress row's is its material's).
pub async fn rows(
    conn: &mut PgConnection,
    user_id: Uuid,
    kind: Kind,
    ids: &[Uuid],
) -> Result<Vec<(Uuid, Change)>, sqlx::Error> {
    let (select, p, key) = kind.select();
    let sql = format!("{select} WHERE {p}user_id = $1 AND {key} = ANY($2)");
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(user_id)
        .bind(ids)
        .fetch_all(&mut *conn)
        .await?;
    let key = key.trim_start_matches(p);
    rows.iter()
        .map(|row| Ok((row.try_get(key)?, kind.decode(row)?)))
        .collect()
}

/// Begins a transaction that writes `user_id`'s rows, with the learner's
/// change counter locked first ([`lock_change_counter`]). Every request
/// that writes a learner's synced rows starts here.
pub async fn begin_write(
    pool: &PgPool,
    user_id: Uuid,
) -> Result<Transaction<'static, Postgres>, sqlx::Error> {
    let mut tx = pool.begin().await?;
    lock_change_counter(&mut tx, user_id).await?;
    Ok(tx)
}

/// Locks the user's change counter (migration 0001) for the rest of the
/// transaction: the first lock of every transaction that writes the
/// learner's synced rows (ARCHITECTURE.md, "Lock order"). Every such write
/// takes this lock anyway, at its first change number, and holds it to
/// commit; but a transaction that locks rows before its first write (to
/// read a stored clock, to check a list, a plan's limits) and takes the
/// counter only then deadlocks with one that holds the counter and waits
/// for those rows (a push, or another write of the same learner). Taken
/// first, the counter orders the learner's writers before any of them holds
/// anything else. One statement; every account has its counter from its
/// creation (the users row is numbered too).
pub async fn lock_change_counter(
    conn: &mut PgConnection,
    user_id: Uuid,
) -> Result<(), sqlx::Error> {
    sqlx::query("SELECT 1 FROM user_change_counters WHERE user_id = $1 FOR UPDATE")
        .bind(user_id)
        .execute(conn)
        .await?;
    Ok(())
}
