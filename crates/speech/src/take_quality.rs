//! What is wrong with a recording itself, apart from how it was
//! pronounced (docs/speech.md, "The recording"): no speech at all, speech
//! cut at either end, clipped peaks. Each is something the learner can put
//! right before the next take (unmute, start earlier, move back from the
//! microphone), so the result says it beside the verdict instead of leaving
//! a low score to be read as bad pronunciation.

use echoloop_core::assessment::{ErrorType, TakeIssue, WordResult};

use crate::acoustic::Posteriors;

/// Speech heard this close to either end of the recording (20 ms frames)
/// may have run into it. The phone recogniser's spikes fall inside a
/// phone, not at its edge, so this alone is not enough: see
/// [`EDGE_LEVEL_DB`]. And sound at the very start is not a cut by itself
/// (espeak-ng speaks from its first sample): the word at that end must also
/// have been judged missing or wrong.
pub const EDGE_FRAMES: usize = 5;

/// ... and the recording's first or last 20 ms are this loud, within this
/// many dB of its loud parts (the 95th percentile of 20 ms windows): sound
/// still going on where the recording starts or stops, not the room's
/// quiet before or after the learner speaks.
pub const EDGE_LEVEL_DB: f32 = 25.0;

/// Samples in 20 ms.
const WINDOW: usize = 320;

/// A sample this close to full scale is at the converter's limit.
pub const CLIPPED_LEVEL: f32 = 0.99;

/// More than this share of samples at the limit is clipping; one peak
/// normalised to full scale is not.
pub const CLIPPED_SHARE: f32 = 0.001;

/// A frame where some phone outweighs the blank (probability above ½).
pub(crate) fn is_speech(frame: &[f32], blank: usize) -> bool {
    frame
        .get(blank)
        .is_some_and(|&b| b < -std::f32::consts::LN_2)
}

/// The first and last speech frame, `None` when no frame holds speech.
pub(crate) fn speech_bounds(posteriors: &Posteriors, blank: usize) -> Option<(usize, usize)> {
    let frames = &posteriors.frames;
    let first = frames.iter().position(|f| is_speech(f, blank))?;
    let last = frames.iter().rposition(|f| is_speech(f, blank))?;
    Some((first, last))
}

/// The issues of a 16 kHz mono take the phone recogniser heard as
/// `posteriors`, whose reference words were judged as `words`.
pub fn issues(
    take: &[f32],
    posteriors: &Posteriors,
    blank: usize,
    words: &[WordResult],
) -> Vec<TakeIssue> {
    let mut found = Vec::new();
    match speech_bounds(posteriors, blank) {
        None => found.push(TakeIssue::NoSpeech),
        Some((first, last)) => {
            let frames = posteriors.frames.len();
            let reference: Vec<&WordResult> = words
                .iter()
                .filter(|w| w.error != ErrorType::Insertion)
                .collect();
            let faulty = |w: Option<&&WordResult>| {
                w.is_some_and(|w| {
                    matches!(w.error, ErrorType::Omission | ErrorType::Mispronunciation)
                })
            };
            let cut_start = first < EDGE_FRAMES && faulty(reference.first());
            let cut_end = last + EDGE_FRAMES >= frames && faulty(reference.last());
            if (cut_start || cut_end) && sounding_edges(take, cut_start, cut_end) {
                found.push(TakeIssue::CutOff);
            }
        }
    }
    let at_limit = take.iter().filter(|s| s.abs() >= CLIPPED_LEVEL).count();
    if !take.is_empty() && at_limit as f32 / take.len() as f32 > CLIPPED_SHARE {
        found.push(TakeIssue::Clipped);
    }
    found
}

/// Whether the take's first (`start`) or last (`end`) 20 ms are within
/// [`EDGE_LEVEL_DB`] of its loud parts.
fn sounding_edges(take: &[f32], start: bool, end: bool) -> bool {
    let mut levels: Vec<f32> = take.chunks(WINDOW).map(rms).collect();
    if levels.is_empty() {
        return false;
    }
    let (first, last) = (levels[0], levels[levels.len() - 1]);
    levels.sort_by(f32::total_cmp);
    let loud = levels[(levels.len() - 1) * 95 / 100];
    let floor = loud * 10f32.powf(-EDGE_LEVEL_DB / 20.0);
    loud > 0.0 && ((start && first >= floor) || (end && last >= floor))
}

fn rms(window: &[f32]) -> f32 {
    (window.iter().map(|s| s * s).sum::<f32>() / window.len().max(1) as f32).sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;

    const BLANK: usize = 2;

    fn word(error: ErrorType) -> WordResult {
        WordResult {
            word: "w".into(),
            accuracy: 90.0,
            error,
            prosody_errors: Vec::new(),
            offset_ms: None,
            duration_ms: None,
            phones: Vec::new(),
        }
    }

    /// Three reference words, the first and last judged wrong.
    fn edges_wrong() -> Vec<WordResult> {
        vec![
            word(ErrorType::Mispronunciation),
            word(ErrorType::None),
            word(ErrorType::Omission),
        ]
    }

    fn all_right() -> Vec<WordResult> {
        vec![word(ErrorType::None); 3]
    }

    /// Frames of a two-phone model plus blank: `s` speech, `.` silence.
    fn heard(pattern: &str) -> Posteriors {
        let frames = pattern
            .chars()
            .map(|c| match c {
                's' => vec![-0.1, -3.0, -3.0],
                _ => vec![-5.0, -5.0, -0.01],
            })
            .collect();
        Posteriors { frames }
    }

    fn quiet(samples: usize) -> Vec<f32> {
        (0..samples)
            .map(|i| 0.3 * (i as f32 * 0.05).sin())
            .collect()
    }

    /// A second of sound, silent for `lead` and `tail` samples at its ends.
    fn sound(lead: usize, tail: usize) -> Vec<f32> {
        let mut take = quiet(16_000);
        take[..lead].fill(0.0);
        let n = take.len();
        take[n - tail..].fill(0.0);
        take
    }

    #[test]
    fn speech_with_room_at_both_ends_has_no_issue() {
        assert_eq!(
            issues(
                &sound(1_600, 1_600),
                &heard("........ssss.s........"),
                BLANK,
                &all_right()
            ),
            vec![]
        );
    }

    #[test]
    fn no_speech_is_said() {
        assert_eq!(
            issues(&quiet(16_000), &heard("..........."), BLANK, &[]),
            vec![TakeIssue::NoSpeech]
        );
        assert_eq!(
            issues(&[], &heard(""), BLANK, &[]),
            vec![TakeIssue::NoSpeech]
        );
    }

    #[test]
    fn speech_running_into_either_end_is_cut_off() {
        let cut_at_start = sound(0, 3_200);
        let cut_at_end = sound(3_200, 0);
        for (take, pattern) in [
            (&cut_at_start, "s..........ss........"),
            (&cut_at_start, "....ss..............."),
            (&cut_at_end, "..........ss........s"),
            (&cut_at_end, ".........ss.....s...."),
        ] {
            assert_eq!(
                issues(take, &heard(pattern), BLANK, &edges_wrong()),
                vec![TakeIssue::CutOff],
                "{pattern}"
            );
            // Words judged right at the ends were not cut (espeak-ng speaks
            // from its first sample).
            assert_eq!(issues(take, &heard(pattern), BLANK, &all_right()), vec![]);
        }
        // An inserted word is no reference word: the last of those decides.
        let mut inserted_last = edges_wrong();
        inserted_last[2] = word(ErrorType::None);
        inserted_last.push(word(ErrorType::Insertion));
        assert_eq!(
            issues(
                &cut_at_end,
                &heard("..........ss........s"),
                BLANK,
                &inserted_last
            ),
            vec![]
        );
    }

    #[test]
    fn quiet_ends_or_speech_far_from_them_are_not_cut_off() {
        // The recogniser hears speech near the ends, but the recording is
        // silent there: the room before and after the learner spoke.
        let room = sound(1_600, 1_600);
        assert_eq!(
            issues(&room, &heard("...ss.......s.."), BLANK, &edges_wrong()),
            vec![]
        );
        // Sound at the ends, but no speech heard near them (a hum).
        assert_eq!(
            issues(
                &quiet(16_000),
                &heard("..........ss.........."),
                BLANK,
                &edges_wrong()
            ),
            vec![]
        );
    }

    #[test]
    fn clipped_peaks_are_said_but_one_full_scale_peak_is_not() {
        let mut take = quiet(16_000);
        take[8_000] = 1.0;
        assert_eq!(
            issues(&take, &heard("......ss......"), BLANK, &all_right()),
            vec![]
        );
        for s in take.iter_mut().step_by(500) {
            *s = -1.0;
        }
        assert_eq!(
            issues(&take, &heard("......ss......"), BLANK, &all_right()),
            vec![TakeIssue::Clipped]
        );
    }
}
