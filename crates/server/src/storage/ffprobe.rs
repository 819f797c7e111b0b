//! What ffprobe says about a stored object: whether it is audio/video at
//! all and how long it is. Durations are measured here, never taken from
//! the client.

use std::process::Stdio;
use std::time::Duration;

use anyhow::Context;
use futures::StreamExt;
use tokio::io::AsyncWriteExt;
use tokio::process::Command;

use super::{Backend, Storage};

/// What ffprobe found.
#[derive(Debug, Clone, PartialEq)]
pub struct Probe {
    /// Milliseconds, when the container or the packets tell.
    pub duration_ms: Option<i64>,
    pub has_video: bool,
    pub has_audio: bool,
}

const TIMEOUT: Duration = Duration::from_secs(120);

/// Probes a stored object. `Ok(None)`: ffprobe does not see audio or video.
pub async fn probe(storage: &Storage, key: &str) -> anyhow::Result<Option<Probe>> {
    let first = run(
        storage,
        key,
        &["-show_entries", "format=duration:stream=codec_type"],
    )
    .await?;
    let Some(output) = first else { return Ok(None) };
    let has_video = output.contains("\"codec_type\": \"video\"");
    let has_audio = output.contains("\"codec_type\": \"audio\"");
    if !has_video && !has_audio {
        return Ok(None);
    }
    let mut duration_ms = parse_duration(&output);
    if duration_ms.is_none() {
        // MediaRecorder's WebM carries no duration: read the packets.
        let packets = run(
            storage,
            key,
            &[
                "-select_streams",
                "a:0",
                "-show_entries",
                "packet=pts_time,duration_time",
            ],
        )
        .await?;
        duration_ms = packets.as_deref().and_then(last_packet_end);
    }
    Ok(Some(Probe {
        duration_ms,
        has_video,
        has_audio,
    }))
}

async fn run(storage: &Storage, key: &str, entries: &[&str]) -> anyhow::Result<Option<String>> {
    let mut command = Command::new("ffprobe");
    command
        .args(["-v", "error", "-of", "json"])
        .args(entries)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true);
    let child = match storage.backend() {
        Backend::Local { root } => {
            command.arg(root.join(key)).stdin(Stdio::null());
            command
                .spawn()
                .context("cannot run ffprobe (Debian package ffmpeg)")?
        }
        Backend::Multipart { .. } => {
            // Fed from the store as a stream: never the whole file in memory.
            command.arg("pipe:0").stdin(Stdio::piped());
            let mut child = command
                .spawn()
                .context("cannot run ffprobe (Debian package ffmpeg)")?;
            if let Some(mut stdin) = child.stdin.take() {
                let mut stream = storage.get_range(key, None).await?;
                tokio::spawn(async move {
                    while let Some(Ok(chunk)) = stream.next().await {
                        // ffprobe closes its input once it has seen enough.
                        if stdin.write_all(&chunk).await.is_err() {
                            break;
                        }
                    }
                });
            }
            child
        }
    };
    let output = tokio::time::timeout(TIMEOUT, child.wait_with_output())
        .await
        .context("ffprobe timed out")?
        .context("ffprobe failed")?;
    if !output.status.success() {
        return Ok(None);
    }
    Ok(Some(String::from_utf8_lossy(&output.stdout).into_owned()))
}

fn parse_duration(json: &str) -> Option<i64> {
    let value: serde_json::Value = serde_json::from_str(json).ok()?;
    let seconds: f64 = value["format"]["duration"].as_str()?.parse().ok()?;
    to_ms(seconds)
}

fn last_packet_end(json: &str) -> Option<i64> {
    let value: serde_json::Value = serde_json::from_str(json).ok()?;
    let packets = value["packets"].as_array()?;
    let end = packets
        .iter()
        .filter_map(|packet| {
            let pts: f64 = packet["pts_time"].as_str()?.parse().ok()?;
            let duration: f64 = packet["duration_time"]
                .as_str()
                .and_then(|d| d.parse().ok())
                .unwrap_or(0.0);
            Some(pts + duration)
        })
        .fold(0.0_f64, f64::max);
    to_ms(end)
}

fn to_ms(seconds: f64) -> Option<i64> {
    if !seconds.is_finite() || seconds <= 0.0 {
        return None;
    }
    #[allow(clippy::cast_possible_truncation)]
    let ms = (seconds * 1000.0).round() as i64;
    (ms > 0).then_some(ms)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn container_duration_is_read_in_ms() {
        assert_eq!(
            parse_duration(r#"{"format": {"duration": "2.345600"}}"#),
            Some(2346)
        );
        assert_eq!(parse_duration(r#"{"format": {}}"#), None);
        assert_eq!(parse_duration(r#"{"format": {"duration": "N/A"}}"#), None);
    }

    #[test]
    fn packet_end_is_the_fallback() {
        let json = r#"{"packets": [{"pts_time": "0.000", "duration_time": "0.020"}, {"pts_time": "1.480", "duration_time": "0.020"}]}"#;
        assert_eq!(last_packet_end(json), Some(1500));
        assert_eq!(last_packet_end(r#"{"packets": []}"#), None);
    }
}
