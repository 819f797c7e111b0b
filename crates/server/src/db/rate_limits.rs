use std::time::Duration;

use sqlx::PgPool;

/// Adds one hit to `key`'s counter for the current window (windows are
/// aligned to the epoch, so every instance agrees on them) and returns the
/// hits so far and the seconds left in the window. One statement: the row
/// lock serialises concurrent hits.
pub async fn hit(pool: &PgPool, key: &str, window: Duration) -> Result<(i64, f64), sqlx::Error> {
    let window_secs = window.as_secs().max(1) as f64;
    let (hits, remaining): (i32, f64) = sqlx::query_as(
        "INSERT INTO rate_limit_counters AS c (key, window_start, hits)
         VALUES ($1, to_timestamp(floor(extract(epoch FROM now()) / $2) * $2), 1)
         ON CONFLICT (key) DO UPDATE SET
             hits = CASE WHEN c.window_start = EXCLUDED.window_start THEN least(c.hits, 2147483646) + 1 ELSE 1 END,
             window_start = EXCLUDED.window_start
         RETURNING hits,
                   extract(epoch FROM (window_start + make_interval(secs => $2) - now()))::float8",
    )
    .bind(key)
    .bind(window_secs)
    .fetch_one(pool)
    .await?;
    Ok((i64::from(hits), remaining))
}

/// Housekeeping: counters whose window ended long ago.
pub async fn delete_stale(pool: &PgPool) -> Result<u64, sqlx::Error> {
    let done = sqlx::query(
        "DELETE FROM rate_limit_counters WHERE window_start < now() - interval '1 day'",
    )
    .execute(pool)
    .await?;
    Ok(done.rows_affected())
}
