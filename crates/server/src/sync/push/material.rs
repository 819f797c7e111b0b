//! A pushed material: create or upsert (created as `POST /materials`
//! creates — also again after a delete, when the creation is newer — or
//! updated as `PATCH /materials/{id}` updates) and delete (as `DELETE
//! /materials/{id}`: children tombstoned, media freed after the commit).

use echoloop_core::sync::{Hlc, Verdict, Write, decide};
use serde::Deserialize;
use serde_json::Value;
use sqlx::PgConnection;
use uuid::Uuid;

use super::{Batch, delete_verdict, read_data, row_clock};
use crate::db;
use crate::domain::{MaterialKind, SourceType};
use crate::http::error::{Error, Result};
use crate::http::materials::{
    CreateMaterial, UpdateMaterial, present, validate_changes, validate_new,
};

/// A material's plain fields; absent ones of an existing material keep
/// their value (`language: null` clears it).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct MaterialData {
    #[serde(rename = "type")]
    kind: MaterialKind,
    source_type: SourceType,
    title: String,
    #[serde(default, deserialize_with = "present")]
    language: Option<Option<String>>,
    metadata: Option<Value>,
    duration: Option<i64>,
}

pub(super) async fn upsert(
    batch: &mut Batch<'_>,
    conn: &mut PgConnection,
    id: Uuid,
    write: Write,
    hlc: Hlc,
    data: Option<Value>,
) -> Result<Verdict> {
    let data: MaterialData = read_data(data)?;
    // Every rule that needs no stored row, whether it creates or updates.
    let valid = validate_new(CreateMaterial {
        id: Some(id),
        kind: data.kind,
        source_type: data.source_type,
        title: data.title.clone(),
        language: data.language.clone().flatten(),
        metadata: data
            .metadata
            .clone()
            .unwrap_or_else(|| Value::Object(Default::default())),
        duration: data.duration,
    })?;
    let stored = db::materials::lock_stored(&mut *conn, batch.user_id, id).await?;
    let clock = stored
        .as_ref()
        .map(|s| row_clock(s.hlc.as_deref(), s.deleted))
        .transpose()?;
    let verdict = decide(clock, write, hlc);
    if verdict != Verdict::Apply {
        return Ok(verdict);
    }
    let hlc = hlc.to_string();
    match stored {
        // New, or created again after a delete (the core let only a
        // creation newer than the tombstone through): a fresh row.
        None | Some(db::materials::StoredMaterial { deleted: true, .. }) => {
            let created =
                db::materials::insert(&mut *conn, batch.user_id, valid.new_row(), &hlc).await?;
            if created.is_none() {
                // Another request of this learner created it between the
                // look and the insert: that write was first, and the
                // answer shows it.
                return Ok(Verdict::Superseded);
            }
        }
        Some(stored) => {
            if stored.kind != data.kind {
                return Err(Error::validation("type", "cannot change"));
            }
            if stored.source_type != data.source_type {
                return Err(Error::validation("source_type", "cannot change"));
            }
            let changes = validate_changes(
                &mut *conn,
                batch.user_id,
                id,
                stored.source_type,
                stored.external_id.as_deref(),
                UpdateMaterial {
                    title: Some(data.title),
                    language: data.language,
                    metadata: data.metadata,
                    duration: data.duration,
                },
            )
            .await?;
            db::materials::update(&mut *conn, batch.user_id, id, changes.as_changes(), &hlc)
                .await?
                .ok_or(Error::NotFound)?;
        }
    }
    Ok(verdict)
}

pub(super) async fn delete(
    batch: &mut Batch<'_>,
    conn: &mut PgConnection,
    id: Uuid,
    hlc: Hlc,
) -> Result<Verdict> {
    let stored = db::materials::lock_stored(&mut *conn, batch.user_id, id)
        .await?
        .ok_or(Error::NotFound)?;
    let verdict = delete_verdict(stored.hlc.as_deref(), stored.deleted, hlc)?;
    if verdict == Verdict::Apply {
        let keys = db::materials::soft_delete_in(conn, batch.user_id, id, &hlc.to_string())
            .await?
            .ok_or(Error::NotFound)?;
        batch.release.extend(keys);
    }
    Ok(verdict)
}
