//! Shadowing comparison: the take against the original clip, aligned by DTW
//! over MFCCs. Each take word is mapped to where the same sounds are in the
//! original, giving its lag and its duration ratio; pitch contours are
//! correlated along the same path.

use echoloop_core::assessment::{ShadowingResult, ShadowingWord};

use crate::dtw::{dtw_path, map_a_to_b};
use crate::features::{HOP, HOP_MS, mfcc};
use crate::pitch;

/// A spoken word of the take: text and span in ms.
pub struct TakeWord<'a> {
    pub word: &'a str,
    pub start_ms: u64,
    pub end_ms: u64,
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
/// mean, so a man can shadow a woman) at DTW-paired frames.
fn pitch_correlation(take: &[f32], original: &[f32], path: &[(usize, usize)]) -> Option<f32> {
    let a = pitch::contour(take, HOP);
    let b = pitch::contour(original, HOP);
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
}
