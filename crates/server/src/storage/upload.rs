//! Writing one resumable upload, chunk by chunk, without holding the file
//! in memory. The state that lets any instance continue (`StagedState`) is
//! kept in PostgreSQL by the caller:
//!
//! - local directory: bytes are appended to `<root>/.uploads/<id>`; the
//!   durable offset is the file length after `fsync` (a longer file, from a
//!   crash mid-write, is cut back to the recorded offset); completion renames
//!   the file into place.
//! - multipart store (S3): every `PART_SIZE` bytes become a part on the
//!   store at once; the unfinished last part is written as a small `tail`
//!   object when a request ends early, and read back by the next request.
//!   Completion uploads the last part and completes the multipart upload.

use bytes::{Bytes, BytesMut};
use object_store::multipart::{MultipartStore, PartId};
use object_store::{ObjectStoreExt, PutPayload};
use tokio::io::{AsyncSeekExt, AsyncWriteExt};
use uuid::Uuid;

use super::{Backend, PART_SIZE, Storage, keys};

/// What PostgreSQL remembers of a staged upload between requests.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StagedState {
    /// Bytes received and durable.
    pub offset: u64,
    /// Multipart stores: the upload id and the ids of the full parts.
    pub multipart_id: Option<String>,
    pub parts: Vec<String>,
    /// Multipart stores: bytes of the unfinished part kept in the tail object.
    pub tail_len: u64,
}

enum Sink {
    Local {
        file: tokio::io::BufWriter<tokio::fs::File>,
        staging: std::path::PathBuf,
    },
    Multipart {
        store: std::sync::Arc<dyn MultipartStore>,
        buffer: BytesMut,
    },
}

/// An upload open for writing during one request.
pub struct UploadWriter {
    storage: Storage,
    upload: Uuid,
    key: String,
    state: StagedState,
    sink: Sink,
}

impl Storage {
    /// Starts staging a new upload of `key`.
    pub async fn begin_upload(&self, upload: Uuid, key: &str) -> anyhow::Result<StagedState> {
        match self.backend() {
            Backend::Local { root } => {
                tokio::fs::File::create(staging_path(root, upload)).await?;
                Ok(StagedState::default())
            }
            Backend::Multipart { parts } => {
                let id = parts.create_multipart(&self.path(key)).await?;
                Ok(StagedState {
                    multipart_id: Some(id),
                    ..StagedState::default()
                })
            }
        }
    }

    /// Reopens a staged upload at its durable offset.
    pub async fn resume_upload(
        &self,
        upload: Uuid,
        key: &str,
        state: StagedState,
    ) -> anyhow::Result<UploadWriter> {
        let sink = match self.backend() {
            Backend::Local { root } => {
                let staging = staging_path(root, upload);
                let mut file = tokio::fs::OpenOptions::new()
                    .write(true)
                    .open(&staging)
                    .await?;
                // Bytes past the recorded offset were never acknowledged.
                file.set_len(state.offset).await?;
                file.seek(std::io::SeekFrom::Start(state.offset)).await?;
                Sink::Local {
                    file: tokio::io::BufWriter::with_capacity(1 << 20, file),
                    staging,
                }
            }
            Backend::Multipart { parts } => {
                let mut buffer = BytesMut::with_capacity(PART_SIZE);
                if state.tail_len > 0 {
                    let tail = self
                        .store()
                        .get(&self.path(&keys::upload_tail(upload)))
                        .await?
                        .bytes()
                        .await?;
                    let keep = usize::try_from(state.tail_len)?.min(tail.len());
                    buffer.extend_from_slice(&tail[..keep]);
                }
                Sink::Multipart {
                    store: parts.clone(),
                    buffer,
                }
            }
        };
        Ok(UploadWriter {
            storage: self.clone(),
            upload,
            key: key.to_owned(),
            state,
            sink,
        })
    }

    /// Drops a staged upload (termination, expiry).
    pub async fn abort_upload(
        &self,
        upload: Uuid,
        key: &str,
        state: &StagedState,
    ) -> anyhow::Result<()> {
        if let (Backend::Multipart { parts }, Some(id)) = (self.backend(), &state.multipart_id) {
            let _ = parts.abort_multipart(&self.path(key), id).await;
        }
        self.drop_staging(upload).await
    }

    /// Drops an upload's staging file (local) or tail object (multipart),
    /// the staged data that names its upload. Idempotent.
    pub async fn drop_staging(&self, upload: Uuid) -> anyhow::Result<()> {
        match self.backend() {
            Backend::Local { root } => {
                match tokio::fs::remove_file(staging_path(root, upload)).await {
                    Err(error) if error.kind() != std::io::ErrorKind::NotFound => Err(error.into()),
                    _ => Ok(()),
                }
            }
            Backend::Multipart { .. } => Ok(self.delete(&keys::upload_tail(upload)).await?),
        }
    }

    /// Uploads whose staging file or tail object was last written before
    /// `cutoff`. (The parts of a multipart upload cannot be listed through
    /// the store: an S3 lifecycle rule ends unfinished ones, decision 0007.)
    pub async fn staged_before(
        &self,
        cutoff: chrono::DateTime<chrono::Utc>,
    ) -> anyhow::Result<Vec<Uuid>> {
        let mut found = Vec::new();
        match self.backend() {
            Backend::Local { root } => {
                let mut entries = match tokio::fs::read_dir(root.join(STAGING_DIR)).await {
                    Ok(entries) => entries,
                    Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(found),
                    Err(error) => return Err(error.into()),
                };
                while let Some(entry) = entries.next_entry().await? {
                    let Some(upload) = entry.file_name().to_str().and_then(|n| n.parse().ok())
                    else {
                        continue;
                    };
                    let modified: chrono::DateTime<chrono::Utc> =
                        entry.metadata().await?.modified()?.into();
                    if modified < cutoff {
                        found.push(upload);
                    }
                }
            }
            Backend::Multipart { .. } => {
                use futures::StreamExt;
                let mut listing = self.store().list(Some(&self.path(keys::UPLOADS)));
                while let Some(meta) = listing.next().await {
                    let meta = meta?;
                    if meta.last_modified >= cutoff {
                        continue;
                    }
                    if let Some(upload) = self
                        .key_of(&meta.location)
                        .and_then(|key| keys::upload_of_tail(&key))
                    {
                        found.push(upload);
                    }
                }
            }
        }
        Ok(found)
    }
}

/// Where the local backend stages uploads, under its root.
const STAGING_DIR: &str = ".uploads";

fn staging_path(root: &std::path::Path, upload: Uuid) -> std::path::PathBuf {
    root.join(STAGING_DIR).join(upload.to_string())
}

impl UploadWriter {
    /// Bytes received so far in this request included (not yet all durable).
    pub fn received(&self) -> u64 {
        match &self.sink {
            Sink::Local { .. } => self.state.offset,
            Sink::Multipart { buffer, .. } => {
                self.state.parts.len() as u64 * PART_SIZE as u64 + buffer.len() as u64
            }
        }
    }

    /// Appends a chunk. `Ok(true)` when a part became durable (the caller
    /// may record the new state).
    pub async fn write(&mut self, chunk: Bytes) -> anyhow::Result<bool> {
        match &mut self.sink {
            Sink::Local { file, .. } => {
                file.write_all(&chunk).await?;
                self.state.offset += chunk.len() as u64;
                Ok(false)
            }
            Sink::Multipart { store, buffer } => {
                buffer.extend_from_slice(&chunk);
                let mut committed = false;
                while buffer.len() >= PART_SIZE {
                    let part = buffer.split_to(PART_SIZE).freeze();
                    let id = self.state.multipart_id.clone().unwrap_or_default();
                    let index = self.state.parts.len();
                    let PartId { content_id } = store
                        .put_part(
                            &self.storage.path(&self.key),
                            &id,
                            index,
                            PutPayload::from(part),
                        )
                        .await?;
                    self.state.parts.push(content_id);
                    self.state.tail_len = 0;
                    self.state.offset = self.state.parts.len() as u64 * PART_SIZE as u64;
                    committed = true;
                }
                Ok(committed)
            }
        }
    }

    /// The durable state now (after a part commit; before `pause`).
    pub fn state(&self) -> &StagedState {
        &self.state
    }

    /// Makes everything received durable and returns the state to record.
    pub async fn pause(mut self) -> anyhow::Result<StagedState> {
        match &mut self.sink {
            Sink::Local { file, .. } => {
                file.flush().await?;
                file.get_ref().sync_data().await?;
            }
            Sink::Multipart { buffer, .. } => {
                let tail = self.storage.path(&keys::upload_tail(self.upload));
                if buffer.is_empty() {
                    if self.state.tail_len > 0 {
                        self.storage.delete(&keys::upload_tail(self.upload)).await?;
                    }
                } else {
                    self.storage
                        .store()
                        .put(&tail, PutPayload::from(buffer.clone().freeze()))
                        .await?;
                }
                self.state.tail_len = buffer.len() as u64;
                self.state.offset =
                    self.state.parts.len() as u64 * PART_SIZE as u64 + self.state.tail_len;
            }
        }
        Ok(self.state)
    }

    /// Writes the object under its key; the staged data is gone afterwards.
    pub async fn finish(mut self) -> anyhow::Result<()> {
        match &mut self.sink {
            Sink::Local { file, staging } => {
                file.flush().await?;
                file.get_ref().sync_all().await?;
                let Backend::Local { root } = self.storage.backend() else {
                    anyhow::bail!("local upload on a non-local store");
                };
                let target = root.join(&self.key);
                if let Some(parent) = target.parent() {
                    tokio::fs::create_dir_all(parent).await?;
                }
                tokio::fs::rename(&staging, &target).await?;
            }
            Sink::Multipart { store, buffer } => {
                let path = self.storage.path(&self.key);
                let id = self.state.multipart_id.clone().unwrap_or_default();
                let mut parts: Vec<PartId> = self
                    .state
                    .parts
                    .iter()
                    .map(|content_id| PartId {
                        content_id: content_id.clone(),
                    })
                    .collect();
                if !buffer.is_empty() || parts.is_empty() {
                    let last = std::mem::take(buffer).freeze();
                    parts.push(
                        store
                            .put_part(&path, &id, parts.len(), PutPayload::from(last))
                            .await?,
                    );
                }
                store.complete_multipart(&path, &id, parts).await?;
                if self.state.tail_len > 0 {
                    self.storage.delete(&keys::upload_tail(self.upload)).await?;
                }
            }
        }
        Ok(())
    }
}
