//! Building and running the server: bind first (a busy port fails before
//! anything else starts), then the database, migrations, and the router.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use sqlx::PgPool;
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::billing::StripeClient;
use crate::cli::{DatabaseArgs, ServeArgs};
use crate::database::{self, EMBEDDED_DATABASE, EmbeddedPostgres};
use crate::http::list_cache::ListCache;
use crate::http::{self, ApiContext, HttpSettings};
use crate::jobs;

/// The database the process uses, and the embedded cluster when it uses one.
pub struct Database {
    pub pool: PgPool,
    pub embedded: Option<EmbeddedPostgres>,
    /// This process started the embedded cluster, so it stops it on close;
    /// one it found running (another `echoloop` is serving from the same
    /// data directory) is left running.
    started_cluster: bool,
}

impl Database {
    /// Connects to `DATABASE_URL`, or starts the embedded cluster.
    pub async fn open(args: &DatabaseArgs) -> anyhow::Result<Self> {
        match &args.database_url {
            Some(url) => {
                let options = database::parse_url(url)?;
                let pool = database::connect(options, args.db_max_connections).await?;
                Ok(Database {
                    pool,
                    embedded: None,
                    started_cluster: false,
                })
            }
            None => {
                let cluster = EmbeddedPostgres::locate(&args.data_dir)?;
                let starting = cluster.clone();
                let started_cluster = tokio::task::spawn_blocking(move || starting.start())
                    .await
                    .context("starting the embedded PostgreSQL panicked")??;
                database::ensure_database(&cluster, EMBEDDED_DATABASE).await?;
                let pool = database::connect(
                    cluster.connect_options(EMBEDDED_DATABASE),
                    args.db_max_connections,
                )
                .await?;
                Ok(Database {
                    pool,
                    embedded: Some(cluster),
                    started_cluster,
                })
            }
        }
    }

    pub async fn close(self) {
        self.pool.close().await;
        if let Some(cluster) = self.embedded.filter(|_| self.started_cluster) {
            match tokio::task::spawn_blocking(move || cluster.stop()).await {
                Ok(Ok(())) => tracing::info!("embedded PostgreSQL stopped"),
                Ok(Err(error)) => {
                    tracing::error!(%error, "stopping the embedded PostgreSQL failed")
                }
                Err(error) => tracing::error!(%error, "stopping the embedded PostgreSQL panicked"),
            }
        }
    }
}

/// A bound, not yet running server.
pub struct Application {
    listener: TcpListener,
    /// Where `GET /metrics` is served, when the operator asked for it.
    metrics: Option<TcpListener>,
    ctx: ApiContext,
}

impl Application {
    pub async fn bind(addr: SocketAddr) -> anyhow::Result<TcpListener> {
        TcpListener::bind(addr)
            .await
            .with_context(|| format!("cannot listen on {addr}"))
    }

    pub fn new(listener: TcpListener, pool: PgPool, settings: HttpSettings) -> Self {
        let stripe = settings.stripe.clone().map(StripeClient::new);
        let segment_lists = ListCache::new(settings.segment_cache_bytes);
        let scoring = settings.scoring.then(|| {
            crate::scoring::Scoring::new(settings.models_dir.clone(), &settings.scoring_languages)
        });
        let transcription = settings
            .transcription
            .then(|| crate::transcription::Transcription::new(settings.models_dir.clone()));
        crate::metrics::install();
        Application {
            listener,
            metrics: None,
            ctx: ApiContext {
                db: pool,
                settings: Arc::new(settings),
                stripe,
                segment_lists,
                scoring,
                transcription,
                clock: crate::sync::ServerClock::new(),
            },
        }
    }

    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves Prometheus metrics on `listener` too (never on the public one).
    pub fn with_metrics(mut self, listener: TcpListener) -> Self {
        self.metrics = Some(listener);
        self
    }

    pub fn metrics_addr(&self) -> Option<std::io::Result<SocketAddr>> {
        self.metrics.as_ref().map(TcpListener::local_addr)
    }

    /// Serves until `shutdown` resolves, then drains in-flight requests for
    /// at most `grace`.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
        grace: Duration,
    ) -> anyhow::Result<()> {
        let (stopping_tx, mut stopping_rx) = watch::channel(false);
        // The job workers run as long as the server and stop with it.
        let job_context = jobs::JobContext {
            stripe: self.ctx.stripe.clone(),
            storage: self.ctx.settings.storage.clone(),
            scoring: self.ctx.scoring.clone(),
            transcription: self.ctx.transcription.clone(),
            entitlements: self.ctx.settings.entitlements.clone(),
            clock: self.ctx.clock.clone(),
        };
        let workers = [jobs::Lane::Quick, jobs::Lane::Long].map(|lane| {
            tokio::spawn(jobs::run_worker(
                self.ctx.db.clone(),
                self.ctx.settings.jobs.clone(),
                job_context.clone(),
                lane,
                stopping_rx.clone(),
            ))
        });
        let metrics = self.metrics.map(|listener| {
            let mut stopping = stopping_rx.clone();
            tokio::spawn(crate::metrics::serve(
                listener,
                self.ctx.db.clone(),
                async move {
                    let _ = stopping.wait_for(|stopping| *stopping).await;
                },
            ))
        });
        let sweeper = tokio::spawn(crate::storage::sweeper::run(
            self.ctx.db.clone(),
            self.ctx.settings.storage.clone(),
            self.ctx.settings.storage_sweep_every,
            stopping_rx.clone(),
        ));
        let app = http::router(self.ctx).into_make_service_with_connect_info::<SocketAddr>();
        let server = axum::serve(self.listener, app).with_graceful_shutdown(async move {
            shutdown.await;
            let _ = stopping_tx.send(true);
        });
        let mut server = std::pin::pin!(server.into_future());
        let finished = tokio::select! {
            result = &mut server => Some(result.context("server error")),
            _ = stopping_rx.wait_for(|stopping| *stopping) => None,
        };
        let result = match finished {
            Some(result) => result,
            None => {
                tracing::info!(
                    grace_secs = grace.as_secs(),
                    "shutting down: draining in-flight requests"
                );
                match tokio::time::timeout(grace, server).await {
                    Ok(result) => result.context("server error"),
                    Err(_) => {
                        tracing::warn!("grace period over; closing remaining connections");
                        Ok(())
                    }
                }
            }
        };
        sweeper.abort();
        if let Some(metrics) = metrics {
            metrics.abort();
        }
        if tokio::time::timeout(grace, futures::future::join_all(workers))
            .await
            .is_err()
        {
            tracing::warn!("a job worker did not stop within the grace period");
        }
        result
    }
}

/// `echoloop serve`.
pub async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    // Configuration errors surface before anything starts.
    if let Some(stripe) = args.stripe.settings()?
        && stripe.pro_price_id.is_none()
    {
        tracing::warn!("STRIPE_PRO_PRICE_ID is not set: checkout is unavailable");
    }
    let listener = Application::bind(args.listen).await?;
    let database = Database::open(&args.database).await?;
    database::migrate(&database.pool).await?;
    if !args.web_dir.join("index.html").is_file() {
        tracing::warn!(web_dir = %args.web_dir.display(), "no built web client found (run `make web`); serving the API only");
    }
    let mut app = Application::new(listener, database.pool.clone(), args.http_settings()?);
    if let Some(metrics_addr) = args.metrics_listen {
        app = app.with_metrics(crate::metrics::bind(metrics_addr).await?);
        tracing::info!(%metrics_addr, "metrics on http://{metrics_addr}/metrics");
    }
    let addr = app.local_addr()?;
    tracing::info!(%addr, embedded_database = database.embedded.is_some(), "echoloop listening on http://{addr}");

    let (supervisor_stop, supervisor_stopping) = watch::channel(false);
    let supervisor = database
        .embedded
        .clone()
        .map(|cluster| tokio::spawn(supervise(cluster, supervisor_stopping)));
    let result = app
        .run_until(
            shutdown_signal(),
            Duration::from_secs(args.shutdown_grace_secs),
        )
        .await;
    if let Some(task) = supervisor {
        // Not aborted: a restart in flight must finish before the cluster is
        // stopped, or it would start postgres again after the stop.
        let _ = supervisor_stop.send(true);
        let _ = task.await;
    }
    database.close().await;
    result
}

/// `echoloop migrate`.
pub async fn migrate(args: DatabaseArgs) -> anyhow::Result<()> {
    let database = Database::open(&args).await?;
    let result = database::migrate(&database.pool).await;
    database.close().await;
    result?;
    tracing::info!("migrations are current");
    Ok(())
}

/// Restarts the embedded cluster if its postmaster dies while we serve;
/// `/readyz` answers 503 in between.
async fn supervise(cluster: EmbeddedPostgres, mut stop: watch::Receiver<bool>) {
    let mut interval = tokio::time::interval(Duration::from_secs(2));
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = interval.tick() => {}
            _ = stop.wait_for(|stopping| *stopping) => return,
        }
        let probe = cluster.clone();
        let running = tokio::task::spawn_blocking(move || probe.is_running())
            .await
            .unwrap_or(true);
        if running {
            continue;
        }
        tracing::error!("embedded PostgreSQL is not running; restarting it");
        let restarting = cluster.clone();
        match tokio::task::spawn_blocking(move || restarting.start()).await {
            Ok(Ok(_)) => tracing::info!("embedded PostgreSQL restarted"),
            Ok(Err(error)) => tracing::error!(%error, "restarting the embedded PostgreSQL failed"),
            Err(error) => tracing::error!(%error, "restarting the embedded PostgreSQL panicked"),
        }
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = ctrl_c => tracing::info!("SIGINT received"),
        _ = terminate => tracing::info!("SIGTERM received"),
    }
}
