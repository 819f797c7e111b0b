//! `/api/v1/sync/pull`: every change of mine after a change number,
//! deletions included, in the order they were made (docs/api/sync.md).

use axum::Router;
use axum::extract::State;
use axum::routing::get;
use serde::{Deserialize, Serialize};

use super::ApiContext;
use super::auth::AuthUser;
use super::error::{Error, Result};
use super::extract::Query;
use super::pagination::page_limit;
use crate::db;
use crate::db::sync::Change;

pub fn router() -> Router<ApiContext> {
    Router::new().route("/sync/pull", get(pull))
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
