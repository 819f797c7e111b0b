//! A material (a video or an audio the learner shadows): its kind, where it
//! comes from, the metadata we rely on, and the deterministic id of a
//! platform material (the same YouTube video imported on two devices is one
//! material).

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// RFC 4122's URL namespace; the web client derives the same ids
/// (`web/src/db/repositories/materials.ts`).
pub const MATERIAL_NAMESPACE: Uuid = Uuid::from_u128(0x6ba7b811_9dad_11d1_80b4_00c04fd430c8);

/// Largest `metadata` document, serialised.
pub const MAX_METADATA_BYTES: usize = 16 * 1024;
const MAX_THUMBNAILS: usize = 16;

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, sqlx::Type, utoipa::ToSchema,
)]
#[sqlx(type_name = "material_type", rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum MaterialKind {
    Video,
    Audio,
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, sqlx::Type, utoipa::ToSchema,
)]
#[sqlx(type_name = "material_source_type", rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum SourceType {
    Youtube,
    Netflix,
    LocalUpload,
}

impl SourceType {
    /// The prefix of the platform id (`youtube:<videoId>`); none for uploads.
    pub fn platform(self) -> Option<&'static str> {
        match self {
            SourceType::Youtube => Some("youtube"),
            SourceType::Netflix => Some("netflix"),
            SourceType::LocalUpload => None,
        }
    }
}

/// The id of a platform material: UUID v5 of `<platform>:<external id>`.
pub fn platform_material_id(platform: &str, external_id: &str) -> Uuid {
    Uuid::new_v5(
        &MATERIAL_NAMESPACE,
        format!("{platform}:{external_id}").as_bytes(),
    )
}

/// A material's title: 1 to 500 characters, trimmed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Title(String);

impl Title {
    pub fn parse(input: &str) -> Result<Self, String> {
        let trimmed = input.trim();
        if trimmed.is_empty() {
            return Err("must not be empty".into());
        }
        if trimmed.chars().count() > 500 {
            return Err("must be at most 500 characters".into());
        }
        Ok(Title(trimmed.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A duration in milliseconds: positive, at most 48 hours.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct DurationMs(i64);

impl DurationMs {
    pub const MAX: i64 = 48 * 3600 * 1000;

    pub fn parse(ms: i64) -> Result<Self, String> {
        if ms <= 0 {
            return Err("must be a positive number of milliseconds".into());
        }
        if ms > Self::MAX {
            return Err("must be at most 48 hours".into());
        }
        Ok(DurationMs(ms))
    }

    pub fn get(self) -> i64 {
        self.0
    }
}

/// The `metadata` document: an object whose keys we rely on are checked
/// (`external_id` for platform materials, `thumbnails`), other keys are kept
/// as the client sent them.
#[derive(Debug, Clone, PartialEq)]
pub struct Metadata {
    value: serde_json::Map<String, serde_json::Value>,
    external_id: Option<String>,
}

/// Why a metadata document was refused: the JSON path and the reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetadataError {
    pub path: String,
    pub reason: String,
}

impl MetadataError {
    fn new(path: impl Into<String>, reason: impl Into<String>) -> Self {
        MetadataError {
            path: path.into(),
            reason: reason.into(),
        }
    }
}

impl Metadata {
    pub fn parse(value: serde_json::Value, source: SourceType) -> Result<Self, MetadataError> {
        let serde_json::Value::Object(map) = value else {
            return Err(MetadataError::new("metadata", "must be a JSON object"));
        };
        if serde_json::to_vec(&map)
            .map(|bytes| bytes.len())
            .unwrap_or(usize::MAX)
            > MAX_METADATA_BYTES
        {
            return Err(MetadataError::new(
                "metadata",
                format!("must be at most {MAX_METADATA_BYTES} bytes"),
            ));
        }
        let external_id = match map.get("external_id") {
            None | Some(serde_json::Value::Null) => None,
            Some(serde_json::Value::String(id)) => Some(id.clone()),
            Some(_) => {
                return Err(MetadataError::new(
                    "metadata.external_id",
                    "must be a string",
                ));
            }
        };
        match (source, &external_id) {
            (SourceType::Youtube, Some(id)) => {
                if !(id.len() == 11
                    && id
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'))
                {
                    return Err(MetadataError::new(
                        "metadata.external_id",
                        "must be a YouTube video id (11 characters: letters, digits, - or _)",
                    ));
                }
            }
            (SourceType::Netflix, Some(id)) => {
                if id.is_empty() || id.len() > 20 || !id.chars().all(|c| c.is_ascii_digit()) {
                    return Err(MetadataError::new(
                        "metadata.external_id",
                        "must be a Netflix title id (digits)",
                    ));
                }
            }
            (SourceType::Youtube | SourceType::Netflix, None) => {
                return Err(MetadataError::new(
                    "metadata.external_id",
                    "is required for youtube and netflix materials",
                ));
            }
            (SourceType::LocalUpload, Some(_)) => {
                return Err(MetadataError::new(
                    "metadata.external_id",
                    "only youtube and netflix materials have an external id",
                ));
            }
            (SourceType::LocalUpload, None) => {}
        }
        if let Some(thumbnails) = map.get("thumbnails") {
            check_thumbnails(thumbnails)?;
        }
        if let Some(duration) = map.get("duration_ms") {
            match duration.as_i64() {
                Some(ms) if DurationMs::parse(ms).is_ok() => {}
                _ => {
                    return Err(MetadataError::new(
                        "metadata.duration_ms",
                        "must be a positive integer number of milliseconds",
                    ));
                }
            }
        }
        Ok(Metadata {
            value: map,
            external_id,
        })
    }

    pub fn external_id(&self) -> Option<&str> {
        self.external_id.as_deref()
    }

    pub fn into_value(self) -> serde_json::Value {
        serde_json::Value::Object(self.value)
    }
}

fn check_thumbnails(value: &serde_json::Value) -> Result<(), MetadataError> {
    let serde_json::Value::Array(items) = value else {
        return Err(MetadataError::new(
            "metadata.thumbnails",
            "must be an array",
        ));
    };
    if items.len() > MAX_THUMBNAILS {
        return Err(MetadataError::new(
            "metadata.thumbnails",
            format!("must have at most {MAX_THUMBNAILS} entries"),
        ));
    }
    for (index, item) in items.iter().enumerate() {
        let path = format!("metadata.thumbnails[{index}]");
        let Some(object) = item.as_object() else {
            return Err(MetadataError::new(path, "must be an object with a url"));
        };
        match object.get("url").and_then(|url| url.as_str()) {
            Some(url)
                if url.len() <= 2048
                    && (url.starts_with("https://") || url.starts_with("http://")) => {}
            _ => {
                return Err(MetadataError::new(
                    format!("{path}.url"),
                    "must be an http(s) URL",
                ));
            }
        }
        for key in ["width", "height"] {
            if let Some(size) = object.get(key)
                && !matches!(size.as_u64(), Some(1..=16384))
            {
                return Err(MetadataError::new(
                    format!("{path}.{key}"),
                    "must be a positive integer",
                ));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn youtube_ids_match_the_web_client() {
        // uuidv5('youtube:dQw4w9WgXcQ', URL namespace), as the web client computes it.
        let id = platform_material_id("youtube", "dQw4w9WgXcQ");
        assert_eq!(id.get_version_num(), 5);
        assert_eq!(
            id,
            Uuid::new_v5(&Uuid::NAMESPACE_URL, b"youtube:dQw4w9WgXcQ")
        );
    }

    #[test]
    fn youtube_metadata_needs_the_video_id() {
        let error = Metadata::parse(json!({}), SourceType::Youtube).unwrap_err();
        assert_eq!(error.path, "metadata.external_id");
    }

    #[test]
    fn malformed_youtube_id_is_rejected() {
        assert!(
            Metadata::parse(json!({"external_id": "not a video"}), SourceType::Youtube).is_err()
        );
        assert!(Metadata::parse(json!({"external_id": 42}), SourceType::Youtube).is_err());
    }

    #[test]
    fn netflix_id_must_be_digits() {
        assert!(Metadata::parse(json!({"external_id": "80100172"}), SourceType::Netflix).is_ok());
        assert!(Metadata::parse(json!({"external_id": "abc"}), SourceType::Netflix).is_err());
    }

    #[test]
    fn local_upload_has_no_external_id() {
        assert!(
            Metadata::parse(
                json!({"external_id": "dQw4w9WgXcQ"}),
                SourceType::LocalUpload
            )
            .is_err()
        );
    }

    #[test]
    fn metadata_must_be_an_object() {
        assert_eq!(
            Metadata::parse(json!([1]), SourceType::LocalUpload)
                .unwrap_err()
                .path,
            "metadata"
        );
    }

    #[test]
    fn thumbnails_need_urls_and_sane_sizes() {
        let bad_url = json!({"thumbnails": [{"url": "javascript:alert(1)"}]});
        assert_eq!(
            Metadata::parse(bad_url, SourceType::LocalUpload)
                .unwrap_err()
                .path,
            "metadata.thumbnails[0].url"
        );
        let bad_size = json!({"thumbnails": [{"url": "https://i.ytimg.com/a.jpg", "width": -1}]});
        assert_eq!(
            Metadata::parse(bad_size, SourceType::LocalUpload)
                .unwrap_err()
                .path,
            "metadata.thumbnails[0].width"
        );
        let good = json!({"thumbnails": [{"url": "https://i.ytimg.com/a.jpg", "width": 320, "height": 180}]});
        assert!(Metadata::parse(good, SourceType::LocalUpload).is_ok());
    }

    #[test]
    fn oversized_metadata_is_rejected() {
        let big = json!({"notes": "x".repeat(MAX_METADATA_BYTES)});
        assert!(Metadata::parse(big, SourceType::LocalUpload).is_err());
    }

    #[test]
    fn unknown_keys_are_kept() {
        let metadata = Metadata::parse(json!({"channel": "abc"}), SourceType::LocalUpload).unwrap();
        assert_eq!(metadata.into_value(), json!({"channel": "abc"}));
    }

    #[test]
    fn titles_are_trimmed_and_bounded() {
        assert_eq!(Title::parse("  Hi ").unwrap().as_str(), "Hi");
        assert!(Title::parse("   ").is_err());
        assert!(Title::parse(&"a".repeat(501)).is_err());
    }

    #[test]
    fn durations_must_be_positive_and_bounded() {
        assert!(DurationMs::parse(0).is_err());
        assert!(DurationMs::parse(-5).is_err());
        assert!(DurationMs::parse(DurationMs::MAX + 1).is_err());
        assert_eq!(DurationMs::parse(1500).unwrap().get(), 1500);
    }
}
