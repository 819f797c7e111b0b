//! In-process decoding with symphonia, plus libopus for Opus tracks.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use symphonia::core::codecs::audio::{AudioDecoder, AudioDecoderOptions};
use symphonia::core::codecs::registry::CodecRegistry;
use symphonia::core::errors::Error as SymphoniaError;
use symphonia::core::formats::probe::Hint;
use symphonia::core::formats::{FormatOptions, FormatReader, TrackType};
use symphonia::core::io::MediaSourceStream;
use symphonia::core::meta::MetadataOptions;
use symphonia_adapter_libopus::OpusDecoder;

use super::{MonoSource, downmix};
use crate::error::{Result, SpeechError};

/// symphonia's codecs plus Opus, built once.
fn codecs() -> &'static CodecRegistry {
    static REGISTRY: OnceLock<CodecRegistry> = OnceLock::new();
    REGISTRY.get_or_init(|| {
        let mut registry = CodecRegistry::new();
        symphonia::default::register_enabled_codecs(&mut registry);
        registry.register_audio_decoder::<OpusDecoder>();
        registry
    })
}

pub(super) struct SymphoniaSource {
    format: Box<dyn FormatReader>,
    decoder: Box<dyn AudioDecoder>,
    track_id: u32,
    sample_rate: u32,
    scratch: Vec<f32>,
    path: PathBuf,
}

impl SymphoniaSource {
    /// Fails (and the caller falls back to ffmpeg) when the container is not
    /// recognised or no decoder exists for its audio track.
    pub(super) fn open(path: &Path) -> Result<Self> {
        let unsupported = |detail: String| SpeechError::UnsupportedFormat {
            path: path.to_owned(),
            detail,
        };
        let file = File::open(path).map_err(|source| SpeechError::Io {
            path: path.to_owned(),
            source,
        })?;
        let stream = MediaSourceStream::new(Box::new(file), Default::default());
        let mut hint = Hint::new();
        if let Some(ext) = path.extension().and_then(|e| e.to_str()) {
            hint.with_extension(ext);
        }
        let format = symphonia::default::get_probe()
            .probe(
                &hint,
                stream,
                FormatOptions::default(),
                MetadataOptions::default(),
            )
            .map_err(|e| unsupported(e.to_string()))?;
        let track = format
            .default_track(TrackType::Audio)
            .ok_or_else(|| unsupported("no audio track".into()))?;
        let params = track
            .codec_params
            .as_ref()
            .and_then(|p| p.audio())
            .ok_or_else(|| unsupported("no audio codec parameters".into()))?;
        let sample_rate = params
            .sample_rate
            .ok_or_else(|| unsupported("unknown sample rate".into()))?;
        let decoder = codecs()
            .make_audio_decoder(params, &AudioDecoderOptions::default())
            .map_err(|e| unsupported(e.to_string()))?;
        let track_id = track.id;
        Ok(Self {
            format,
            decoder,
            track_id,
            sample_rate,
            scratch: Vec::new(),
            path: path.to_owned(),
        })
    }
}

impl MonoSource for SymphoniaSource {
    fn sample_rate(&self) -> u32 {
        self.sample_rate
    }

    fn next_block(&mut self) -> Result<Option<Vec<f32>>> {
        loop {
            let packet = match self.format.next_packet() {
                Ok(Some(p)) => p,
                Ok(None) => return Ok(None),
                // A recording cut short (browser tab closed, upload truncated)
                // ends early: keep what was decoded rather than lose the take.
                Err(SymphoniaError::IoError(e))
                    if e.kind() == std::io::ErrorKind::UnexpectedEof =>
                {
                    return Ok(None);
                }
                Err(SymphoniaError::ResetRequired) => return Ok(None),
                Err(e) => {
                    return Err(SpeechError::CorruptAudio {
                        path: self.path.clone(),
                        detail: e.to_string(),
                    });
                }
            };
            if packet.track_id != self.track_id {
                continue;
            }
            match self.decoder.decode(&packet) {
                Ok(buffer) => {
                    let channels = buffer.spec().channels().count();
                    self.scratch.resize(buffer.samples_interleaved(), 0.0);
                    buffer.copy_to_slice_interleaved(&mut self.scratch);
                    return Ok(Some(downmix(&self.scratch, channels)));
                }
                // One damaged packet costs a few milliseconds, not the take.
                Err(SymphoniaError::DecodeError(_)) => continue,
                Err(e) => {
                    return Err(SpeechError::CorruptAudio {
                        path: self.path.clone(),
                        detail: e.to_string(),
                    });
                }
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// Browsers record webm/opus and ogg/opus: these must decode in-process
    /// (libopus adapter), not through the ffmpeg fallback.
    #[test]
    fn opus_in_webm_and_ogg_decodes_in_process() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["take.webm", "take.ogg"] {
            let path = dir.path().join(name);
            let status = std::process::Command::new("ffmpeg")
                .args([
                    "-v",
                    "error",
                    "-y",
                    "-f",
                    "lavfi",
                    "-i",
                    "sine=frequency=440:duration=1",
                ])
                .args(["-c:a", "libopus"])
                .arg(&path)
                .status()
                .unwrap();
            assert!(status.success());
            let mut source = SymphoniaSource::open(&path).unwrap();
            assert_eq!(source.sample_rate(), 48_000);
            let mut total = 0;
            while let Some(block) = source.next_block().unwrap() {
                total += block.len();
            }
            assert!((47_000..=50_000).contains(&total), "{name}: {total}");
        }
    }
}
