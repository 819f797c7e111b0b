//! Liveness and readiness for load balancers and orchestrators.

use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Serialize;

use super::ApiContext;
use super::error::Problem;
use crate::database;

pub fn router() -> Router<ApiContext> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
}

#[derive(Serialize)]
struct Health {
    status: &'static str,
    version: &'static str,
}

/// The process is up and serving; says nothing about dependencies.
async fn healthz() -> axum::Json<Health> {
    axum::Json(Health {
        status: "ok",
        version: env!("CARGO_PKG_VERSION"),
    })
}

/// Ready when the database answers and carries every migration we know.
async fn readyz(State(ctx): State<ApiContext>) -> Response {
    let check = tokio::time::timeout(
        Duration::from_secs(3),
        database::migrations_current(&ctx.db),
    )
    .await;
    match check {
        Ok(Ok(true)) => axum::Json(Health {
            status: "ready",
            version: env!("CARGO_PKG_VERSION"),
        })
        .into_response(),
        Ok(Ok(false)) => Problem::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "migrations_pending",
            "the database is missing migrations this server needs",
        )
        .into_response(),
        Ok(Err(error)) => {
            tracing::warn!(%error, "readiness check failed");
            Problem::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "database_unavailable",
                "the database is unreachable",
            )
            .into_response()
        }
        Err(_) => Problem::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "database_unavailable",
            "the database did not answer in time",
        )
        .into_response(),
    }
}
