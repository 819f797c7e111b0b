//! The HTTP surface: one module per resource, each exposing a `router()`
//! merged here, and the middleware every request passes through.

pub mod error;
pub mod extract;
mod health;
mod web_app;

use std::path::PathBuf;
use std::sync::Arc;


use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, Request, StatusCode};
use axum::response::{IntoResponse, Response};
use sqlx::PgPool;
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, RequestId, SetRequestIdLayer};
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::Level;

use error::Problem;

/// What every handler may use: the pool and the settings.
#[derive(Clone)]
pub struct ApiContext {
    pub db: PgPool,
    pub settings: Arc<HttpSettings>,
}

#[derive(Debug, Clone)]
pub struct HttpSettings {
    pub web_dir: PathBuf,
    pub max_body_bytes: usize,
}

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

pub fn router(ctx: ApiContext) -> Router {
    let api_v1 = Router::new().fallback(api_not_found);
    let settings = ctx.settings.clone();
    Router::new()
        .merge(health::router())
        .nest("/api/v1", api_v1)
        .route("/api", axum::routing::any(api_not_found))
        .route("/api/{*rest}", axum::routing::any(api_not_found))
        .merge(web_app::router(&settings.web_dir))
        .layer(DefaultBodyLimit::max(settings.max_body_bytes))
        .layer(
            ServiceBuilder::new()
                .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
                .layer(
                    TraceLayer::new_for_http()
                        .make_span_with(|request: &Request<_>| {
                            let request_id = request
                                .extensions()
                                .get::<RequestId>()
                                .and_then(|id| id.header_value().to_str().ok())
                                .unwrap_or_default();
                            tracing::info_span!(
                                "request",
                                method = %request.method(),
                                path = %request.uri().path(),
                                request_id = %request_id,
                            )
                        })
                        .on_response(DefaultOnResponse::new().level(Level::INFO).latency_unit(tower_http::LatencyUnit::Millis)),
                )
                .layer(PropagateRequestIdLayer::new(REQUEST_ID))
                .layer(CatchPanicLayer::custom(panic_response)),
        )
        .with_state(ctx)
}

async fn api_not_found() -> Problem {
    Problem::new(StatusCode::NOT_FOUND, "not_found", "no such API endpoint")
}

fn panic_response(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    tracing::error!("a request handler panicked");
    Problem::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "an internal error occurred").into_response()
}

