//! Shadowing comparison: the take against the original clip, aligned by DTW
//! over MFCCs. Each take word is mapped to where the same sounds are in the
//! original, giving its lag and its duration ratio; pitch contours are
//! correlated along the same path.

use crate::assessment::{ShadowingResult, ShadowingWord};
use crate::audio::dtw::{dtw_path, map_a_to_b};
use crate::audio::features::{HOP, HOP_MS, mfcc};
use crate::audio::{SAMPLE_RATE, pitch};

/// A spoken word of the take: text and span in ms.
pub struct TakeWord<'a> {
    pub word: &'a str,
    pub start_ms: u64,
    pub end_ms: u64,
}

/// Longest take or original [`compare_clips`] accepts: the warping grid
/// grows with the product of the two lengths (30 s each: 9 million cells),
/// and a shadowed sentence is a few seconds.
pub const MAX_CLIP_MS: u64 = 30_000;
/// Shortest: below a tenth of a second there is nothing to align.
pub const MIN_CLIP_MS: u64 = 100;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ShadowingError {
    #[error("{which}: {ms} ms of audio; the comparison needs {MIN_CLIP_MS} ms to {MAX_CLIP_MS} ms")]
    ClipLength { which: &'static str, ms: u64 },
    #[error("words[{index}]: {reason}")]
    Word { index: usize, reason: String },
}

/// [`compare`] for input from outside (the browser): both clips between
/// [`MIN_CLIP_MS`] and [`MAX_CLIP_MS`] of 16 kHz samples, each word a
/// non-empty span inside the take.
pub fn compare_clips(
    take: &[f32],
    original: &[f32],
    words: &[TakeWord<'_>],
) -> Result<ShadowingResult, ShadowingError> {
    let per_ms = u64::from(SAMPLE_RATE / 1000);
    let take_ms = take.len() as u64 / per_ms;
    for (which, ms) in [
        ("take", take_ms),
        ("original", original.len() as u64 / per_ms),
    ] {
        if !(MIN_CLIP_MS..=MAX_CLIP_MS).contains(&ms) {
            return Err(ShadowingError::ClipLength { which, ms });
        }
    }
    for (index, word) in words.iter().enumerate() {
        let reason = if word.word.trim().is_empty() {
            "the word is empty"
        } else if word.start_ms >= word.end_ms {
            "startMs must be before endMs"
        } else if word.end_ms > take_ms {
            "the word ends after the take"
        } else {
            continue;
        };
        return Err(ShadowingError::Word {
            index,
            reason: reason.into(),
        });
    }
    Ok(compare(take, original, words))
}

pub fn compare(take: &[f32], original: &[f32], words: &[TakeWord<'_>]) -> ShadowingResult {
    let take_features = mfcc(take);
    let original_features = mfcc(original);
    let path = dtw_path(&take_features, &original_features);
    let to_original = map_a_to_b(&path, take_features.len());
    let frame_of =
        |ms: u64| ((ms / u64::from(HOP_MS)) as usize).min(to_original.len().saturating_sub(1));
    let original_ms = |frame: usize| -> i64 {
        to_original
            .get(frame)
            .filter(|j| **j != usize::MAX)
            .map_or(0, |j| (*j as i64) * i64::from(HOP_MS))
    };
    let shadow_words: Vec<ShadowingWord> = words
        .iter()
        .map(|w| {
            let (s, e) = (frame_of(w.start_ms), frame_of(w.end_ms));
            let orig_start = original_ms(s);
            let orig_duration = (original_ms(e) - orig_start).max(i64::from(HOP_MS));
            let take_duration = (w.end_ms.saturating_sub(w.start_ms)).max(u64::from(HOP_MS));
            ShadowingWord {
                word: w.word.to_owned(),
                lag_ms: w.start_ms as i64 - orig_start,
                duration_ratio: take_duration as f32 / orig_duration as f32,
            }
        })
        .collect();
    let mut lags: Vec<i64> = shadow_words.iter().map(|w| w.lag_ms).collect();
    lags.sort_unstable();
    let lag_ms = lags.get(lags.len() / 2).copied().unwrap_or(0);
    ShadowingResult {
        lag_ms,
        rhythm: rhythm_score(&shadow_words),
        pitch_correlation: pitch_correlation(take, original, &path),
        words: shadow_words,
    }
}

/// 100 when every word keeps the same share of time as in the original
/// (an overall faster or slower take is fine); falls with the spread of
/// log duration ratios.
fn rhythm_score(words: &[ShadowingWord]) -> f32 {
    let logs: Vec<f32> = words
        .iter()
        .map(|w| w.duration_ratio.max(1e-3).ln())
        .collect();
    if logs.len() < 2 {
        return 100.0;
    }
    let mean = logs.iter().sum::<f32>() / logs.len() as f32;
    let sd = (logs.iter().map(|l| (l - mean).powi(2)).sum::<f32>() / logs.len() as f32).sqrt();
    (100.0 * (-sd / 0.5).exp()).clamp(0.0, 100.0)
}

/// Correlation of the two pitch contours (each relative to its speaker's
/// mean, so a man can shadow a woman) at DTW-paired frames, without the
/// frames the tracker got wrong (a click in a browser recording gave one
/// frame at 495 Hz and turned two identical tunes' 1.00 into −0.34).
fn pitch_correlation(take: &[f32], original: &[f32], path: &[(usize, usize)]) -> Option<f32> {
    let a = pitch::without_jumps(&pitch::contour(take, HOP));
    let b = pitch::without_jumps(&pitch::contour(original, HOP));
    let pairs: Vec<(f32, f32)> = path
        .iter()
        .filter_map(|&(i, j)| Some(((*a.get(i)?)?, (*b.get(j)?)?)))
        .collect();
    pitch::correlation(&pairs)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn uneven_stretching_lowers_rhythm() {
        let even = [
            ShadowingWord {
                word: "a".into(),
                lag_ms: 0,
                duration_ratio: 1.2,
            },
            ShadowingWord {
                word: "b".into(),
                lag_ms: 0,
                duration_ratio: 1.2,
            },
        ];
        let uneven = [
            ShadowingWord {
                word: "a".into(),
                lag_ms: 0,
                duration_ratio: 0.5,
            },
            ShadowingWord {
                word: "b".into(),
                lag_ms: 0,
                duration_ratio: 2.0,
            },
        ];
        assert!(rhythm_score(&even) > 99.0);
        assert!(rhythm_score(&uneven) < 40.0);
    }

    /// A rising-then-falling "voice": a harmonic tone whose pitch follows
    /// `pitch(t)` (0..1 of the clip), with `gap_at` seconds of silence
    /// inserted at that point of the clip (for a late word).
    fn voice(seconds: f32, hz: impl Fn(f32) -> f32, gap: Option<(f32, f32)>) -> Vec<f32> {
        let rate = SAMPLE_RATE as f32;
        let mut phase = 0f32;
        let mut out = Vec::new();
        let n = (seconds * rate) as usize;
        for i in 0..n {
            let t = i as f32 / n as f32;
            phase += 2.0 * std::f32::consts::PI * hz(t) / rate;
            let s = (1..=4)
                .map(|k| (phase * k as f32).sin() / k as f32)
                .sum::<f32>();
            // Syllable-like loudness so MFCC frames differ along the clip.
            out.push(0.3 * s * (0.55 + 0.45 * (t * 40.0).sin()));
            if let Some((at, len)) = gap
                && i == (at * n as f32) as usize
            {
                out.extend(std::iter::repeat_n(0.0, (len * rate) as usize));
            }
        }
        out
    }

    #[test]
    fn a_take_that_follows_the_original_matches_its_tune_and_a_late_word_shows_its_lag() {
        let rising = |t: f32| 120.0 + 80.0 * t;
        let original = voice(2.0, rising, None);
        let take = voice(2.0, rising, Some((0.5, 0.3)));
        let words = [
            TakeWord {
                word: "first",
                start_ms: 0,
                end_ms: 900,
            },
            TakeWord {
                word: "second",
                start_ms: 1400,
                end_ms: 2200,
            },
        ];
        let result = compare_clips(&take, &original, &words).unwrap();
        assert!(result.pitch_correlation.unwrap() > 0.9, "{result:?}");
        assert!(result.words[0].lag_ms.abs() <= 60, "{result:?}");
        // The second half starts 300 ms late in the take.
        assert!((result.words[1].lag_ms - 300).abs() <= 100, "{result:?}");

        let falling = voice(2.0, |t| 200.0 - 80.0 * t, None);
        let against = compare_clips(&falling, &original, &words[..1]).unwrap();
        assert!(against.pitch_correlation.unwrap() < 0.0, "{against:?}");
    }

    #[test]
    fn clips_and_words_from_outside_are_checked() {
        let two_seconds = vec![0.0; 32_000];
        let word = |start_ms, end_ms| TakeWord {
            word: "w",
            start_ms,
            end_ms,
        };
        assert_eq!(
            compare_clips(&[], &two_seconds, &[]).unwrap_err(),
            ShadowingError::ClipLength {
                which: "take",
                ms: 0
            }
        );
        let long = vec![0.0; 16 * 30_001];
        assert_eq!(
            compare_clips(&two_seconds, &long, &[])
                .unwrap_err()
                .to_string(),
            "original: 30001 ms of audio; the comparison needs 100 ms to 30000 ms"
        );
        assert_eq!(
            compare_clips(&two_seconds, &two_seconds, &[word(0, 500), word(900, 900)])
                .unwrap_err()
                .to_string(),
            "words[1]: startMs must be before endMs"
        );
        assert!(matches!(
            compare_clips(&two_seconds, &two_seconds, &[word(1500, 2500)]),
            Err(ShadowingError::Word { index: 0, .. })
        ));
        assert!(compare_clips(&two_seconds, &two_seconds, &[word(0, 2000)]).is_ok());
    }
}
