//! Downloads of stored media: `/api/v1/materials/{id}/media` and
//! `/api/v1/recordings/{id}/audio`. Streamed from object storage, with
//! `Range` (206, one range), `ETag`/`If-None-Match` and `Content-Type`.
//!
//! A `<video>` or `<audio>` element cannot send a bearer token, so a client
//! that wants to play from the server at once asks for a short-lived link
//! (`POST …/media/link`, `…/audio/link`) and hands the player
//! `/api/v1/media/{token}`, which serves the same bytes to whoever holds it
//! until it expires.

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use chrono::{DateTime, Utc};
use futures::TryStreamExt;
use serde::Serialize;
use uuid::Uuid;

use super::ApiContext;
use super::auth::AuthUser;
use super::error::{Error, Result};
use super::extract::PathId;
use crate::credentials;
use crate::db;
use crate::db::media_links::MediaTarget;
use crate::storage::Storage;

/// How long a media link plays: a film with pauses, not a day of sharing.
/// A player whose link expired mid-way asks for a new one.
pub const MEDIA_LINK_TTL: chrono::TimeDelta = chrono::TimeDelta::hours(6);

pub fn router() -> Router<ApiContext> {
    Router::new()
        .route("/materials/{id}/media", get(material_media))
        .route("/materials/{id}/media/link", post(material_media_link))
        .route("/recordings/{id}/audio", get(recording_audio))
        .route("/recordings/{id}/audio/link", post(recording_audio_link))
        .route("/media/{token}", get(linked_media))
}

/// A link a player can stream from without credentials.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MediaLink {
    /// Absolute path on this server: `/api/v1/media/<token>`.
    pub url: String,
    pub expires_at: DateTime<Utc>,
}

/// The material's media file (when it is in object storage).
#[utoipa::path(get, path = "/api/v1/materials/{id}/media", tag = "media", params(("id" = uuid::Uuid, Path),
    ("Range" = Option<String>, Header, description = "one byte range, e.g. bytes=0-1023, bytes=-500")),
    responses((status = 200, description = "the whole file"), (status = 206, description = "the requested range"),
    (status = 304), (status = 404), (status = 416, description = "range_not_satisfiable")), security(("bearer" = [])))]
pub async fn material_media(
    user: AuthUser,
    State(ctx): State<ApiContext>,
    PathId(id): PathId,
    headers: HeaderMap,
) -> Result<Response> {
    serve_target(&ctx, user.user_id, MediaTarget::Material(id), &headers).await
}

/// A recording's audio.
#[utoipa::path(get, path = "/api/v1/recordings/{id}/audio", tag = "media", params(("id" = uuid::Uuid, Path),
    ("Range" = Option<String>, Header)),
    responses((status = 200), (status = 206), (status = 304), (status = 404), (status = 416)), security(("bearer" = [])))]
pub async fn recording_audio(
    user: AuthUser,
    State(ctx): State<ApiContext>,
    PathId(id): PathId,
    headers: HeaderMap,
) -> Result<Response> {
    serve_target(&ctx, user.user_id, MediaTarget::Recording(id), &headers).await
}

/// A short-lived link to the material's media, for `<video src>`.
#[utoipa::path(post, path = "/api/v1/materials/{id}/media/link", tag = "media", params(("id" = uuid::Uuid, Path)),
    responses((status = 201, body = MediaLink), (status = 404, description = "no such material, or its media is not on the server")),
    security(("bearer" = [])))]
pub async fn material_media_link(
    user: AuthUser,
    State(ctx): State<ApiContext>,
    PathId(id): PathId,
) -> Result<(StatusCode, axum::Json<MediaLink>)> {
    mint_link(&ctx, user.user_id, MediaTarget::Material(id)).await
}

/// A short-lived link to a take's audio, for `<audio src>`.
#[utoipa::path(post, path = "/api/v1/recordings/{id}/audio/link", tag = "media", params(("id" = uuid::Uuid, Path)),
    responses((status = 201, body = MediaLink), (status = 404, description = "no such take, or its audio is not on the server")),
    security(("bearer" = [])))]
pub async fn recording_audio_link(
    user: AuthUser,
    State(ctx): State<ApiContext>,
    PathId(id): PathId,
) -> Result<(StatusCode, axum::Json<MediaLink>)> {
    mint_link(&ctx, user.user_id, MediaTarget::Recording(id)).await
}

/// A link to the user's stored object; `404` when there is none to play.
async fn mint_link(
    ctx: &ApiContext,
    user_id: Uuid,
    target: MediaTarget,
) -> Result<(StatusCode, axum::Json<MediaLink>)> {
    stored_object(ctx, user_id, target).await?;
    let token = credentials::new_session_token().map_err(Error::Internal)?;
    let expires_at = Utc::now() + MEDIA_LINK_TTL;
    db::media_links::insert(
        &ctx.db,
        &credentials::token_hash(&token),
        user_id,
        target,
        expires_at,
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(MediaLink {
            url: format!("/api/v1/media/{token}"),
            expires_at,
        }),
    ))
}

/// The media a link stands for, with `Range`, to anyone holding the link.
#[utoipa::path(get, path = "/api/v1/media/{token}", tag = "media", params(("token" = String, Path),
    ("Range" = Option<String>, Header)),
    responses((status = 200), (status = 206), (status = 304), (status = 404, description = "unknown link, or its media is gone"),
    (status = 410, description = "media_link_expired: ask for a new link"), (status = 416)))]
pub async fn linked_media(
    State(ctx): State<ApiContext>,
    axum::extract::Path(token): axum::extract::Path<String>,
    headers: HeaderMap,
) -> Result<Response> {
    let link = db::media_links::find(&ctx.db, &credentials::token_hash(&token))
        .await?
        .ok_or(Error::NotFound)?;
    if link.expired {
        return Err(Error::refused(
            StatusCode::GONE,
            "media_link_expired",
            "this media link has expired: ask for a new one",
        ));
    }
    serve_target(&ctx, link.user_id, link.target, &headers).await
}

/// The object key and content type of a live material's media or take's
/// audio; `404` when the row is gone or its bytes are not on the server.
async fn stored_object(
    ctx: &ApiContext,
    user_id: Uuid,
    target: MediaTarget,
) -> Result<(String, Option<String>)> {
    let object = match target {
        MediaTarget::Material(id) => db::materials::media_object(&ctx.db, user_id, id).await?,
        MediaTarget::Recording(id) => db::recordings::audio_object(&ctx.db, user_id, id).await?,
    };
    match object {
        Some((Some(key), content_type)) => Ok((key, content_type)),
        _ => Err(Error::NotFound),
    }
}

async fn serve_target(
    ctx: &ApiContext,
    user_id: Uuid,
    target: MediaTarget,
    headers: &HeaderMap,
) -> Result<Response> {
    let (key, content_type) = stored_object(ctx, user_id, target).await?;
    serve_object(
        &ctx.settings.storage,
        &key,
        content_type.as_deref(),
        headers,
    )
    .await
}

async fn serve_object(
    storage: &Storage,
    key: &str,
    content_type: Option<&str>,
    headers: &HeaderMap,
) -> Result<Response> {
    let meta = match storage.head(key).await {
        Ok(meta) => meta,
        Err(object_store::Error::NotFound { .. }) => return Err(Error::NotFound),
        Err(error) => return Err(Error::Internal(error.into())),
    };
    let size = meta.size;
    let etag = meta.e_tag.as_deref().map(|tag| {
        if tag.starts_with('"') || tag.starts_with("W/") {
            tag.to_owned()
        } else {
            format!("\"{tag}\"")
        }
    });
    let mut common = HeaderMap::new();
    common.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    common.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(content_type.unwrap_or("application/octet-stream"))
            .unwrap_or(HeaderValue::from_static("application/octet-stream")),
    );
    common.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-cache"),
    );
    if let Some(value) = etag
        .as_deref()
        .and_then(|tag| HeaderValue::from_str(tag).ok())
    {
        common.insert(header::ETAG, value);
    }
    if let (Some(etag), Some(wanted)) = (
        &etag,
        headers
            .get(header::IF_NONE_MATCH)
            .and_then(|v| v.to_str().ok()),
    ) && wanted
        .split(',')
        .any(|tag| tag.trim() == etag || tag.trim() == "*")
    {
        return Ok((StatusCode::NOT_MODIFIED, common).into_response());
    }
    let range = match headers
        .get(header::RANGE)
        .and_then(|value| value.to_str().ok())
    {
        None => None,
        Some(value) => match parse_range(value, size) {
            RangeRequest::Ignore => None,
            RangeRequest::Satisfiable(start, end) => Some(start..end),
            RangeRequest::Unsatisfiable => {
                let mut response = Error::refused(
                    StatusCode::RANGE_NOT_SATISFIABLE,
                    "range_not_satisfiable",
                    format!("Range: {value:?} is outside the {size} bytes of this object"),
                )
                .into_response();
                if let Ok(value) = HeaderValue::from_str(&format!("bytes */{size}")) {
                    response.headers_mut().insert(header::CONTENT_RANGE, value);
                }
                return Ok(response);
            }
        },
    };
    let (status, length) = match &range {
        Some(range) => {
            if let Ok(value) =
                HeaderValue::from_str(&format!("bytes {}-{}/{size}", range.start, range.end - 1))
            {
                common.insert(header::CONTENT_RANGE, value);
            }
            (StatusCode::PARTIAL_CONTENT, range.end - range.start)
        }
        None => (StatusCode::OK, size),
    };
    common.insert(header::CONTENT_LENGTH, HeaderValue::from(length));
    if length == 0 {
        return Ok((status, common).into_response());
    }
    let stream = storage
        .get_range(key, Some(range.unwrap_or(0..size)))
        .await
        .map_err(|error| Error::Internal(error.into()))?;
    let body = Body::from_stream(stream.map_err(std::io::Error::other));
    Ok((status, common, body).into_response())
}

#[derive(Debug, PartialEq, Eq)]
enum RangeRequest {
    /// Not a single byte range we serve (other unit, several ranges,
    /// unparseable): answer with the whole object, as RFC 9110 allows.
    Ignore,
    /// `start..end` (end exclusive).
    Satisfiable(u64, u64),
    Unsatisfiable,
}

fn parse_range(value: &str, size: u64) -> RangeRequest {
    let Some(spec) = value.trim().strip_prefix("bytes=") else {
        return RangeRequest::Ignore;
    };
    if spec.contains(',') {
        return RangeRequest::Ignore;
    }
    let Some((first, last)) = spec.trim().split_once('-') else {
        return RangeRequest::Ignore;
    };
    let (first, last) = (first.trim(), last.trim());
    if first.is_empty() {
        // Suffix: the last N bytes.
        return match last.parse::<u64>() {
            Ok(0) => RangeRequest::Unsatisfiable,
            Ok(_) if size == 0 => RangeRequest::Unsatisfiable,
            Ok(n) => RangeRequest::Satisfiable(size.saturating_sub(n), size),
            Err(_) => RangeRequest::Ignore,
        };
    }
    let Ok(start) = first.parse::<u64>() else {
        return RangeRequest::Ignore;
    };
    let end = if last.is_empty() {
        size
    } else {
        match last.parse::<u64>() {
            Ok(last) if last < start => return RangeRequest::Unsatisfiable,
            Ok(last) => last.saturating_add(1).min(size),
            Err(_) => return RangeRequest::Ignore,
        }
    };
    if start >= size {
        return RangeRequest::Unsatisfiable;
    }
    RangeRequest::Satisfiable(start, end)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::{RangeRequest, parse_range};

    #[test]
    fn byte_ranges_are_parsed() {
        assert_eq!(
            parse_range("bytes=0-99", 1000),
            RangeRequest::Satisfiable(0, 100)
        );
        assert_eq!(
            parse_range("bytes=500-", 1000),
            RangeRequest::Satisfiable(500, 1000)
        );
        assert_eq!(
            parse_range("bytes=-100", 1000),
            RangeRequest::Satisfiable(900, 1000)
        );
        assert_eq!(
            parse_range("bytes=900-5000", 1000),
            RangeRequest::Satisfiable(900, 1000)
        );
        assert_eq!(
            parse_range("bytes=-5000", 1000),
            RangeRequest::Satisfiable(0, 1000)
        );
    }

    #[test]
    fn unsatisfiable_ranges_are_told_apart() {
        assert_eq!(
            parse_range("bytes=1000-", 1000),
            RangeRequest::Unsatisfiable
        );
        assert_eq!(
            parse_range("bytes=50-10", 1000),
            RangeRequest::Unsatisfiable
        );
        assert_eq!(parse_range("bytes=-0", 1000), RangeRequest::Unsatisfiable);
    }

    #[test]
    fn other_forms_are_ignored() {
        assert_eq!(parse_range("items=0-1", 1000), RangeRequest::Ignore);
        assert_eq!(parse_range("bytes=0-1,5-6", 1000), RangeRequest::Ignore);
        assert_eq!(parse_range("bytes=abc", 1000), RangeRequest::Ignore);
    }
}
