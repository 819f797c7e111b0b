//! Audio input: any file a browser records or a learner imports, as 16 kHz
//! mono f32 in bounded chunks.
//!
//! symphonia (with libopus for Opus) decodes what it can in-process; files it
//! does not recognise (3gp, video codecs it cannot skip, exotic containers)
//! go through an `ffmpeg` subprocess that streams s16le on stdout. Either way
//! the caller sees the same iterator, and memory stays bounded by the chunk
//! size however long the input is.

mod ffmpeg_source;
mod symphonia_source;

use std::path::{Path, PathBuf};

use crate::error::{Result, SpeechError};
use echoloop_core::audio::resample::MonoResampler;

/// The rate every engine here works at.
pub use echoloop_core::audio::SAMPLE_RATE;

/// A decoder that yields mono blocks at its own sample rate.
trait MonoSource {
    fn sample_rate(&self) -> u32;
    /// The next block of mono samples; `Ok(None)` at the end.
    fn next_block(&mut self) -> Result<Option<Vec<f32>>>;
}

/// A stream of 16 kHz mono chunks from one file.
pub struct AudioStream {
    source: Box<dyn MonoSource>,
    resampler: Option<MonoResampler>,
    finished: bool,
    produced_any: bool,
    path: PathBuf,
}

impl AudioStream {
    /// Opens `path`, trying symphonia first and ffmpeg second.
    pub fn open(path: &Path) -> Result<Self> {
        let metadata = std::fs::metadata(path).map_err(|source| SpeechError::Io {
            path: path.to_owned(),
            source,
        })?;
        if metadata.len() == 0 {
            return Err(SpeechError::EmptyAudio(path.to_owned()));
        }
        let source: Box<dyn MonoSource> = match symphonia_source::SymphoniaSource::open(path) {
            Ok(s) => Box::new(s),
            // Whatever symphonia cannot open, ffmpeg may: it knows far more
            // containers and codecs. Its verdict is the one we report.
            Err(_) => Box::new(ffmpeg_source::FfmpegSource::spawn(path)?),
        };
        let resampler = if source.sample_rate() == SAMPLE_RATE {
            None
        } else {
            Some(MonoResampler::new(source.sample_rate(), SAMPLE_RATE)?)
        };
        Ok(Self {
            source,
            resampler,
            finished: false,
            produced_any: false,
            path: path.to_owned(),
        })
    }

    fn next_chunk(&mut self) -> Result<Option<Vec<f32>>> {
        loop {
            if self.finished {
                return Ok(None);
            }
            let block = self.source.next_block()?;
            let out = match (&mut self.resampler, block) {
                (None, Some(b)) => b,
                (None, None) => {
                    self.finished = true;
                    Vec::new()
                }
                (Some(r), Some(b)) => r.push(&b)?,
                (Some(r), None) => {
                    self.finished = true;
                    r.finish()?
                }
            };
            if !out.is_empty() {
                self.produced_any = true;
                return Ok(Some(out));
            }
            if self.finished && !self.produced_any {
                return Err(SpeechError::EmptyAudio(self.path.clone()));
            }
        }
    }
}

impl Iterator for AudioStream {
    type Item = Result<Vec<f32>>;

    fn next(&mut self) -> Option<Self::Item> {
        match self.next_chunk() {
            Ok(Some(chunk)) => Some(Ok(chunk)),
            Ok(None) => None,
            Err(e) => {
                self.finished = true;
                Some(Err(e))
            }
        }
    }
}

/// Decodes a whole file to 16 kHz mono. For takes and clips, which are
/// short; long inputs should use [`AudioStream`] directly.
pub fn decode_file(path: &Path) -> Result<Vec<f32>> {
    let mut all = Vec::new();
    for chunk in AudioStream::open(path)? {
        all.extend(chunk?);
    }
    Ok(all)
}

/// Averages interleaved channels into one.
fn downmix(interleaved: &[f32], channels: usize) -> Vec<f32> {
    if channels <= 1 {
        return interleaved.to_vec();
    }
    interleaved
        .chunks_exact(channels)
        .map(|frame| frame.iter().sum::<f32>() / channels as f32)
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn downmix_averages_channels() {
        assert_eq!(downmix(&[1.0, 0.0, 0.5, 0.5], 2), vec![0.5, 0.5]);
        assert_eq!(downmix(&[0.25, -0.25], 1), vec![0.25, -0.25]);
    }
}
