//! Whisper's log-mel front end, streaming: 16 kHz samples in, one column of
//! `log10` mel energies per 10 ms out, so a three-hour file needs no more
//! memory than a thirty-second one.
//!
//! It reproduces the reference implementations (OpenAI's `audio.py`,
//! faster-whisper's `feature_extractor.py`): a 400-point periodic Hann
//! window every 160 samples over the signal reflect-padded by 200 samples at
//! the start (`torch.stft(center=True)`), power spectrum, Slaney-style mel
//! filters (librosa's `htk=False, norm="slaney"`, 0–8 kHz), `log10` of the
//! energies clamped at 1e-10. The file has `samples / 160` frames. Each
//! frame also carries the level of its 400 samples (RMS, dBFS), which
//! [`super::silence`] uses to keep Whisper from hearing words in silence.
//!
//! The last two steps of the reference, clamping to `max − 8` and mapping
//! `x → (x + 4) / 4`, need the maximum of the whole spectrogram; here
//! [`MelBuffer::window`] uses the maximum of everything computed so far (the
//! current window included), which is the same for any file whose loudest
//! moment falls in its first window and close otherwise.

use std::collections::VecDeque;
use std::sync::Arc;

use realfft::{RealFftPlanner, RealToComplex};

/// Samples between two frames (10 ms).
pub const HOP: usize = 160;
/// FFT size and window length (25 ms).
pub const N_FFT: usize = 400;
/// Frames in one 30-second window, the encoder's fixed input.
pub const CHUNK_FRAMES: usize = 3000;
/// Frequency bins of a 400-point real FFT.
const BINS: usize = N_FFT / 2 + 1;
const SAMPLE_RATE: f64 = 16_000.0;

/// Slaney mel scale: linear below 1 kHz, logarithmic above.
fn mel_to_hz(mel: f64) -> f64 {
    const F_SP: f64 = 200.0 / 3.0;
    const MIN_LOG_HZ: f64 = 1000.0;
    const MIN_LOG_MEL: f64 = MIN_LOG_HZ / F_SP;
    let logstep = 6.4f64.ln() / 27.0;
    if mel >= MIN_LOG_MEL {
        MIN_LOG_HZ * (logstep * (mel - MIN_LOG_MEL)).exp()
    } else {
        F_SP * mel
    }
}

/// One mel filter: its first FFT bin and its weights from there on.
#[derive(Debug, Clone, PartialEq)]
pub struct MelFilter {
    pub first_bin: usize,
    pub weights: Vec<f32>,
}

/// librosa's `filters.mel(sr=16000, n_fft=400, n_mels, htk=False,
/// norm="slaney")`, kept sparse (each filter spans a few bins).
pub fn mel_filters(n_mels: usize) -> Vec<MelFilter> {
    // mel(8000 Hz) on the Slaney scale.
    const MAX_MEL: f64 = 45.245_640_471_924_965;
    let hz: Vec<f64> = (0..n_mels + 2)
        .map(|i| mel_to_hz(MAX_MEL * i as f64 / (n_mels + 1) as f64))
        .collect();
    let bin_hz = |b: usize| b as f64 * SAMPLE_RATE / N_FFT as f64;
    (0..n_mels)
        .map(|m| {
            let (lo, centre, hi) = (hz[m], hz[m + 1], hz[m + 2]);
            let enorm = 2.0 / (hi - lo);
            let dense: Vec<f32> = (0..BINS)
                .map(|b| {
                    let f = bin_hz(b);
                    let rising = (f - lo) / (centre - lo);
                    let falling = (hi - f) / (hi - centre);
                    (rising.min(falling).max(0.0) * enorm) as f32
                })
                .collect();
            let first_bin = dense.iter().position(|&w| w > 0.0).unwrap_or(0);
            let last_bin = dense.iter().rposition(|&w| w > 0.0).unwrap_or(0);
            MelFilter {
                first_bin,
                weights: dense[first_bin..=last_bin.max(first_bin)].to_vec(),
            }
        })
        .collect()
}

/// Streaming STFT → mel → `log10`. Feed samples with [`LogMel::push`], end
/// with [`LogMel::finish`]; each call hands out the frames it completed.
pub struct LogMel {
    n_mels: usize,
    filters: Vec<MelFilter>,
    fft: Arc<dyn RealToComplex<f64>>,
    window: Vec<f64>,
    fft_in: Vec<f64>,
    fft_out: Vec<realfft::num_complex::Complex<f64>>,
    power: Vec<f64>,
    /// Samples received before the 201 needed for the reflect padding.
    head: Vec<f32>,
    started: bool,
    /// The padded signal from the start of the next frame on.
    pending: Vec<f32>,
    /// Offset of the next frame's start inside `pending`.
    cursor: usize,
    total_samples: u64,
    frames_out: u64,
}

impl LogMel {
    pub fn new(n_mels: usize) -> Self {
        let mut planner = RealFftPlanner::<f64>::new();
        let fft = planner.plan_fft_forward(N_FFT);
        let fft_in = fft.make_input_vec();
        let fft_out = fft.make_output_vec();
        // np.hanning(401)[:-1]: the periodic Hann window.
        let window = (0..N_FFT)
            .map(|n| 0.5 - 0.5 * (2.0 * std::f64::consts::PI * n as f64 / N_FFT as f64).cos())
            .collect();
        Self {
            n_mels,
            filters: mel_filters(n_mels),
            fft,
            window,
            fft_in,
            fft_out,
            power: vec![0.0; BINS],
            head: Vec::with_capacity(N_FFT / 2 + 1),
            started: false,
            pending: Vec::new(),
            cursor: 0,
            total_samples: 0,
            frames_out: 0,
        }
    }

    pub fn n_mels(&self) -> usize {
        self.n_mels
    }

    /// Frames the whole input yields: one per 160 samples.
    pub fn content_frames(total_samples: u64) -> u64 {
        total_samples / HOP as u64
    }

    /// Adds samples; `emit` receives each completed frame (`n_mels` values)
    /// and its level in dBFS.
    pub fn push(&mut self, samples: &[f32], emit: &mut impl FnMut(&[f32], f32)) {
        self.total_samples += samples.len() as u64;
        if !self.started {
            self.head.extend_from_slice(samples);
            if self.head.len() > N_FFT / 2 {
                let head = std::mem::take(&mut self.head);
                self.start(&head);
            }
            return self.drain(emit, None);
        }
        self.pending.extend_from_slice(samples);
        self.drain(emit, None);
    }

    /// Ends the input: the frames up to `samples / 160` are completed over
    /// zeros after the last sample.
    pub fn finish(&mut self, emit: &mut impl FnMut(&[f32], f32)) {
        if !self.started {
            let head = std::mem::take(&mut self.head);
            self.start(&head);
        }
        self.pending.extend(std::iter::repeat_n(0.0, N_FFT));
        let limit = Self::content_frames(self.total_samples);
        self.drain(emit, Some(limit));
    }

    /// Reflect-pads the start: `x[200], x[199], …, x[1], x[0], x[1], …`.
    fn start(&mut self, head: &[f32]) {
        let pad = N_FFT / 2;
        self.pending.clear();
        for k in (1..=pad).rev() {
            self.pending.push(head.get(k).copied().unwrap_or(0.0));
        }
        self.pending.extend_from_slice(head);
        self.started = true;
    }

    fn drain(&mut self, emit: &mut impl FnMut(&[f32], f32), limit: Option<u64>) {
        if !self.started {
            return;
        }
        let mut frame = vec![0.0f32; self.n_mels];
        while self.cursor + N_FFT <= self.pending.len() && limit.is_none_or(|l| self.frames_out < l)
        {
            let level = self.compute(self.cursor, &mut frame);
            emit(&frame, level);
            self.frames_out += 1;
            self.cursor += HOP;
        }
        // Drop what no later frame needs, in large steps.
        if self.cursor >= 64 * HOP {
            self.pending.drain(..self.cursor);
            self.cursor = 0;
        }
    }

    /// Fills `frame` with the log-mel energies; returns the level (dBFS).
    fn compute(&mut self, start: usize, frame: &mut [f32]) -> f32 {
        let samples = &self.pending[start..start + N_FFT];
        let mean_square = samples
            .iter()
            .map(|&x| f64::from(x) * f64::from(x))
            .sum::<f64>()
            / N_FFT as f64;
        for ((dst, &x), &w) in self.fft_in.iter_mut().zip(samples).zip(&self.window) {
            *dst = f64::from(x) * w;
        }
        // Lengths match the plan, so the transform cannot fail.
        let _ = self.fft.process(&mut self.fft_in, &mut self.fft_out);
        for (p, c) in self.power.iter_mut().zip(&self.fft_out) {
            *p = c.norm_sqr();
        }
        for (out, filter) in frame.iter_mut().zip(&self.filters) {
            let energy: f64 = filter
                .weights
                .iter()
                .zip(&self.power[filter.first_bin..])
                .map(|(&w, &p)| f64::from(w) * p)
                .sum();
            *out = energy.max(1e-10).log10() as f32;
        }
        (10.0 * mean_square.max(1e-10).log10()) as f32
    }
}

/// The frames between the current seek position and the end of the next
/// window, plus the running maximum used for normalisation.
#[derive(Debug)]
pub struct MelBuffer {
    n_mels: usize,
    frames: VecDeque<f32>,
    /// Level (dBFS) of each frame held.
    levels: VecDeque<f32>,
    /// Index (in the whole file) of the first frame held.
    first: usize,
    max: f32,
}

impl MelBuffer {
    pub fn new(n_mels: usize) -> Self {
        Self {
            n_mels,
            frames: VecDeque::with_capacity(n_mels * (CHUNK_FRAMES + 200)),
            levels: VecDeque::with_capacity(CHUNK_FRAMES + 200),
            first: 0,
            max: f32::NEG_INFINITY,
        }
    }

    pub fn push(&mut self, frame: &[f32], level: f32) {
        debug_assert_eq!(frame.len(), self.n_mels);
        for &v in frame {
            self.max = self.max.max(v);
        }
        self.frames.extend(frame);
        self.levels.push_back(level);
    }

    /// Levels (dBFS) of frames `start..end` that are held.
    pub fn levels(&self, start: usize, end: usize) -> Vec<f32> {
        let from = start.saturating_sub(self.first).min(self.levels.len());
        let to = end.saturating_sub(self.first).min(self.levels.len());
        self.levels.range(from..to.max(from)).copied().collect()
    }

    /// Index one past the last frame held.
    pub fn end(&self) -> usize {
        self.first + self.frames.len() / self.n_mels
    }

    /// Forgets the frames before `frame`.
    pub fn discard_before(&mut self, frame: usize) {
        let drop = frame
            .saturating_sub(self.first)
            .min(self.end() - self.first);
        self.frames.drain(..drop * self.n_mels);
        self.levels.drain(..drop);
        self.first += drop;
    }

    /// The encoder input for frames `start..start + len` (`len ≤ 3000`):
    /// `n_mels × 3000` values, mel-major, normalised, zero after `len`
    /// (faster-whisper's `pad_or_trim` of the normalised features).
    pub fn window(&self, start: usize, len: usize) -> Vec<f32> {
        self.window_of(start, len, CHUNK_FRAMES)
    }

    /// As [`MelBuffer::window`], `width` frames wide (at most
    /// [`CHUNK_FRAMES`]): the encoder input of a short take.
    pub fn window_of(&self, start: usize, len: usize, width: usize) -> Vec<f32> {
        let width = width.min(CHUNK_FRAMES);
        let mut out = vec![0.0f32; self.n_mels * width];
        let floor = self.max - 8.0;
        let from = start.saturating_sub(self.first);
        let len = len.min(width).min(self.end().saturating_sub(start));
        for t in 0..len {
            let base = (from + t) * self.n_mels;
            for m in 0..self.n_mels {
                let v = self.frames[base + m].max(floor);
                out[m * width + t] = (v + 4.0) / 4.0;
            }
        }
        out
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn frames_of(samples: &[f32], n_mels: usize, chunk: usize) -> Vec<Vec<f32>> {
        let mut mel = LogMel::new(n_mels);
        let mut out = Vec::new();
        for part in samples.chunks(chunk.max(1)) {
            mel.push(part, &mut |f, _| out.push(f.to_vec()));
        }
        mel.finish(&mut |f, _| out.push(f.to_vec()));
        out
    }

    #[test]
    fn each_frame_carries_its_level() {
        // A full-scale square wave is 0 dBFS; a 0.5 sine is −9 dBFS.
        let mut levels = Vec::new();
        let mut mel = LogMel::new(80);
        let square: Vec<f32> = (0..3200)
            .map(|i| if i % 40 < 20 { 1.0 } else { -1.0 })
            .collect();
        mel.push(&square, &mut |_, l| levels.push(l));
        mel.push(&tone(440.0, 0.2, 0.5), &mut |_, l| levels.push(l));
        mel.push(&[0.0; 3200], &mut |_, l| levels.push(l));
        mel.finish(&mut |_, l| levels.push(l));
        assert_eq!(levels.len(), 60);
        assert!(levels[5].abs() < 0.01, "{}", levels[5]);
        assert!((levels[30] + 9.03).abs() < 0.1, "{}", levels[30]);
        assert_eq!(levels[55], -100.0);
    }

    fn tone(hz: f64, seconds: f64, amplitude: f64) -> Vec<f32> {
        let n = (seconds * SAMPLE_RATE) as usize;
        (0..n)
            .map(|i| {
                (amplitude * (2.0 * std::f64::consts::PI * hz * i as f64 / SAMPLE_RATE).sin())
                    as f32
            })
            .collect()
    }

    #[test]
    fn slaney_scale_is_linear_to_1_khz_then_logarithmic() {
        assert!((mel_to_hz(15.0) - 1000.0).abs() < 1e-9);
        assert!((mel_to_hz(7.5) - 500.0).abs() < 1e-9);
        assert!((mel_to_hz(45.245_640_471_924_965) - 8000.0).abs() < 1e-6);
    }

    #[test]
    fn filters_match_the_reference_filterbank() {
        // Values printed by faster-whisper 1.2.1's numpy
        // `FeatureExtractor.get_mel_filters(16000, 400, 80)` (the same
        // matrix as OpenAI's mel_filters.npz, i.e. librosa's Slaney mel).
        let filters = mel_filters(80);
        assert_eq!(filters.len(), 80);
        let close = |a: f32, b: f32| (a - b).abs() < 1e-7;
        // Filter 0 spans 0–74.5 Hz: only bin 1 (40 Hz) is inside.
        assert_eq!(filters[0].first_bin, 1);
        assert!(close(filters[0].weights[0], 0.024_862_59));
        assert_eq!(filters[10].first_bin, 10);
        assert_eq!(filters[10].weights.len(), 2);
        assert!(close(filters[10].weights[0], 0.019_908_22));
        assert!(close(filters[10].weights[1], 0.004_954_38));
        // The top filter covers bins 186–199; bin 200 (8 kHz) is its zero.
        assert_eq!(filters[79].first_bin, 186);
        assert_eq!(filters[79].weights.len(), 14);
        assert!(close(filters[79].weights[0], 0.000_366_74));
        assert!(close(filters[79].weights[6], 0.003_164_71));
        // 128 bands (large-v3 models).
        let wide = mel_filters(128);
        assert_eq!(wide[127].first_bin, 191);
        assert_eq!(wide[127].weights.len(), 9);
        assert!(close(wide[64].weights[0], 0.006_749_68));
    }

    #[test]
    fn a_file_of_n_samples_has_n_over_160_frames_however_it_is_fed() {
        let samples = tone(440.0, 1.234, 0.5);
        let whole = frames_of(&samples, 80, samples.len());
        assert_eq!(whole.len(), samples.len() / HOP);
        for chunk in [1, 7, 160, 333, 16_000] {
            let parts = frames_of(&samples, 80, chunk);
            assert_eq!(parts, whole, "chunk size {chunk}");
        }
        assert!(frames_of(&[], 80, 1).is_empty());
        assert!(frames_of(&[0.1; 159], 80, 1).is_empty());
        assert_eq!(frames_of(&[0.1; 161], 80, 1).len(), 1);
    }

    #[test]
    fn a_pure_tone_lights_the_mel_band_around_its_frequency() {
        for (hz, n_mels) in [(440.0, 80), (1000.0, 80), (3000.0, 128)] {
            let frames = frames_of(&tone(hz, 0.5, 0.5), n_mels, 4000);
            let middle = &frames[frames.len() / 2];
            let peak = (0..n_mels)
                .max_by(|&a, &b| middle[a].total_cmp(&middle[b]))
                .unwrap();
            let filters = mel_filters(n_mels);
            let f = &filters[peak];
            let lo = f.first_bin as f64 * 40.0;
            let hi = (f.first_bin + f.weights.len() - 1) as f64 * 40.0;
            assert!(
                lo <= hz && hz <= hi,
                "{hz} Hz peaked in band {peak} ({lo}–{hi} Hz)"
            );
            // Energy: A²/4 · Σw² · ‖hann‖² spread over the bins; at least
            // far above the floor and far below in distant bands.
            assert!(middle[peak] > -1.0, "{}", middle[peak]);
            assert!(middle[(peak + n_mels / 2) % n_mels] < middle[peak] - 4.0);
        }
    }

    #[test]
    fn the_tone_energy_matches_parseval() {
        // A 1 kHz tone of amplitude A lands on bin 25 exactly (40 Hz bins):
        // |X[25]|² = (A/2 · Σ hann)² = (A/2 · 200)², the neighbours get a
        // quarter of that each (the Hann window's spectrum). The mel energy
        // is Σ_b w[b] · |X[b]|².
        let amplitude = 0.5;
        let frames = frames_of(&tone(1000.0, 0.5, amplitude), 80, 8000);
        let middle = &frames[frames.len() / 2];
        let peak_power = (amplitude / 2.0 * 200.0f64).powi(2);
        let filters = mel_filters(80);
        for (m, f) in filters.iter().enumerate() {
            let w = |b: usize| {
                b.checked_sub(f.first_bin)
                    .and_then(|i| f.weights.get(i))
                    .map_or(0.0, |&w| f64::from(w))
            };
            let expected = w(25) * peak_power + (w(24) + w(26)) * peak_power / 4.0;
            if expected > 1e-3 {
                let got = 10f64.powf(f64::from(middle[m]));
                assert!(
                    (got / expected - 1.0).abs() < 1e-3,
                    "band {m}: {got} vs {expected}"
                );
            }
        }
    }

    #[test]
    fn silence_is_the_floor_and_windows_are_normalised_and_padded() {
        let frames = frames_of(&vec![0.0; 16_000], 80, 16_000);
        assert!(frames.iter().flatten().all(|&v| v == -10.0));

        let mut buffer = MelBuffer::new(2);
        buffer.push(&[0.0, -3.0], -20.0);
        buffer.push(&[-12.0, 1.0], -30.0);
        assert_eq!(buffer.levels(0, 5), vec![-20.0, -30.0]);
        let w = buffer.window(0, 2);
        assert_eq!(w.len(), 2 * CHUNK_FRAMES);
        // max 1 → floor −7; (x + 4) / 4.
        assert_eq!(&w[..3], &[1.0, -0.75, 0.0]);
        assert_eq!(&w[CHUNK_FRAMES..CHUNK_FRAMES + 3], &[0.25, 1.25, 0.0]);
        buffer.discard_before(1);
        assert_eq!(buffer.end(), 2);
        assert_eq!(buffer.levels(0, 2), vec![-30.0]);
        let w = buffer.window(1, 5);
        assert_eq!(w[0], -0.75);
        assert_eq!(w[1], 0.0);
        // A narrower window: the same values, bands `width` apart.
        let w = buffer.window_of(1, 5, 4);
        assert_eq!(w, vec![-0.75, 0.0, 0.0, 0.0, 1.25, 0.0, 0.0, 0.0]);
    }
}
