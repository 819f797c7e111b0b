//! Streaming resampling to 16 kHz with rubato's FFT resampler.

use rubato::audioadapter_buffers::direct::InterleavedSlice;
use rubato::{Fft, FixedSync, Indexing, Resampler};

use crate::error::{Result, SpeechError};

const CHUNK_FRAMES: usize = 1024;

/// Resamples a mono stream block by block; trims the resampler's start-up
/// delay so output sample 0 lines up with input sample 0.
pub(super) struct MonoResampler {
    inner: Fft<f32>,
    pending: Vec<f32>,
    ratio: f64,
    consumed_in: u64,
    emitted_out: u64,
    delay_left: usize,
}

fn err(e: impl std::fmt::Display) -> SpeechError {
    SpeechError::Resample(e.to_string())
}

impl MonoResampler {
    pub(super) fn new(from_hz: u32, to_hz: u32) -> Result<Self> {
        let inner = Fft::<f32>::new(
            from_hz as usize,
            to_hz as usize,
            CHUNK_FRAMES,
            1,
            FixedSync::Input,
        )
        .map_err(err)?;
        let delay_left = inner.output_delay();
        Ok(Self {
            inner,
            pending: Vec::new(),
            ratio: f64::from(to_hz) / f64::from(from_hz),
            consumed_in: 0,
            emitted_out: 0,
            delay_left,
        })
    }

    /// Feeds a block; returns whatever output is ready.
    pub(super) fn push(&mut self, block: &[f32]) -> Result<Vec<f32>> {
        self.pending.extend_from_slice(block);
        let mut out = Vec::new();
        while self.pending.len() >= self.inner.input_frames_next() {
            let need = self.inner.input_frames_next();
            self.run(need, need, &mut out)?;
        }
        Ok(out)
    }

    /// Flushes the tail: pads with silence until every input sample has
    /// produced its output.
    pub(super) fn finish(&mut self) -> Result<Vec<f32>> {
        let total_in = self.consumed_in + self.pending.len() as u64;
        let expected_out = (total_in as f64 * self.ratio).round() as u64;
        let mut out = Vec::new();
        // Bounded: each round emits at least one chunk of output.
        for _ in 0..64 {
            if self.emitted_out >= expected_out {
                break;
            }
            let need = self.inner.input_frames_next();
            let available = self.pending.len().min(need);
            self.pending.resize(need, 0.0);
            self.run(need, available, &mut out)?;
        }
        let surplus = self.emitted_out.saturating_sub(expected_out) as usize;
        out.truncate(out.len().saturating_sub(surplus));
        self.emitted_out = expected_out;
        Ok(out)
    }

    fn run(&mut self, frames: usize, real_frames: usize, out: &mut Vec<f32>) -> Result<()> {
        let input = InterleavedSlice::new(&self.pending[..frames], 1, frames).map_err(err)?;
        let indexing = Indexing {
            input_offset: 0,
            output_offset: 0,
            partial_len: None,
            active_channels_mask: None,
        };
        let produced = self
            .inner
            .process(&input, Some(&indexing))
            .map_err(err)?
            .take_data();
        self.pending.drain(..frames);
        self.consumed_in += real_frames as u64;
        let skip = self.delay_left.min(produced.len());
        self.delay_left -= skip;
        self.emitted_out += (produced.len() - skip) as u64;
        out.extend_from_slice(&produced[skip..]);
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn resampling_keeps_duration_and_frequency() {
        // One second of 440 Hz at 44.1 kHz, fed in odd-sized blocks.
        let input: Vec<f32> = (0..44_100)
            .map(|i| (2.0 * std::f32::consts::PI * 440.0 * i as f32 / 44_100.0).sin())
            .collect();
        let mut r = MonoResampler::new(44_100, 16_000).unwrap();
        let mut out = Vec::new();
        for block in input.chunks(777) {
            out.extend(r.push(block).unwrap());
        }
        out.extend(r.finish().unwrap());
        assert_eq!(out.len(), 16_000);
        // Zero crossings of 440 Hz over one second: about 880.
        let crossings = out
            .windows(2)
            .filter(|w| (w[0] < 0.0) != (w[1] < 0.0))
            .count();
        assert!((870..=890).contains(&crossings), "{crossings}");
    }
}
