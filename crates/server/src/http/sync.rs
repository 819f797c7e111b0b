//! `/api/v1/sync/pull`: every change of mine after a change number,
//! deletions included, in the order they were made; `/api/v1/sync/push`:
//! a batch of a device's changes, each answered on its own
//! (docs/api/sync.md; applied by `crate::sync::push`).

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};

use super::ApiContext;
use super::auth::AuthUser;
use super::error::{Error, Result};
use super::extract::{Json, Query};
use super::pagination::page_limit;
use crate::db;
use crate::db::sync::Change;
use crate::sync::push::{self, MAX_CHANGES, PushResult};

pub fn router() -> Router<ApiContext> {
    Router::new()
        .route("/sync/pull", get(pull))
        .route("/sync/push", post(push))
}

pub const DEFAULT_PULL: i64 = 500;
pub const MAX_PULL: i64 = 1_000;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PullQuery {
    /// The `next_cursor` of the previous pull; 0 (the default) from the start.
    pub cursor: Option<i64>,
    /// 1 to 1,000 changes (default 500).
    pub limit: Option<i64>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PullPage {
    /// In change-number order; a row changed twice appears once, as it is now.
    pub changes: Vec<Change>,
    /// The cursor of the next pull: the last change number here (the one
    /// asked with when nothing changed).
    pub next_cursor: i64,
    /// More changes follow: pull again at once.
    pub more: bool,
}

/// Changes of materials, segments, progress, recordings, assessments,
/// saved words and their review answers after `cursor`. The change numbers are assigned inside the writing
/// transactions and become visible strictly in order, so a client that
/// stores `next_cursor` never misses a row that committed late.
#[utoipa::path(get, path = "/api/v1/sync/pull", tag = "sync", params(PullQuery),
    responses((status = 200, body = PullPage), (status = 422, description = "validation_failed (`cursor`, `limit`)")),
    security(("bearer" = [])))]
pub async fn pull(
    user: AuthUser,
    State(ctx): State<ApiContext>,
    Query(query): Query<PullQuery>,
) -> Result<axum::Json<PullPage>> {
    let cursor = query.cursor.unwrap_or(0);
    if cursor < 0 {
        return Err(Error::validation("cursor", "must be 0 or a next_cursor"));
    }
    let limit = page_limit(query.limit, DEFAULT_PULL, MAX_PULL)?;
    let mut tx = ctx.db.begin().await?;
    // One snapshot for every table, so a page never shows a segment whose
    // material's change it skipped.
    sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        .execute(&mut *tx)
        .await?;
    let (changes, more) = db::sync::changes_after(&mut tx, user.user_id, cursor, limit).await?;
    tx.commit().await?;
    let next_cursor = changes.last().map_or(cursor, |change| change.change_seq);
    Ok(axum::Json(PullPage {
        changes,
        next_cursor,
        more,
    }))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PushBody {
    /// At most 500, applied in this order; each is read on its own, so a
    /// malformed one is answered `rejected` and the rest still apply.
    #[schema(value_type = Vec<PushChange>)]
    pub changes: Vec<serde_json::Value>,
}

/// One change (docs/api/sync.md, "Pushing changes").
#[derive(Debug, utoipa::ToSchema)]
#[allow(dead_code)]
pub struct PushChange {
    /// `material`, `progress`, `vocabulary_item`, `review_log`, `recording`
    /// or `segment`.
    pub kind: String,
    /// `create`, `upsert` or `delete` (material, vocabulary_item: all
    /// three; progress, review_log, segment: upsert; recording: delete).
    /// A segment upsert corrects one sentence (`{text, translation?}`);
    /// lists are replaced by `PUT /materials/{id}/segments`.
    pub op: String,
    /// The row's id (progress: its material's).
    pub id: uuid::Uuid,
    /// The write's hybrid logical clock, `<13-digit ms>-<4 hex>-<16 hex>`;
    /// required except for review_log. At most 10 minutes ahead of the
    /// server's clock.
    pub hlc: Option<String>,
    /// Upserts: the fields of the resource endpoint's body.
    #[schema(value_type = Option<Object>)]
    pub data: Option<serde_json::Value>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PushAnswer {
    /// `results[i]` answers `changes[i]`.
    pub results: Vec<PushResult>,
    /// The server's wall clock when it answered (milliseconds).
    pub server_time_ms: u64,
}

/// Apply a batch of changes in one transaction, each on its own: `applied`
/// (with the row now; a retried change is applied without a new change
/// number), `conflict` (a newer write or a tombstone won: the row now) or
/// `rejected` (with its problem). Last writer wins by hybrid logical
/// clock; deleted rows stay deleted; completed progress stays completed.
#[utoipa::path(post, path = "/api/v1/sync/push", tag = "sync", request_body = PushBody,
    responses((status = 200, body = PushAnswer),
              (status = 413, description = "too_many_changes (more than 500), or the body over the server's limit"),
              (status = 422, description = "validation_failed: the body is not `{changes: [...]}`")),
    security(("bearer" = [])))]
pub async fn push(
    user: AuthUser,
    State(ctx): State<ApiContext>,
    Json(body): Json<PushBody>,
) -> Result<axum::Json<PushAnswer>> {
    if body.changes.len() > MAX_CHANGES {
        return Err(Error::refused(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_many_changes",
            format!(
                "changes: {} given, at most {MAX_CHANGES} per push",
                body.changes.len()
            ),
        ));
    }
    let pushed = push::apply(
        &ctx.db,
        &ctx.clock,
        ctx.scoring.as_ref(),
        user.user_id,
        body.changes,
    )
    .await?;
    ctx.settings.storage.delete_quietly(pushed.released).await;
    Ok(axum::Json(PushAnswer {
        results: pushed.results,
        server_time_ms: crate::sync::wall_ms(),
    }))
}
