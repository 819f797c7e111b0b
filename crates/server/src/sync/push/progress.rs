//! Pushed progress: the position of the newer write, and "completed"
//! never regresses (`merge_progress`), so an older write may still
//! complete the row. Checked as `PUT /materials/{id}/progress` checks.

use echoloop_core::sync::{Hlc, ProgressState, Verdict, merge_progress};
use serde_json::Value;
use sqlx::PgConnection;
use uuid::Uuid;

use super::{Batch, read_data, row_clock};
use crate::db;
use crate::db::progress::ProgressStatus;
use crate::http::error::{Error, Result};
use crate::http::progress::{PutProgress, lock_material_and_check_index};
use crate::jobs::prepare_sentence;

/// `id` is the material's.
pub(super) async fn upsert(
    batch: &mut Batch<'_>,
    conn: &mut PgConnection,
    material_id: Uuid,
    hlc: Hlc,
    data: Option<Value>,
) -> Result<Verdict> {
    let data: PutProgress = read_data(data)?;
    let index = lock_material_and_check_index(
        &mut *conn,
        batch.user_id,
        material_id,
        data.last_segment_index,
    )
    .await?;
    let incoming = ProgressState {
        last_segment_index: u32::try_from(index).unwrap_or_default(),
        completed: data.status == ProgressStatus::Completed,
        hlc: Some(hlc),
    };
    // A tombstone (its material was deleted and created again) is no
    // progress: the write starts afresh, as the PUT does.
    let stored = match db::progress::lock_stored(&mut *conn, batch.user_id, material_id).await? {
        Some(stored) if !stored.deleted => Some(ProgressState {
            last_segment_index: u32::try_from(stored.last_segment_index).unwrap_or_default(),
            completed: stored.status == ProgressStatus::Completed,
            hlc: row_clock(stored.hlc.as_deref(), false)?.hlc,
        }),
        _ => None,
    };
    let merged = merge_progress(stored, incoming);
    if merged.changed {
        let value = merged.value;
        let index = i32::try_from(value.last_segment_index)
            .map_err(|_| Error::validation("last_segment_index", "too large"))?;
        let status = if value.completed {
            ProgressStatus::Completed
        } else {
            ProgressStatus::InProgress
        };
        let hlc = value.hlc.map(|hlc| hlc.to_string());
        db::progress::upsert(
            &mut *conn,
            batch.user_id,
            material_id,
            index,
            status,
            hlc.as_deref(),
        )
        .await?;
        // The learner is about to say this sentence.
        prepare_sentence::schedule_at(&mut *conn, batch.scoring, batch.user_id, material_id, index)
            .await?;
    }
    Ok(merged.verdict)
}
