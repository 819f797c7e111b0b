//! The `echoloop` command line. Every option can also come from the
//! environment variable named in its help.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::billing::{self, StripeSettings};
use crate::entitlements::{self, EntitlementSettings, PlanLimits};
use crate::http::{self, HttpSettings};
use crate::jobs::JobSettings;
use crate::rate_limit::{self, RateLimitSettings};
use crate::storage::{Storage, StorageUrl};
use crate::user_command::UserCommand;

#[derive(Debug, Parser)]
#[command(
    name = "echoloop",
    version,
    about = "Echoloop: a shadowing coach for language learners (server and tools).",
    long_about = "Echoloop: a shadowing coach for language learners.\n\n\
        With no DATABASE_URL, Echoloop runs its own private PostgreSQL cluster under the data \
        directory (the system's initdb/pg_ctl/postgres binaries, Debian package `postgresql`)."
)]
pub struct Cli {
    /// Log line format.
    #[arg(long, env = "ECHOLOOP_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text, global = true)]
    pub log_format: LogFormat,

    /// Log filter in tracing's EnvFilter syntax, e.g. `info` or `echoloop_server=debug,info`.
    #[arg(long, env = "ECHOLOOP_LOG", default_value = "info", global = true)]
    pub log: String,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line, for log collectors.
    Json,
}

/// Parsed once per process, so the size of `Serve` does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP server (API and web app); migrations run first.
    Serve(ServeArgs),
    /// Apply pending database migrations and exit.
    Migrate(DatabaseArgs),
    /// Manage accounts: create, list, set-plan, delete.
    #[command(subcommand)]
    User(UserCommand),
    /// Score a recorded take against its sentence (offline, built-in engine).
    Assess(crate::tools_command::AssessArgs),
    /// Transcribe a recording with Whisper (offline) into subtitles or JSON with word timings.
    Transcribe(crate::tools_command::TranscribeArgs),
    /// Subtitle files: import into sentence segments.
    #[command(subcommand)]
    Subtitles(crate::tools_command::SubtitlesCommand),
    /// Speech models installed on this machine.
    #[command(subcommand)]
    Models(crate::tools_command::ModelsCommand),
    /// The built-in dictionary: import FreeDict dictionaries.
    #[command(subcommand)]
    Dict(crate::dict_command::DictCommand),
}

/// Where the data lives and which database to use.
#[derive(Debug, Clone, Args)]
pub struct DatabaseArgs {
    /// Directory for Echoloop's own data: the embedded PostgreSQL cluster and local object storage.
    #[arg(long, env = "ECHOLOOP_DATA", default_value = "./data")]
    pub data_dir: PathBuf,

    /// PostgreSQL URL (postgres://user:pass@host/db). Unset: use the embedded cluster under --data-dir.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,

    /// Largest number of pooled database connections per process.
    #[arg(long, env = "ECHOLOOP_DB_MAX_CONNECTIONS", default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub db_max_connections: u32,
}

#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub database: DatabaseArgs,

    /// Address and port to listen on.
    #[arg(long, env = "ECHOLOOP_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,

    /// Directory of the built web client (index.html and assets), served at `/`.
    #[arg(long, env = "ECHOLOOP_WEB_DIR", default_value = "web/dist")]
    pub web_dir: PathBuf,

    /// Largest request body accepted by JSON endpoints, in bytes (larger: 413).
    #[arg(long, env = "ECHOLOOP_MAX_BODY_BYTES", default_value_t = 16 * 1024 * 1024)]
    pub max_body_bytes: usize,

    /// Seconds to let in-flight requests finish after SIGINT/SIGTERM.
    #[arg(long, env = "ECHOLOOP_SHUTDOWN_GRACE_SECS", default_value_t = 30)]
    pub shutdown_grace_secs: u64,

    /// Days a session stays valid without use; each use extends it (sliding expiry).
    #[arg(long, env = "ECHOLOOP_SESSION_TTL_DAYS", default_value_t = http::DEFAULT_SESSION_TTL_DAYS,
          value_parser = clap::value_parser!(u64).range(1..=3650))]
    pub session_ttl_days: u64,

    /// Milliseconds an idle background-job worker waits before polling the queue again.
    #[arg(long, env = "ECHOLOOP_JOB_POLL_MS", default_value_t = 1000, value_parser = clap::value_parser!(u64).range(10..=600_000))]
    pub job_poll_ms: u64,

    #[command(flatten)]
    pub rate_limits: RateLimitArgs,

    #[command(flatten)]
    pub plans: PlanArgs,

    #[command(flatten)]
    pub stripe: StripeArgs,

    #[command(flatten)]
    pub storage: StorageArgs,

    /// MiB of memory for encoded segment lists kept between reads (0: off).
    #[arg(long, env = "ECHOLOOP_SEGMENT_CACHE_MB", default_value_t = crate::http::list_cache::DEFAULT_SEGMENT_CACHE_MB,
          value_parser = clap::value_parser!(u64).range(0..=65_536))]
    pub segment_cache_mb: u64,

    /// Score every uploaded recording with the built-in pronunciation engine (models from
    /// `ECHOLOOP_MODELS_DIR` or the nearest `models/`; see `echoloop models list`).
    #[arg(long, env = "ECHOLOOP_SCORING", default_value_t = true, action = clap::ArgAction::Set)]
    pub scoring: bool,

    /// Directory of the speech models (`hama/`, `whisper-*/`). Unset: the nearest `models/`.
    #[arg(long, env = "ECHOLOOP_MODELS_DIR")]
    pub models_dir: Option<PathBuf>,

    /// Languages whose takes are scored, comma-separated. The engine is calibrated on English
    /// only; others run uncalibrated (docs/speech.md, "Limits").
    #[arg(long, env = "ECHOLOOP_SCORING_LANGUAGES", value_delimiter = ',', default_value = "en",
          value_parser = parse_scoring_language)]
    pub scoring_languages: Vec<String>,

    /// Serve Prometheus metrics at http://ADDR/metrics (a separate listener, e.g. 127.0.0.1:9090;
    /// unset: no metrics).
    #[arg(long, env = "ECHOLOOP_METRICS_LISTEN")]
    pub metrics_listen: Option<SocketAddr>,

    /// Transcribe materials' stored media into sentences on request (Whisper tiny.en for
    /// English, base for other languages; from the same models directory).
    #[arg(long, env = "ECHOLOOP_TRANSCRIPTION", default_value_t = true, action = clap::ArgAction::Set)]
    pub transcription: bool,
}

fn parse_scoring_language(input: &str) -> Result<String, String> {
    crate::domain::LanguageTag::parse(input.trim())
        .map(|tag| crate::scoring::language_of(Some(tag.as_ref())))
}

/// Object storage for material media and recording audio.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Media storage")]
pub struct StorageArgs {
    /// `s3://bucket/prefix` (credentials and region from the standard AWS_* variables), or a
    /// directory. Unset: `<data dir>/media`.
    #[arg(long, env = "ECHOLOOP_STORAGE_URL", value_parser = parse_storage_url)]
    pub storage_url: Option<StorageUrl>,
    /// Endpoint of an S3-compatible store (e.g. http://127.0.0.1:9000); path-style addressing.
    #[arg(long, env = "ECHOLOOP_S3_ENDPOINT")]
    pub s3_endpoint: Option<String>,
    /// Seconds between storage sweeps (expired uploads, orphaned objects).
    #[arg(long, env = "ECHOLOOP_STORAGE_SWEEP_SECS", default_value_t = 3600,
          value_parser = clap::value_parser!(u64).range(10..=86_400))]
    pub storage_sweep_secs: u64,
}

fn parse_storage_url(input: &str) -> Result<StorageUrl, String> {
    StorageUrl::parse(input)
}

impl StorageArgs {
    pub fn open(&self, data_dir: &std::path::Path) -> anyhow::Result<Storage> {
        let url = self
            .storage_url
            .clone()
            .unwrap_or_else(|| StorageUrl::Local(data_dir.join("media")));
        Storage::open(&url, self.s3_endpoint.as_deref())
    }
}

/// Abuse limits for login and registration (fixed windows shared by all
/// instances through PostgreSQL). 0 disables a limit.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Abuse limits")]
pub struct RateLimitArgs {
    /// Length of a rate-limit window, in seconds.
    #[arg(long, env = "ECHOLOOP_RATE_LIMIT_WINDOW_SECS", default_value_t = rate_limit::DEFAULT_WINDOW_SECS,
          value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub rate_limit_window_secs: u64,
    /// Login attempts per client IP per window.
    #[arg(long, env = "ECHOLOOP_LOGIN_LIMIT_PER_IP", default_value_t = rate_limit::DEFAULT_LOGIN_PER_IP)]
    pub login_limit_per_ip: u32,
    /// Login attempts per account (email) per window.
    #[arg(long, env = "ECHOLOOP_LOGIN_LIMIT_PER_ACCOUNT", default_value_t = rate_limit::DEFAULT_LOGIN_PER_ACCOUNT)]
    pub login_limit_per_account: u32,
    /// Registrations per client IP per window.
    #[arg(long, env = "ECHOLOOP_REGISTER_LIMIT_PER_IP", default_value_t = rate_limit::DEFAULT_REGISTER_PER_IP)]
    pub register_limit_per_ip: u32,
    /// Registration attempts per email per window.
    #[arg(long, env = "ECHOLOOP_REGISTER_LIMIT_PER_ACCOUNT", default_value_t = rate_limit::DEFAULT_REGISTER_PER_ACCOUNT)]
    pub register_limit_per_account: u32,
    /// Header a trusted reverse proxy sets to the client address (e.g. x-real-ip or
    /// x-forwarded-for). Unset: the TCP peer address. Set it only behind a proxy that
    /// overwrites the header, or clients can pick their own address.
    #[arg(long, env = "ECHOLOOP_CLIENT_IP_HEADER")]
    pub client_ip_header: Option<String>,
}

/// What each plan allows (see `GET /api/v1/me/entitlements`).
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Plan limits")]
pub struct PlanArgs {
    /// Whether the free plan backs up large media (imported video/audio) to object storage.
    #[arg(long, env = "ECHOLOOP_FREE_LARGE_MEDIA_BACKUP", default_value_t = false, action = clap::ArgAction::Set)]
    pub free_large_media_backup: bool,
    /// Free plan: storage for recordings and media, in megabytes (10^6 bytes).
    #[arg(long, env = "ECHOLOOP_FREE_STORAGE_MB", default_value_t = entitlements::DEFAULT_FREE_STORAGE_MB)]
    pub free_storage_mb: u64,
    /// Free plan: server-side speech recognition minutes per calendar month.
    #[arg(long, env = "ECHOLOOP_FREE_ASR_MINUTES", default_value_t = entitlements::DEFAULT_FREE_ASR_MINUTES)]
    pub free_asr_minutes: u32,
    /// Free plan: pronunciation assessments per day (UTC).
    #[arg(long, env = "ECHOLOOP_FREE_ASSESSMENTS_PER_DAY", default_value_t = entitlements::DEFAULT_FREE_ASSESSMENTS_PER_DAY)]
    pub free_assessments_per_day: u32,
    /// Whether the pro plan backs up large media.
    #[arg(long, env = "ECHOLOOP_PRO_LARGE_MEDIA_BACKUP", default_value_t = true, action = clap::ArgAction::Set)]
    pub pro_large_media_backup: bool,
    /// Pro plan: storage for recordings and media, in megabytes.
    #[arg(long, env = "ECHOLOOP_PRO_STORAGE_MB", default_value_t = entitlements::DEFAULT_PRO_STORAGE_MB)]
    pub pro_storage_mb: u64,
    /// Pro plan: server-side speech recognition minutes per calendar month.
    #[arg(long, env = "ECHOLOOP_PRO_ASR_MINUTES", default_value_t = entitlements::DEFAULT_PRO_ASR_MINUTES)]
    pub pro_asr_minutes: u32,
    /// Pro plan: pronunciation assessments per day (UTC).
    #[arg(long, env = "ECHOLOOP_PRO_ASSESSMENTS_PER_DAY", default_value_t = entitlements::DEFAULT_PRO_ASSESSMENTS_PER_DAY)]
    pub pro_assessments_per_day: u32,
}

/// Stripe billing: off unless both STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET are set.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Billing (Stripe)")]
pub struct StripeArgs {
    /// Stripe secret API key (sk_live_... or sk_test_...).
    #[arg(long, env = "STRIPE_SECRET_KEY", hide_env_values = true)]
    pub stripe_secret_key: Option<String>,
    /// Signing secret of the webhook endpoint (whsec_...), for POST /api/v1/billing/stripe/webhook.
    #[arg(long, env = "STRIPE_WEBHOOK_SECRET", hide_env_values = true)]
    pub stripe_webhook_secret: Option<String>,
    /// The Stripe Price id of the pro plan (price_...), used by Checkout.
    #[arg(long, env = "STRIPE_PRO_PRICE_ID")]
    pub stripe_pro_price_id: Option<String>,
    /// Stripe's API base URL.
    #[arg(long, env = "STRIPE_API_BASE", default_value = billing::DEFAULT_API_BASE)]
    pub stripe_api_base: String,
    /// The public URL of the web app, for Checkout's and the Portal's return links.
    #[arg(
        long,
        env = "ECHOLOOP_PUBLIC_URL",
        default_value = "http://localhost:8080"
    )]
    pub public_url: String,
}

impl StripeArgs {
    /// Billing settings, `None` when off; an error when half configured.
    /// Pure (touches nothing), so `serve` checks it before starting anything.
    pub fn settings(&self) -> anyhow::Result<Option<StripeSettings>> {
        let secret_key = self
            .stripe_secret_key
            .as_ref()
            .filter(|key| !key.is_empty());
        let webhook_secret = self
            .stripe_webhook_secret
            .as_ref()
            .filter(|key| !key.is_empty());
        match (secret_key, webhook_secret) {
            (Some(secret_key), Some(webhook_secret)) => {
                url::Url::parse(&self.stripe_api_base)
                    .map_err(|error| anyhow::anyhow!("--stripe-api-base is not a URL: {error}"))?;
                url::Url::parse(&self.public_url)
                    .map_err(|error| anyhow::anyhow!("--public-url is not a URL: {error}"))?;
                Ok(Some(StripeSettings {
                    secret_key: secret_key.clone(),
                    webhook_secret: webhook_secret.clone(),
                    pro_price_id: self.stripe_pro_price_id.clone().filter(|id| !id.is_empty()),
                    api_base: self.stripe_api_base.clone(),
                    public_url: self.public_url.clone(),
                    webhook_tolerance: billing::WEBHOOK_TOLERANCE,
                }))
            }
            (None, None) => Ok(None),
            _ => anyhow::bail!(
                "set both STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET to enable billing, or neither"
            ),
        }
    }
}

impl ServeArgs {
    pub fn http_settings(&self) -> anyhow::Result<HttpSettings> {
        let stripe = self.stripe.settings()?;
        let plans = &self.plans;
        let limits = &self.rate_limits;
        Ok(HttpSettings {
            session_ttl: Duration::from_secs(self.session_ttl_days * 24 * 3600),
            rate_limits: RateLimitSettings {
                window: Duration::from_secs(limits.rate_limit_window_secs),
                login_per_ip: limits.login_limit_per_ip,
                login_per_account: limits.login_limit_per_account,
                register_per_ip: limits.register_limit_per_ip,
                register_per_account: limits.register_limit_per_account,
                client_ip_header: limits
                    .client_ip_header
                    .clone()
                    .map(|name| name.to_ascii_lowercase()),
            },
            entitlements: EntitlementSettings {
                free: PlanLimits {
                    large_media_backup: plans.free_large_media_backup,
                    storage_bytes: plans.free_storage_mb.saturating_mul(1_000_000),
                    asr_minutes_per_month: plans.free_asr_minutes,
                    assessments_per_day: plans.free_assessments_per_day,
                },
                pro: PlanLimits {
                    large_media_backup: plans.pro_large_media_backup,
                    storage_bytes: plans.pro_storage_mb.saturating_mul(1_000_000),
                    asr_minutes_per_month: plans.pro_asr_minutes,
                    assessments_per_day: plans.pro_assessments_per_day,
                },
            },
            stripe,
            jobs: JobSettings {
                poll_interval: Duration::from_millis(self.job_poll_ms),
            },
            storage: self.storage.open(&self.database.data_dir)?,
            storage_sweep_every: Duration::from_secs(self.storage.storage_sweep_secs),
            segment_cache_bytes: self.segment_cache_mb << 20,
            scoring: self.scoring,
            models_dir: self.models_dir.clone(),
            scoring_languages: self.scoring_languages.clone(),
            transcription: self.transcription,
            ..HttpSettings::new(self.web_dir.clone(), self.max_body_bytes)
        })
    }
}
