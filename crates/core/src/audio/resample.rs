//! Resampling to 16 kHz with rubato's FFT resampler: streaming for long
//! files (the server's decoder) and in one go for a clip (the browser's
//! take and segment, through wasm).

use rubato::audioadapter_buffers::direct::InterleavedSlice;
use rubato::{Fft, FixedSync, Indexing, Resampler};

/// Rubato refused the rates or the data.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("resampling failed: {0}")]
pub struct ResampleError(String);

type Result<T> = std::result::Result<T, ResampleError>;

const CHUNK_FRAMES: usize = 1024;

/// Resamples a mono stream block by block; trims the resampler's start-up
/// delay so output sample 0 lines up with input sample 0.
pub struct MonoResampler {
    inner: Fft<f32>,
    pending: Vec<f32>,
    ratio: f64,
    consumed_in: u64,
    emitted_out: u64,
    delay_left: usize,
}

fn err(e: impl std::fmt::Display) -> ResampleError {
    ResampleError(e.to_string())
}

/// Lowest and highest rates [`resample`] accepts (what browsers decode).
pub const RATES_HZ: std::ops::RangeInclusive<u32> = 8_000..=384_000;

/// A whole clip at `from_hz` at `to_hz`, aligned sample for sample and of
/// the same duration.
pub fn resample(samples: &[f32], from_hz: u32, to_hz: u32) -> Result<Vec<f32>> {
    for rate in [from_hz, to_hz] {
        if !RATES_HZ.contains(&rate) {
            return Err(ResampleError(format!(
                "{rate} Hz is outside {} to {} Hz",
                RATES_HZ.start(),
                RATES_HZ.end()
            )));
        }
    }
    if from_hz == to_hz {
        return Ok(samples.to_vec());
    }
    let mut resampler = MonoResampler::new(from_hz, to_hz)?;
    let mut out = resampler.push(samples)?;
    out.extend(resampler.finish()?);
    Ok(out)
}

impl MonoResampler {
    pub fn new(from_hz: u32, to_hz: u32) -> Result<Self> {
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
    pub fn push(&mut self, block: &[f32]) -> Result<Vec<f32>> {
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
    pub fn finish(&mut self) -> Result<Vec<f32>> {
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

    #[test]
    fn a_clip_is_resampled_in_one_go_and_bad_rates_are_refused() {
        let tone: Vec<f32> = (0..48_000)
            .map(|i| 0.5 * (2.0 * std::f32::consts::PI * 440.0 * i as f32 / 48_000.0).sin())
            .collect();
        let out = resample(&tone, 48_000, 16_000).unwrap();
        assert_eq!(out.len(), 16_000);
        let peak = out[1000..15_000].iter().fold(0f32, |m, x| m.max(x.abs()));
        assert!((peak - 0.5).abs() < 0.02, "{peak}");
        // 12 kHz is above the new Nyquist frequency: filtered out, not folded to 4 kHz.
        let high: Vec<f32> = (0..48_000)
            .map(|i| (2.0 * std::f32::consts::PI * 12_000.0 * i as f32 / 48_000.0).sin())
            .collect();
        let folded = resample(&high, 48_000, 16_000).unwrap();
        let rest = folded[1000..15_000]
            .iter()
            .fold(0f32, |m, x| m.max(x.abs()));
        assert!(rest < 0.01, "{rest}");
        assert_eq!(resample(&tone, 16_000, 16_000).unwrap(), tone);
        assert_eq!(
            resample(&tone, 0, 16_000).unwrap_err().to_string(),
            "resampling failed: 0 Hz is outside 8000 to 384000 Hz"
        );
    }
}
