//! Silence, judged by level: Whisper "hears" words in silence (a window of
//! zeros comes out as "You"; a pause after a sentence as "Thank you."), and
//! its cross-attention alignment lets a word start in the pause before it
//! (the first word of a file often starts at 0). Frame levels (RMS over
//! 25 ms, dBFS) from the front end settle both:
//!
//! - a window whose every frame is below [`SILENCE_DB`] is not decoded;
//! - a segment whose every frame is below the window's speech threshold
//!   (its noise floor + 12 dB, at least [`SILENCE_DB`], at most 25 dB under
//!   its peak) is dropped;
//! - word edges are fitted to the sound ([`Levels::refine`]): a word
//!   keeps one stretch of sound (pauses of 250 ms or more separate
//!   stretches), the last word before a pause ends where the sound ends and
//!   the first word after it starts where the sound starts, and a word
//!   aligned into silence takes its share of its neighbour's stretch.

/// Below this (RMS over 25 ms) a frame is silent in any recording: about
/// 30 dB under quiet speech into a laptop microphone.
pub const SILENCE_DB: f32 = -55.0;
const ABOVE_FLOOR_DB: f32 = 12.0;
const BELOW_PEAK_DB: f32 = 25.0;
/// Frames per second.
const FPS: f64 = 100.0;
/// A quiet stretch this long (frames) is a pause between words, not a
/// stop consonant's closure.
const MIN_PAUSE_FRAMES: usize = 25;

/// Whether the window holds nothing but silence.
pub fn is_silent(levels: &[f32]) -> bool {
    levels.iter().all(|&l| l < SILENCE_DB)
}

/// The level above which a frame of this window counts as sound: the
/// noise floor (10th percentile) + 12 dB, at least [`SILENCE_DB`], at most
/// 25 dB under the window's peak (so a window without pauses, whose
/// "floor" is quiet speech, is not cut into).
pub fn speech_threshold(levels: &[f32]) -> f32 {
    if levels.is_empty() {
        return SILENCE_DB;
    }
    let mut sorted = levels.to_vec();
    sorted.sort_by(f32::total_cmp);
    let floor = sorted[sorted.len() / 10];
    let peak = sorted[sorted.len() - 1];
    (floor + ABOVE_FLOOR_DB)
        .max(SILENCE_DB)
        .min(peak - BELOW_PEAK_DB)
}

/// Levels of a window: `levels[i]` is frame `first + i`.
#[derive(Debug, Clone, Copy)]
pub struct Levels<'a> {
    pub first: usize,
    pub levels: &'a [f32],
    pub threshold: f32,
}

impl Levels<'_> {
    fn range(&self, start: f64, end: f64) -> (usize, usize) {
        let frame = |t: f64| ((t * FPS).round().max(0.0) as usize).saturating_sub(self.first);
        let n = self.levels.len();
        (frame(start).min(n), frame(end).min(n))
    }

    /// Whether anything between `start` and `end` (seconds) is above the
    /// threshold. Times outside the window count as sound (unknown).
    pub fn has_sound(&self, start: f64, end: f64) -> bool {
        let (from, to) = self.range(start, end);
        if from >= to {
            return true;
        }
        self.levels[from..to].iter().any(|&l| l >= self.threshold)
    }

    /// Stretches of sound in the window: `(first, last)` loud frames (window
    /// indices), separated by pauses of at least [`MIN_PAUSE_FRAMES`].
    fn runs(&self) -> Vec<(usize, usize)> {
        let mut runs: Vec<(usize, usize)> = Vec::new();
        for (i, &l) in self.levels.iter().enumerate() {
            if l < self.threshold {
                continue;
            }
            match runs.last_mut() {
                Some(run) if i - run.1 <= MIN_PAUSE_FRAMES => run.1 = i,
                _ => runs.push((i, i)),
            }
        }
        runs
    }

    /// Fits word edges (seconds, in order) to the sound; `weights` (e.g.
    /// character counts) split a stretch between a word and silent
    /// neighbours. Words outside the window are left alone.
    pub fn refine(&self, words: &mut [(f64, f64)], weights: &[usize]) {
        let runs = self.runs();
        if runs.is_empty() || words.is_empty() {
            return;
        }
        let n = self.levels.len();
        let to_frame = |t: f64| (t * FPS).round().max(0.0) as usize;
        let inside: Vec<bool> = words
            .iter()
            .map(|&(s, e)| to_frame(s) >= self.first && to_frame(e) <= self.first + n)
            .collect();
        // Per word: the run it keeps, or None when it lies in silence.
        let mut run_of: Vec<Option<usize>> = vec![None; words.len()];
        for (w, (start, end)) in words.iter_mut().enumerate() {
            if !inside[w] {
                continue;
            }
            let (s, e) = (to_frame(*start) - self.first, to_frame(*end) - self.first);
            // The first stretch of sound it overlaps (a word aligned across
            // a pause belongs before it: the alignment tends to stretch
            // words over the silence that follows them).
            let Some(r) = runs.iter().position(|&(a, b)| a < e.max(s + 1) && b >= s) else {
                continue;
            };
            let (a, b) = runs[r];
            *start = start.max((self.first + a) as f64 / FPS);
            *end = end.min((self.first + b + 1) as f64 / FPS).max(*start);
            run_of[w] = Some(r);
        }
        // Across a pause, the sound on either side belongs to the words
        // next to it: the last word of a stretch ends with it, the first
        // word of the next starts with it.
        let placed: Vec<usize> = (0..words.len()).filter(|&w| run_of[w].is_some()).collect();
        for pair in placed.windows(2) {
            let (i, j) = (pair[0], pair[1]);
            let (ri, rj) = (run_of[i].unwrap_or(0), run_of[j].unwrap_or(0));
            if ri != rj {
                words[i].1 = words[i].1.max((self.first + runs[ri].1 + 1) as f64 / FPS);
                words[j].0 = words[j].0.min((self.first + runs[rj].0) as f64 / FPS);
            }
        }
        // Words aligned into silence share their neighbour's stretch: the
        // word before them when it ends a stretch, else the word after.
        let mut w = 0;
        while w < words.len() {
            if !inside[w] || run_of[w].is_some() {
                w += 1;
                continue;
            }
            let group_end = (w..words.len())
                .find(|&k| !inside[k] || run_of[k].is_some())
                .unwrap_or(words.len());
            let before = w.checked_sub(1).filter(|&p| run_of[p].is_some());
            let after = Some(group_end).filter(|&k| k < words.len() && run_of[k].is_some());
            let ends_run = |p: usize| after.is_none_or(|k| run_of[k] != run_of[p]);
            let starts_run = |k: usize| before.is_none_or(|p| run_of[p] != run_of[k]);
            // (words sharing, the stretch they share)
            let span = match (before, after) {
                (Some(p), _) if ends_run(p) => Some((p, group_end, words[p])),
                (_, Some(k)) if starts_run(k) => Some((w, k + 1, words[k])),
                _ => None,
            };
            if let Some((from, to, (start, end))) = span {
                let total: usize = weights[from..to].iter().map(|&x| x.max(1)).sum();
                let mut t = start;
                for k in from..to {
                    let share = weights[k].max(1) as f64 / total as f64;
                    let next = t + (end - start) * share;
                    words[k] = (t, next);
                    t = next;
                }
            }
            w = group_end;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digital_silence_and_faint_noise_are_silent() {
        assert!(is_silent(&[-100.0; 50]));
        assert!(is_silent(&[-65.0, -70.0, -60.0]));
        assert!(!is_silent(&[-100.0, -100.0, -30.0]));
        assert!(is_silent(&[]));
    }

    #[test]
    fn the_threshold_follows_the_noise_floor_but_stays_under_the_peak() {
        // Speech over digital silence: the absolute floor.
        let mut levels = vec![-100.0; 50];
        levels.extend([-20.0; 50]);
        assert_eq!(speech_threshold(&levels), -55.0);
        // A noisy room at −45 dB: 12 dB above it.
        let mut levels = vec![-45.0; 50];
        levels.extend([-5.0; 50]);
        assert_eq!(speech_threshold(&levels), -33.0);
        // … but not closer than 25 dB to the peak.
        let mut levels = vec![-45.0; 50];
        levels.extend([-10.0; 50]);
        assert_eq!(speech_threshold(&levels), -35.0);
        // Continuous quiet speech, no pauses: 25 dB under the peak.
        let levels: Vec<f32> = (0..100).map(|i| -30.0 - (i % 10) as f32).collect();
        assert_eq!(speech_threshold(&levels), -55.0);
        let levels: Vec<f32> = (0..100).map(|i| -8.0 - (i % 10) as f32).collect();
        assert_eq!(speech_threshold(&levels), -33.0);
    }

    /// Levels of a window starting at frame 100 (1 s) with sound in the
    /// given frame ranges (window indices), silence elsewhere.
    fn window(sound: &[(usize, usize)]) -> Vec<f32> {
        let mut levels = vec![-100.0; 400];
        for &(a, b) in sound {
            for l in &mut levels[a..b] {
                *l = -20.0;
            }
        }
        levels
    }

    fn refined(levels: &[f32], words: &[(f64, f64)], weights: &[usize]) -> Vec<(f64, f64)> {
        let w = Levels {
            first: 100,
            levels,
            threshold: -55.0,
        };
        let mut words = words.to_vec();
        w.refine(&mut words, weights);
        words
            .into_iter()
            .map(|(s, e)| ((s * 100.0).round() / 100.0, (e * 100.0).round() / 100.0))
            .collect()
    }

    #[test]
    fn a_word_starting_in_silence_starts_with_the_sound() {
        // Sound 1.5–1.8 s; a word aligned 1.0–2.0 s.
        let levels = window(&[(50, 80)]);
        assert_eq!(refined(&levels, &[(1.0, 2.0)], &[3]), vec![(1.5, 1.8)]);
    }

    #[test]
    fn a_word_stretched_over_a_pause_ends_before_it() {
        // "much" aligned 1.0–2.3 s over sound 1.0–1.3 and the next
        // sentence's first 50 ms at 2.25; "the" then starts at 2.25.
        let levels = window(&[(0, 30), (125, 160)]);
        assert_eq!(
            refined(&levels, &[(1.0, 2.3), (2.3, 2.6)], &[4, 3]),
            vec![(1.0, 1.3), (2.25, 2.6)]
        );
    }

    #[test]
    fn the_last_word_before_a_pause_ends_with_the_sound() {
        // "in" covers "in it" (1.0–1.3); "it" is aligned across the pause
        // onto the next word's sound (2.0–2.5). "it" keeps the first
        // stretch; "good" then starts where its sound starts.
        let levels = window(&[(0, 30), (100, 160)]);
        assert_eq!(
            refined(&levels, &[(1.0, 1.2), (1.2, 2.2), (2.2, 2.6)], &[2, 2, 4]),
            vec![(1.0, 1.2), (1.2, 1.3), (2.0, 2.6)]
        );
    }

    #[test]
    fn a_word_aligned_into_silence_shares_its_neighbours_sound() {
        // "the room": "the" took all the sound (1.0–1.4), "room" sits in
        // the pause at 2.0 s. They split the stretch by length.
        let levels = window(&[(0, 40), (150, 200)]);
        assert_eq!(
            refined(&levels, &[(1.0, 1.4), (2.0, 2.0), (2.5, 3.0)], &[3, 4, 4]),
            vec![(1.0, 1.17), (1.17, 1.4), (2.5, 3.0)]
        );
        // At the start of a stretch the silent word takes the head of the
        // next word's sound.
        assert_eq!(
            refined(&levels, &[(2.1, 2.1), (2.5, 3.0)], &[4, 4]),
            vec![(2.5, 2.75), (2.75, 3.0)]
        );
    }

    #[test]
    fn words_in_continuous_speech_and_outside_the_window_are_kept() {
        let levels = window(&[(0, 300)]);
        let words = [(1.1, 1.4), (1.4, 1.9), (1.9, 2.2)];
        assert_eq!(refined(&levels, &words, &[1, 1, 1]), words.to_vec());
        assert_eq!(refined(&levels, &[(9.0, 9.5)], &[1]), vec![(9.0, 9.5)]);
        // No sound at all: nothing to fit to.
        let quiet = window(&[]);
        assert_eq!(refined(&quiet, &[(1.0, 2.0)], &[1]), vec![(1.0, 2.0)]);
    }

    #[test]
    fn sound_inside_a_span_is_reported() {
        let levels = window(&[(50, 80)]);
        let w = Levels {
            first: 100,
            levels: &levels,
            threshold: -55.0,
        };
        assert!(!w.has_sound(1.0, 1.45));
        assert!(w.has_sound(1.4, 1.55));
        // Outside the window: unknown, kept.
        assert!(w.has_sound(5.0, 6.0));
    }
}
