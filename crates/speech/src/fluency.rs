//! Fluency: pauses where none belong, missing pauses at punctuation, and
//! articulation rate against a native range.

use echoloop_core::assessment::ErrorType;

/// A spoken word's place in the take.
#[derive(Debug, Clone, Copy)]
pub struct WordTiming {
    pub start_ms: u64,
    pub end_ms: u64,
    pub phones: usize,
    /// The text has punctuation after this word.
    pub break_after: bool,
}

/// A silence longer than this inside a phrase is an unexpected break. CTC
/// word spans end at the last phone's peak, so ordinary joins between words
/// already measure 100–250 ms.
pub const UNEXPECTED_BREAK_MS: u64 = 450;
/// A silence shorter than this at a comma or full stop is a missing break.
pub const MISSING_BREAK_MS: u64 = 60;
/// Native articulation rate, phones per second, as this module measures it
/// (CTC spans, pauses removed): espeak-ng en-us at its default 175 wpm
/// measures ~13, in line with the 12–15 reported for read English. Within
/// ±20 % costs nothing.
pub const NATIVE_RATE: f32 = 13.0;
const RATE_TOLERANCE: f32 = 0.2;

#[derive(Debug, Clone)]
pub struct Fluency {
    pub score: f32,
    /// Prosody issues per spoken word (same order as the input).
    pub breaks: Vec<Vec<ErrorType>>,
    pub phones_per_second: Option<f32>,
    /// How many of the pauses/joins were wrong, for the prosody score.
    pub break_errors: usize,
}

pub fn judge(words: &[WordTiming], insertions: usize) -> Fluency {
    let mut breaks = vec![Vec::new(); words.len()];
    let mut paused_ms = 0;
    let mut break_errors = 0;
    for i in 1..words.len() {
        let pause = words[i].start_ms.saturating_sub(words[i - 1].end_ms);
        if pause > UNEXPECTED_BREAK_MS {
            paused_ms += pause;
            if !words[i - 1].break_after {
                breaks[i].push(ErrorType::UnexpectedBreak);
                break_errors += 1;
            }
        } else if words[i - 1].break_after && pause < MISSING_BREAK_MS {
            breaks[i - 1].push(ErrorType::MissingBreak);
            break_errors += 1;
        }
    }
    let rate = match (words.first(), words.last()) {
        (Some(first), Some(last)) if words.len() >= 2 => {
            let speaking = last
                .end_ms
                .saturating_sub(first.start_ms)
                .saturating_sub(paused_ms);
            let phones: usize = words.iter().map(|w| w.phones).sum();
            (speaking > 0).then(|| phones as f32 * 1000.0 / speaking as f32)
        }
        _ => None,
    };
    // Each deviation of 10 % beyond the tolerated band costs 10 points.
    let rate_penalty = rate.map_or(0.0, |r| {
        let deviation = (r / NATIVE_RATE).ln().abs() - (1.0 + RATE_TOLERANCE).ln();
        (deviation.max(0.0) * 100.0).min(60.0)
    });
    let unexpected = breaks
        .iter()
        .flatten()
        .filter(|e| **e == ErrorType::UnexpectedBreak)
        .count();
    let score = 100.0 - rate_penalty - 15.0 * unexpected as f32 - 10.0 * insertions as f32;
    Fluency {
        score: score.clamp(0.0, 100.0),
        breaks,
        phones_per_second: rate,
        break_errors,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn w(start_ms: u64, end_ms: u64, break_after: bool) -> WordTiming {
        WordTiming {
            start_ms,
            end_ms,
            phones: 4,
            break_after,
        }
    }

    #[test]
    fn even_native_speech_is_fluent() {
        // 4 phones per ~300 ms word with 100 ms joins: ~12.6 phones/s.
        let words: Vec<_> = (0..5).map(|i| w(i * 400, i * 400 + 300, false)).collect();
        let f = judge(&words, 0);
        assert!(f.score > 95.0, "{f:?}");
        assert!(f.breaks.iter().all(Vec::is_empty));
    }

    #[test]
    fn a_long_pause_mid_phrase_is_an_unexpected_break() {
        let words = [w(0, 300, false), w(1300, 1600, false), w(1700, 2000, false)];
        let f = judge(&words, 0);
        assert_eq!(f.breaks[1], vec![ErrorType::UnexpectedBreak]);
        assert!(f.score < 90.0);
    }

    #[test]
    fn no_pause_at_a_comma_is_a_missing_break_and_a_pause_there_is_fine() {
        let joined = judge(&[w(0, 300, true), w(320, 600, false)], 0);
        assert_eq!(joined.breaks[0], vec![ErrorType::MissingBreak]);
        let paused = judge(&[w(0, 300, true), w(900, 1200, false)], 0);
        assert!(paused.breaks.iter().all(Vec::is_empty));
    }

    #[test]
    fn very_slow_speech_loses_points() {
        let words: Vec<_> = (0..5).map(|i| w(i * 1000, i * 1000 + 900, false)).collect();
        let f = judge(&words, 0);
        assert!(f.score < 60.0, "{f:?}");
    }
}
