//! Prometheus metrics for operators, served on a listener of their own
//! (`--metrics-listen`, off by default) so they never reach the public
//! port: requests by route and status, job outcomes and durations, and at
//! each scrape the job queue and the database pool.

use std::net::SocketAddr;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use sqlx::PgPool;
use tokio::net::TcpListener;

/// Seconds buckets for request and job durations: from a health check to a
/// film's transcription.
const DURATION_BUCKETS: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0,
];

/// The process's recorder: installed once, whatever number of servers the
/// process runs (tests run many).
fn handle() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), DURATION_BUCKETS)
            .map(PrometheusBuilder::build_recorder);
        match recorder {
            Ok(recorder) => {
                let handle = recorder.handle();
                if metrics::set_global_recorder(recorder).is_err() {
                    tracing::warn!("another metrics recorder is installed; /metrics stays empty");
                }
                handle
            }
            // Only an empty bucket list fails, and ours is not empty.
            Err(error) => {
                tracing::warn!(%error, "metrics recorder not installed");
                PrometheusBuilder::new().build_recorder().handle()
            }
        }
    })
}

/// Installs the recorder, so counts start with the server.
pub fn install() {
    handle();
}

/// Middleware: one count and one duration per request, labelled by the
/// route's pattern (not the path: ids would make a series per row).
pub async fn track_requests(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().to_string();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |path| path.as_str().to_owned());
    let response = next.run(request).await;
    let status = response.status().as_u16().to_string();
    let labels = [("method", method), ("route", route), ("status", status)];
    metrics::counter!("echoloop_http_requests_total", &labels).increment(1);
    metrics::histogram!("echoloop_http_request_duration_seconds", &labels)
        .record(started.elapsed().as_secs_f64());
    response
}

/// A job's end: `outcome` is `done`, `retry`, `gave_up` or `deferred`.
pub fn job_finished(kind: &str, outcome: &'static str, took: Duration) {
    let labels = [("kind", kind.to_owned()), ("outcome", outcome.to_owned())];
    metrics::counter!("echoloop_jobs_total", &labels).increment(1);
    metrics::histogram!("echoloop_job_duration_seconds", &labels).record(took.as_secs_f64());
}

/// Media transcribed, for the speech engine's throughput.
pub fn media_transcribed(media_ms: u64) {
    metrics::counter!("echoloop_transcribed_media_seconds_total")
        .increment(media_ms.div_ceil(1000));
}

/// Sentence renditions the pronunciation engine used: `stored` (read from
/// the database) or `rendered` (spoken and heard here, about 0.2 s of CPU
/// each).
pub fn renditions(source: &'static str, count: usize) {
    metrics::counter!("echoloop_renditions_total", "source" => source).increment(count as u64);
}

/// Serves `GET /metrics` on `listener` until `stop` resolves.
pub async fn serve(
    listener: TcpListener,
    pool: PgPool,
    stop: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let app = Router::new()
        .route("/metrics", get(render))
        .with_state(pool);
    axum::serve(listener, app)
        .with_graceful_shutdown(stop)
        .await?;
    Ok(())
}

pub async fn bind(addr: SocketAddr) -> anyhow::Result<TcpListener> {
    use anyhow::Context;
    TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen for metrics on {addr}"))
}

async fn render(State(pool): State<PgPool>) -> impl IntoResponse {
    // Gauges read now: the queue as every instance sees it, this pool.
    match crate::db::jobs::queue(&pool, crate::jobs::KINDS).await {
        Ok(rows) => {
            for row in rows {
                metrics::gauge!("echoloop_jobs", "kind" => row.kind, "state" => row.state)
                    .set(row.count as f64);
            }
        }
        Err(error) => tracing::warn!(%error, "reading the job queue for metrics failed"),
    }
    let idle = pool.num_idle() as f64;
    metrics::gauge!("echoloop_db_connections", "state" => "idle").set(idle);
    metrics::gauge!("echoloop_db_connections", "state" => "in_use")
        .set(f64::from(pool.size()) - idle);
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        handle().render(),
    )
}
