//! Tracing set-up, once per process.

use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::format::FmtSpan;

use crate::cli::LogFormat;

pub fn init(format: LogFormat, filter: &str) -> anyhow::Result<()> {
    let mut env_filter = EnvFilter::try_new(filter)
        .map_err(|error| anyhow::anyhow!("invalid --log filter {filter:?}: {error}"))?;
    if !filter.contains("symphonia") {
        // The decoder logs every failed format probe as an error, although
        // trying the next decoder is the normal path; we report the outcome.
        for quiet in ["symphonia_core=off", "symphonia=off"] {
            if let Ok(directive) = quiet.parse() {
                env_filter = env_filter.add_directive(directive);
            }
        }
    }
    let builder = tracing_subscriber::fmt()
        .with_env_filter(env_filter)
        .with_writer(std::io::stderr)
        .with_span_events(FmtSpan::NONE);
    let result = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .try_init(),
    };
    result.map_err(|error| anyhow::anyhow!("cannot set up logging: {error}"))
}
