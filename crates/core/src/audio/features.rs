//! MFCC features for comparing two recordings (the shadowing DTW): 25 ms
//! Hann windows every 10 ms, 40 mel bands, log, DCT to 13 cepstra without
//! c0 (loudness), mean-normalised per recording so microphones and voices
//! matter less than what is said.

use realfft::RealFftPlanner;

use crate::audio::SAMPLE_RATE;

pub const HOP: usize = 160;
pub const HOP_MS: u32 = 10;
const WINDOW: usize = 400;
const FFT: usize = 512;
const MELS: usize = 40;
const CEPSTRA: usize = 13;

fn hz_to_mel(hz: f32) -> f32 {
    2595.0 * (1.0 + hz / 700.0).log10()
}

fn mel_to_hz(mel: f32) -> f32 {
    700.0 * (10f32.powf(mel / 2595.0) - 1.0)
}

/// Triangular mel filters over the FFT bins, 20 Hz – 7.6 kHz.
fn mel_filterbank() -> Vec<Vec<(usize, f32)>> {
    let bins = FFT / 2 + 1;
    let (lo, hi) = (hz_to_mel(20.0), hz_to_mel(7600.0));
    let centres: Vec<f32> = (0..MELS + 2)
        .map(|i| mel_to_hz(lo + (hi - lo) * i as f32 / (MELS + 1) as f32))
        .map(|hz| hz * FFT as f32 / SAMPLE_RATE as f32)
        .collect();
    (0..MELS)
        .map(|m| {
            let (left, centre, right) = (centres[m], centres[m + 1], centres[m + 2]);
            (0..bins)
                .filter_map(|b| {
                    let x = b as f32;
                    let w = if x < left || x > right {
                        0.0
                    } else if x <= centre {
                        (x - left) / (centre - left).max(1e-6)
                    } else {
                        (right - x) / (right - centre).max(1e-6)
                    };
                    (w > 0.0).then_some((b, w))
                })
                .collect()
        })
        .collect()
}

/// MFCC frames (13 − 1 coefficients each), mean-normalised.
pub fn mfcc(samples: &[f32]) -> Vec<Vec<f32>> {
    if samples.len() < WINDOW {
        return Vec::new();
    }
    let mut planner = RealFftPlanner::<f32>::new();
    let fft = planner.plan_fft_forward(FFT);
    let mut input = fft.make_input_vec();
    let mut spectrum = fft.make_output_vec();
    let hann: Vec<f32> = (0..WINDOW)
        .map(|i| 0.5 - 0.5 * (2.0 * std::f32::consts::PI * i as f32 / WINDOW as f32).cos())
        .collect();
    let bank = mel_filterbank();
    let frames = (samples.len() - WINDOW) / HOP + 1;
    let mut out = Vec::with_capacity(frames);
    let mut log_mel = vec![0f32; MELS];
    for f in 0..frames {
        let chunk = &samples[f * HOP..f * HOP + WINDOW];
        input.iter_mut().for_each(|x| *x = 0.0);
        for (i, (s, w)) in chunk.iter().zip(&hann).enumerate() {
            input[i] = s * w;
        }
        // Lengths are fixed above, so processing cannot fail.
        if fft.process(&mut input, &mut spectrum).is_err() {
            continue;
        }
        for (m, filter) in bank.iter().enumerate() {
            let energy: f32 = filter
                .iter()
                .map(|&(b, w)| spectrum[b].norm_sqr() * w)
                .sum();
            log_mel[m] = (energy + 1e-10).ln();
        }
        out.push(dct(&log_mel));
    }
    mean_normalise(&mut out);
    out
}

/// DCT-II of the log-mel energies, keeping cepstra 1..13.
fn dct(log_mel: &[f32]) -> Vec<f32> {
    let n = log_mel.len() as f32;
    (1..CEPSTRA)
        .map(|k| {
            log_mel
                .iter()
                .enumerate()
                .map(|(i, v)| v * (std::f32::consts::PI * k as f32 * (i as f32 + 0.5) / n).cos())
                .sum()
        })
        .collect()
}

fn mean_normalise(frames: &mut [Vec<f32>]) {
    let Some(width) = frames.first().map(Vec::len) else {
        return;
    };
    let mut mean = vec![0f32; width];
    for f in frames.iter() {
        for (m, v) in mean.iter_mut().zip(f) {
            *m += v;
        }
    }
    let count = frames.len() as f32;
    for f in frames.iter_mut() {
        for (v, m) in f.iter_mut().zip(&mean) {
            *v -= m / count;
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn tone(hz: f32, seconds: f32) -> Vec<f32> {
        (0..(seconds * SAMPLE_RATE as f32) as usize)
            .map(|i| (2.0 * std::f32::consts::PI * hz * i as f32 / SAMPLE_RATE as f32).sin())
            .collect()
    }

    #[test]
    fn one_frame_per_hop() {
        let f = mfcc(&tone(440.0, 1.0));
        assert_eq!(f.len(), (16_000 - 400) / 160 + 1);
        assert_eq!(f[0].len(), 12);
    }

    #[test]
    fn different_sounds_have_different_features() {
        let mut both = tone(300.0, 0.5);
        both.extend(tone(3000.0, 0.5));
        let f = mfcc(&both);
        let dist = |a: &[f32], b: &[f32]| -> f32 {
            a.iter()
                .zip(b)
                .map(|(x, y)| (x - y).powi(2))
                .sum::<f32>()
                .sqrt()
        };
        let same = dist(&f[5], &f[10]);
        let different = dist(&f[5], &f[f.len() - 5]);
        assert!(different > 5.0 * same.max(1e-3), "{same} vs {different}");
    }
}
