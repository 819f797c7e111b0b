//! Resumable uploads of material media and recording audio: the tus 1.0
//! protocol (core, creation, creation-with-upload, termination), as spoken
//! by `tus-js-client`. State lives in PostgreSQL (`media_uploads`), bytes
//! in object storage, so any instance can continue an upload.
//!
//! `Upload-Metadata` keys: `target` (`material`, `recording` or
//! `transcription`), then `material_id`, or `recording_id` + `segment_id`;
//! `filename`/`filetype` are accepted and ignored (the type is recognised
//! from the bytes). A `transcription` upload is the material's sound, kept
//! only until it is transcribed (docs/decisions/0021).

use std::collections::HashMap;

use axum::Router;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use futures::StreamExt;
use sqlx::{PgConnection, Postgres, Transaction};
use uuid::Uuid;

use super::ApiContext;
use super::auth::AuthUser;
use super::error::{Error, Result};
use super::extract::PathId;
use crate::db;
use crate::db::transcription_sources::NewSource;
use crate::db::uploads::{
    NewUpload, TARGET_MATERIAL, TARGET_RECORDING, TARGET_TRANSCRIPTION, Upload,
};
use crate::entitlements;
use crate::storage::sniff::{SNIFF_BYTES, sniff};
use crate::storage::{ffprobe, keys};

pub const TUS_VERSION: &str = "1.0.0";
const TUS_RESUMABLE: HeaderName = HeaderName::from_static("tus-resumable");
const UPLOAD_OFFSET: HeaderName = HeaderName::from_static("upload-offset");
const UPLOAD_LENGTH: HeaderName = HeaderName::from_static("upload-length");
const UPLOAD_METADATA: HeaderName = HeaderName::from_static("upload-metadata");
const OFFSET_OCTET_STREAM: &str = "application/offset+octet-stream";

pub fn router() -> Router<ApiContext> {
    Router::new()
        .route("/uploads", post(create_upload).options(options))
        .route(
            "/uploads/{id}",
            axum::routing::head(upload_status)
                .patch(append)
                .delete(terminate)
                .options(options),
        )
        .layer(DefaultBodyLimit::disable())
}

fn tus_headers(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(TUS_RESUMABLE, HeaderValue::from_static(TUS_VERSION));
    response
}

fn check_version(headers: &HeaderMap) -> Result<()> {
    match headers
        .get(&TUS_RESUMABLE)
        .and_then(|value| value.to_str().ok())
    {
        Some(TUS_VERSION) => Ok(()),
        _ => Err(Error::refused(
            StatusCode::PRECONDITION_FAILED,
            "tus_version_unsupported",
            format!("Tus-Resumable: this server speaks tus {TUS_VERSION}"),
        )),
    }
}

/// What the server supports.
#[utoipa::path(options, path = "/api/v1/uploads", tag = "uploads", responses((status = 204)))]
pub async fn options(State(ctx): State<ApiContext>) -> Response {
    let max = ctx.settings.entitlements.pro.storage_bytes;
    let mut response = StatusCode::NO_CONTENT.into_response();
    let headers = response.headers_mut();
    headers.insert("tus-version", HeaderValue::from_static(TUS_VERSION));
    headers.insert(
        "tus-extension",
        HeaderValue::from_static("creation,creation-with-upload,termination"),
    );
    headers.insert("tus-max-size", HeaderValue::from(max));
    tus_headers(response)
}

/// The parsed `Upload-Metadata` header.
fn parse_metadata(value: &str) -> Result<HashMap<String, String>> {
    let mut pairs = HashMap::new();
    for pair in value
        .split(',')
        .map(str::trim)
        .filter(|pair| !pair.is_empty())
    {
        let (key, encoded) = pair.split_once(' ').unwrap_or((pair, ""));
        let decoded = STANDARD
            .decode(encoded.trim())
            .ok()
            .and_then(|bytes| String::from_utf8(bytes).ok())
            .ok_or_else(|| {
                Error::validation(
                    format!("Upload-Metadata.{key}"),
                    "is not base64 of UTF-8 text",
                )
            })?;
        pairs.insert(key.to_owned(), decoded);
    }
    Ok(pairs)
}

fn metadata_id(metadata: &HashMap<String, String>, key: &str) -> Result<Uuid> {
    metadata
        .get(key)
        .ok_or_else(|| Error::validation(format!("Upload-Metadata.{key}"), "is required"))?
        .parse()
        .map_err(|_| Error::validation(format!("Upload-Metadata.{key}"), "is not a UUID"))
}

fn not_yours(field: &str) -> Error {
    Error::refused(
        StatusCode::NOT_FOUND,
        "not_found",
        format!("Upload-Metadata.{field}: not found among your data"),
    )
}

/// Create an upload (tus creation; with a body: creation-with-upload).
#[utoipa::path(post, path = "/api/v1/uploads", tag = "uploads",
    params(("Upload-Length" = u64, Header), ("Upload-Metadata" = String, Header, description = "target material|recording|transcription, material_id | recording_id + segment_id"),
           ("Tus-Resumable" = String, Header)),
    responses((status = 201, description = "Location: the upload's URL"),
              (status = 403, description = "plan_media_not_included; asr_limit_reached (transcription)"),
              (status = 404), (status = 409, description = "id_in_use; material_has_segments, transcription_pending (transcription)"),
              (status = 413, description = "storage_quota_exceeded"),
              (status = 415, description = "not_media"),
              (status = 503, description = "transcription_unavailable (transcription)")), security(("bearer" = [])))]
pub async fn create_upload(
    user: AuthUser,
    State(ctx): State<ApiContext>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response> {
    check_version(&headers)?;
    if headers.contains_key("upload-defer-length") {
        return Err(Error::BadRequest {
            code: "defer_length_unsupported",
            detail: "Upload-Defer-Length: announce Upload-Length when creating the upload".into(),
        });
    }
    let length: i64 = headers
        .get(&UPLOAD_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse().ok())
        .filter(|length| *length > 0)
        .ok_or_else(|| Error::validation("Upload-Length", "must be a positive number of bytes"))?;
    let raw_metadata = headers
        .get(&UPLOAD_METADATA)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default();
    if raw_metadata.len() > 4096 {
        return Err(Error::validation(
            "Upload-Metadata",
            "must be at most 4096 bytes",
        ));
    }
    let metadata = parse_metadata(raw_metadata)?;
    let upload_id = Uuid::new_v4();
    let (target, target_id, segment_id, key) = match metadata.get("target").map(String::as_str) {
        Some("material") => {
            let material_id = metadata_id(&metadata, "material_id")?;
            if db::materials::get(&ctx.db, user.user_id, material_id)
                .await?
                .is_none()
            {
                return Err(not_yours("material_id"));
            }
            (
                TARGET_MATERIAL,
                material_id,
                None,
                keys::material_media(user.user_id, material_id, upload_id),
            )
        }
        Some("recording") => {
            let recording_id = metadata_id(&metadata, "recording_id")?;
            let segment_id = metadata_id(&metadata, "segment_id")?;
            if !db::recordings::segment_is_mine(&ctx.db, user.user_id, segment_id).await? {
                return Err(not_yours("segment_id"));
            }
            if db::recordings::id_taken(&ctx.db, user.user_id, recording_id).await? {
                return Err(Error::Conflict {
                    code: "id_in_use",
                    detail: "Upload-Metadata.recording_id: a recording with this id exists".into(),
                });
            }
            (
                TARGET_RECORDING,
                recording_id,
                Some(segment_id),
                keys::recording_audio(user.user_id, recording_id, upload_id),
            )
        }
        Some("transcription") => {
            let material_id = metadata_id(&metadata, "material_id")?;
            if db::materials::get(&ctx.db, user.user_id, material_id)
                .await?
                .is_none()
            {
                return Err(not_yours("material_id"));
            }
            (
                TARGET_TRANSCRIPTION,
                material_id,
                None,
                keys::transcription_sound(user.user_id, material_id, upload_id),
            )
        }
        _ => {
            return Err(Error::validation(
                "Upload-Metadata.target",
                "must be \"material\", \"recording\" or \"transcription\"",
            ));
        }
    };
    // Refused before the store is asked: the checks run on their own first
    // (and again when the row is recorded, `stage`), so a refusal costs no
    // call to the store, and the learner's counter is never held while the
    // store answers.
    admit(&ctx, user.user_id, target, target_id, length)
        .await?
        .rollback()
        .await?;
    let admission = Admission {
        id: upload_id,
        target,
        target_id,
        segment_id,
        key,
        length,
        metadata: raw_metadata.to_owned(),
    };
    // On a task of its own: a client that goes away meanwhile does not stop
    // it between the store's call and the row (or the call's undoing).
    tokio::spawn(stage(ctx.clone(), user.user_id, admission))
        .await
        .map_err(|error| {
            Error::Internal(anyhow::anyhow!("staging the upload failed: {error}"))
        })??;

    let location = format!("/api/v1/uploads/{upload_id}");
    let with_body = headers
        .get(header::CONTENT_TYPE)
        .is_some_and(|value| value.as_bytes() == OFFSET_OCTET_STREAM.as_bytes());
    let mut response = if with_body {
        let token = Uuid::new_v4();
        let upload = db::uploads::claim(&ctx.db, user.user_id, upload_id, token)
            .await?
            .ok_or(Error::NotFound)?;
        let offset = write_body(&ctx, user.user_id, upload, token, body).await?;
        let mut response = StatusCode::CREATED.into_response();
        response
            .headers_mut()
            .insert(UPLOAD_OFFSET, HeaderValue::from(offset));
        response
    } else {
        StatusCode::CREATED.into_response()
    };
    if let Ok(value) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    Ok(tus_headers(response))
}

/// A transaction of `user_id`'s writes in which an upload of `length`
/// bytes to `target` is allowed: the learner's change counter first
/// (ARCHITECTURE.md, "Lock order"), the material of a transcription next
/// (as a transcription request locks it), then the plan. The check and the
/// upload row are one transaction under the plan lock, so concurrent
/// creations cannot overbook the quota; an admitted upload counts at its
/// full length until it ends.
async fn admit(
    ctx: &ApiContext,
    user_id: Uuid,
    target: &str,
    target_id: Uuid,
    length: i64,
) -> Result<Transaction<'static, Postgres>> {
    let mut tx = db::sync::begin_write(&ctx.db, user_id).await?;
    if target == TARGET_TRANSCRIPTION {
        super::transcriptions::check_sound_upload(&mut tx, ctx, user_id, target_id).await?;
    }
    check_entitlements(&mut tx, ctx, user_id, target, length).await?;
    Ok(tx)
}

/// An upload allowed by a first look (`admit`), to stage and record.
struct Admission {
    id: Uuid,
    target: &'static str,
    target_id: Uuid,
    segment_id: Option<Uuid>,
    key: String,
    length: i64,
    metadata: String,
}

/// Stages the upload on the store (a multipart upload on S3, which may be
/// slow), with no transaction open, then records it in a short one that
/// checks again (`admit`: a concurrent creation may have taken the quota
/// meanwhile). When the row is not recorded the staging is dropped at
/// once: nothing would point at it, and neither expiry nor the sweeper
/// (which lists objects, not unfinished multipart uploads) would find it.
async fn stage(ctx: ApiContext, user_id: Uuid, upload: Admission) -> Result<()> {
    let storage = &ctx.settings.storage;
    let staged = storage
        .begin_upload(upload.id, &upload.key)
        .await
        .map_err(Error::Internal)?;
    let new = NewUpload {
        id: upload.id,
        target: upload.target,
        target_id: upload.target_id,
        segment_id: upload.segment_id,
        object_key: &upload.key,
        length: upload.length,
        metadata: &upload.metadata,
        multipart_id: staged.multipart_id.as_deref(),
    };
    let recorded = async {
        let mut tx = admit(
            &ctx,
            user_id,
            upload.target,
            upload.target_id,
            upload.length,
        )
        .await?;
        db::uploads::insert(&mut *tx, user_id, &new).await?;
        tx.commit().await?;
        Ok(())
    }
    .await;
    if recorded.is_err()
        && let Err(error) = storage.abort_upload(upload.id, &upload.key, &staged).await
    {
        tracing::warn!(upload = %upload.id, error = %format!("{error:#}"), "dropping a staged upload failed");
    }
    recorded
}

/// Plan rules: large media only on plans that back it up; everything within
/// the storage quota (counting uploads in progress at full length).
async fn check_entitlements(
    tx: &mut PgConnection,
    ctx: &ApiContext,
    user_id: Uuid,
    target: &str,
    length: i64,
) -> Result<()> {
    let (plan, limits) = entitlements::lock_limits(tx, &ctx.settings.entitlements, user_id).await?;
    if target == TARGET_MATERIAL && !limits.large_media_backup {
        return Err(Error::refused(
            StatusCode::FORBIDDEN,
            "plan_media_not_included",
            format!("the {plan} plan keeps imported media on your device; upgrade to back it up"),
        ));
    }
    let used = db::uploads::storage_used(&mut *tx, user_id).await?;
    let quota = i64::try_from(limits.storage_bytes).unwrap_or(i64::MAX);
    if used.saturating_add(length) > quota {
        return Err(Error::refused(
            StatusCode::PAYLOAD_TOO_LARGE,
            "storage_quota_exceeded",
            format!(
                "Upload-Length: {length} bytes would exceed your storage quota ({used} of {quota} bytes used)"
            ),
        ));
    }
    Ok(())
}

/// Where an upload stands (tus HEAD).
#[utoipa::path(head, path = "/api/v1/uploads/{id}", tag = "uploads", params(("id" = Uuid, Path)),
    responses((status = 200, description = "Upload-Offset and Upload-Length"), (status = 404)), security(("bearer" = [])))]
pub async fn upload_status(
    user: AuthUser,
    State(ctx): State<ApiContext>,
    PathId(id): PathId,
    headers: HeaderMap,
) -> Result<Response> {
    check_version(&headers)?;
    let upload = db::uploads::get(&ctx.db, user.user_id, id)
        .await?
        .ok_or(Error::NotFound)?;
    let mut response = StatusCode::OK.into_response();
    let out = response.headers_mut();
    out.insert(UPLOAD_OFFSET, HeaderValue::from(upload.upload_offset));
    out.insert(UPLOAD_LENGTH, HeaderValue::from(upload.upload_length));
    out.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Ok(value) = HeaderValue::from_str(&upload.metadata)
        && !upload.metadata.is_empty()
    {
        out.insert(UPLOAD_METADATA, value);
    }
    Ok(tus_headers(response))
}

/// Append bytes at `Upload-Offset` (tus PATCH). The last byte completes the
/// upload: the object is checked with ffprobe and attached.
#[utoipa::path(patch, path = "/api/v1/uploads/{id}", tag = "uploads", params(("id" = Uuid, Path), ("Upload-Offset" = u64, Header)),
    request_body(content = Vec<u8>, content_type = "application/offset+octet-stream"),
    responses((status = 204, description = "new Upload-Offset"), (status = 404),
              (status = 409, description = "offset_mismatch"), (status = 415, description = "not_media"),
              (status = 423, description = "upload_busy")), security(("bearer" = [])))]
pub async fn append(
    user: AuthUser,
    State(ctx): State<ApiContext>,
    PathId(id): PathId,
    headers: HeaderMap,
    body: Body,
) -> Result<Response> {
    check_version(&headers)?;
    if headers.get(header::CONTENT_TYPE).map(HeaderValue::as_bytes)
        != Some(OFFSET_OCTET_STREAM.as_bytes())
    {
        return Err(Error::UnsupportedMediaType {
            detail: format!("expected Content-Type: {OFFSET_OCTET_STREAM}"),
        });
    }
    let offset: i64 = headers
        .get(&UPLOAD_OFFSET)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse().ok())
        .ok_or_else(|| Error::validation("Upload-Offset", "must be a number of bytes"))?;
    let token = Uuid::new_v4();
    let Some(upload) = db::uploads::claim(&ctx.db, user.user_id, id, token).await? else {
        return Err(match db::uploads::get(&ctx.db, user.user_id, id).await? {
            None => Error::NotFound,
            Some(_) => Error::refused(
                StatusCode::LOCKED,
                "upload_busy",
                "another request is writing to this upload; retry shortly",
            ),
        });
    };
    if upload.upload_offset != offset {
        db::uploads::release(&ctx.db, id, token).await?;
        return Err(Error::refused(
            StatusCode::CONFLICT,
            "offset_mismatch",
            format!(
                "Upload-Offset: the upload is at {} bytes, not {offset}",
                upload.upload_offset
            ),
        ));
    }
    let new_offset = write_body(&ctx, user.user_id, upload, token, body).await?;
    let mut response = StatusCode::NO_CONTENT.into_response();
    response
        .headers_mut()
        .insert(UPLOAD_OFFSET, HeaderValue::from(new_offset));
    Ok(tus_headers(response))
}

/// Streams the body into the upload (the lease is held), records the new
/// offset and completes the upload when it is whole. Returns the offset.
async fn write_body(
    ctx: &ApiContext,
    user_id: Uuid,
    upload: Upload,
    token: Uuid,
    body: Body,
) -> Result<i64> {
    let result = write_body_inner(ctx, user_id, &upload, token, body).await;
    if result.is_err() {
        let _ = db::uploads::release(&ctx.db, upload.id, token).await;
    }
    result
}

async fn write_body_inner(
    ctx: &ApiContext,
    user_id: Uuid,
    upload: &Upload,
    token: Uuid,
    body: Body,
) -> Result<i64> {
    let storage = &ctx.settings.storage;
    let length = u64::try_from(upload.upload_length).unwrap_or_default();
    let start_state = upload.staged();
    let mut writer = storage
        .resume_upload(upload.id, &upload.object_key, start_state.clone())
        .await
        .map_err(Error::Internal)?;
    let mut content_type = upload.content_type.clone();
    let sniff_needed = usize::try_from(length)
        .unwrap_or(usize::MAX)
        .min(SNIFF_BYTES);
    let mut head: Vec<u8> = Vec::new();
    let mut stream = body.into_data_stream();
    let mut too_long = false;
    while let Some(chunk) = stream.next().await {
        let Ok(chunk) = chunk else {
            // The client went away: keep what arrived (tus resumes from it).
            break;
        };
        if writer.received() + chunk.len() as u64 > length {
            too_long = true;
            break;
        }
        if content_type.is_none() {
            head.extend_from_slice(
                &chunk[..chunk.len().min(SNIFF_BYTES.saturating_sub(head.len()))],
            );
            if head.len() >= sniff_needed {
                match sniff(&head) {
                    Some(kind) => content_type = Some(kind.to_owned()),
                    None => {
                        discard(ctx, upload).await?;
                        return Err(not_media("the data is not an audio or video file"));
                    }
                }
            }
        }
        if writer.write(chunk).await.map_err(Error::Internal)? {
            db::uploads::save_progress(
                &ctx.db,
                upload.id,
                token,
                writer.state(),
                content_type.as_deref(),
                true,
            )
            .await?;
        }
    }
    if too_long {
        let state = writer.pause().await.map_err(Error::Internal)?;
        db::uploads::save_progress(
            &ctx.db,
            upload.id,
            token,
            &state,
            content_type.as_deref(),
            false,
        )
        .await?;
        return Err(Error::refused(
            StatusCode::PAYLOAD_TOO_LARGE,
            "upload_exceeds_length",
            format!("body: more bytes than the announced Upload-Length ({length})"),
        ));
    }
    if content_type.is_none() {
        // Too few bytes to recognise the format: nothing is kept.
        db::uploads::save_progress(&ctx.db, upload.id, token, &start_state, None, false).await?;
        return Ok(upload.upload_offset);
    }
    if writer.received() < length {
        let state = writer.pause().await.map_err(Error::Internal)?;
        db::uploads::save_progress(
            &ctx.db,
            upload.id,
            token,
            &state,
            content_type.as_deref(),
            false,
        )
        .await?;
        return Ok(i64::try_from(state.offset).unwrap_or_default());
    }
    writer.finish().await.map_err(Error::Internal)?;
    complete(
        ctx,
        user_id,
        upload,
        content_type
            .as_deref()
            .unwrap_or("application/octet-stream"),
    )
    .await?;
    Ok(upload.upload_length)
}

fn not_media(detail: &str) -> Error {
    Error::refused(
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "not_media",
        format!("body: {detail}"),
    )
}

/// Drops the upload entirely: its staged bytes or object and its row.
async fn discard(ctx: &ApiContext, upload: &Upload) -> Result<()> {
    let storage = &ctx.settings.storage;
    storage
        .abort_upload(upload.id, &upload.object_key, &upload.staged())
        .await
        .map_err(Error::Internal)?;
    storage
        .delete(&upload.object_key)
        .await
        .map_err(|error| Error::Internal(error.into()))?;
    db::uploads::delete(&ctx.db, upload.id).await?;
    Ok(())
}

/// The whole object is stored: check it is media, measure it, attach it.
async fn complete(
    ctx: &ApiContext,
    user_id: Uuid,
    upload: &Upload,
    content_type: &str,
) -> Result<()> {
    let storage = &ctx.settings.storage;
    let probe = ffprobe::probe(storage, &upload.object_key)
        .await
        .map_err(Error::Internal)?;
    let probe = match probe {
        Some(probe) if upload.target != TARGET_MATERIAL && !probe.has_audio => None,
        Some(probe) if upload.target == TARGET_RECORDING && probe.duration_ms.is_none() => None,
        other => other,
    };
    let Some(probe) = probe else {
        discard(ctx, upload).await?;
        return Err(not_media("ffprobe finds no playable audio or video in it"));
    };
    let mut tx = db::sync::begin_write(&ctx.db, user_id).await?;
    let mut stale = Vec::new();
    let attached = if upload.target == TARGET_TRANSCRIPTION {
        let new = NewSource {
            material_id: upload.target_id,
            object_key: &upload.object_key,
            size_bytes: upload.upload_length,
            content_type,
            duration_ms: probe.duration_ms,
        };
        match db::transcription_sources::put(&mut tx, user_id, &new).await? {
            Some(previous) => {
                stale.extend(previous);
                true
            }
            None => false,
        }
    } else if upload.target == TARGET_MATERIAL {
        // Attaching media replaces the material's version: later than its
        // stored clock, whoever stamped it.
        let stored = db::materials::lock_stored(&mut *tx, user_id, upload.target_id).await?;
        let stored = stored.as_ref().and_then(|stored| stored.hlc.as_deref());
        let hlc = ctx.clock.now_after(stored)?.to_string();
        let media = db::uploads::AttachedMedia {
            key: &upload.object_key,
            size: upload.upload_length,
            content_type,
            duration: probe.duration_ms,
            hlc: &hlc,
        };
        match db::uploads::attach_material_media(&mut *tx, user_id, upload.target_id, &media)
            .await?
        {
            Some(previous) => {
                stale.extend(previous);
                true
            }
            None => false,
        }
    } else {
        // A take is a new row (an id already stored is not written).
        let hlc = ctx.clock.now().to_string();
        let new = db::recordings::NewRecording {
            id: upload.target_id,
            hlc: &hlc,
            segment_id: upload.segment_id.unwrap_or_default(),
            duration: probe.duration_ms.unwrap_or(1),
            key: &upload.object_key,
            size: upload.upload_length,
            content_type,
        };
        let stored = db::recordings::segment_is_mine(&mut *tx, user_id, new.segment_id).await?
            && db::recordings::insert(&mut *tx, user_id, &new).await?;
        if stored && let Some(scoring) = &ctx.scoring {
            // Only languages the engine is calibrated for are queued; the
            // others are told why when they ask (`GET …/assessments`).
            let target = db::assessments::scoring_target(&mut *tx, user_id, new.id).await?;
            if target.is_some_and(|target| scoring.scores(target.language.as_deref())) {
                crate::jobs::assess_recording::schedule(&mut tx, user_id, new.id).await?;
            }
        }
        stored
    };
    db::uploads::delete(&mut *tx, upload.id).await?;
    tx.commit().await?;
    if !attached {
        // The material or segment went away meanwhile (or the id was taken).
        storage.delete_quietly([upload.object_key.clone()]).await;
        return Err(Error::NotFound);
    }
    storage.delete_quietly(stale).await;
    Ok(())
}

/// Cancel an upload and drop what it stored (tus termination).
#[utoipa::path(delete, path = "/api/v1/uploads/{id}", tag = "uploads", params(("id" = Uuid, Path)),
    responses((status = 204), (status = 404), (status = 423)), security(("bearer" = [])))]
pub async fn terminate(
    user: AuthUser,
    State(ctx): State<ApiContext>,
    PathId(id): PathId,
    headers: HeaderMap,
) -> Result<Response> {
    check_version(&headers)?;
    let token = Uuid::new_v4();
    let Some(upload) = db::uploads::claim(&ctx.db, user.user_id, id, token).await? else {
        return Err(match db::uploads::get(&ctx.db, user.user_id, id).await? {
            None => Error::NotFound,
            Some(_) => Error::refused(
                StatusCode::LOCKED,
                "upload_busy",
                "the upload is being written to",
            ),
        });
    };
    discard(&ctx, &upload).await?;
    Ok(tus_headers(StatusCode::NO_CONTENT.into_response()))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::parse_metadata;

    #[test]
    fn tus_metadata_is_decoded() {
        let parsed = parse_metadata("target bWF0ZXJpYWw=,filename YS5tcDQ=, empty").unwrap();
        assert_eq!(parsed["target"], "material");
        assert_eq!(parsed["filename"], "a.mp4");
        assert_eq!(parsed["empty"], "");
    }

    #[test]
    fn bad_base64_names_the_key() {
        assert!(parse_metadata("target !!!").is_err());
    }
}
