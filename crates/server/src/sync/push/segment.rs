//! A pushed sentence correction: one existing segment's text and, when
//! sent, its translation, checked and written as `PATCH /segments/{id}`
//! does (the same functions: `SegmentText`, takes scored again when the
//! text changes), last writer wins per row. Only `upsert`: a list is made
//! and replaced whole by `PUT /materials/{id}/segments`, so a segment the
//! list no longer has (a tombstone) stays gone — the correction is a
//! conflict answered with the tombstone. Times never change here.

use echoloop_core::sync::{Hlc, Verdict, Write, decide};
use serde::Deserialize;
use serde_json::Value;
use sqlx::PgConnection;
use uuid::Uuid;

use super::{Batch, read_data, row_clock};
use crate::db;
use crate::http::error::{Error, Result};
use crate::http::materials::present;
use crate::http::segments::{UpdateSegment, check_changes, write_changes};

/// A correction: the text, and the translation when the key is present
/// (`null` or blank clears it).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Correction {
    text: String,
    #[serde(default, deserialize_with = "present")]
    translation: Option<Option<String>>,
}

/// `id` is the segment's.
pub(super) async fn upsert(
    batch: &mut Batch<'_>,
    conn: &mut PgConnection,
    id: Uuid,
    hlc: Hlc,
    data: Option<Value>,
) -> Result<Verdict> {
    let data: Correction = read_data(data)?;
    // The material's lock first, as every write of its list takes it.
    let material = db::segments::material_of(&mut *conn, batch.user_id, id)
        .await?
        .ok_or(Error::NotFound)?;
    let duration = db::materials::lock(&mut *conn, batch.user_id, material)
        .await?
        .ok_or(Error::NotFound)?;
    let stored = db::segments::lock_stored(&mut *conn, batch.user_id, id)
        .await?
        .ok_or(Error::NotFound)?;
    let edit = UpdateSegment {
        start_time: None,
        end_time: None,
        text: Some(data.text),
        translation: data.translation,
    };
    let current = &stored.segment;
    let changes = check_changes(conn, batch.user_id, current, duration, &edit).await?;
    let clock = row_clock(current.hlc.as_deref(), stored.deleted)?;
    let verdict = decide(Some(clock), Write::Upsert, hlc);
    if verdict == Verdict::Apply {
        let hlc = hlc.to_string();
        write_changes(conn, batch.scoring, batch.user_id, current, &changes, &hlc).await?;
    }
    Ok(verdict)
}
