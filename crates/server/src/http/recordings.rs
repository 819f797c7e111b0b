//! `/api/v1/recordings`: a learner's recordings of a segment. A recording
//! is created by uploading its audio (`POST /api/v1/uploads` with
//! `target recording`, see uploads.rs); its duration is measured from that
//! audio.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use serde::Serialize;

use super::ApiContext;
use super::auth::AuthUser;
use super::error::{Error, Result};
use super::extract::PathId;
use crate::db;
use crate::db::recordings::Recording;

pub fn router() -> Router<ApiContext> {
    Router::new()
        .route(
            "/recordings/{id}",
            get(get_recording).delete(delete_recording),
        )
        .route("/segments/{id}/recordings", get(list_recordings))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RecordingList {
    pub items: Vec<Recording>,
}

#[utoipa::path(get, path = "/api/v1/recordings/{id}", tag = "recordings", params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = Recording), (status = 404)), security(("bearer" = [])))]
pub async fn get_recording(
    user: AuthUser,
    State(ctx): State<ApiContext>,
    PathId(id): PathId,
) -> Result<axum::Json<Recording>> {
    let recording = db::recordings::get(&ctx.db, user.user_id, id)
        .await?
        .ok_or(Error::NotFound)?;
    Ok(axum::Json(recording))
}

/// A segment's recordings, newest first.
#[utoipa::path(get, path = "/api/v1/segments/{id}/recordings", tag = "recordings", params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = RecordingList), (status = 404)), security(("bearer" = [])))]
pub async fn list_recordings(
    user: AuthUser,
    State(ctx): State<ApiContext>,
    PathId(segment_id): PathId,
) -> Result<axum::Json<RecordingList>> {
    if !db::recordings::segment_is_mine(&ctx.db, user.user_id, segment_id).await? {
        return Err(Error::NotFound);
    }
    let items = db::recordings::for_segment(&ctx.db, user.user_id, segment_id).await?;
    Ok(axum::Json(RecordingList { items }))
}

/// Soft-deletes the recording and removes its audio from storage.
#[utoipa::path(delete, path = "/api/v1/recordings/{id}", tag = "recordings", params(("id" = uuid::Uuid, Path)),
    responses((status = 204), (status = 404)), security(("bearer" = [])))]
pub async fn delete_recording(
    user: AuthUser,
    State(ctx): State<ApiContext>,
    PathId(id): PathId,
) -> Result<StatusCode> {
    let mut tx = db::sync::begin_write(&ctx.db, user.user_id).await?;
    let (stored, deleted) = db::recordings::lock_clock(&mut *tx, user.user_id, id)
        .await?
        .ok_or(Error::NotFound)?;
    if deleted {
        return Err(Error::NotFound);
    }
    let hlc = ctx.clock.now_after(stored.as_deref())?.to_string();
    let key = db::recordings::soft_delete(&mut *tx, user.user_id, id, &hlc)
        .await?
        .ok_or(Error::NotFound)?;
    tx.commit().await?;
    ctx.settings.storage.delete_quietly(key).await;
    Ok(StatusCode::NO_CONTENT)
}
