//! Encoded segment lists, kept by version. A long list (20,000 segments is
//! about 6.7 MB of JSON) costs tens of milliseconds to read and serialise,
//! while most reads ask for a version that has not changed since the last
//! one; so the encoded body is kept per (user, material) together with the
//! version it encodes, and a read only checks the version (one index probe).
//! A stale entry is never served: the version comes from the database on
//! every request, and a different version rebuilds the entry.

use std::io::Write;
use std::sync::{Arc, OnceLock};

use bytes::Bytes;
use flate2::Compression;
use flate2::write::GzEncoder;
use moka::sync::Cache;
use uuid::Uuid;

/// Default memory for cached lists (`--segment-cache-mb`).
pub const DEFAULT_SEGMENT_CACHE_MB: u64 = 128;

/// One encoded list: the JSON body and, made on first demand, its gzip form.
#[derive(Debug)]
pub struct EncodedList {
    pub version: i64,
    pub json: Bytes,
    gzip: OnceLock<Bytes>,
}

impl EncodedList {
    pub fn new(version: i64, json: Bytes) -> Self {
        EncodedList {
            version,
            json,
            gzip: OnceLock::new(),
        }
    }

    /// The gzip form; compressed once, at the fast level (repetitive JSON
    /// shrinks about eightfold even so).
    pub fn gzip(&self) -> Bytes {
        self.gzip
            .get_or_init(|| {
                let mut encoder =
                    GzEncoder::new(Vec::with_capacity(self.json.len() / 6), Compression::fast());
                // Writing into a Vec cannot fail.
                let _ = encoder.write_all(&self.json);
                Bytes::from(encoder.finish().unwrap_or_default())
            })
            .clone()
    }
}

#[derive(Clone)]
pub struct ListCache {
    lists: Option<Cache<(Uuid, Uuid), Arc<EncodedList>>>,
}

impl ListCache {
    /// A cache holding at most `budget_bytes` of encoded lists; 0 turns it off.
    pub fn new(budget_bytes: u64) -> Self {
        let lists = (budget_bytes > 0).then(|| {
            Cache::builder()
                .max_capacity(budget_bytes)
                .weigher(|_key, list: &Arc<EncodedList>| {
                    // The gzip form is about an eighth of the JSON.
                    u32::try_from(list.json.len() + list.json.len() / 8).unwrap_or(u32::MAX)
                })
                .build()
        });
        ListCache { lists }
    }

    /// The encoded list of this version, if it is the one kept.
    pub fn get(&self, user_id: Uuid, material_id: Uuid, version: i64) -> Option<Arc<EncodedList>> {
        self.lists
            .as_ref()?
            .get(&(user_id, material_id))
            .filter(|list| list.version == version)
    }

    pub fn put(&self, user_id: Uuid, material_id: Uuid, list: Arc<EncodedList>) {
        if let Some(lists) = &self.lists {
            lists.insert((user_id, material_id), list);
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::io::Read;

    use super::*;

    #[test]
    fn only_the_kept_version_is_served() {
        let cache = ListCache::new(1 << 20);
        let (user, material) = (Uuid::new_v4(), Uuid::new_v4());
        cache.put(
            user,
            material,
            Arc::new(EncodedList::new(7, Bytes::from_static(b"[7]"))),
        );
        assert_eq!(cache.get(user, material, 7).unwrap().json, "[7]");
        assert!(cache.get(user, material, 8).is_none());
        assert!(cache.get(Uuid::new_v4(), material, 7).is_none());
    }

    #[test]
    fn gzip_round_trips() {
        let json = Bytes::from(
            "{\"segments\":[".to_owned() + &"{\"text\":\"hello\"},".repeat(1000) + "]}",
        );
        let list = EncodedList::new(1, json.clone());
        let mut decoded = Vec::new();
        flate2::read::GzDecoder::new(&list.gzip()[..])
            .read_to_end(&mut decoded)
            .unwrap();
        assert_eq!(decoded, json);
        assert!(list.gzip().len() < json.len() / 4);
    }

    #[test]
    fn a_zero_budget_keeps_nothing() {
        let cache = ListCache::new(0);
        let (user, material) = (Uuid::new_v4(), Uuid::new_v4());
        cache.put(
            user,
            material,
            Arc::new(EncodedList::new(1, Bytes::from_static(b"[]"))),
        );
        assert!(cache.get(user, material, 1).is_none());
    }
}
