//! Pitch contours (McLeod pitch method) in semitones.

use pitch_detection::detector::PitchDetector;
use pitch_detection::detector::mcleod::McLeodDetector;

use crate::audio::SAMPLE_RATE;

const WINDOW: usize = 1024;
const MIN_HZ: f32 = 60.0;
const MAX_HZ: f32 = 500.0;

/// F0 in semitones relative to 100 Hz, one value per `hop` samples;
/// `None` where unvoiced.
pub fn contour(samples: &[f32], hop: usize) -> Vec<Option<f32>> {
    let mut detector = McLeodDetector::<f32>::new(WINDOW, WINDOW / 2);
    let frames = samples.len() / hop;
    let mut window = vec![0f32; WINDOW];
    (0..frames)
        .map(|f| {
            // Centre the analysis window on the frame.
            let centre = f * hop + hop / 2;
            let start = centre.saturating_sub(WINDOW / 2);
            window.iter_mut().for_each(|x| *x = 0.0);
            let available = samples.len().saturating_sub(start).min(WINDOW);
            window[..available].copy_from_slice(&samples[start..start + available]);
            let pitch = detector.get_pitch(&window, SAMPLE_RATE as usize, 0.5, 0.7)?;
            (MIN_HZ..=MAX_HZ)
                .contains(&pitch.frequency)
                .then(|| 12.0 * (pitch.frequency / 100.0).log2())
        })
        .collect()
}

/// Farthest a frame may sit from its neighbours' median, in semitones: half
/// an octave. The tracker's typical error is an octave (or a spike at a
/// click); real speech does not leap that far within 20 ms.
const JUMP_SEMITONES: f32 = 6.0;
/// Farthest a frame may sit from the median of the whole contour: one
/// octave. A sentence's intonation stays well inside its speaker's octave.
const RANGE_SEMITONES: f32 = 12.0;

/// The contour without frames the tracker most likely got wrong: a voiced
/// frame more than an octave from the contour's median, more than half an
/// octave from the median of the voiced frames within two frames of it, or
/// with fewer than two voiced neighbours there (a lone frame is a click,
/// not a syllable). A few such frames are enough to turn the correlation
/// of two identical tunes negative.
pub fn without_jumps(contour: &[Option<f32>]) -> Vec<Option<f32>> {
    let median_of = |values: &mut Vec<f32>| {
        values.sort_by(f32::total_cmp);
        values[values.len() / 2]
    };
    let mut voiced: Vec<f32> = contour.iter().flatten().copied().collect();
    if voiced.is_empty() {
        return contour.to_vec();
    }
    let overall = median_of(&mut voiced);
    let in_range: Vec<Option<f32>> = contour
        .iter()
        .map(|value| value.filter(|v| (v - overall).abs() <= RANGE_SEMITONES))
        .collect();
    (0..in_range.len())
        .map(|i| {
            let value = in_range[i]?;
            let mut near: Vec<f32> = in_range[i.saturating_sub(2)..(i + 3).min(in_range.len())]
                .iter()
                .flatten()
                .copied()
                .collect();
            if near.len() < 3 {
                return None;
            }
            let local = median_of(&mut near);
            ((value - local).abs() <= JUMP_SEMITONES).then_some(value)
        })
        .collect()
}

/// Standard deviation of the voiced semitone values; `None` with fewer than
/// 10 voiced frames.
pub fn spread(contour: &[Option<f32>]) -> Option<f32> {
    let voiced: Vec<f32> = contour.iter().flatten().copied().collect();
    if voiced.len() < 10 {
        return None;
    }
    let mean = voiced.iter().sum::<f32>() / voiced.len() as f32;
    let var = voiced.iter().map(|v| (v - mean).powi(2)).sum::<f32>() / voiced.len() as f32;
    Some(var.sqrt())
}

/// Pearson correlation of paired values; `None` with fewer than 10 pairs or
/// no variance.
pub fn correlation(pairs: &[(f32, f32)]) -> Option<f32> {
    if pairs.len() < 10 {
        return None;
    }
    let n = pairs.len() as f32;
    let (ma, mb) = pairs
        .iter()
        .fold((0.0, 0.0), |(a, b), (x, y)| (a + x / n, b + y / n));
    let (mut cov, mut va, mut vb) = (0.0, 0.0, 0.0);
    for (x, y) in pairs {
        cov += (x - ma) * (y - mb);
        va += (x - ma).powi(2);
        vb += (y - mb).powi(2);
    }
    (va > 1e-6 && vb > 1e-6).then(|| cov / (va * vb).sqrt())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn glide(from_hz: f32, to_hz: f32, seconds: f32) -> Vec<f32> {
        let n = (seconds * SAMPLE_RATE as f32) as usize;
        let mut phase = 0.0f32;
        (0..n)
            .map(|i| {
                let hz = from_hz + (to_hz - from_hz) * i as f32 / n as f32;
                phase += 2.0 * std::f32::consts::PI * hz / SAMPLE_RATE as f32;
                0.5 * phase.sin()
            })
            .collect()
    }

    #[test]
    fn a_flat_tone_has_no_spread_and_a_glide_has_some() {
        let flat = contour(&glide(150.0, 150.0, 1.0), 160);
        let flat_spread = spread(&flat).unwrap();
        assert!(flat_spread < 0.2, "{flat_spread}");
        let rising = contour(&glide(100.0, 200.0, 1.0), 160);
        assert!(spread(&rising).unwrap() > 2.0);
        // 150 Hz is 7.02 semitones above 100 Hz.
        let mid = flat[50].unwrap();
        assert!((mid - 7.02).abs() < 0.2, "{mid}");
    }

    #[test]
    fn a_spike_and_a_lone_frame_are_dropped_but_a_glide_is_kept() {
        let mut contour: Vec<Option<f32>> = (0..20).map(|i| Some(i as f32 * 0.3)).collect();
        contour[10] = Some(27.7); // an octave-and-more error at a click
        contour.extend([None, None, None, Some(4.0), None, None, None]);
        let cleaned = without_jumps(&contour);
        assert_eq!(cleaned[10], None);
        assert_eq!(cleaned[23], None, "a lone voiced frame");
        let kept = cleaned.iter().flatten().count();
        assert_eq!(kept, 19, "{cleaned:?}");
        assert_eq!(cleaned[9], Some(9.0 * 0.3));

        // A run of frames locked on an artefact far above the voice.
        let mut locked: Vec<Option<f32>> =
            (0..30).map(|i| Some(2.0 + (i % 5) as f32 * 0.2)).collect();
        locked[25..28].fill(Some(27.7));
        let cleaned = without_jumps(&locked);
        assert!(cleaned[25..28].iter().all(Option::is_none), "{cleaned:?}");
        assert_eq!(cleaned[..25], locked[..25]);
        // What is left after them is a 20 ms run: too short to trust.
        assert_eq!(cleaned[28..], [None, None]);
    }

    #[test]
    fn correlation_of_a_line_with_itself_is_one() {
        let pairs: Vec<(f32, f32)> = (0..20).map(|i| (i as f32, 2.0 * i as f32)).collect();
        assert!((correlation(&pairs).unwrap() - 1.0).abs() < 1e-4);
        let flipped: Vec<(f32, f32)> = (0..20).map(|i| (i as f32, -(i as f32))).collect();
        assert!((correlation(&flipped).unwrap() + 1.0).abs() < 1e-4);
    }
}
