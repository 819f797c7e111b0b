//! A small open-loop load generator for the benchmarks (`make bench`): sends
//! GET requests at a fixed rate, whatever the latency, and reports the
//! latency distribution (so a slow server shows as high percentiles, not as
//! a lower rate).
//!
//! `loadgen URL RATE_PER_SEC SECONDS [HEADER: VALUE]...`

use std::time::{Duration, Instant};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let [_, url, rate, seconds, headers @ ..] = args.as_slice() else {
        anyhow::bail!("usage: loadgen URL RATE_PER_SEC SECONDS [HEADER: VALUE]...");
    };
    let rate: u64 = rate.parse()?;
    let seconds: u64 = seconds.parse()?;
    let mut header_map = reqwest::header::HeaderMap::new();
    for header in headers {
        let (name, value) = header
            .split_once(':')
            .ok_or_else(|| anyhow::anyhow!("header {header:?} is not NAME: VALUE"))?;
        header_map.insert(
            reqwest::header::HeaderName::from_bytes(name.trim().as_bytes())?,
            value.trim().parse()?,
        );
    }
    let client = reqwest::Client::builder()
        .default_headers(header_map)
        .pool_max_idle_per_host(256)
        .build()?;
    let total = rate * seconds;
    if total == 0 {
        anyhow::bail!("RATE_PER_SEC and SECONDS must be positive");
    }
    let interval = Duration::from_nanos(1_000_000_000 / rate);
    let start = Instant::now();
    let mut tasks = Vec::with_capacity(usize::try_from(total)?);
    for i in 0..total {
        let due = start + interval * u32::try_from(i)?;
        tokio::time::sleep_until(due.into()).await;
        let client = client.clone();
        let url = url.clone();
        tasks.push(tokio::spawn(async move {
            // Latency from the scheduled send time (no coordinated omission).
            let response = client.get(&url).send().await;
            let ok = match response {
                Ok(response) => {
                    let status = response.status();
                    response.bytes().await.is_ok()
                        && (status.is_success() || status.as_u16() == 304)
                }
                Err(_) => false,
            };
            (due.elapsed(), ok)
        }));
    }
    let mut latencies = Vec::with_capacity(tasks.len());
    let mut errors = 0;
    for task in tasks {
        let (latency, ok) = task.await?;
        if !ok {
            errors += 1;
        }
        latencies.push(latency);
    }
    let elapsed = start.elapsed();
    latencies.sort();
    let pct = |p: f64| {
        let index = ((latencies.len() as f64 * p).ceil() as usize).clamp(1, latencies.len()) - 1;
        latencies[index].as_secs_f64() * 1000.0
    };
    println!(
        "requests={} errors={errors} achieved_rate={:.0}/s p50={:.2}ms p90={:.2}ms p99={:.2}ms max={:.2}ms",
        latencies.len(),
        latencies.len() as f64 / elapsed.as_secs_f64(),
        pct(0.50),
        pct(0.90),
        pct(0.99),
        pct(1.0)
    );
    Ok(())
}
