//! Translation pairing: a second subtitle file, in the learner's language,
//! laid over the segments by time. Translations are timed for the screen, not
//! for our segments, so one translated cue may span two segments and one
//! segment may need two translated cues.

use super::cue::Cue;
use super::segment::Segment;

/// Attaches each translated cue to every segment it covers substantially
/// (at least half of the segment, or at least half of the cue); a cue that
/// covers nothing substantially goes to the segment it overlaps most. A
/// segment's translation is its cues' texts in order, joined by spaces.
pub fn pair_translations(segments: &mut [Segment], translations: &[Cue]) {
    let mut attached: Vec<Vec<&str>> = vec![Vec::new(); segments.len()];
    for cue in translations {
        let (cue_start, cue_end) = (cue.start.get(), cue.end.get());
        let cue_length = cue_end.saturating_sub(cue_start).max(1);
        // Segments are sorted by start; only those starting before the cue ends can overlap.
        let last = segments.partition_point(|s| s.start_time.get() < cue_end);
        let first = segments[..last]
            .partition_point(|s| s.end_time.get() <= cue_start.saturating_sub(MAX_SEGMENT_REACH));
        let overlaps: Vec<(usize, u64)> = (first..last)
            .filter_map(|index| {
                let segment = &segments[index];
                let overlap = segment
                    .end_time
                    .get()
                    .min(cue_end)
                    .saturating_sub(segment.start_time.get().max(cue_start));
                (overlap > 0).then_some((index, overlap))
            })
            .collect();
        let substantial: Vec<usize> = overlaps
            .iter()
            .filter(|&&(index, overlap)| {
                let segment_length = segments[index]
                    .end_time
                    .get()
                    .saturating_sub(segments[index].start_time.get())
                    .max(1);
                overlap * 2 >= segment_length || overlap * 2 >= cue_length
            })
            .map(|&(index, _)| index)
            .collect();
        let targets = if substantial.is_empty() {
            overlaps
                .iter()
                .max_by_key(|&&(_, overlap)| overlap)
                .map(|&(index, _)| index)
                .into_iter()
                .collect()
        } else {
            substantial
        };
        for index in targets {
            attached[index].push(cue.text.as_str());
        }
    }
    for (segment, texts) in segments.iter_mut().zip(attached) {
        segment.translation = (!texts.is_empty()).then(|| texts.join(" ").replace('\n', " "));
    }
}

/// Segments overlap rarely and never by long; looking this far back for
/// segments still running when a cue starts keeps pairing near-linear.
const MAX_SEGMENT_REACH: u64 = 60_000;

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::time::Millis;

    fn segment(start: u64, end: u64) -> Segment {
        Segment {
            start_time: Millis::new(start),
            end_time: Millis::new(end),
            text: String::new(),
            words: None,
            translation: None,
        }
    }

    fn cue(start: u64, end: u64, text: &str) -> Cue {
        Cue {
            start: Millis::new(start),
            end: Millis::new(end),
            text: text.to_owned(),
            words: None,
        }
    }

    #[test]
    fn spanning_and_split_translations() {
        let mut segments = [
            segment(0, 2_000),
            segment(2_000, 4_000),
            segment(5_000, 6_000),
            segment(9_000, 9_500),
        ];
        let translations = [
            cue(100, 3_900, "A la vez."),
            cue(5_000, 5_400, "Uno"),
            cue(5_400, 6_100, "dos"),
            cue(7_000, 8_000, "nada"),
        ];
        pair_translations(&mut segments, &translations);
        let paired: Vec<_> = segments.iter().map(|s| s.translation.as_deref()).collect();
        assert_eq!(
            paired,
            [Some("A la vez."), Some("A la vez."), Some("Uno dos"), None]
        );
    }
}
