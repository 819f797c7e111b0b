//! Where the database comes from (an external server or the embedded
//! cluster), the connection pool, and the embedded migrations.

pub mod embedded;

use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{ConnectOptions, PgPool};

pub use embedded::{EmbeddedError, EmbeddedPostgres};

/// Every migration under `/migrations`, compiled into the binary.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations");

/// The name of the application database inside the embedded cluster.
pub const EMBEDDED_DATABASE: &str = "echoloop";

#[derive(Debug, thiserror::Error)]
pub enum DatabaseError {
    #[error("DATABASE_URL is not a valid PostgreSQL URL: {0}")]
    BadUrl(String),
    // sqlx errors already print their causes, so they are kept as text here
    // (a `source` would repeat them in the one-line error an operator sees).
    #[error("cannot connect to the database: {0}")]
    Connect(String),
    #[error("migrating the database failed: {0}")]
    Migrate(String),
    #[error(transparent)]
    Embedded(#[from] EmbeddedError),
    #[error("database error: {0}")]
    Query(String),
}

impl From<sqlx::Error> for DatabaseError {
    fn from(error: sqlx::Error) -> Self {
        DatabaseError::Query(error.to_string())
    }
}

impl From<sqlx::migrate::MigrateError> for DatabaseError {
    fn from(error: sqlx::migrate::MigrateError) -> Self {
        DatabaseError::Migrate(error.to_string())
    }
}

fn connect_error(error: sqlx::Error) -> DatabaseError {
    DatabaseError::Connect(error.to_string())
}

pub fn parse_url(url: &str) -> Result<PgConnectOptions, DatabaseError> {
    let scheme = url.split_once("://").map(|(scheme, _)| scheme);
    if !matches!(scheme, Some("postgres" | "postgresql")) {
        return Err(DatabaseError::BadUrl(
            "expected postgres://user:password@host:port/database".into(),
        ));
    }
    url.parse::<PgConnectOptions>()
        .map_err(|error| DatabaseError::BadUrl(error.to_string()))
}

/// A pool that fails fast when the server is down, so `/readyz` and requests
/// answer 503 instead of hanging.
pub async fn connect(
    options: PgConnectOptions,
    max_connections: u32,
) -> Result<PgPool, DatabaseError> {
    PgPoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(Duration::from_secs(3))
        .connect_with(options)
        .await
        .map_err(connect_error)
}

/// Creates `name` in the embedded cluster when it does not exist yet.
pub async fn ensure_database(cluster: &EmbeddedPostgres, name: &str) -> Result<(), DatabaseError> {
    let mut conn = cluster
        .connect_options("postgres")
        .connect()
        .await
        .map_err(connect_error)?;
    let exists: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
            .bind(name)
            .fetch_one(&mut conn)
            .await?;
    if !exists {
        // Identifiers cannot be bound as parameters; the name is quoted.
        let statement = format!("CREATE DATABASE \"{}\"", name.replace('"', "\"\""));
        sqlx::query(sqlx::AssertSqlSafe(statement))
            .execute(&mut conn)
            .await?;
    }
    Ok(())
}

/// Applies pending migrations; applied ones are skipped (checksummed).
pub async fn migrate(pool: &PgPool) -> Result<(), DatabaseError> {
    MIGRATOR.run(pool).await?;
    Ok(())
}

/// Whether every migration this binary knows has been applied successfully.
pub async fn migrations_current(pool: &PgPool) -> Result<bool, sqlx::Error> {
    let applied: Vec<i64> =
        sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success ORDER BY version")
            .fetch_all(pool)
            .await?;
    Ok(MIGRATOR
        .iter()
        .filter(|m| m.migration_type.is_up_migration())
        .all(|m| applied.binary_search(&m.version).is_ok()))
}
