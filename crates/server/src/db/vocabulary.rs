//! Saved words and their review logs. Every statement is scoped by
//! `user_id`: another user's id is simply not found.

use chrono::{DateTime, Utc};
use echoloop_core::review::{Rating, Review, Schedule};
use serde::{Deserialize, Serialize};
use sqlx::{PgConnection, PgExecutor, PgPool};
use uuid::Uuid;

use crate::domain::vocabulary::Context;
use crate::sync::ServerClock;

/// The seed's `vocabulary_items.status`, as the core's schedule sets it.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, sqlx::Type, utoipa::ToSchema,
)]
#[sqlx(type_name = "vocabulary_status", rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum VocabularyStatus {
    New,
    Learning,
    Mastered,
}

impl From<echoloop_core::review::VocabularyStatus> for VocabularyStatus {
    fn from(status: echoloop_core::review::VocabularyStatus) -> Self {
        use echoloop_core::review::VocabularyStatus as Core;
        match status {
            Core::New => VocabularyStatus::New,
            Core::Learning => VocabularyStatus::Learning,
            Core::Mastered => VocabularyStatus::Mastered,
        }
    }
}

/// Where the word was met.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ItemContext {
    pub sentence: String,
    /// The form the word was tapped in ("Running"), a word of `sentence`;
    /// `null` when not sent.
    pub surface: Option<String>,
    pub material_id: Option<Uuid>,
    pub segment_id: Option<Uuid>,
    /// Milliseconds into the material.
    pub time_ms: Option<i64>,
}

/// A saved word as the API shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct VocabularyItem {
    pub id: Uuid,
    /// The lookup key (lower case).
    pub word: String,
    /// Primary language subtag.
    pub language: String,
    pub ipa: Option<String>,
    pub status: VocabularyStatus,
    /// `null`: never reviewed (due at once).
    pub next_review_at: Option<DateTime<Utc>>,
    /// FSRS memory stability in days; `null` before the first review.
    pub stability: Option<f32>,
    /// FSRS difficulty, 1 (easy) to 10 (hard); `null` before the first review.
    pub difficulty: Option<f32>,
    pub reviews: i32,
    pub lapses: i32,
    pub last_reviewed_at: Option<DateTime<Utc>>,
    pub context: Option<ItemContext>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// The per-user change number (sync cursor).
    pub change_seq: i64,
    /// The hybrid logical clock of the write that saved or deleted it
    /// (decision 0024; review answers do not stamp it); `null` for items
    /// saved before clocks.
    pub hlc: Option<String>,
}

#[derive(sqlx::FromRow)]
pub(crate) struct Row {
    id: Uuid,
    word: String,
    language: String,
    ipa: Option<String>,
    status: VocabularyStatus,
    next_review_at: Option<DateTime<Utc>>,
    stability: Option<f32>,
    difficulty: Option<f32>,
    reviews: i32,
    lapses: i32,
    last_reviewed_at: Option<DateTime<Utc>>,
    context_sentence: Option<String>,
    context_surface: Option<String>,
    context_material_id: Option<Uuid>,
    context_segment_id: Option<Uuid>,
    context_time_ms: Option<i64>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    change_seq: i64,
    hlc: Option<String>,
}

impl From<Row> for VocabularyItem {
    fn from(row: Row) -> Self {
        VocabularyItem {
            id: row.id,
            word: row.word,
            language: row.language,
            ipa: row.ipa,
            status: row.status,
            next_review_at: row.next_review_at,
            stability: row.stability,
            difficulty: row.difficulty,
            reviews: row.reviews,
            lapses: row.lapses,
            last_reviewed_at: row.last_reviewed_at,
            context: row.context_sentence.map(|sentence| ItemContext {
                sentence,
                surface: row.context_surface,
                material_id: row.context_material_id,
                segment_id: row.context_segment_id,
                time_ms: row.context_time_ms,
            }),
            created_at: row.created_at,
            updated_at: row.updated_at,
            change_seq: row.change_seq,
            hlc: row.hlc,
        }
    }
}

pub(crate) const COLUMNS: &str = "v.id, w.word, w.language, w.ipa, v.status, v.next_review_at, v.stability,
    v.difficulty, v.reviews, v.lapses, v.last_reviewed_at, v.context_sentence, v.context_surface, v.context_material_id,
    v.context_segment_id, v.context_time_ms, v.created_at, v.updated_at, v.change_seq, v.hlc";

/// One answer of a word's review log, as the sync pull shows it.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct ReviewLog {
    pub id: Uuid,
    pub vocabulary_item_id: Uuid,
    /// 1 again, 2 hard, 3 good, 4 easy.
    pub rating: i16,
    pub reviewed_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub change_seq: i64,
}

pub(crate) const REVIEW_LOG_COLUMNS: &str =
    "id, vocabulary_item_id, rating, reviewed_at, created_at, change_seq";

/// The one live item per word and user (a unique index).
pub const ONE_PER_WORD: &str = "vocabulary_items_one_per_word";

pub async fn get(
    db: impl PgExecutor<'_>,
    user_id: Uuid,
    id: Uuid,
) -> Result<Option<VocabularyItem>, sqlx::Error> {
    let sql = format!(
        "SELECT {COLUMNS} FROM vocabulary_items v JOIN word_cores w ON w.id = v.word_core_id
         WHERE v.user_id = $1 AND v.id = $2 AND v.deleted_at IS NULL"
    );
    let row: Option<Row> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(user_id)
        .bind(id)
        .fetch_optional(db)
        .await?;
    Ok(row.map(VocabularyItem::from))
}

/// The live item saving this word, if any.
pub async fn id_for_word(
    db: impl PgExecutor<'_>,
    user_id: Uuid,
    word_core_id: Uuid,
) -> Result<Option<Uuid>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT id FROM vocabulary_items WHERE user_id = $1 AND word_core_id = $2 AND deleted_at IS NULL",
    )
    .bind(user_id)
    .bind(word_core_id)
    .fetch_optional(db)
    .await
}

/// What a PUT did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Saved {
    /// A new item, or a deleted one saved again.
    Created,
    Updated,
    /// The id holds another word (an item's word never changes).
    OtherWord,
}

/// How a save stamps the item's clock.
#[derive(Clone, Copy)]
pub struct Stamp<'a> {
    pub clock: StampClock<'a>,
    /// Write the clock even when nothing else changed (a pushed change
    /// that won: the row must carry its clock). Otherwise an unchanged
    /// item is not written at all.
    pub always: bool,
}

/// Whose clock a save carries.
#[derive(Clone, Copy)]
pub enum StampClock<'a> {
    /// A pushed change's (the merge rules found it newer than the row's).
    Pushed(&'a str),
    /// The server's, made later than the row's stored clock once the row
    /// is locked (`ServerClock::now_after`).
    Server(&'a ServerClock),
}

impl StampClock<'_> {
    fn over(self, stored: Option<&str>) -> Result<String, sqlx::Error> {
        match self {
            StampClock::Pushed(hlc) => Ok(hlc.to_owned()),
            StampClock::Server(clock) => clock
                .now_after(stored)
                .map(|hlc| hlc.to_string())
                .map_err(|error| sqlx::Error::Decode(error.into())),
        }
    }
}

/// Creates the item, revives its tombstone, or updates its context, in
/// `conn`'s transaction, stamped by `stamp.clock`. An unchanged item is not
/// written (its change number stays) unless `stamp.always`. A second live
/// item for the word breaks [`ONE_PER_WORD`].
pub async fn save(
    conn: &mut PgConnection,
    user_id: Uuid,
    id: Uuid,
    word_core_id: Uuid,
    context: Option<&Context>,
    stamp: Stamp<'_>,
) -> Result<Saved, sqlx::Error> {
    let context_binds = |query| bind_context(query, context);
    // Twice at most: a concurrent PUT of the same new id may insert first,
    // and this one then updates the row it made.
    for _ in 0..2 {
        let current: Option<(Uuid, bool, Option<String>)> = sqlx::query_as(
            "SELECT word_core_id, deleted_at IS NOT NULL, hlc FROM vocabulary_items
             WHERE user_id = $1 AND id = $2 FOR UPDATE",
        )
        .bind(user_id)
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
        match current {
            Some((stored, _, _)) if stored != word_core_id => return Ok(Saved::OtherWord),
            Some((_, deleted, stored_hlc)) => {
                let hlc = stamp.clock.over(stored_hlc.as_deref())?;
                context_binds(
                    sqlx::query(
                        "UPDATE vocabulary_items SET deleted_at = NULL,
                            context_sentence = $3, context_material_id = $4, context_segment_id = $5, context_time_ms = $6,
                            context_surface = $7, hlc = $8
                         WHERE user_id = $1 AND id = $2
                           AND (deleted_at IS NOT NULL OR ($9 AND hlc IS DISTINCT FROM $8)
                                OR (context_sentence, context_material_id, context_segment_id, context_time_ms, context_surface)
                                   IS DISTINCT FROM ($3, $4, $5, $6, $7))",
                    )
                    .bind(user_id)
                    .bind(id),
                )
                .bind(&hlc)
                .bind(stamp.always)
                .execute(&mut *conn)
                .await?;
                return Ok(if deleted {
                    Saved::Created
                } else {
                    Saved::Updated
                });
            }
            None => {
                let hlc = stamp.clock.over(None)?;
                let inserted = context_binds(
                    sqlx::query(
                        "INSERT INTO vocabulary_items (user_id, id, word_core_id,
                            context_sentence, context_material_id, context_segment_id, context_time_ms, context_surface, hlc)
                         VALUES ($1, $2, $8, $3, $4, $5, $6, $7, $9)
                         ON CONFLICT (user_id, id) DO NOTHING",
                    )
                    .bind(user_id)
                    .bind(id),
                )
                .bind(word_core_id)
                .bind(&hlc)
                .execute(&mut *conn)
                .await?;
                if inserted.rows_affected() == 1 {
                    return Ok(Saved::Created);
                }
            }
        }
    }
    Err(sqlx::Error::Protocol(
        "the vocabulary item changed twice while being saved".into(),
    ))
}

type PgQuery<'q> = sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments>;

/// Binds the context's five columns as the next parameters (sentence,
/// material, segment, time, surface).
fn bind_context<'q>(query: PgQuery<'q>, context: Option<&Context>) -> PgQuery<'q> {
    query
        .bind(context.map(|c| c.sentence.clone()))
        .bind(context.and_then(|c| c.material_id))
        .bind(context.and_then(|c| c.segment_id))
        .bind(context.and_then(|c| c.time_ms))
        .bind(context.and_then(|c| c.surface.clone()))
}

/// Soft delete (a tombstone for sync, stamped with `hlc`); the review log
/// stays with it.
pub async fn soft_delete(
    db: impl PgExecutor<'_>,
    user_id: Uuid,
    id: Uuid,
    hlc: &str,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE vocabulary_items SET deleted_at = now(), hlc = $3
         WHERE user_id = $1 AND id = $2 AND deleted_at IS NULL",
    )
    .bind(user_id)
    .bind(id)
    .bind(hlc)
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// What the merge rules need of a stored item, live or a tombstone.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StoredItem {
    pub word_core_id: Uuid,
    pub hlc: Option<String>,
    pub deleted: bool,
}

/// The item locked for the rest of the transaction. `None`: no such id of
/// the user's.
pub async fn lock_stored(
    db: impl PgExecutor<'_>,
    user_id: Uuid,
    id: Uuid,
) -> Result<Option<StoredItem>, sqlx::Error> {
    sqlx::query_as(
        "SELECT word_core_id, hlc, deleted_at IS NOT NULL AS deleted
         FROM vocabulary_items WHERE user_id = $1 AND id = $2 FOR UPDATE",
    )
    .bind(user_id)
    .bind(id)
    .fetch_optional(db)
    .await
}

/// Where a page starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum After {
    /// Newest change first: below this change number.
    Change(i64),
    /// Due order: after this (due time, id); `None` due time: a new word.
    Due(Option<DateTime<Utc>>, Uuid),
}

/// Live items, newest change first; with `due_before`, those due by then
/// (never-reviewed words first, then by due time). `limit + 1` rows, so
/// the caller knows whether more follow.
pub async fn list(
    pool: &PgPool,
    user_id: Uuid,
    due_before: Option<DateTime<Utc>>,
    after: Option<After>,
    limit: i64,
) -> Result<Vec<VocabularyItem>, sqlx::Error> {
    let from = "FROM vocabulary_items v JOIN word_cores w ON w.id = v.word_core_id
                WHERE v.user_id = $1 AND v.deleted_at IS NULL";
    let rows: Vec<Row> = match due_before {
        None => {
            let after = match after {
                Some(After::Change(seq)) => Some(seq),
                _ => None,
            };
            let sql = format!(
                "SELECT {COLUMNS} {from} AND ($2::bigint IS NULL OR v.change_seq < $2)
                 ORDER BY v.change_seq DESC LIMIT $3"
            );
            sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .bind(user_id)
                .bind(after)
                .bind(limit + 1)
                .fetch_all(pool)
                .await?
        }
        Some(due_before) => {
            let (started, after_new, after_due, after_id) = match after {
                Some(After::Due(due, id)) => (true, due.is_none(), due, Some(id)),
                _ => (false, false, None, None),
            };
            let sql = format!(
                "SELECT {COLUMNS} {from}
                   AND (v.next_review_at IS NULL OR v.next_review_at <= $2)
                   AND (NOT $3 OR CASE WHEN $4
                        THEN v.next_review_at IS NOT NULL OR v.id > $6
                        ELSE v.next_review_at > $5 OR (v.next_review_at = $5 AND v.id > $6) END)
                 ORDER BY v.next_review_at NULLS FIRST, v.id LIMIT $7"
            );
            sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .bind(user_id)
                .bind(due_before)
                .bind(started)
                .bind(after_new)
                .bind(after_due)
                .bind(after_id)
                .bind(limit + 1)
                .fetch_all(pool)
                .await?
        }
    };
    Ok(rows.into_iter().map(VocabularyItem::from).collect())
}

/// Locks a live item for a review write. `false`: no such live item.
pub async fn lock(conn: &mut PgConnection, user_id: Uuid, id: Uuid) -> Result<bool, sqlx::Error> {
    let found: Option<i32> = sqlx::query_scalar(
        "SELECT 1 FROM vocabulary_items WHERE user_id = $1 AND id = $2 AND deleted_at IS NULL FOR UPDATE",
    )
    .bind(user_id)
    .bind(id)
    .fetch_optional(conn)
    .await?;
    Ok(found.is_some())
}

/// Which item each of these review ids already belongs to.
pub async fn review_owners(
    conn: &mut PgConnection,
    user_id: Uuid,
    ids: &[Uuid],
) -> Result<Vec<(Uuid, Uuid)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, vocabulary_item_id FROM review_logs WHERE user_id = $1 AND id = ANY($2)",
    )
    .bind(user_id)
    .bind(ids)
    .fetch_all(conn)
    .await
}

/// Appends reviews; ids already stored are skipped. Returns how many were new.
pub async fn append_reviews(
    conn: &mut PgConnection,
    user_id: Uuid,
    item_id: Uuid,
    reviews: &[Review],
) -> Result<u64, sqlx::Error> {
    let ids: Vec<Uuid> = reviews.iter().map(|r| r.id).collect();
    let ratings: Vec<i16> = reviews
        .iter()
        .map(|r| i16::from(u8::from(r.rating)))
        .collect();
    let times: Vec<DateTime<Utc>> = reviews
        .iter()
        .map(|r| DateTime::from_timestamp_millis(r.reviewed_at_ms).unwrap_or_default())
        .collect();
    let done = sqlx::query(
        "INSERT INTO review_logs (user_id, id, vocabulary_item_id, rating, reviewed_at)
         SELECT $1, id, $2, rating, reviewed_at FROM unnest($3::uuid[], $4::smallint[], $5::timestamptz[])
             AS r(id, rating, reviewed_at)
         ON CONFLICT (user_id, id) DO NOTHING",
    )
    .bind(user_id)
    .bind(item_id)
    .bind(ids)
    .bind(ratings)
    .bind(times)
    .execute(conn)
    .await?;
    Ok(done.rows_affected())
}

/// The item's whole review log.
pub async fn log(
    conn: &mut PgConnection,
    user_id: Uuid,
    item_id: Uuid,
) -> Result<Vec<Review>, sqlx::Error> {
    let rows: Vec<(Uuid, DateTime<Utc>, i16)> = sqlx::query_as(
        "SELECT id, reviewed_at, rating FROM review_logs
         WHERE user_id = $1 AND vocabulary_item_id = $2 ORDER BY reviewed_at, id",
    )
    .bind(user_id)
    .bind(item_id)
    .fetch_all(conn)
    .await?;
    rows.into_iter()
        .map(|(id, at, rating)| {
            let rating = u8::try_from(rating)
                .map_err(|error| error.to_string())
                .and_then(Rating::try_from)
                .map_err(|error| sqlx::Error::Decode(error.into()))?;
            Ok(Review {
                id,
                reviewed_at_ms: at.timestamp_millis(),
                rating,
            })
        })
        .collect()
}

/// Stores the schedule derived from the log on a live item; an unchanged
/// one is not written again.
pub async fn set_schedule(
    conn: &mut PgConnection,
    user_id: Uuid,
    item_id: Uuid,
    schedule: &Schedule,
) -> Result<(), sqlx::Error> {
    let at = |ms: Option<i64>| ms.and_then(DateTime::from_timestamp_millis);
    sqlx::query(
        "UPDATE vocabulary_items SET status = $3, next_review_at = $4, stability = $5, difficulty = $6,
            reviews = $7, lapses = $8, last_reviewed_at = $9
         WHERE user_id = $1 AND id = $2 AND deleted_at IS NULL
           AND (status, next_review_at, stability, difficulty, reviews, lapses, last_reviewed_at)
               IS DISTINCT FROM ($3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(user_id)
    .bind(item_id)
    .bind(VocabularyStatus::from(schedule.status))
    .bind(at(schedule.due_at_ms))
    .bind(schedule.stability_days)
    .bind(schedule.difficulty)
    .bind(i32::try_from(schedule.reviews).unwrap_or(i32::MAX))
    .bind(i32::try_from(schedule.lapses).unwrap_or(i32::MAX))
    .bind(at(schedule.last_reviewed_at_ms))
    .execute(conn)
    .await?;
    Ok(())
}
