//! Object storage for material media and recording audio, through the
//! `object_store` crate: a local directory (the default, under the data
//! directory) or an S3 bucket (`s3://bucket/prefix`, any S3-compatible
//! store). Objects are addressed by keys such as
//! `users/<user>/materials/<material>/<upload>`; the database keeps the
//! key, clients fetch through the API.
//!
//! Resumable uploads are staged per backend (see `upload.rs` and
//! docs/decisions/0007-media-uploads-and-segment-ids.md): a local directory appends to a
//! staging file and renames it into place; a multipart store (S3) keeps
//! fixed-size parts on the store and only the part ids in PostgreSQL.

pub mod ffprobe;
pub mod sniff;
pub mod sweeper;
pub mod upload;

use std::fmt;
use std::path::{Path as FsPath, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use futures::stream::BoxStream;
use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::local::LocalFileSystem;
use object_store::memory::InMemory;
use object_store::multipart::MultipartStore;
use object_store::path::Path;
use object_store::{GetOptions, GetRange, ObjectMeta, ObjectStore, ObjectStoreExt};
use uuid::Uuid;

/// Where objects go, as configured (`--storage-url`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StorageUrl {
    /// A directory on this machine.
    Local(PathBuf),
    /// `s3://bucket/prefix`.
    S3 { bucket: String, prefix: String },
}

impl StorageUrl {
    /// `s3://bucket[/prefix]`, `file:///abs/dir`, or a plain directory path.
    pub fn parse(input: &str) -> Result<Self, String> {
        if let Some(rest) = input.strip_prefix("s3://") {
            let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
            let valid_bucket = (3..=63).contains(&bucket.len())
                && bucket
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.');
            if !valid_bucket {
                return Err(format!("{bucket:?} is not a valid S3 bucket name"));
            }
            return Ok(StorageUrl::S3 {
                bucket: bucket.to_owned(),
                prefix: prefix.trim_matches('/').to_owned(),
            });
        }
        if let Some(path) = input.strip_prefix("file://") {
            return Ok(StorageUrl::Local(PathBuf::from(path)));
        }
        if input.contains("://") {
            return Err("expected s3://bucket/prefix, file:///dir or a directory path".into());
        }
        if input.is_empty() {
            return Err("must not be empty".into());
        }
        Ok(StorageUrl::Local(PathBuf::from(input)))
    }
}

/// The configured object store, cheap to clone.
#[derive(Clone)]
pub struct Storage {
    inner: Arc<Inner>,
}

struct Inner {
    store: Arc<dyn ObjectStore>,
    backend: Backend,
    prefix: String,
    description: String,
}

pub(crate) enum Backend {
    /// Staging files under `<root>/.uploads`, renamed into place.
    Local { root: PathBuf },
    /// Parts on the store itself (S3, or the in-memory store).
    Multipart { parts: Arc<dyn MultipartStore> },
}

impl fmt::Debug for Storage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Storage")
            .field(&self.inner.description)
            .finish()
    }
}

/// Part size of multipart uploads: every part but the last is exactly this
/// big (S3 requires at least 5 MiB; some stores require equal sizes).
pub const PART_SIZE: usize = 8 * 1024 * 1024;

impl Storage {
    /// Opens the configured store. S3 settings come from the standard
    /// `AWS_*` variables; `s3_endpoint` (`ECHOLOOP_S3_ENDPOINT`) points at
    /// an S3-compatible server, with path-style addressing.
    pub fn open(url: &StorageUrl, s3_endpoint: Option<&str>) -> anyhow::Result<Storage> {
        match url {
            StorageUrl::Local(root) => Storage::local(root),
            StorageUrl::S3 { bucket, prefix } => {
                let mut builder = AmazonS3Builder::from_env().with_bucket_name(bucket);
                if let Some(endpoint) = s3_endpoint {
                    builder = builder
                        .with_endpoint(endpoint)
                        .with_allow_http(endpoint.starts_with("http://"))
                        .with_virtual_hosted_style_request(false);
                }
                Storage::s3(builder, prefix, &format!("s3://{bucket}/{prefix}"))
            }
        }
    }

    /// An S3 (or S3-compatible) bucket configured by `builder`; keys go under `prefix`.
    pub fn s3(
        builder: AmazonS3Builder,
        prefix: &str,
        description: &str,
    ) -> anyhow::Result<Storage> {
        let s3: Arc<AmazonS3> = Arc::new(
            builder
                .build()
                .with_context(|| format!("cannot configure S3 storage {description}"))?,
        );
        Ok(Storage {
            inner: Arc::new(Inner {
                store: s3.clone(),
                backend: Backend::Multipart { parts: s3 },
                prefix: prefix.trim_matches('/').to_owned(),
                description: description.to_owned(),
            }),
        })
    }

    /// A directory on this machine (created if missing).
    pub fn local(root: &FsPath) -> anyhow::Result<Storage> {
        std::fs::create_dir_all(root.join(".uploads"))
            .with_context(|| format!("cannot create the storage directory {}", root.display()))?;
        let root = root
            .canonicalize()
            .with_context(|| format!("cannot open the storage directory {}", root.display()))?;
        let store = LocalFileSystem::new_with_prefix(&root)
            .with_context(|| format!("cannot open the storage directory {}", root.display()))?;
        Ok(Storage {
            inner: Arc::new(Inner {
                store: Arc::new(store),
                backend: Backend::Local { root: root.clone() },
                prefix: String::new(),
                description: format!("file://{}", root.display()),
            }),
        })
    }

    /// Process memory; the default of `HttpSettings::new` (nothing persists).
    pub fn in_memory() -> Storage {
        let store = Arc::new(InMemory::new());
        Storage {
            inner: Arc::new(Inner {
                store: store.clone(),
                backend: Backend::Multipart { parts: store },
                prefix: String::new(),
                description: "memory://".into(),
            }),
        }
    }

    pub fn description(&self) -> &str {
        &self.inner.description
    }

    pub(crate) fn backend(&self) -> &Backend {
        &self.inner.backend
    }

    pub(crate) fn store(&self) -> &Arc<dyn ObjectStore> {
        &self.inner.store
    }

    /// The store path of a key (the configured prefix applied).
    pub(crate) fn path(&self, key: &str) -> Path {
        if self.inner.prefix.is_empty() {
            Path::from(key)
        } else {
            Path::from(format!("{}/{key}", self.inner.prefix))
        }
    }

    /// The key of a store path (prefix removed); `None` outside the prefix.
    pub(crate) fn key_of(&self, path: &Path) -> Option<String> {
        let text = path.as_ref();
        if self.inner.prefix.is_empty() {
            return Some(text.to_owned());
        }
        text.strip_prefix(&self.inner.prefix)
            .and_then(|rest| rest.strip_prefix('/'))
            .map(str::to_owned)
    }

    pub async fn head(&self, key: &str) -> object_store::Result<ObjectMeta> {
        self.inner.store.head(&self.path(key)).await
    }

    /// Streams `range` (or everything) of an object.
    pub async fn get_range(
        &self,
        key: &str,
        range: Option<std::ops::Range<u64>>,
    ) -> object_store::Result<BoxStream<'static, object_store::Result<bytes::Bytes>>> {
        let options = GetOptions {
            range: range.map(GetRange::Bounded),
            ..GetOptions::default()
        };
        Ok(self
            .inner
            .store
            .get_opts(&self.path(key), options)
            .await?
            .into_stream())
    }

    /// Writes a small object in one request.
    pub async fn put_bytes(&self, key: &str, bytes: bytes::Bytes) -> object_store::Result<()> {
        self.inner
            .store
            .put(&self.path(key), bytes.into())
            .await
            .map(|_| ())
    }

    /// Deletes an object; a missing object is not an error.
    pub async fn delete(&self, key: &str) -> object_store::Result<()> {
        match self.inner.store.delete(&self.path(key)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(error) => Err(error),
        }
    }

    /// Deletes every object whose key starts with `prefix` (e.g. all of one
    /// user's media); returns how many. Idempotent: a retry finds fewer.
    pub async fn delete_prefix(&self, prefix: &str) -> object_store::Result<usize> {
        use futures::StreamExt;
        let mut listing = self.inner.store.list(Some(&self.path(prefix)));
        let mut locations = Vec::new();
        while let Some(meta) = listing.next().await {
            locations.push(meta?.location);
        }
        drop(listing);
        for location in &locations {
            match self.inner.store.delete(location).await {
                Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
                Err(error) => return Err(error),
            }
        }
        Ok(locations.len())
    }

    /// Deletes objects after the rows that pointed at them are gone; what
    /// fails here is left to the sweeper.
    pub async fn delete_quietly(&self, keys: impl IntoIterator<Item = String>) {
        for key in keys {
            if let Err(error) = self.delete(&key).await {
                tracing::warn!(%key, %error, "deleting an object failed; the sweeper will retry");
            }
        }
    }
}

/// Object keys. Each upload gets a key of its own, so a replacement never
/// overwrites an object another request may be reading. UUIDs in their
/// short form: some S3-compatible stores limit key length.
pub mod keys {
    use super::Uuid;

    pub fn material_media(user: Uuid, material: Uuid, upload: Uuid) -> String {
        format!(
            "users/{}/materials/{}/{}",
            user.simple(),
            material.simple(),
            upload.simple()
        )
    }

    pub fn recording_audio(user: Uuid, recording: Uuid, upload: Uuid) -> String {
        format!(
            "users/{}/recordings/{}/{}",
            user.simple(),
            recording.simple(),
            upload.simple()
        )
    }

    /// Sound uploaded only to be transcribed (`db::transcription_sources`).
    pub fn transcription_sound(user: Uuid, material: Uuid, upload: Uuid) -> String {
        format!(
            "users/{}/sound/{}/{}",
            user.simple(),
            material.simple(),
            upload.simple()
        )
    }

    /// Where a multipart upload keeps its unfinished last part.
    pub fn upload_tail(upload: Uuid) -> String {
        format!("{UPLOADS}/{upload}/tail")
    }

    /// The upload a tail object's key belongs to.
    pub fn upload_of_tail(key: &str) -> Option<Uuid> {
        key.strip_prefix(UPLOADS)?
            .strip_prefix('/')?
            .strip_suffix("/tail")?
            .parse()
            .ok()
    }

    /// Prefix of every tail object.
    pub const UPLOADS: &str = "uploads";

    /// Prefix of every user object (what the sweeper walks).
    pub const USERS: &str = "users";

    /// Everything stored for one user.
    pub fn user_prefix(user: Uuid) -> String {
        format!("{USERS}/{}", user.simple())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn s3_urls_parse_bucket_and_prefix() {
        assert_eq!(
            StorageUrl::parse("s3://media-bucket/echoloop/prod/").unwrap(),
            StorageUrl::S3 {
                bucket: "media-bucket".into(),
                prefix: "echoloop/prod".into()
            }
        );
        assert_eq!(
            StorageUrl::parse("s3://media-bucket").unwrap(),
            StorageUrl::S3 {
                bucket: "media-bucket".into(),
                prefix: String::new()
            }
        );
    }

    #[test]
    fn bad_bucket_names_are_rejected() {
        assert!(StorageUrl::parse("s3://Bad_Bucket/x").is_err());
        assert!(StorageUrl::parse("s3:///x").is_err());
    }

    #[test]
    fn directories_and_file_urls_are_local() {
        assert_eq!(
            StorageUrl::parse("./data/media").unwrap(),
            StorageUrl::Local("./data/media".into())
        );
        assert_eq!(
            StorageUrl::parse("file:///srv/media").unwrap(),
            StorageUrl::Local("/srv/media".into())
        );
        assert!(StorageUrl::parse("gs://bucket").is_err());
        assert!(StorageUrl::parse("").is_err());
    }
}
