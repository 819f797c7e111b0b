//! The HTTP surface: one module per resource, each exposing a `router()`
//! merged here, and the middleware every request passes through.

mod accounts;
mod assessments;
pub mod auth;
mod billing;
mod dictionary;
pub mod error;
pub mod extract;
mod health;
pub mod list_cache;
pub(crate) mod materials;
mod me;
mod media;
pub mod openapi;
mod pagination;
pub(crate) mod progress;
mod recordings;
pub(crate) mod segments;
mod sessions;
mod subtitle_import;
mod sync;
mod transcriptions;
mod uploads;
pub(crate) mod vocabulary;
mod web_app;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, Request, StatusCode};
use axum::response::{IntoResponse, Response};
use sqlx::PgPool;
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{
    MakeRequestUuid, PropagateRequestIdLayer, RequestId, SetRequestIdLayer,
};
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::Level;

use error::Problem;

use crate::billing::{StripeClient, StripeSettings};
use crate::entitlements::EntitlementSettings;
use crate::jobs::JobSettings;
use crate::rate_limit::RateLimitSettings;
use crate::storage::Storage;

/// What every handler may use: the pool, the settings and the Stripe client
/// (when billing is configured).
#[derive(Clone)]
pub struct ApiContext {
    pub db: PgPool,
    pub settings: Arc<HttpSettings>,
    pub stripe: Option<StripeClient>,
    /// Encoded segment lists by version (`list_cache`).
    pub segment_lists: list_cache::ListCache,
    /// The built-in pronunciation engine; `None`: uploaded recordings are
    /// not scored by this server (`HttpSettings::scoring`).
    pub scoring: Option<crate::scoring::Scoring>,
    /// Whisper for materials' media; `None`: this server does not
    /// transcribe (`HttpSettings::transcription`).
    pub transcription: Option<crate::transcription::Transcription>,
    /// This process's hybrid logical clock: stamps every write to a synced
    /// row and observes every pushed clock (decision 0024).
    pub clock: crate::sync::ServerClock,
}

pub const DEFAULT_SESSION_TTL_DAYS: u64 = 30;

#[derive(Debug, Clone)]
pub struct HttpSettings {
    pub web_dir: PathBuf,
    pub max_body_bytes: usize,
    /// Sessions expire after this long without use (sliding expiry).
    pub session_ttl: Duration,
    pub rate_limits: RateLimitSettings,
    pub entitlements: EntitlementSettings,
    /// `None`: billing is off (no Stripe keys configured).
    pub stripe: Option<StripeSettings>,
    pub jobs: JobSettings,
    /// Where material media and recording audio are stored.
    pub storage: Storage,
    /// How often the storage sweeper looks for expired uploads and orphans.
    pub storage_sweep_every: Duration,
    /// Memory for encoded segment lists kept between reads (0: none).
    pub segment_cache_bytes: u64,
    /// Score every uploaded recording with the built-in engine.
    pub scoring: bool,
    /// Where its models are; `None`: `ECHOLOOP_MODELS_DIR`, else the
    /// nearest `models/`.
    pub models_dir: Option<PathBuf>,
    /// Languages scored (primary subtags); takes in others are told why not.
    pub scoring_languages: Vec<String>,
    /// Transcribe materials' stored media on request (Whisper, same models
    /// directory).
    pub transcription: bool,
}

impl HttpSettings {
    /// The documented defaults for everything but the two required values.
    pub fn new(web_dir: PathBuf, max_body_bytes: usize) -> Self {
        HttpSettings {
            web_dir,
            max_body_bytes,
            session_ttl: Duration::from_secs(DEFAULT_SESSION_TTL_DAYS * 24 * 3600),
            rate_limits: RateLimitSettings::default(),
            entitlements: EntitlementSettings::default(),
            stripe: None,
            jobs: JobSettings::default(),
            storage: Storage::in_memory(),
            storage_sweep_every: Duration::from_secs(3600),
            segment_cache_bytes: list_cache::DEFAULT_SEGMENT_CACHE_MB << 20,
            scoring: true,
            models_dir: None,
            scoring_languages: crate::scoring::DEFAULT_LANGUAGES
                .iter()
                .map(|l| (*l).to_owned())
                .collect(),
            transcription: true,
        }
    }
}

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

pub fn router(ctx: ApiContext) -> Router {
    let api_v1 = Router::new()
        .merge(accounts::router())
        .merge(sessions::router())
        .merge(me::router())
        .merge(billing::router())
        .merge(materials::router())
        .merge(segments::router())
        .merge(subtitle_import::router())
        .merge(progress::router())
        .merge(recordings::router())
        .merge(transcriptions::router())
        .merge(assessments::router())
        .merge(uploads::router())
        .merge(sync::router())
        .merge(media::router())
        .merge(dictionary::router())
        .merge(vocabulary::router())
        .fallback(api_not_found);
    let settings = ctx.settings.clone();
    Router::new()
        .merge(health::router())
        .nest("/api/v1", api_v1)
        .merge(openapi::router())
        .route("/api", axum::routing::any(api_not_found))
        .route("/api/{*rest}", axum::routing::any(api_not_found))
        .merge(web_app::router(&settings.web_dir))
        .layer(DefaultBodyLimit::max(settings.max_body_bytes))
        .layer(axum::middleware::from_fn(crate::metrics::track_requests))
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
                                path = %logged_path(request.uri().path()),
                                request_id = %request_id,
                            )
                        })
                        .on_response(
                            DefaultOnResponse::new()
                                .level(Level::INFO)
                                .latency_unit(tower_http::LatencyUnit::Millis),
                        ),
                )
                .layer(PropagateRequestIdLayer::new(REQUEST_ID))
                .layer(CatchPanicLayer::custom(panic_response)),
        )
        .with_state(ctx)
}

/// The path as logs show it: a media link's token is a credential for as
/// long as it lives, so it never reaches a log.
fn logged_path(path: &str) -> &str {
    if path.starts_with("/api/v1/media/") {
        "/api/v1/media/…"
    } else {
        path
    }
}

async fn api_not_found() -> Problem {
    Problem::new(StatusCode::NOT_FOUND, "not_found", "no such API endpoint")
}

fn panic_response(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    tracing::error!("a request handler panicked");
    Problem::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal",
        "an internal error occurred",
    )
    .into_response()
}
