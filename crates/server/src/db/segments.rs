//! Segments of a material. A list is replaced as a whole inside one
//! transaction that holds the material's row lock.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::{Acquire, PgExecutor, Postgres, Transaction};
use uuid::Uuid;

use crate::domain::{NewSegment, SegmentOrigin, stable_segment_id};
use crate::sync::ServerClock;

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
    /// The hybrid logical clock of the write that made this version (the
    /// server's for list writes, imports, transcriptions and `PATCH`; a
    /// device's for a pushed correction); `null`: written before clocks.
    pub hlc: Option<String>,
}

pub(crate) const COLUMNS: &str =
    "id, material_id, start_time, end_time, text, translation, origin, updated_at, change_seq, hlc";

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

/// The stored list after a replacement, in time order, and its version (the
/// `ETag` number, as [`version`] would read it).
#[derive(Debug)]
pub struct Replaced {
    pub segments: Vec<Segment>,
    pub version: i64,
    /// Live segments kept under their id whose text changed (their takes
    /// are judged against a sentence that is no longer there).
    pub retexted: Vec<Uuid>,
}

/// A row of the material as stored, tombstones included.
#[derive(sqlx::FromRow)]
struct StoredRow {
    id: Uuid,
    start_time: i64,
    end_time: i64,
    text: String,
    translation: Option<String>,
    origin: SegmentOrigin,
    deleted: bool,
    updated_at: DateTime<Utc>,
    change_seq: i64,
    hlc: Option<String>,
}

impl StoredRow {
    fn same_content(&self, segment: &NewSegment) -> bool {
        !self.deleted
            && self.start_time == segment.span.start()
            && self.end_time == segment.span.end()
            && self.text == segment.text.as_str()
            && self.translation == segment.translation
            && self.origin == segment.origin
    }
}

/// Columns of the rows one statement writes, in `unnest` order.
#[derive(Default)]
struct Rows<'a> {
    ids: Vec<Uuid>,
    starts: Vec<i64>,
    ends: Vec<i64>,
    texts: Vec<&'a str>,
    translations: Vec<Option<&'a str>>,
    origins: Vec<SegmentOrigin>,
    change_seqs: Vec<i64>,
}

impl<'a> Rows<'a> {
    fn push(&mut self, id: Uuid, segment: &'a NewSegment, change_seq: i64) {
        self.ids.push(id);
        self.starts.push(segment.span.start());
        self.ends.push(segment.span.end());
        self.texts.push(segment.text.as_str());
        self.translations.push(segment.translation.as_deref());
        self.origins.push(segment.origin);
        self.change_seqs.push(change_seq);
    }
}

/// Replaces the material's segment list (the material row must be locked
/// by `tx`). Ids: the client's, else the id of an existing live segment with
/// the same times and text, else the deterministic v5 id.
///
/// The difference to what is stored is worked out here, so each row is
/// written by the one statement it needs: new rows by a plain `INSERT`,
/// changed or revived rows by an `UPDATE`, rows left out become tombstones,
/// and unchanged rows are not touched (their change number and clock stay).
/// Every row written carries one clock of `clock`'s for this write, later
/// than the stored clock of every row it replaces (whichever process
/// stamped them: the material's lock keeps them as read): one value for
/// the whole list, cast to the column's domain once per statement
/// (`(SELECT $n::hlc_text)`), so its format is checked once, not per row
/// (migration 0018). The stored list is answered from memory rather than
/// read back.
pub async fn replace(
    tx: &mut Transaction<'_, Postgres>,
    user_id: Uuid,
    material_id: Uuid,
    segments: &[NewSegment],
    clock: &ServerClock,
) -> Result<Replaced, ReplaceError> {
    let stored: Vec<StoredRow> = sqlx::query_as(
        "SELECT id, start_time, end_time, text, translation, origin, deleted_at IS NOT NULL AS deleted,
                updated_at, change_seq, hlc
         FROM segments WHERE user_id = $1 AND material_id = $2",
    )
    .bind(user_id)
    .bind(material_id)
    .fetch_all(&mut **tx)
    .await?;
    let by_id: HashMap<Uuid, &StoredRow> = stored.iter().map(|row| (row.id, row)).collect();
    let by_content: HashMap<(i64, i64, &str), Uuid> = stored
        .iter()
        .filter(|row| !row.deleted)
        .map(|row| ((row.start_time, row.end_time, row.text.as_str()), row.id))
        .collect();

    // Resolve ids; a client's id wins over a content match of another entry.
    let client_ids: HashSet<Uuid> = segments.iter().filter_map(|segment| segment.id).collect();
    let mut taken: HashSet<Uuid> = HashSet::with_capacity(segments.len());
    let ids: Vec<Uuid> = segments
        .iter()
        .map(|segment| {
            let key = (
                segment.span.start(),
                segment.span.end(),
                segment.text.as_str(),
            );
            let id = segment.id.unwrap_or_else(|| {
                by_content
                    .get(&key)
                    .copied()
                    .filter(|id| !client_ids.contains(id) && !taken.contains(id))
                    .unwrap_or_else(|| stable_segment_id(material_id, segment.span, &segment.text))
            });
            taken.insert(id);
            id
        })
        .collect();

    // The rows this write replaces (removed, changed, revived) and the
    // latest of their clocks, which its own clock must follow whoever
    // stamped them (text order is clock order: nothing is parsed per row).
    let mut latest: Option<&str> = None;
    let mut gone: Vec<Uuid> = Vec::new();
    for row in &stored {
        if !row.deleted && !taken.contains(&row.id) {
            gone.push(row.id);
            latest = latest.max(row.hlc.as_deref());
        }
    }
    let mut to_write = 0;
    for (segment, id) in segments.iter().zip(&ids) {
        match by_id.get(id) {
            Some(row) if row.same_content(segment) => {}
            found => {
                to_write += 1;
                latest = latest.max(found.and_then(|row| row.hlc.as_deref()));
            }
        }
    }
    let last_stored = stored.iter().map(|row| row.change_seq).max().unwrap_or(0);
    if to_write == 0 && gone.is_empty() {
        let segments = segments
            .iter()
            .zip(&ids)
            .filter_map(|(_, id)| by_id.get(id).map(|row| row.to_segment(material_id)))
            .collect();
        return Ok(Replaced {
            segments,
            version: last_stored,
            retexted: Vec::new(),
        });
    }

    let hlc = clock
        .now_after(latest)
        .map_err(|error| sqlx::Error::Decode(error.into()))?
        .to_string();
    let hlc = hlc.as_str();

    // One block of change numbers for every row this replacement writes
    // (migration 0005), and the transaction's clock for the answer. With the
    // block taken, the row trigger stays out of the way (migration 0006):
    // the statements below set `change_seq` and `updated_at` themselves.
    let block = i64::try_from(to_write + gone.len()).unwrap_or(i64::MAX);
    let (base, now): (i64, DateTime<Utc>) = sqlx::query_as(
        "INSERT INTO user_change_counters AS c (user_id, last_change_seq) VALUES ($1, $2)
         ON CONFLICT (user_id) DO UPDATE SET last_change_seq = c.last_change_seq + $2
         RETURNING last_change_seq - $2, now()",
    )
    .bind(user_id)
    .bind(block)
    .fetch_one(&mut **tx)
    .await?;
    sqlx::query("SELECT set_config('echoloop.change_seq_reserved', 'on', true)")
        .execute(&mut **tx)
        .await?;

    let mut next = base;
    let mut take_number = || {
        next += 1;
        next
    };
    let gone_numbers: Vec<i64> = gone.iter().map(|_| take_number()).collect();
    let mut inserts = Rows::default();
    let mut updates = Rows::default();
    let mut answer = Vec::with_capacity(segments.len());
    let mut retexted = Vec::new();
    for (segment, id) in segments.iter().zip(&ids) {
        match by_id.get(id) {
            Some(row) if row.same_content(segment) => answer.push(row.to_segment(material_id)),
            found => {
                if found.is_some_and(|row| !row.deleted && row.text != segment.text.as_str()) {
                    retexted.push(*id);
                }
                let change_seq = take_number();
                let rows = if found.is_some() {
                    &mut updates
                } else {
                    &mut inserts
                };
                rows.push(*id, segment, change_seq);
                answer.push(Segment {
                    id: *id,
                    material_id,
                    start_time: segment.span.start(),
                    end_time: segment.span.end(),
                    text: segment.text.as_str().to_owned(),
                    translation: segment.translation.clone(),
                    origin: segment.origin,
                    updated_at: now,
                    change_seq,
                    hlc: Some(hlc.to_owned()),
                });
            }
        }
    }

    if !gone.is_empty() {
        sqlx::query(
            "UPDATE segments s SET deleted_at = now(), updated_at = now(), change_seq = g.change_seq,
                hlc = (SELECT $4::hlc_text)
             FROM unnest($2::uuid[], $3::bigint[]) AS g(id, change_seq)
             WHERE s.user_id = $1 AND s.id = g.id",
        )
        .bind(user_id)
        .bind(&gone)
        .bind(&gone_numbers)
        .bind(hlc)
        .execute(&mut **tx)
        .await?;
    }
    if !updates.ids.is_empty() {
        sqlx::query(
            "UPDATE segments s SET start_time = u.start_time, end_time = u.end_time, text = u.text,
                translation = u.translation, origin = u.origin, deleted_at = NULL, updated_at = now(),
                change_seq = u.change_seq, hlc = (SELECT $9::hlc_text)
             FROM unnest($2::uuid[], $3::bigint[], $4::bigint[], $5::text[], $6::text[], $7::segment_origin[], $8::bigint[])
                  AS u(id, start_time, end_time, text, translation, origin, change_seq)
             WHERE s.user_id = $1 AND s.id = u.id",
        )
        .bind(user_id)
        .bind(&updates.ids)
        .bind(&updates.starts)
        .bind(&updates.ends)
        .bind(&updates.texts)
        .bind(&updates.translations)
        .bind(&updates.origins)
        .bind(&updates.change_seqs)
        .bind(hlc)
        .execute(&mut **tx)
        .await?;
    }
    if !inserts.ids.is_empty()
        && let Some(taken) = insert_new(tx, user_id, material_id, &inserts, hlc).await?
    {
        let index = ids.iter().position(|id| *id == taken).unwrap_or_default();
        return Err(ReplaceError::IdOfAnotherMaterial(index));
    }
    sqlx::query("SELECT set_config('echoloop.change_seq_reserved', 'off', true)")
        .execute(&mut **tx)
        .await?;
    Ok(Replaced {
        segments: answer,
        version: next.max(last_stored),
        retexted,
    })
}

/// Inserts rows the material did not have. A client-chosen id that is
/// already a segment of another of the user's materials breaks the primary
/// key: rather than probing every id first (a lookup per row, about a sixth
/// of a new list's write), the insert runs under a savepoint and only a
/// failed one looks for the culprit. `Ok(Some(id))`: that id was taken.
async fn insert_new(
    tx: &mut Transaction<'_, Postgres>,
    user_id: Uuid,
    material_id: Uuid,
    rows: &Rows<'_>,
    hlc: &str,
) -> Result<Option<Uuid>, sqlx::Error> {
    let mut attempt = tx.begin().await?;
    let inserted = sqlx::query(
        "INSERT INTO segments (user_id, material_id, id, start_time, end_time, text, translation, origin, change_seq, hlc)
         SELECT $1, $2, u.id, u.start_time, u.end_time, u.text, u.translation, u.origin, u.change_seq,
                (SELECT $10::hlc_text)
         FROM unnest($3::uuid[], $4::bigint[], $5::bigint[], $6::text[], $7::text[], $8::segment_origin[], $9::bigint[])
              AS u(id, start_time, end_time, text, translation, origin, change_seq)",
    )
    .bind(user_id)
    .bind(material_id)
    .bind(&rows.ids)
    .bind(&rows.starts)
    .bind(&rows.ends)
    .bind(&rows.texts)
    .bind(&rows.translations)
    .bind(&rows.origins)
    .bind(&rows.change_seqs)
    .bind(hlc)
    .execute(&mut *attempt)
    .await;
    let violation = match inserted {
        Ok(_) => return attempt.commit().await.map(|()| None),
        Err(sqlx::Error::Database(error)) if error.constraint() == Some("segments_pkey") => error,
        Err(error) => return Err(error),
    };
    attempt.rollback().await?;
    let taken: Option<Uuid> =
        sqlx::query_scalar("SELECT id FROM segments WHERE user_id = $1 AND id = ANY($2) LIMIT 1")
            .bind(user_id)
            .bind(&rows.ids)
            .fetch_optional(&mut **tx)
            .await?;
    match taken {
        Some(id) => Ok(Some(id)),
        None => Err(sqlx::Error::Database(violation)),
    }
}

impl StoredRow {
    fn to_segment(&self, material_id: Uuid) -> Segment {
        Segment {
            id: self.id,
            material_id,
            start_time: self.start_time,
            end_time: self.end_time,
            text: self.text.clone(),
            translation: self.translation.clone(),
            origin: self.origin,
            updated_at: self.updated_at,
            change_seq: self.change_seq,
            hlc: self.hlc.clone(),
        }
    }
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

/// Writes one live segment's changes, stamped with `hlc`.
pub async fn update(
    db: impl PgExecutor<'_>,
    user_id: Uuid,
    id: Uuid,
    changes: &SegmentChanges,
    hlc: &str,
) -> Result<Option<Segment>, sqlx::Error> {
    let sql = format!(
        "UPDATE segments SET start_time = $3, end_time = $4, text = $5, translation = $6, hlc = $7
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
        .bind(hlc)
        .fetch_optional(db)
        .await
}

/// The material of a segment of the user's, live or a tombstone (to take
/// the material's lock before the segment's, as every list write does).
pub async fn material_of(
    db: impl PgExecutor<'_>,
    user_id: Uuid,
    id: Uuid,
) -> Result<Option<Uuid>, sqlx::Error> {
    sqlx::query_scalar("SELECT material_id FROM segments WHERE user_id = $1 AND id = $2")
        .bind(user_id)
        .bind(id)
        .fetch_optional(db)
        .await
}

/// A segment as stored, live or a tombstone, locked for the caller's
/// transaction (the merge rules decide on it).
pub struct StoredSegment {
    pub segment: Segment,
    pub deleted: bool,
}

pub async fn lock_stored(
    db: impl PgExecutor<'_>,
    user_id: Uuid,
    id: Uuid,
) -> Result<Option<StoredSegment>, sqlx::Error> {
    let sql = format!(
        "SELECT {COLUMNS}, deleted_at IS NOT NULL AS deleted FROM segments
         WHERE user_id = $1 AND id = $2 FOR UPDATE"
    );
    let row: Option<sqlx::postgres::PgRow> = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(user_id)
        .bind(id)
        .fetch_optional(db)
        .await?;
    row.map(|row| {
        use sqlx::{FromRow, Row};
        Ok(StoredSegment {
            segment: Segment::from_row(&row)?,
            deleted: row.try_get("deleted")?,
        })
    })
    .transpose()
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
/// among its segments, tombstones included (a removal is a change too),
/// kept per list by the database (migration 0007); 0 for none. `None`: no
/// such live material.
pub async fn version(
    db: impl PgExecutor<'_>,
    user_id: Uuid,
    material_id: Uuid,
) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT COALESCE(v.version, 0)
         FROM materials m
         LEFT JOIN segment_list_versions v ON v.user_id = m.user_id AND v.material_id = m.id
         WHERE m.user_id = $1 AND m.id = $2 AND m.deleted_at IS NULL",
    )
    .bind(user_id)
    .bind(material_id)
    .fetch_optional(db)
    .await
}
