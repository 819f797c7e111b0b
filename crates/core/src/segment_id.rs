//! The id a segment gets from its material, times and text, computed the
//! same in the browser and on the server, so two devices importing the same
//! subtitles agree on every sentence's id and a re-import keeps them.
//!
//! The layout is a UUID version 8 (RFC 9562 §5.8), not a plain version 5:
//! a name-based id is random across the whole id space, so a 20,000-segment
//! list scatters its rows over every page of the owner's primary-key index
//! (a write that grows slower with every material they own). Here the first
//! 48 bits are the material's, then the start time, then hash bits: one
//! list's ids sit side by side in time order and a new list fills fresh
//! index pages from left to right.
//!
//! ```text
//! bits   0..48   the material id's first 48 bits
//! bits  48..52   version 8
//! bits  52..64   start time, bits 31..20 (milliseconds, modulo 2^32)
//! bits  64..66   variant (RFC 9562)
//! bits  66..86   start time, bits 19..0
//! bits  86..128  42 bits of SHA-1 over "<start>:<end>:<text>" in the material's namespace
//! ```
//!
//! Two segments of one material can only share an id when they start at
//! the same millisecond (modulo 49.7 days) and their 42 hash bits agree;
//! a list never holds two segments with one start (they would overlap).

use sha1::{Digest, Sha1};
use uuid::Uuid;

/// The stable id of a segment of `material` spanning `start_ms..end_ms`
/// with `text` (as stored: the times and text the list carries).
pub fn stable_segment_id(material: Uuid, start_ms: u64, end_ms: u64, text: &str) -> Uuid {
    let hash = name_hash(material, start_ms, end_ms, text);
    // Only the low 32 bits order a list; a wrap past 49.7 days costs order, not uniqueness.
    let start = (start_ms & 0xffff_ffff) as u32;

    let mut bytes = [0u8; 16];
    bytes[..6].copy_from_slice(&material.as_bytes()[..6]);
    bytes[6] = (start >> 28) as u8; // version nibble goes on top
    bytes[7] = (start >> 20) as u8;
    bytes[8] = ((start >> 14) & 0x3f) as u8; // variant bits go on top
    bytes[9] = (start >> 6) as u8;
    bytes[10] = ((start & 0x3f) as u8) << 2 | hash[0] >> 6;
    bytes[11..16].copy_from_slice(&hash[1..6]);
    Uuid::new_v8(bytes)
}

/// SHA-1 over the material id and `"<start>:<end>:<text>"`: the hash a
/// name-based UUID (v5, RFC 9562 §5.5) of that name in the material's
/// namespace starts from, fed piece by piece instead of as one string.
/// Only its bytes 0–5 are used, which v5's version and variant bits (bytes
/// 6 and 8) would not touch, so the ids are those of `Uuid::new_v5`.
fn name_hash(material: Uuid, start_ms: u64, end_ms: u64, text: &str) -> [u8; 20] {
    let mut number = itoa::Buffer::new();
    let mut hasher = Sha1::new();
    hasher.update(material.as_bytes());
    hasher.update(number.format(start_ms).as_bytes());
    hasher.update(b":");
    hasher.update(number.format(end_ms).as_bytes());
    hasher.update(b":");
    hasher.update(text.as_bytes());
    hasher.finalize().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    const MATERIAL: Uuid = Uuid::from_u128(0x0193_a1b2_c3d4_4e5f_8a6b_7c8d_9e0f_1a2b);

    #[test]
    fn is_a_version_8_rfc_9562_uuid() {
        let id = stable_segment_id(MATERIAL, 1_000, 2_000, "hello");
        assert_eq!(id.get_version_num(), 8);
        assert_eq!(id.get_variant(), uuid::Variant::RFC4122);
    }

    #[test]
    fn the_same_content_gives_the_same_id() {
        assert_eq!(
            stable_segment_id(MATERIAL, 1_000, 2_000, "hello"),
            stable_segment_id(MATERIAL, 1_000, 2_000, "hello")
        );
    }

    /// The browser's `stableSegmentId` is checked against the same value
    /// (web/src/lib/core.test.ts): one algorithm, two callers.
    #[test]
    fn known_value() {
        assert_eq!(
            stable_segment_id(MATERIAL, 83_456, 85_000, "Hello, world.").to_string(),
            "0193a1b2-c3d4-8000-8518-01d49f9a810b"
        );
    }

    #[test]
    fn text_end_and_material_change_the_id() {
        let id = stable_segment_id(MATERIAL, 1_000, 2_000, "hello");
        assert_ne!(id, stable_segment_id(MATERIAL, 1_000, 2_000, "hello!"));
        assert_ne!(id, stable_segment_id(MATERIAL, 1_000, 2_001, "hello"));
        let other = Uuid::from_u128(0x0193_a1b2_c3d5_4e5f_8a6b_7c8d_9e0f_1a2b);
        assert_ne!(id, stable_segment_id(other, 1_000, 2_000, "hello"));
    }

    #[test]
    fn a_materials_ids_share_its_prefix() {
        let id = stable_segment_id(MATERIAL, 7_200_000, 7_201_000, "late");
        assert_eq!(id.as_bytes()[..6], MATERIAL.as_bytes()[..6]);
    }

    #[test]
    fn ids_sort_like_start_times_within_a_material() {
        // What makes a new list an append to fresh index pages: ids in
        // byte order (PostgreSQL's uuid order) follow the start times.
        let starts = [
            0u64,
            1,
            63,
            64,
            16_383,
            16_384,
            1_048_575,
            1_048_576,
            3_600_000,
            4_294_967_295,
        ];
        let ids: Vec<Uuid> = starts
            .iter()
            .map(|&start| stable_segment_id(MATERIAL, start, start + 1, &format!("s{start}")))
            .collect();
        assert!(ids.windows(2).all(|pair| pair[0] < pair[1]), "{ids:?}");
    }

    proptest::proptest! {
        /// The hash fed in pieces is the one a v5 id of the whole name
        /// starts from (the bytes the id takes from it).
        #[test]
        fn the_name_hash_is_the_v5_hash(material: u128, start: u64, end: u64, text in ".{0,80}") {
            let material = Uuid::from_u128(material);
            let v5 = Uuid::new_v5(&material, format!("{start}:{end}:{text}").as_bytes());
            let hash = name_hash(material, start, end, &text);
            proptest::prop_assert_eq!(&hash[..6], &v5.as_bytes()[..6]);
        }
    }
}
