//! The `echoloop` command line. Every option can also come from the
//! environment variable named in its help.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

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

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP server (API and web app); migrations run first.
    Serve(ServeArgs),
    /// Apply pending database migrations and exit.
    Migrate(DatabaseArgs),
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
}
