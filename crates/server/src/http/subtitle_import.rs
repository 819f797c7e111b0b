//! `POST /api/v1/materials/{id}/segments:import`: a subtitle file in any
//! format the core reads becomes the material's segment list — the same
//! parsing and sentence segmentation the browser runs through wasm.

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::StatusCode;
use axum::routing::post;
use echoloop_core::subtitles::{self, ImportOptions, SkippedCue, SubtitleError, limits};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::ApiContext;
use super::auth::AuthUser;
use super::error::{Error, Result};
use super::extract::{PathId, Query};
use crate::db;
use crate::db::segments::{ReplaceError, Segment};
use crate::domain::segment::{
    MAX_SEGMENTS, SegmentInput, SegmentOrigin, parse_list, without_overlaps,
};

pub fn router() -> Router<ApiContext> {
    Router::new().route(
        "/materials/{id}/segments:import",
        post(import_segments).layer(DefaultBodyLimit::max(limits::MAX_FILE_BYTES)),
    )
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ImportQuery {
    /// The file's name; its extension helps format detection (content decides).
    pub file_name: Option<String>,
    /// One segment per cue instead of sentences re-cut from the cues.
    #[serde(default)]
    pub keep_cues: bool,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ImportResponse {
    pub material_id: Uuid,
    /// Detected format, e.g. `srt`, `vtt`, `ass`, `ttml`, `json3`, `srv3`, `lrc`.
    #[schema(value_type = String)]
    pub format: subtitles::SubtitleFormat,
    /// Detected text encoding, e.g. `UTF-8`, `GBK`.
    pub encoding: String,
    pub segments: Vec<Segment>,
    /// Cues that could not be read, with the line (and column) and why;
    /// the good ones were imported.
    #[schema(value_type = Vec<Object>)]
    pub skipped: Vec<SkippedCue>,
}

/// Replace the material's segments with those of a subtitle file (the raw
/// file is the request body, at most 50 MiB). Segments identical to existing
/// ones keep their ids.
#[utoipa::path(post, path = "/api/v1/materials/{id}/segments:import", tag = "segments",
    params(("id" = Uuid, Path), ImportQuery),
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    responses((status = 200, body = ImportResponse), (status = 404), (status = 413, description = "payload_too_large / too_many_segments"),
              (status = 422, description = "subtitle_unreadable: the file, with line and column where known")),
    security(("bearer" = [])))]
pub async fn import_segments(
    user: AuthUser,
    State(ctx): State<ApiContext>,
    PathId(material_id): PathId,
    Query(query): Query<ImportQuery>,
    body: std::result::Result<Bytes, BytesRejection>,
) -> Result<axum::Json<ImportResponse>> {
    let bytes = body.map_err(|rejection| match rejection.status() {
        StatusCode::PAYLOAD_TOO_LARGE => Error::PayloadTooLarge {
            detail: format!(
                "subtitle files are limited to {} bytes",
                limits::MAX_FILE_BYTES
            ),
        },
        _ => Error::MalformedBody {
            detail: rejection.body_text(),
        },
    })?;
    // Ownership first: another user's material is not found, whatever the body.
    let mut tx = db::sync::begin_write(&ctx.db, user.user_id).await?;
    let duration = db::materials::lock(&mut *tx, user.user_id, material_id)
        .await?
        .ok_or(Error::NotFound)?;
    let options = ImportOptions {
        keep_cues: query.keep_cues,
        ..ImportOptions::default()
    };
    let imported =
        subtitles::import(&bytes, query.file_name.as_deref(), &options).map_err(unreadable)?;
    let (inputs, mut skipped) = storable(&imported.segments);
    skipped.extend(imported.skipped);
    if inputs.len() > MAX_SEGMENTS {
        return Err(Error::refused(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_many_segments",
            format!(
                "the file gives {} segments; at most {MAX_SEGMENTS} per material",
                inputs.len()
            ),
        ));
    }
    let parsed = parse_list(&inputs, duration)
        .map_err(|error| Error::validation("file", format!("{}: {}", error.field, error.reason)))?;
    // Stamped later than every row it replaces (`db::segments::replace`).
    let clock = &ctx.clock;
    let replaced =
        match db::segments::replace(&mut tx, user.user_id, material_id, &parsed, clock).await {
            Ok(replaced) => replaced,
            Err(ReplaceError::IdOfAnotherMaterial(_)) => {
                return Err(Error::Internal(anyhow::anyhow!(
                    "an imported segment took another material's id"
                )));
            }
            Err(ReplaceError::Database(error)) => return Err(error.into()),
        };
    let segments = replaced.segments;
    tx.commit().await?;
    Ok(axum::Json(ImportResponse {
        material_id,
        format: imported.format,
        encoding: imported.encoding,
        segments,
        skipped,
    }))
}

fn unreadable(error: SubtitleError) -> Error {
    match error {
        SubtitleError::TooLarge { .. } => Error::PayloadTooLarge {
            detail: error.to_string(),
        },
        other => Error::refused(
            StatusCode::UNPROCESSABLE_ENTITY,
            "subtitle_unreadable",
            format!("file: {other}"),
        ),
    }
}

/// Segments must not overlap in storage (`without_overlaps`); one left
/// with no time is reported as skipped rather than failing the whole file.
fn storable(segments: &[subtitles::segment::Segment]) -> (Vec<SegmentInput>, Vec<SkippedCue>) {
    let (inputs, dropped) = without_overlaps(segments, SegmentOrigin::Original, None);
    let skipped = dropped
        .into_iter()
        .map(|index| {
            SkippedCue::new(
                0,
                None,
                format!(
                    "segment {} ({:?}) lies inside the previous one",
                    index + 1,
                    segments[index].text
                ),
            )
        })
        .collect();
    (inputs, skipped)
}
