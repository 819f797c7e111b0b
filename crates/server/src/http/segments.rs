//! `/api/v1/materials/{id}/segments` (the whole list, replaced in one
//! request) and `/api/v1/segments/{id}` (one segment).

use std::sync::Arc;

use axum::Router;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch};
use bytes::Bytes;
use serde::{Deserialize, Serialize};
use sqlx::PgConnection;
use uuid::Uuid;

use super::ApiContext;
use super::auth::AuthUser;
use super::error::{Error, Result};
use super::extract::{Json, PathId};
use super::list_cache::EncodedList;
use crate::db;
use crate::db::segments::{ReplaceError, Segment, SegmentChanges};
use crate::domain::segment::{MAX_SEGMENTS, parse_list, parse_translation};
use crate::domain::{SegmentInput, SegmentSpan, SegmentText};
use crate::jobs::assess_recording;
use crate::scoring::Scoring;

/// Largest body of a segment-list PUT (20,000 long segments fit).
pub const MAX_LIST_BODY_BYTES: usize = 64 * 1024 * 1024;

pub fn router() -> Router<ApiContext> {
    Router::new()
        .route(
            "/materials/{id}/segments",
            get(list_segments)
                .put(replace_segments)
                .layer(DefaultBodyLimit::max(MAX_LIST_BODY_BYTES)),
        )
        .route("/segments/{id}", patch(update_segment).get(get_segment))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SegmentList {
    /// At most 20,000; any order (stored and returned in time order).
    pub segments: Vec<SegmentInput>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SegmentListResponse {
    pub material_id: Uuid,
    pub segments: Vec<Segment>,
}

/// Replace the material's segment list. Segments whose times and text are
/// unchanged keep their ids (recordings keep pointing at them).
#[utoipa::path(put, path = "/api/v1/materials/{id}/segments", tag = "segments", request_body = SegmentList,
    params(("id" = Uuid, Path),
           ("Prefer" = Option<String>, Header, description = "`return=minimal`: answer 204 with the ETag instead of the stored list")),
    responses((status = 200, body = SegmentListResponse), (status = 204, description = "stored; `Prefer: return=minimal` was applied"),
              (status = 404), (status = 413, description = "too_many_segments"),
              (status = 422, description = "validation_failed naming `segments[i].field`")),
    security(("bearer" = [])))]
pub async fn replace_segments(
    user: AuthUser,
    State(ctx): State<ApiContext>,
    PathId(material_id): PathId,
    headers: HeaderMap,
    Json(body): Json<SegmentList>,
) -> Result<Response> {
    if body.segments.len() > MAX_SEGMENTS {
        return Err(Error::refused(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_many_segments",
            format!(
                "segments: {} given, at most {MAX_SEGMENTS} per material",
                body.segments.len()
            ),
        ));
    }
    let mut tx = db::sync::begin_write(&ctx.db, user.user_id).await?;
    let duration = db::materials::lock(&mut *tx, user.user_id, material_id)
        .await?
        .ok_or(Error::NotFound)?;
    let parsed = parse_list(&body.segments, duration)
        .map_err(|error| Error::validation(error.field, error.reason))?;
    // Stamped later than every row it replaces (`db::segments::replace`).
    let clock = &ctx.clock;
    let replaced =
        match db::segments::replace(&mut tx, user.user_id, material_id, &parsed, clock).await {
            Ok(replaced) => replaced,
            Err(ReplaceError::IdOfAnotherMaterial(index)) => {
                let original = body
                    .segments
                    .iter()
                    .position(|input| input.id == parsed.get(index).and_then(|segment| segment.id))
                    .unwrap_or(index);
                return Err(Error::validation(
                    format!("segments[{original}].id"),
                    "is the id of a segment of another material",
                ));
            }
            Err(ReplaceError::Database(error)) => return Err(error.into()),
        };
    rescore_takes(
        &mut tx,
        ctx.scoring.as_ref(),
        user.user_id,
        &replaced.retexted,
    )
    .await?;
    tx.commit().await?;
    if prefers_minimal_return(&headers) {
        // The client holds the list it sent; the next read still finds it
        // encoded, made after this answer has gone.
        let (cache, user_id, version) = (ctx.segment_lists.clone(), user.user_id, replaced.version);
        tokio::task::spawn_blocking(move || {
            if let Ok(list) = encode_list(material_id, version, replaced.segments) {
                cache.put(user_id, material_id, list);
            }
        });
        return minimal_response(version);
    }
    let list = encode_list(material_id, replaced.version, replaced.segments)?;
    ctx.segment_lists
        .put(user.user_id, material_id, list.clone());
    list_response(StatusCode::OK, &list, &headers)
}

/// The material's segments in time order. Answers 304 to `If-None-Match`
/// with the current `ETag`.
#[utoipa::path(get, path = "/api/v1/materials/{id}/segments", tag = "segments", params(("id" = Uuid, Path)),
    responses((status = 200, body = SegmentListResponse), (status = 304), (status = 404)), security(("bearer" = [])))]
pub async fn list_segments(
    user: AuthUser,
    State(ctx): State<ApiContext>,
    PathId(material_id): PathId,
    headers: HeaderMap,
) -> Result<Response> {
    let version = db::segments::version(&ctx.db, user.user_id, material_id)
        .await?
        .ok_or(Error::NotFound)?;
    let etag = etag(version);
    let matches = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| {
            value
                .split(',')
                .any(|tag| tag.trim() == etag || tag.trim() == "*")
        });
    if matches {
        let etag = HeaderValue::from_str(&etag).map_err(|error| Error::Internal(error.into()))?;
        return Ok((StatusCode::NOT_MODIFIED, [(header::ETAG, etag)]).into_response());
    }
    let list = match ctx.segment_lists.get(user.user_id, material_id, version) {
        Some(list) => list,
        None => {
            // Version and rows from one snapshot, so the body is exactly
            // the version it is kept under.
            let mut tx = ctx.db.begin().await?;
            sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                .execute(&mut *tx)
                .await?;
            let version = db::segments::version(&mut *tx, user.user_id, material_id)
                .await?
                .ok_or(Error::NotFound)?;
            let segments = db::segments::list(&mut *tx, user.user_id, material_id).await?;
            tx.commit().await?;
            let list = encode_list(material_id, version, segments)?;
            ctx.segment_lists
                .put(user.user_id, material_id, list.clone());
            list
        }
    };
    list_response(StatusCode::OK, &list, &headers)
}

fn etag(version: i64) -> String {
    format!("W/\"segments-{version}\"")
}

fn encode_list(
    material_id: Uuid,
    version: i64,
    segments: Vec<Segment>,
) -> Result<Arc<EncodedList>> {
    let json = serde_json::to_vec(&SegmentListResponse {
        material_id,
        segments,
    })
    .map_err(|error| Error::Internal(error.into()))?;
    Ok(Arc::new(EncodedList::new(version, Bytes::from(json))))
}

/// The list as JSON, gzip-encoded when the client accepts it; with its
/// `ETag` (weak, so one tag covers both encodings).
fn list_response(status: StatusCode, list: &EncodedList, request: &HeaderMap) -> Result<Response> {
    let etag = HeaderValue::from_str(&etag(list.version))
        .map_err(|error| Error::Internal(error.into()))?;
    let gzip = accepts_gzip(request);
    let body = if gzip { list.gzip() } else { list.json.clone() };
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    headers.insert(header::ETAG, etag);
    headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    if gzip {
        headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    }
    Ok(response)
}

/// `204 No Content` with the new list's `ETag`, for `Prefer: return=minimal`.
fn minimal_response(version: i64) -> Result<Response> {
    let etag =
        HeaderValue::from_str(&etag(version)).map_err(|error| Error::Internal(error.into()))?;
    Ok((
        StatusCode::NO_CONTENT,
        [
            (header::ETAG, etag),
            (
                header::HeaderName::from_static("preference-applied"),
                HeaderValue::from_static("return=minimal"),
            ),
        ],
    )
        .into_response())
}

/// Whether the request says `Prefer: return=minimal` (RFC 7240 §4.2): the
/// client does not want the stored list back. Preferences are
/// comma-separated, each `token[=value]` with optional `;` parameters.
fn prefers_minimal_return(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::HeaderName::from_static("prefer"))
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .any(|preference| {
            let preference = preference.split(';').next().unwrap_or_default();
            let (token, value) = preference.split_once('=').unwrap_or((preference, ""));
            token.trim().eq_ignore_ascii_case("return")
                && value
                    .trim()
                    .trim_matches('"')
                    .eq_ignore_ascii_case("minimal")
        })
}

/// Whether `Accept-Encoding` allows gzip (RFC 9110 §12.5.3: listed, or
/// `*`, with a non-zero quality).
fn accepts_gzip(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .any(|item| {
            let mut parts = item.split(';');
            let coding = parts.next().unwrap_or_default().trim();
            let quality = parts
                .filter_map(|param| param.trim().strip_prefix("q="))
                .find_map(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            (coding.eq_ignore_ascii_case("gzip") || coding == "*") && quality > 0.0
        })
}

#[utoipa::path(get, path = "/api/v1/segments/{id}", tag = "segments", params(("id" = Uuid, Path)),
    responses((status = 200, body = Segment), (status = 404)), security(("bearer" = [])))]
pub async fn get_segment(
    user: AuthUser,
    State(ctx): State<ApiContext>,
    PathId(id): PathId,
) -> Result<axum::Json<Segment>> {
    let segment = db::segments::get(&ctx.db, user.user_id, id)
        .await?
        .ok_or(Error::NotFound)?;
    Ok(axum::Json(segment))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateSegment {
    pub start_time: Option<i64>,
    pub end_time: Option<i64>,
    pub text: Option<String>,
    /// `null` or blank clears it.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub translation: Option<Option<String>>,
}

fn present<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(deserializer).map(Some)
}

/// Change one segment's text, translation or times (still no overlap with
/// its neighbours, still within the material's duration).
#[utoipa::path(patch, path = "/api/v1/segments/{id}", tag = "segments", request_body = UpdateSegment,
    params(("id" = Uuid, Path)), responses((status = 200, body = Segment), (status = 404), (status = 422)),
    security(("bearer" = [])))]
pub async fn update_segment(
    user: AuthUser,
    State(ctx): State<ApiContext>,
    PathId(id): PathId,
    Json(body): Json<UpdateSegment>,
) -> Result<axum::Json<Segment>> {
    let mut tx = db::sync::begin_write(&ctx.db, user.user_id).await?;
    // The material's lock next, as every write of its list takes it; then
    // the row as it is under that lock.
    let material = db::segments::material_of(&mut *tx, user.user_id, id)
        .await?
        .ok_or(Error::NotFound)?;
    let duration = db::materials::lock(&mut *tx, user.user_id, material)
        .await?
        .ok_or(Error::NotFound)?;
    let current = match db::segments::lock_stored(&mut *tx, user.user_id, id).await? {
        Some(stored) if !stored.deleted => stored.segment,
        _ => return Err(Error::NotFound),
    };
    let changes = check_changes(&mut tx, user.user_id, &current, duration, &body).await?;
    let hlc = ctx.clock.now_after(current.hlc.as_deref())?.to_string();
    let segment = write_changes(
        &mut tx,
        ctx.scoring.as_ref(),
        user.user_id,
        &current,
        &changes,
        &hlc,
    )
    .await?;
    tx.commit().await?;
    Ok(axum::Json(segment))
}

/// One segment's edit checked as `PATCH /segments/{id}` checks it (and a
/// pushed correction, `sync::push`): the times within the material's
/// `duration` and clear of the neighbours (looked up only when they move),
/// the text a `SegmentText`, the translation (`null`/blank clears, absent
/// keeps). Fields are named as in the body (`text`, `start_time`, …).
pub(crate) async fn check_changes(
    conn: &mut PgConnection,
    user_id: Uuid,
    current: &Segment,
    duration: Option<i64>,
    edit: &UpdateSegment,
) -> Result<SegmentChanges> {
    let span = SegmentSpan::parse(
        edit.start_time.unwrap_or(current.start_time),
        edit.end_time.unwrap_or(current.end_time),
        duration,
    )
    .map_err(|(field, reason)| Error::validation(field, reason))?;
    let text = SegmentText::parse(edit.text.as_deref().unwrap_or(&current.text))
        .map_err(|reason| Error::validation("text", reason))?;
    let translation = match &edit.translation {
        Some(value) => parse_translation(value.as_deref())
            .map_err(|reason| Error::validation("translation", reason))?,
        None => current.translation.clone(),
    };
    let moved = span.start() != current.start_time || span.end() != current.end_time;
    if moved {
        let (previous_end, next_start) = db::segments::neighbours(
            &mut *conn,
            user_id,
            current.material_id,
            current.id,
            span.start(),
        )
        .await?;
        if previous_end.is_some_and(|end| end > span.start()) {
            return Err(Error::validation(
                "start_time",
                "overlaps the previous segment",
            ));
        }
        if next_start.is_some_and(|start| start < span.end()) {
            return Err(Error::validation("end_time", "overlaps the next segment"));
        }
    }
    Ok(SegmentChanges {
        start_time: span.start(),
        end_time: span.end(),
        text: text.as_str().to_owned(),
        translation,
    })
}

/// Writes checked changes of the live segment `current`, stamped with
/// `hlc`; when its text changed, its takes are scored again in the same
/// transaction (`PATCH /segments/{id}` and a pushed correction).
pub(crate) async fn write_changes(
    conn: &mut PgConnection,
    scoring: Option<&Scoring>,
    user_id: Uuid,
    current: &Segment,
    changes: &SegmentChanges,
    hlc: &str,
) -> Result<Segment> {
    let segment = db::segments::update(&mut *conn, user_id, current.id, changes, hlc)
        .await?
        .ok_or(Error::NotFound)?;
    if segment.text != current.text {
        rescore_takes(conn, scoring, user_id, &[current.id]).await?;
    }
    Ok(segment)
}

/// Takes of sentences whose text changed are scored again, in the
/// transaction that changed it.
async fn rescore_takes(
    conn: &mut PgConnection,
    scoring: Option<&Scoring>,
    user_id: Uuid,
    segment_ids: &[Uuid],
) -> Result<()> {
    if let Some(scoring) = scoring {
        assess_recording::rescore_segments(conn, scoring, user_id, segment_ids).await?;
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn accept(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::ACCEPT_ENCODING,
            HeaderValue::from_str(value).unwrap(),
        );
        headers
    }

    #[test]
    fn minimal_return_is_recognised_among_other_preferences() {
        let prefer = |value: &'static str| {
            let mut headers = HeaderMap::new();
            headers.insert("prefer", HeaderValue::from_static(value));
            headers
        };
        assert!(prefers_minimal_return(&prefer("return=minimal")));
        assert!(prefers_minimal_return(&prefer(
            "respond-async, RETURN = \"minimal\"; x=1"
        )));
        assert!(!prefers_minimal_return(&prefer("return=representation")));
        assert!(!prefers_minimal_return(&prefer("handling=lenient")));
        assert!(!prefers_minimal_return(&HeaderMap::new()));
    }

    #[test]
    fn gzip_is_chosen_only_when_accepted() {
        assert!(accepts_gzip(&accept("gzip, deflate, br")));
        assert!(accepts_gzip(&accept("br;q=1.0, GZIP;q=0.5")));
        assert!(accepts_gzip(&accept("*")));
        assert!(!accepts_gzip(&accept("gzip;q=0")));
        assert!(!accepts_gzip(&accept("br, identity")));
        assert!(!accepts_gzip(&HeaderMap::new()));
    }
}
