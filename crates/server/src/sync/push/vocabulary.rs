//! Pushed saved words (upsert as `PUT /vocabulary/{id}`, delete as
//! `DELETE /vocabulary/{id}`, last writer wins) and their review answers
//! (an append-only set, as `POST /vocabulary/{id}/reviews`: an answer
//! already stored is a retry; the word's schedule is derived again once
//! per push, from its whole log).

use echoloop_core::sync::{Hlc, Verdict, Write, decide};
use serde_json::Value;
use sqlx::PgConnection;
use uuid::Uuid;

use super::{Batch, Op, Parsed, delete_verdict, read_data, row_clock};
use crate::db;
use crate::db::vocabulary::{Stamp, StampClock};
use crate::dictionary::WordCores;
use crate::domain::Word;
use crate::domain::vocabulary::parse_review;
use crate::http::error::{Error, Result};
use crate::http::vocabulary::{SaveWord, parse_save, parse_word, save_word};

/// The word a change saves, when it is a saved word's upsert whose word
/// reads (the others are refused when applied).
pub(super) fn word_of(change: &Parsed) -> Option<Word> {
    if !matches!(change.op, Op::VocabularyUpsert | Op::VocabularyCreate) {
        return None;
    }
    let data: SaveWord = read_data(change.data.clone()).ok()?;
    parse_word(&data).ok().map(|(_, word)| word)
}

pub(super) async fn upsert(
    batch: &mut Batch<'_>,
    conn: &mut PgConnection,
    cores: &WordCores,
    id: Uuid,
    write: Write,
    hlc: Hlc,
    data: Option<Value>,
) -> Result<Verdict> {
    let data: SaveWord = read_data(data)?;
    let (core, context) = parse_save(&mut *conn, batch.user_id, data, cores).await?;
    let stored = db::vocabulary::lock_stored(&mut *conn, batch.user_id, id).await?;
    let clock = stored
        .as_ref()
        .map(|s| row_clock(s.hlc.as_deref(), s.deleted))
        .transpose()?;
    let verdict = decide(clock, write, hlc);
    if verdict == Verdict::Apply {
        let hlc = hlc.to_string();
        let stamp = Stamp {
            clock: StampClock::Pushed(&hlc),
            always: true,
        };
        save_word(conn, batch.user_id, id, &core, context.as_ref(), stamp).await?;
    }
    Ok(verdict)
}

pub(super) async fn delete(
    batch: &mut Batch<'_>,
    conn: &mut PgConnection,
    id: Uuid,
    hlc: Hlc,
) -> Result<Verdict> {
    let stored = db::vocabulary::lock_stored(&mut *conn, batch.user_id, id)
        .await?
        .ok_or(Error::NotFound)?;
    let verdict = delete_verdict(stored.hlc.as_deref(), stored.deleted, hlc)?;
    if verdict == Verdict::Apply {
        db::vocabulary::soft_delete(&mut *conn, batch.user_id, id, &hlc.to_string()).await?;
    }
    Ok(verdict)
}

/// A review answer (the change's `id` is the answer's own).
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct AnswerData {
    vocabulary_item_id: Uuid,
    /// 1 again, 2 hard, 3 good, 4 easy.
    rating: i64,
    reviewed_at: chrono::DateTime<chrono::Utc>,
}

pub(super) async fn answer(
    batch: &mut Batch<'_>,
    conn: &mut PgConnection,
    id: Uuid,
    data: Option<Value>,
) -> Result<Verdict> {
    let data: AnswerData = read_data(data)?;
    let review = parse_review(id, data.reviewed_at, data.rating, batch.now)
        .map_err(|(field, reason)| Error::validation(field, reason))?;
    let item = data.vocabulary_item_id;
    if !db::vocabulary::lock(&mut *conn, batch.user_id, item).await? {
        return Err(Error::NotFound);
    }
    match db::vocabulary::review_owners(&mut *conn, batch.user_id, &[id])
        .await?
        .first()
    {
        Some((_, owner)) if *owner != item => {
            Err(Error::validation("id", "is a review of another word"))
        }
        Some(_) => Ok(Verdict::AlreadyApplied),
        None => {
            db::vocabulary::append_reviews(&mut *conn, batch.user_id, item, &[review]).await?;
            batch.answered = Some(item);
            Ok(Verdict::Apply)
        }
    }
}

/// The word's schedule from its whole log, stored when it changed (a
/// deleted word keeps its tombstone as it is).
pub(super) async fn derive_schedule(
    conn: &mut PgConnection,
    user_id: Uuid,
    item: Uuid,
) -> Result<()> {
    let log = db::vocabulary::log(&mut *conn, user_id, item).await?;
    let schedule = echoloop_core::review::schedule(&log);
    db::vocabulary::set_schedule(conn, user_id, item, &schedule).await?;
    Ok(())
}
