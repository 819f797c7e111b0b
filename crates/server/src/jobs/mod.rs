//! Background work in PostgreSQL. A worker loop (started by `serve`, one per
//! instance) claims one due job at a time with `FOR UPDATE SKIP LOCKED`,
//! runs it inside the claiming transaction and deletes it there, so a job's
//! database effects and its completion commit together; a crash rolls both
//! back and the job runs again after a restart.

pub mod assess_recording;
pub mod delete_account;
pub mod prepare_sentence;
pub mod transcribe_material;

use std::time::{Duration, Instant};

use anyhow::Context;
use chrono::{DateTime, Utc};
use futures::TryStreamExt;
use serde_json::Value;
use sqlx::PgPool;
use tokio::io::AsyncWriteExt;
use tokio::sync::watch;
use uuid::Uuid;

use crate::billing::StripeClient;
use crate::db;
use crate::entitlements::EntitlementSettings;
use crate::scoring::Scoring;
use crate::transcription::Transcription;

/// How often housekeeping (expired sessions, stale rate-limit counters,
/// unused sentence renditions) runs.
const HOUSEKEEPING_EVERY: Duration = Duration::from_secs(300);

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobSettings {
    /// How long an idle worker waits before looking for due jobs again.
    pub poll_interval: Duration,
}

impl Default for JobSettings {
    fn default() -> Self {
        JobSettings {
            poll_interval: Duration::from_secs(1),
        }
    }
}

/// What jobs may use besides the database.
#[derive(Clone)]
pub struct JobContext {
    /// Set when billing is configured: account deletion removes the Stripe customer.
    pub stripe: Option<StripeClient>,
    /// Where media and recordings live: account deletion removes the user's objects.
    pub storage: crate::storage::Storage,
    /// The built-in pronunciation engine; `None`: this server does not score.
    pub scoring: Option<Scoring>,
    /// Whisper for materials' media; `None`: this server does not transcribe.
    pub transcription: Option<Transcription>,
    /// Plan limits: scoring counts against the day's assessments,
    /// transcription against the month's minutes.
    pub entitlements: EntitlementSettings,
    /// The server's clock: a job's write to a synced row is stamped with it.
    pub clock: crate::sync::ServerClock,
}

impl JobContext {
    /// The kinds of job this instance cannot run: scoring and preparing
    /// sentences without the pronunciation engine, transcription without
    /// Whisper. In a fleet where only some instances score or transcribe,
    /// the others leave those jobs to them instead of giving them up.
    pub fn unable_kinds(&self) -> Vec<&'static str> {
        let mut unable = Vec::new();
        if self.scoring.is_none() {
            unable.extend([assess_recording::KIND, prepare_sentence::KIND]);
        }
        if self.transcription.is_none() {
            unable.push(transcribe_material::KIND);
        }
        unable
    }
}

/// Every kind of job there is.
pub const KINDS: &[&str] = &[
    delete_account::KIND,
    assess_recording::KIND,
    prepare_sentence::KIND,
    transcribe_material::KIND,
];

/// Which jobs a worker takes. Transcribing a film takes minutes; it has a
/// worker of its own so a learner's take is never scored behind it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lane {
    /// Everything but long work (scoring, account deletion).
    Quick,
    /// Media transcription.
    Long,
}

impl Lane {
    /// Job kinds of the long lane.
    pub const LONG_KINDS: &'static [&'static str] = &[transcribe_material::KIND];

    /// Work ahead of need, taken only when nothing else of the lane is
    /// due: preparing a sentence never delays a take's score.
    pub const SPARE_KINDS: &'static [&'static str] = &[prepare_sentence::KIND];

    fn name(self) -> &'static str {
        match self {
            Lane::Quick => "quick",
            Lane::Long => "long",
        }
    }
}

/// How a job can end other than by succeeding.
#[derive(Debug)]
pub enum JobError {
    /// Something that may pass (storage, database, a helper program): try
    /// again later, with backoff, until the attempts are used.
    Retry(anyhow::Error),
    /// Trying again cannot help; `code` (stable) and `detail` (a sentence)
    /// are kept for the job's owner to read.
    GiveUp { code: &'static str, detail: String },
    /// Not yet: run again at `at`, without counting an attempt.
    Defer {
        at: DateTime<Utc>,
        code: &'static str,
        detail: String,
    },
}

impl From<anyhow::Error> for JobError {
    fn from(error: anyhow::Error) -> Self {
        JobError::Retry(error)
    }
}

impl From<sqlx::Error> for JobError {
    fn from(error: sqlx::Error) -> Self {
        JobError::Retry(error.into())
    }
}

/// Runs until `stop` turns true; a job in progress finishes first.
pub async fn run_worker(
    pool: PgPool,
    settings: JobSettings,
    context: JobContext,
    lane: Lane,
    mut stop: watch::Receiver<bool>,
) {
    tracing::info!(
        poll_ms = settings.poll_interval.as_millis() as u64,
        lane = lane.name(),
        "job worker started"
    );
    let mut last_housekeeping: Option<Instant> = None;
    loop {
        if *stop.borrow() {
            break;
        }
        if lane == Lane::Quick
            && last_housekeeping.is_none_or(|at| at.elapsed() >= HOUSEKEEPING_EVERY)
        {
            housekeeping(&pool).await;
            last_housekeeping = Some(Instant::now());
        }
        let ran = match run_next_in(&pool, &context, lane).await {
            Ok(ran) => ran,
            Err(error) => {
                tracing::warn!(%error, "job queue unavailable");
                false
            }
        };
        if ran {
            continue;
        }
        tokio::select! {
            _ = tokio::time::sleep(settings.poll_interval) => {}
            changed = stop.changed() => {
                // The sender is gone: the server stopped.
                if changed.is_err() {
                    break;
                }
            }
        }
    }
    tracing::info!(lane = lane.name(), "job worker stopped");
}

/// Runs one due job of any kind if there is one; `Ok(true)` when a job was
/// taken.
pub async fn run_next(pool: &PgPool, context: &JobContext) -> Result<bool, sqlx::Error> {
    Ok(run_next_in(pool, context, Lane::Quick).await?
        || run_next_in(pool, context, Lane::Long).await?)
}

/// Runs one due job of `lane` if there is one.
pub async fn run_next_in(
    pool: &PgPool,
    context: &JobContext,
    lane: Lane,
) -> Result<bool, sqlx::Error> {
    let mut tx = pool.begin().await?;
    let Some(job) = db::jobs::claim(
        &mut tx,
        Lane::LONG_KINDS,
        lane == Lane::Long,
        Lane::SPARE_KINDS,
        &context.unable_kinds(),
    )
    .await?
    else {
        return Ok(false);
    };
    let span =
        tracing::info_span!("job", id = %job.id, kind = %job.kind, attempt = job.attempts + 1);
    let _entered = span.enter();
    let started = Instant::now();
    // Objects the job let go of, deleted once its transaction has committed.
    let mut released = Vec::new();
    // Objects whose rows the job removed outside its transaction (a given-up
    // transcription forgets its sound), deleted once the transaction has
    // ended, committed or rolled back. Neither list is deleted while the
    // transaction may hold the learner's change counter.
    let mut forgotten = Vec::new();
    let result = match job.kind.as_str() {
        delete_account::KIND => delete_account::run(&mut tx, &job.payload, context)
            .await
            .map_err(JobError::from),
        assess_recording::KIND => assess_recording::run(&mut tx, &job.payload, context).await,
        prepare_sentence::KIND => prepare_sentence::run(&mut tx, &job.payload, context).await,
        transcribe_material::KIND => {
            transcribe_material::run(&mut tx, pool, &job.payload, context, &mut forgotten)
                .await
                .map(|key| released.extend(key))
        }
        other => Err(JobError::Retry(anyhow::anyhow!(
            "unknown job kind {other:?}"
        ))),
    };
    let Err(error) = result else {
        db::jobs::complete(&mut tx, job.id).await?;
        tx.commit().await?;
        context
            .storage
            .delete_quietly(released.into_iter().chain(forgotten))
            .await;
        tracing::info!("job done");
        crate::metrics::job_finished(&job.kind, "done", started.elapsed());
        return Ok(true);
    };
    // Undo the job's partial work, then record what happened.
    tx.rollback().await?;
    context.storage.delete_quietly(forgotten).await;
    match error {
        JobError::Retry(error) => {
            tracing::error!(error = %format!("{error:#}"), "job failed");
            db::jobs::fail(pool, job.id, &format!("{error:#}")).await?;
            crate::metrics::job_finished(&job.kind, "retry", started.elapsed());
        }
        JobError::GiveUp { code, detail } => {
            tracing::warn!(code, detail, "job given up");
            db::jobs::give_up(pool, job.id, code, &detail).await?;
            crate::metrics::job_finished(&job.kind, "gave_up", started.elapsed());
        }
        JobError::Defer { at, code, detail } => {
            tracing::info!(code, %at, "job deferred");
            db::jobs::defer(pool, job.id, at, code, &detail).await?;
            crate::metrics::job_finished(&job.kind, "deferred", started.elapsed());
        }
    }
    Ok(true)
}

/// A uuid field of a job's payload.
pub(crate) fn payload_id(payload: &Value, key: &str) -> Result<Uuid, String> {
    payload
        .get(key)
        .and_then(Value::as_str)
        .and_then(|text| text.parse().ok())
        .ok_or_else(|| format!("the job's payload has no valid {key}"))
}

/// Copies a stored object into `path` (the speech tools read files).
pub(crate) async fn fetch_object(
    context: &JobContext,
    key: &str,
    path: &std::path::Path,
) -> Result<(), JobError> {
    let mut stream = context
        .storage
        .get_range(key, None)
        .await
        .with_context(|| format!("reading the stored object {key}"))?;
    let mut file = tokio::fs::File::create(path)
        .await
        .context("opening a temporary file")?;
    while let Some(chunk) = stream
        .try_next()
        .await
        .with_context(|| format!("reading the stored object {key}"))?
    {
        file.write_all(&chunk)
            .await
            .context("writing a temporary file")?;
    }
    file.flush().await.context("writing a temporary file")?;
    Ok(())
}

async fn housekeeping(pool: &PgPool) {
    match db::sessions::delete_expired(pool).await {
        Ok(count) if count > 0 => tracing::info!(count, "removed expired sessions"),
        Ok(_) => {}
        Err(error) => tracing::warn!(%error, "removing expired sessions failed"),
    }
    match db::media_links::delete_expired(pool).await {
        Ok(count) if count > 0 => tracing::info!(count, "removed expired media links"),
        Ok(_) => {}
        Err(error) => tracing::warn!(%error, "removing expired media links failed"),
    }
    match db::renditions::delete_unused(pool).await {
        Ok(count) if count > 0 => tracing::info!(count, "removed unused sentence renditions"),
        Ok(_) => {}
        Err(error) => tracing::warn!(%error, "removing unused sentence renditions failed"),
    }
    if let Err(error) = db::rate_limits::delete_stale(pool).await {
        tracing::warn!(%error, "removing stale rate-limit counters failed");
    }
}
