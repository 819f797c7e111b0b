//! `/api/v1/materials/{id}/progress`: where the learner is in a material.

use axum::Router;
use axum::extract::State;
use axum::routing::get;
use serde::Deserialize;

use super::ApiContext;
use super::auth::AuthUser;
use super::error::{Error, Result};
use super::extract::{Json, PathId};
use crate::db;
use crate::db::progress::{Progress, ProgressStatus};
use crate::jobs::prepare_sentence;

pub fn router() -> Router<ApiContext> {
    Router::new().route(
        "/materials/{id}/progress",
        get(get_progress).put(put_progress),
    )
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PutProgress {
    /// Index into the material's segments in time order.
    pub last_segment_index: i64,
    pub status: ProgressStatus,
}

#[utoipa::path(get, path = "/api/v1/materials/{id}/progress", tag = "progress", params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = Progress), (status = 404)), security(("bearer" = [])))]
pub async fn get_progress(
    user: AuthUser,
    State(ctx): State<ApiContext>,
    PathId(id): PathId,
) -> Result<axum::Json<Progress>> {
    if db::materials::get(&ctx.db, user.user_id, id)
        .await?
        .is_none()
    {
        return Err(Error::NotFound);
    }
    let progress = db::progress::get(&ctx.db, user.user_id, id)
        .await?
        .ok_or(Error::NotFound)?;
    Ok(axum::Json(progress))
}

/// Record progress. A completed material stays completed: a later
/// `in_progress` write only moves `last_segment_index`.
#[utoipa::path(put, path = "/api/v1/materials/{id}/progress", tag = "progress", request_body = PutProgress,
    params(("id" = uuid::Uuid, Path)), responses((status = 200, body = Progress), (status = 404), (status = 422)),
    security(("bearer" = [])))]
pub async fn put_progress(
    user: AuthUser,
    State(ctx): State<ApiContext>,
    PathId(id): PathId,
    Json(body): Json<PutProgress>,
) -> Result<axum::Json<Progress>> {
    let mut tx = db::sync::begin_write(&ctx.db, user.user_id).await?;
    let index =
        lock_material_and_check_index(&mut tx, user.user_id, id, body.last_segment_index).await?;
    // Under the material's lock, which every progress write takes: later
    // than the stored progress (live or a tombstone), whoever stamped it.
    let stored = db::progress::lock_stored(&mut *tx, user.user_id, id).await?;
    let stored = stored.as_ref().and_then(|stored| stored.hlc.as_deref());
    let hlc = ctx.clock.now_after(stored)?.to_string();
    let progress =
        db::progress::upsert(&mut *tx, user.user_id, id, index, body.status, Some(&hlc)).await?;
    // The learner is about to say this sentence.
    prepare_sentence::schedule_at(&mut tx, ctx.scoring.as_ref(), user.user_id, id, index).await?;
    tx.commit().await?;
    Ok(axum::Json(progress))
}

/// Locks the live material for the rest of the transaction and checks the
/// index against its segments (the rules of `PUT …/progress`, which a
/// pushed progress change follows too). `NotFound`: no such live material.
pub(crate) async fn lock_material_and_check_index(
    conn: &mut sqlx::PgConnection,
    user_id: uuid::Uuid,
    material_id: uuid::Uuid,
    last_segment_index: i64,
) -> Result<i32> {
    db::materials::lock(&mut *conn, user_id, material_id)
        .await?
        .ok_or(Error::NotFound)?;
    let count = db::segments::count(&mut *conn, user_id, material_id).await?;
    let last = (count - 1).max(0);
    if !(0..=last).contains(&last_segment_index) {
        return Err(Error::validation(
            "last_segment_index",
            format!("must be from 0 to {last} (the material has {count} segments)"),
        ));
    }
    i32::try_from(last_segment_index)
        .map_err(|_| Error::validation("last_segment_index", "too large"))
}
