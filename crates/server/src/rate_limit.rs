//! Abuse limits as fixed-window counters in PostgreSQL, so every server
//! instance counts against the same numbers (see
//! docs/decisions/0005-rate-limiting-in-postgresql.md).

use std::time::Duration;

use sqlx::PgPool;

use crate::http::error::Error;

pub const DEFAULT_WINDOW_SECS: u64 = 900;
pub const DEFAULT_LOGIN_PER_IP: u32 = 50;
pub const DEFAULT_LOGIN_PER_ACCOUNT: u32 = 10;
pub const DEFAULT_REGISTER_PER_IP: u32 = 10;
pub const DEFAULT_REGISTER_PER_ACCOUNT: u32 = 5;

/// Attempts allowed per window; 0 disables a limit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateLimitSettings {
    pub window: Duration,
    pub login_per_ip: u32,
    pub login_per_account: u32,
    pub register_per_ip: u32,
    pub register_per_account: u32,
    /// A header set by a trusted reverse proxy that carries the client's
    /// address (e.g. `x-real-ip`); unset: the TCP peer address.
    pub client_ip_header: Option<String>,
}

impl Default for RateLimitSettings {
    fn default() -> Self {
        RateLimitSettings {
            window: Duration::from_secs(DEFAULT_WINDOW_SECS),
            login_per_ip: DEFAULT_LOGIN_PER_IP,
            login_per_account: DEFAULT_LOGIN_PER_ACCOUNT,
            register_per_ip: DEFAULT_REGISTER_PER_IP,
            register_per_account: DEFAULT_REGISTER_PER_ACCOUNT,
            client_ip_header: None,
        }
    }
}

/// Counts one attempt under `key`; once more than `limit` attempts fall in
/// the current window, answers 429 with the seconds until it ends.
pub async fn hit(pool: &PgPool, key: &str, limit: u32, window: Duration) -> Result<(), Error> {
    if limit == 0 {
        return Ok(());
    }
    let (hits, remaining) = crate::db::rate_limits::hit(pool, key, window).await?;
    if hits > i64::from(limit) {
        let retry_after_secs = remaining.ceil().max(1.0) as u64;
        return Err(Error::TooManyRequests { retry_after_secs });
    }
    Ok(())
}
