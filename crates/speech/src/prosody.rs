//! Prosody: is the voice melodic or monotone, and are the breaks right.

use echoloop_core::audio::pitch;

/// Below this pitch spread (semitones, standard deviation over the take)
/// speech sounds flat. Human read speech is typically 2–4 semitones;
/// espeak-ng, itself rather flat, gives 1.1–2 normally and 0.1 with its
/// pitch range set to 0.
pub const MONOTONE_SPREAD: f32 = 0.7;
/// From this spread up the melody earns full marks.
const LIVELY_SPREAD: f32 = 1.6;
const FLAT_SPREAD: f32 = 0.3;

#[derive(Debug, Clone)]
pub struct Prosody {
    pub score: Option<f32>,
    pub monotone: bool,
    pub spread_semitones: Option<f32>,
}

/// `contour`: semitones per frame over the whole take; `break_errors` and
/// `joins`: wrong breaks out of all word joins (from fluency).
pub fn judge(contour: &[Option<f32>], break_errors: usize, joins: usize) -> Prosody {
    let spread = pitch::spread(contour);
    let Some(s) = spread else {
        return Prosody {
            score: None,
            monotone: false,
            spread_semitones: None,
        };
    };
    let melody = ((s - FLAT_SPREAD) / (LIVELY_SPREAD - FLAT_SPREAD)).clamp(0.0, 1.0);
    let breaks = if joins == 0 {
        1.0
    } else {
        1.0 - break_errors as f32 / joins as f32
    };
    Prosody {
        score: Some(100.0 * (0.7 * melody + 0.3 * breaks)),
        monotone: s < MONOTONE_SPREAD,
        spread_semitones: spread,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn flat_pitch_is_monotone_and_scores_low() {
        let flat: Vec<Option<f32>> = (0..50).map(|i| Some(7.0 + 0.01 * (i % 3) as f32)).collect();
        let p = judge(&flat, 0, 4);
        assert!(p.monotone);
        assert!(p.score.unwrap() < 40.0);
    }

    #[test]
    fn lively_pitch_scores_high() {
        let lively: Vec<Option<f32>> = (0..50)
            .map(|i| Some(5.0 * (i as f32 / 8.0).sin()))
            .collect();
        let p = judge(&lively, 0, 4);
        assert!(!p.monotone);
        assert!(p.score.unwrap() > 95.0);
    }

    #[test]
    fn too_little_voicing_is_not_judged() {
        assert_eq!(judge(&[None, Some(1.0)], 0, 0).score, None);
    }
}
