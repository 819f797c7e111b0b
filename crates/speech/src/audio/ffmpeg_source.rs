//! Fallback decoding through an `ffmpeg` subprocess, which resamples and
//! downmixes itself and streams s16le on stdout.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::thread::JoinHandle;

use super::{MonoSource, SAMPLE_RATE};
use crate::error::{Result, SpeechError};

const READ_BYTES: usize = 32 * 1024;

pub(super) struct FfmpegSource {
    child: Child,
    stdout: ChildStdout,
    stderr: Option<JoinHandle<String>>,
    leftover: Option<u8>,
    produced_any: bool,
    path: PathBuf,
}

impl FfmpegSource {
    pub(super) fn spawn(path: &Path) -> Result<Self> {
        let mut child = Command::new("ffmpeg")
            .args(["-nostdin", "-hide_banner", "-v", "error", "-i"])
            .arg(path)
            .args(["-vn", "-ac", "1", "-ar", &SAMPLE_RATE.to_string()])
            .args(["-f", "s16le", "-"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| SpeechError::Tool {
                program: "ffmpeg",
                detail: e.to_string(),
            })?;
        let missing = || SpeechError::Tool {
            program: "ffmpeg",
            detail: "no pipe".into(),
        };
        let stdout = child.stdout.take().ok_or_else(missing)?;
        let mut stderr = child.stderr.take().ok_or_else(missing)?;
        // Drain stderr on a thread so a chatty ffmpeg cannot block on a full
        // pipe while we read stdout.
        let stderr = std::thread::spawn(move || {
            let mut text = String::new();
            let _ = stderr.read_to_string(&mut text);
            text
        });
        Ok(Self {
            child,
            stdout,
            stderr: Some(stderr),
            leftover: None,
            produced_any: false,
            path: path.to_owned(),
        })
    }

    fn finish(&mut self) -> Result<Option<Vec<f32>>> {
        let status = self.child.wait().map_err(|e| SpeechError::Tool {
            program: "ffmpeg",
            detail: e.to_string(),
        })?;
        let stderr = self
            .stderr
            .take()
            .and_then(|h| h.join().ok())
            .unwrap_or_default();
        let detail = stderr.lines().last().unwrap_or("no detail").to_owned();
        if !status.success() && !self.produced_any {
            return Err(SpeechError::UnsupportedFormat {
                path: self.path.clone(),
                detail,
            });
        }
        Ok(None)
    }
}

impl MonoSource for FfmpegSource {
    fn sample_rate(&self) -> u32 {
        SAMPLE_RATE
    }

    fn next_block(&mut self) -> Result<Option<Vec<f32>>> {
        let mut bytes = vec![0u8; READ_BYTES];
        let mut filled = 0;
        if let Some(b) = self.leftover.take() {
            bytes[0] = b;
            filled = 1;
        }
        let n = self
            .stdout
            .read(&mut bytes[filled..])
            .map_err(|source| SpeechError::Io {
                path: self.path.clone(),
                source,
            })?;
        if n == 0 {
            return self.finish();
        }
        filled += n;
        if filled % 2 == 1 {
            self.leftover = Some(bytes[filled - 1]);
            filled -= 1;
        }
        self.produced_any |= filled > 0;
        Ok(Some(
            bytes[..filled]
                .chunks_exact(2)
                .map(|b| f32::from(i16::from_le_bytes([b[0], b[1]])) / 32768.0)
                .collect(),
        ))
    }
}

impl Drop for FfmpegSource {
    fn drop(&mut self) {
        // Stop an unfinished decode (caller stopped iterating early).
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
