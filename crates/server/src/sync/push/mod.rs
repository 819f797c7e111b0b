//! `POST /sync/push` applied (docs/api/sync.md, decision 0024): a batch of
//! a device's changes, each answered on its own — applied, conflict (a
//! newer write or a tombstone is there; the winning row comes back) or
//! rejected (with the problem the resource endpoint would answer).
//!
//! The batch is one transaction with a savepoint per change: a rejected
//! change rolls back alone, the rest commit once. Each change locks its row
//! (`FOR UPDATE`), and the core's merge rules (`echoloop_core::sync`)
//! decide whether it is written. Media objects of deleted rows are removed
//! only after the commit; a word whose answers arrived has its schedule
//! derived again once, at the end.
//!
//! One module per kind: [`material`], [`progress`], [`vocabulary`] (saved
//! words and their review answers), [`recording`], [`segment`] (sentence
//! corrections).

mod material;
mod progress;
mod recording;
mod segment;
mod vocabulary;

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use echoloop_core::sync::{Hlc, RowClock, Verdict, Write};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use super::{ServerClock, wall_ms};
use crate::db;
use crate::db::sync::{Change, Kind};
use crate::dictionary::WordCores;
use crate::http::error::{Error, Problem, Result};
use crate::scoring::Scoring;

/// The most changes one push may carry (413 `too_many_changes` beyond).
pub const MAX_CHANGES: usize = 500;

/// How one change fared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// The change won, or this very change was there already (a retry).
    Applied,
    /// A newer write or a tombstone is there; `change` is the winning row.
    Conflict,
    /// Refused; `problem` says why. Nothing of it was stored.
    Rejected,
}

/// The answer to `changes[i]`.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PushResult {
    /// As sent (`null` when the change did not carry a readable one).
    pub kind: Option<String>,
    pub id: Option<Uuid>,
    pub status: Status,
    /// Applied or conflict: the row as it is now, as `GET /sync/pull`
    /// shows it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub change: Option<Change>,
    /// Rejected: `{code, detail, field?, existing_id?, …}` with the codes
    /// of the resource endpoints, plus `clock_ahead` and
    /// `unsupported_change`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub problem: Option<Problem>,
}

/// What a push did: the answers, and the media objects to delete now
/// that the batch is committed.
pub struct Pushed {
    pub results: Vec<PushResult>,
    pub released: Vec<String>,
}

/// One change as sent, before its data is read.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Envelope {
    kind: String,
    op: String,
    id: Uuid,
    hlc: Option<String>,
    data: Option<Value>,
}

/// The kind/op pairs a push carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    MaterialUpsert,
    MaterialCreate,
    MaterialDelete,
    ProgressUpsert,
    VocabularyUpsert,
    VocabularyCreate,
    VocabularyDelete,
    ReviewAppend,
    RecordingDelete,
    SegmentUpsert,
}

impl Op {
    fn parse(kind: &str, op: &str) -> Option<Op> {
        Some(match (kind, op) {
            ("material", "upsert") => Op::MaterialUpsert,
            ("material", "create") => Op::MaterialCreate,
            ("material", "delete") => Op::MaterialDelete,
            ("progress", "upsert") => Op::ProgressUpsert,
            ("vocabulary_item", "upsert") => Op::VocabularyUpsert,
            ("vocabulary_item", "create") => Op::VocabularyCreate,
            ("vocabulary_item", "delete") => Op::VocabularyDelete,
            ("review_log", "upsert") => Op::ReviewAppend,
            ("recording", "delete") => Op::RecordingDelete,
            ("segment", "upsert") => Op::SegmentUpsert,
            _ => return None,
        })
    }

    /// The table whose row answers the change.
    fn kind(self) -> Kind {
        match self {
            Op::MaterialUpsert | Op::MaterialCreate | Op::MaterialDelete => Kind::Material,
            Op::ProgressUpsert => Kind::Progress,
            Op::VocabularyUpsert | Op::VocabularyCreate | Op::VocabularyDelete => {
                Kind::VocabularyItem
            }
            Op::ReviewAppend => Kind::ReviewLog,
            Op::RecordingDelete => Kind::Recording,
            Op::SegmentUpsert => Kind::Segment,
        }
    }
}

/// A change ready to apply.
struct Parsed {
    op: Op,
    id: Uuid,
    /// `None` only for review answers (an append-only set needs no clock).
    hlc: Option<Hlc>,
    data: Option<Value>,
}

/// A change as sent: its kind and id as far as they read (the answer
/// names them), and the change read, or why it is refused.
type Sent = (Option<String>, Option<Uuid>, Result<Parsed, Box<Problem>>);

/// What the changes of one batch share.
pub(super) struct Batch<'a> {
    pub user_id: Uuid,
    /// The server's time, for checks of devices' times (review answers).
    pub now: DateTime<Utc>,
    /// Objects the current change frees (deleted after the commit, if the
    /// change is kept).
    pub release: Vec<String>,
    /// A word the current change answered (its schedule is derived again
    /// at the end, if the change is kept).
    pub answered: Option<Uuid>,
    /// The pronunciation engine: takes of a corrected sentence are scored
    /// again (`None`: this server does not score).
    pub scoring: Option<&'a Scoring>,
}

/// Applies `changes` for `user_id` in one transaction, in the order sent.
/// `Err` only for what is no client's fault (the database failing): then
/// nothing is stored.
pub async fn apply(
    pool: &PgPool,
    clock: &ServerClock,
    scoring: Option<&Scoring>,
    user_id: Uuid,
    changes: Vec<Value>,
) -> Result<Pushed> {
    let wall = wall_ms();
    let mut batch = Batch {
        user_id,
        now: Utc::now(),
        release: Vec::new(),
        answered: None,
        scoring,
    };
    let mut released = Vec::new();
    let mut answered: Vec<Uuid> = Vec::new();
    let mut results = Vec::with_capacity(changes.len());
    // Which row answers each result that has one.
    let mut answers: Vec<Option<(Kind, Uuid)>> = Vec::with_capacity(changes.len());
    // Each change as sent (its kind and id, for the answer) and read.
    let changes: Vec<Sent> = changes
        .into_iter()
        .enumerate()
        .map(|(index, raw)| {
            let kind = raw.get("kind").and_then(Value::as_str).map(str::to_owned);
            let id = raw
                .get("id")
                .and_then(Value::as_str)
                .and_then(|id| id.parse().ok());
            (kind, id, parse(index, raw, wall))
        })
        .collect();
    // The shared rows of the saved words, looked up and pronounced before
    // the transaction, made in it first, in one order for every learner.
    let words: Vec<_> = changes
        .iter()
        .filter_map(|(_, _, parsed)| vocabulary::word_of(parsed.as_ref().ok()?))
        .collect();
    let wanted = crate::dictionary::look_up(pool, &words).await?;
    // Changes lock rows before they write: the counter first, so two
    // batches of one learner cannot deadlock (`lock_change_counter`).
    let mut tx = db::sync::begin_write(pool, user_id).await?;
    let cores = wanted.take(&mut tx).await?;
    for (index, (kind, id, parsed)) in changes.into_iter().enumerate() {
        let rejected = |problem: Problem| PushResult {
            kind: kind.clone(),
            id,
            status: Status::Rejected,
            change: None,
            problem: Some(problem),
        };
        let parsed = match parsed {
            Ok(parsed) => parsed,
            Err(problem) => {
                results.push(rejected(*problem));
                answers.push(None);
                continue;
            }
        };
        if let Some(hlc) = parsed.hlc {
            clock.observe(hlc);
        }
        batch.release.clear();
        batch.answered = None;
        let mut savepoint = sqlx::Connection::begin(&mut *tx).await?;
        match apply_one(&mut batch, &mut savepoint, &parsed, &cores).await {
            Ok(verdict) => {
                savepoint.commit().await?;
                released.append(&mut batch.release);
                if let Some(word) = batch.answered.take()
                    && !answered.contains(&word)
                {
                    answered.push(word);
                }
                results.push(PushResult {
                    kind,
                    id,
                    status: match verdict {
                        Verdict::Apply | Verdict::AlreadyApplied => Status::Applied,
                        Verdict::Superseded => Status::Conflict,
                    },
                    change: None,
                    problem: None,
                });
                answers.push(Some((parsed.op.kind(), parsed.id)));
            }
            Err(error) => {
                savepoint.rollback().await?;
                results.push(rejected(rejection(index, error)?));
                answers.push(None);
            }
        }
    }
    for word in answered {
        vocabulary::derive_schedule(&mut tx, user_id, word).await?;
    }
    cores.delete_unsaved(&mut tx, user_id).await?;
    fill_rows(&mut tx, user_id, &mut results, &answers).await?;
    tx.commit().await?;
    Ok(Pushed { results, released })
}

/// Reads the envelope, the pair, the clock (required but for review
/// answers; at most `MAX_AHEAD_MS` ahead of the server's wall clock).
fn parse(index: usize, raw: Value, wall: u64) -> Result<Parsed, Box<Problem>> {
    let at = |field: &str| format!("changes[{index}].{field}");
    let envelope: Envelope = serde_path_to_error::deserialize(raw).map_err(|error| {
        let path = error.path().to_string();
        let field = if path == "." { at("") } else { at(&path) };
        let field = field.trim_end_matches('.').to_owned();
        Box::new(invalid(field, error.inner().to_string()))
    })?;
    let Some(op) = Op::parse(&envelope.kind, &envelope.op) else {
        let detail = if envelope.kind == "segment" {
            format!(
                "segment {} is not a change a push carries: a push corrects one sentence (upsert); \
                 lists are made and replaced by PUT /materials/{{id}}/segments",
                envelope.op
            )
        } else {
            format!(
                "{} {} is not a change a push carries (material create/upsert/delete, progress upsert, \
                 vocabulary_item create/upsert/delete, review_log upsert, recording delete, \
                 segment upsert)",
                envelope.kind, envelope.op
            )
        };
        let mut problem = Problem::new(
            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            "unsupported_change",
            detail,
        );
        problem.field = Some(at("op"));
        return Err(Box::new(problem));
    };
    let hlc = match envelope.hlc.as_deref().map(str::parse::<Hlc>) {
        Some(Ok(hlc)) => Some(hlc),
        Some(Err(error)) => return Err(Box::new(invalid(at("hlc"), error.to_string()))),
        None if op == Op::ReviewAppend => None,
        None => return Err(Box::new(invalid(at("hlc"), "is required".into()))),
    };
    // An answer's clock is not used (answers are a set), so it is not held
    // to the bound either.
    if let Some(hlc) = hlc
        && op != Op::ReviewAppend
        && let Err(ahead) = hlc.check_not_ahead(wall)
    {
        let mut problem = Problem::new(
            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            "clock_ahead",
            ahead.to_string(),
        );
        problem.field = Some(at("hlc"));
        return Err(Box::new(problem));
    }
    Ok(Parsed {
        op,
        id: envelope.id,
        hlc: hlc.filter(|_| op != Op::ReviewAppend),
        data: envelope.data,
    })
}

fn invalid(field: String, detail: String) -> Problem {
    Error::validation(field, detail).problem()
}

async fn apply_one(
    batch: &mut Batch<'_>,
    conn: &mut PgConnection,
    change: &Parsed,
    cores: &WordCores,
) -> Result<Verdict> {
    let id = change.id;
    let data = change.data.clone();
    // Every op but an answer has a clock (`parse`).
    let hlc = || {
        change
            .hlc
            .ok_or_else(|| Error::Internal(anyhow::anyhow!("a change without its clock")))
    };
    match change.op {
        Op::MaterialUpsert => material::upsert(batch, conn, id, Write::Upsert, hlc()?, data).await,
        Op::MaterialCreate => material::upsert(batch, conn, id, Write::Create, hlc()?, data).await,
        Op::MaterialDelete => material::delete(batch, conn, id, hlc()?).await,
        Op::ProgressUpsert => progress::upsert(batch, conn, id, hlc()?, data).await,
        Op::VocabularyUpsert => {
            vocabulary::upsert(batch, conn, cores, id, Write::Upsert, hlc()?, data).await
        }
        Op::VocabularyCreate => {
            vocabulary::upsert(batch, conn, cores, id, Write::Create, hlc()?, data).await
        }
        Op::VocabularyDelete => vocabulary::delete(batch, conn, id, hlc()?).await,
        Op::ReviewAppend => vocabulary::answer(batch, conn, id, data).await,
        Op::RecordingDelete => recording::delete(batch, conn, id, hlc()?).await,
        Op::SegmentUpsert => segment::upsert(batch, conn, id, hlc()?, data).await,
    }
}

/// A change's error as its problem, fields named from the batch
/// (`changes[3].data.title`); `Err` for errors that are no client's fault.
fn rejection(index: usize, error: Error) -> Result<Problem> {
    match error {
        Error::Database(sqlx::Error::Database(db)) if db.constraint().is_some() => {
            let rule = db.constraint().unwrap_or_default().to_owned();
            Ok(Error::validation(
                format!("changes[{index}].data"),
                format!("breaks the rule {rule}"),
            )
            .problem())
        }
        Error::Database(_) | Error::Internal(_) | Error::Unavailable(_) => Err(error),
        Error::Validation { field, detail } => {
            let field = match field.as_str() {
                "id" => format!("changes[{index}].id"),
                "" => format!("changes[{index}].data"),
                field => format!("changes[{index}].data.{field}"),
            };
            Ok(Error::validation(field, detail).problem())
        }
        other => Ok(other.problem()),
    }
}

/// Puts the row as it is now into every applied or conflicting result,
/// one query per kind.
async fn fill_rows(
    conn: &mut PgConnection,
    user_id: Uuid,
    results: &mut [PushResult],
    answers: &[Option<(Kind, Uuid)>],
) -> Result<()> {
    let mut ids: HashMap<Kind, Vec<Uuid>> = HashMap::new();
    for (kind, id) in answers.iter().flatten() {
        ids.entry(*kind).or_default().push(*id);
    }
    let mut rows: HashMap<(Kind, Uuid), Change> = HashMap::new();
    for (kind, ids) in ids {
        for (id, change) in db::sync::rows(conn, user_id, kind, &ids).await? {
            rows.insert((kind, id), change);
        }
    }
    for (result, answer) in results.iter_mut().zip(answers) {
        if let Some(key) = answer {
            result.change = rows.get(key).cloned();
        }
    }
    Ok(())
}

/// The data of an upsert, read as its resource endpoint's body; fields
/// are named relative to `data`.
pub(super) fn read_data<T: DeserializeOwned>(data: Option<Value>) -> Result<T> {
    let data = data.ok_or_else(|| Error::validation("", "is required for an upsert"))?;
    serde_path_to_error::deserialize(data).map_err(|error| {
        let path = error.path().to_string();
        let field = if path == "." { String::new() } else { path };
        Error::validation(field, error.inner().to_string())
    })
}

/// The verdict on a delete of a stored row (live or a tombstone).
pub(super) fn delete_verdict(stored_hlc: Option<&str>, deleted: bool, hlc: Hlc) -> Result<Verdict> {
    Ok(echoloop_core::sync::decide(
        Some(row_clock(stored_hlc, deleted)?),
        Write::Delete,
        hlc,
    ))
}

/// A stored row's clock for the merge rules.
pub(super) fn row_clock(hlc: Option<&str>, deleted: bool) -> Result<RowClock> {
    let hlc = hlc
        .map(str::parse::<Hlc>)
        .transpose()
        .map_err(|error| Error::Internal(anyhow::anyhow!("a stored clock: {error}")))?;
    Ok(RowClock { hlc, deleted })
}
