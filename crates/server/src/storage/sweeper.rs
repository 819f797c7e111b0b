//! Removes what a crash or a failed delete left behind: uploads past their
//! expiry (staging files, unfinished multipart uploads), staged data whose
//! upload has no row (a creation that crashed before recording it, a
//! request that wrote on while the account was deleted), sound uploaded for
//! a transcription never asked for (after a day) or of a deleted material,
//! and objects no live row points at. Deleting a material or recording removes its objects at
//! once; this catches the rest. Safe to run on every instance at once: each
//! step is idempotent.

use std::time::Duration;

use anyhow::Context;
use futures::StreamExt;
use sqlx::PgPool;
use tokio::sync::watch;

use super::{Storage, keys};
use crate::db;

/// An object younger than this is never swept: its row may be committing.
pub const MIN_ORPHAN_AGE: Duration = Duration::from_secs(3600);

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Swept {
    pub expired_uploads: usize,
    pub unrecorded_staging: usize,
    pub stale_transcription_sources: usize,
    pub orphan_objects: usize,
}

pub async fn sweep(pool: &PgPool, storage: &Storage, min_age: Duration) -> anyhow::Result<Swept> {
    let mut swept = Swept::default();
    for upload in db::uploads::take_expired(pool, 100).await? {
        abort_staged(storage, &upload).await?;
        db::uploads::delete(pool, upload.id).await?;
        swept.expired_uploads += 1;
    }
    let cutoff = chrono::Utc::now() - chrono::Duration::from_std(min_age)?;
    let staged = storage.staged_before(cutoff).await?;
    for upload in db::uploads::unrecorded(pool, &staged).await? {
        storage.drop_staging(upload).await?;
        tracing::info!(%upload, "swept staged data of an unrecorded upload");
        swept.unrecorded_staging += 1;
    }
    let stale = db::transcription_sources::take_stale(pool, 100).await?;
    swept.stale_transcription_sources = stale.len();
    storage.delete_quietly(stale).await;
    let mut listing = storage.store().list(Some(&storage.path(keys::USERS)));
    let mut batch = Vec::new();
    while let Some(meta) = listing.next().await {
        let meta = meta?;
        if meta.last_modified > cutoff {
            continue;
        }
        if let Some(key) = storage.key_of(&meta.location) {
            batch.push(key);
        }
        if batch.len() >= 500 {
            swept.orphan_objects +=
                delete_unreferenced(pool, storage, std::mem::take(&mut batch)).await?;
        }
    }
    swept.orphan_objects += delete_unreferenced(pool, storage, batch).await?;
    Ok(swept)
}

/// Drops what an upload that will not go on keeps on the store: its
/// multipart upload and tail object (S3), or its staging file. No listing
/// of objects finds these, so they go while the upload's row still says
/// where they are: here for expired uploads, and in account deletion
/// (`jobs::delete_account`) for every upload of the account. Idempotent.
pub async fn abort_staged(storage: &Storage, upload: &db::uploads::Upload) -> anyhow::Result<()> {
    storage
        .abort_upload(upload.id, &upload.object_key, &upload.staged())
        .await
        .with_context(|| format!("dropping the staged data of upload {}", upload.id))
}

async fn delete_unreferenced(
    pool: &PgPool,
    storage: &Storage,
    keys: Vec<String>,
) -> anyhow::Result<usize> {
    if keys.is_empty() {
        return Ok(0);
    }
    let orphans = db::uploads::unreferenced_keys(pool, &keys).await?;
    let count = orphans.len();
    for key in orphans {
        storage.delete(&key).await?;
        tracing::info!(%key, "swept an orphaned object");
    }
    Ok(count)
}

/// Sweeps every `every` until `stop` turns true.
pub async fn run(pool: PgPool, storage: Storage, every: Duration, mut stop: watch::Receiver<bool>) {
    loop {
        match sweep(&pool, &storage, MIN_ORPHAN_AGE).await {
            Ok(swept) if swept != Swept::default() => tracing::info!(?swept, "storage sweep"),
            Ok(_) => {}
            Err(error) => tracing::warn!(error = %format!("{error:#}"), "storage sweep failed"),
        }
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = stop.changed() => {}
        }
        if *stop.borrow() {
            break;
        }
    }
}
