//! Cutting one window's decoded tokens into timed segments, and where the
//! next window starts (faster-whisper's `_split_segments_by_timestamps`).
//!
//! Whisper writes `<|t₀|> text <|t₁|>` for each stretch of speech, times
//! relative to the window in 20 ms steps. Two timestamps in a row close one
//! segment and open the next. When the window ends on a lone timestamp the
//! speech is complete and the next window starts after this one; otherwise
//! the last segment was cut off by the window's end, so it is dropped and
//! the next window starts at the last complete timestamp, to hear it whole.

/// Mel frames per second (10 ms hop).
pub const FRAMES_PER_SECOND: usize = 100;
/// Frames per timestamp step (20 ms: the encoder halves the frame rate).
pub const INPUT_STRIDE: usize = 2;

/// A stretch of one window's tokens with its time in the file (frames).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenSegment {
    pub start_frame: usize,
    pub end_frame: usize,
    pub tokens: Vec<usize>,
}

/// The segments of one window and the next seek position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Split {
    pub segments: Vec<TokenSegment>,
    pub next_seek: usize,
    /// The window ended on a single timestamp: nothing was cut off.
    pub single_timestamp_ending: bool,
}

/// `tokens` as generated for the window starting at frame `seek` holding
/// `segment_size` frames of audio; `timestamp_begin` is `<|0.00|>`'s id.
pub fn split_by_timestamps(
    tokens: &[usize],
    timestamp_begin: usize,
    seek: usize,
    segment_size: usize,
) -> Split {
    let is_ts = |t: usize| t >= timestamp_begin;
    let position = |t: usize| (t - timestamp_begin) * INPUT_STRIDE;
    let n = tokens.len();
    let single_timestamp_ending = n >= 2 && !is_ts(tokens[n - 2]) && is_ts(tokens[n - 1]);
    let consecutive: Vec<usize> = (1..n)
        .filter(|&i| is_ts(tokens[i]) && is_ts(tokens[i - 1]))
        .collect();

    if consecutive.is_empty() {
        // No closed segment: the whole window is one, ending at its last
        // timestamp if it has one (other than 0), else at the window's end.
        let last_ts = tokens.iter().rev().copied().find(|&t| is_ts(t));
        let duration = match last_ts {
            Some(t) if t != timestamp_begin => position(t),
            _ => segment_size,
        };
        return Split {
            segments: vec![TokenSegment {
                start_frame: seek,
                end_frame: seek + duration,
                tokens: tokens.to_vec(),
            }],
            next_seek: seek + segment_size,
            single_timestamp_ending,
        };
    }

    let mut slices = consecutive;
    if single_timestamp_ending {
        slices.push(n);
    }
    let mut segments = Vec::with_capacity(slices.len());
    let mut last = 0;
    for &slice in &slices {
        let part = &tokens[last..slice];
        let (first, end) = (part[0], part[part.len() - 1]);
        segments.push(TokenSegment {
            start_frame: seek + if is_ts(first) { position(first) } else { 0 },
            end_frame: seek + if is_ts(end) { position(end) } else { 0 },
            tokens: part.to_vec(),
        });
        last = slice;
    }
    let next_seek = if single_timestamp_ending {
        seek + segment_size
    } else {
        seek + position(tokens[last - 1])
    };
    Split {
        segments,
        next_seek,
        single_timestamp_ending,
    }
}

/// Frames the last word may end after the last complete timestamp and still
/// set the next window's start: 0.5 s, the margin past which faster-whisper
/// calls a segment's last word too long and prefers the timestamp.
pub const MAX_WORD_OVERRUN: usize = 50;

/// The next window's start for a window that was cut off (no single
/// timestamp at its end), given where the last complete timestamp puts it
/// (`timestamp_seek`, from [`split_by_timestamps`]) and the end of the last
/// aligned word (`last_word_end`, frames, when words were aligned).
///
/// faster-whisper starts at the last word's end, which is more precise than
/// the 20 ms timestamp when the two agree. But when the decoder stops early
/// in a window (its last complete timestamp seconds before the window's
/// end), the alignment stretches the last words over the untranscribed
/// speech up to where the end-of-text lands, often the window's end; seeking
/// there skips every sentence in between (seen on a resampled copy of the
/// evaluation passage: "it was the" stretched over 6 s, three sentences
/// lost). A word ending more than [`MAX_WORD_OVERRUN`] past the timestamp is
/// not trusted, and the window resumes at the timestamp, as without words.
pub fn seek_after_words(seek: usize, timestamp_seek: usize, last_word_end: Option<usize>) -> usize {
    match last_word_end {
        Some(end) if end > seek && end <= timestamp_seek + MAX_WORD_OVERRUN => end,
        _ => timestamp_seek,
    }
}

/// The next window's start, never behind the current one: a model that
/// answers `<|0.00|><|0.00|>` would otherwise decode the same window
/// forever. Without progress it moves on by the whole window.
pub fn ensure_progress(seek: usize, next_seek: usize, segment_size: usize) -> usize {
    if next_seek > seek {
        next_seek
    } else {
        seek + segment_size.max(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TS: usize = 1000;
    fn ts(seconds: f64) -> usize {
        TS + (seconds / 0.02).round() as usize
    }

    #[test]
    fn closed_segments_end_on_a_single_timestamp_and_the_window_is_done() {
        // <|0.00|> a b <|2.00|><|2.50|> c <|4.00|>
        let tokens = [ts(0.0), 1, 2, ts(2.0), ts(2.5), 3, ts(4.0)];
        let split = split_by_timestamps(&tokens, TS, 500, 3000);
        assert!(split.single_timestamp_ending);
        assert_eq!(split.segments.len(), 2);
        assert_eq!(split.segments[0].start_frame, 500);
        assert_eq!(split.segments[0].end_frame, 700);
        assert_eq!(split.segments[0].tokens, vec![ts(0.0), 1, 2, ts(2.0)]);
        assert_eq!(split.segments[1].start_frame, 750);
        assert_eq!(split.segments[1].end_frame, 900);
        assert_eq!(split.next_seek, 3500);
    }

    #[test]
    fn a_segment_cut_off_by_the_window_end_is_redone_from_its_start() {
        // <|0.00|> a <|1.00|><|1.20|> b c (window ended mid-sentence)
        let tokens = [ts(0.0), 1, ts(1.0), ts(1.2), 2, 3];
        let split = split_by_timestamps(&tokens, TS, 0, 3000);
        assert!(!split.single_timestamp_ending);
        assert_eq!(split.segments.len(), 1);
        assert_eq!(split.segments[0].tokens, vec![ts(0.0), 1, ts(1.0)]);
        // The next window starts at 1.00 s, where the last complete one ended.
        assert_eq!(split.next_seek, 100);
    }

    #[test]
    fn without_consecutive_timestamps_the_window_is_one_segment() {
        let tokens = [ts(0.4), 1, 2, ts(3.0)];
        let split = split_by_timestamps(&tokens, TS, 3000, 1200);
        assert_eq!(split.segments.len(), 1);
        assert_eq!(split.segments[0].start_frame, 3000);
        assert_eq!(split.segments[0].end_frame, 3300);
        assert_eq!(split.next_seek, 4200);

        // No timestamp at all: the segment spans the audio in the window.
        let split = split_by_timestamps(&[1, 2], TS, 0, 800);
        assert_eq!(split.segments[0].end_frame, 800);
        assert_eq!(split.next_seek, 800);
        // Nothing decoded.
        let split = split_by_timestamps(&[], TS, 0, 800);
        assert_eq!(split.segments[0].tokens, Vec::<usize>::new());
    }

    #[test]
    fn the_next_window_starts_at_the_last_word_unless_it_overruns_the_timestamp() {
        // Window at 51.14 s; last complete timestamp at 74.78 s.
        let (seek, at_timestamp) = (5114, 7478);
        // The word ends just after the timestamp (the usual case): trust it.
        assert_eq!(seek_after_words(seek, at_timestamp, Some(7488)), 7488);
        // Or before it (the timestamp came after a pause).
        assert_eq!(seek_after_words(seek, at_timestamp, Some(7300)), 7300);
        assert_eq!(seek_after_words(seek, at_timestamp, Some(7528)), 7528);
        // Stretched over untranscribed speech to the window's end: 6 s of
        // it would be skipped, so the window resumes at the timestamp.
        assert_eq!(seek_after_words(seek, at_timestamp, Some(8104)), 7478);
        assert_eq!(seek_after_words(seek, at_timestamp, Some(7529)), 7478);
        // No words, or words before the window (cannot be): the timestamp.
        assert_eq!(seek_after_words(seek, at_timestamp, None), 7478);
        assert_eq!(seek_after_words(seek, at_timestamp, Some(5000)), 7478);
    }

    #[test]
    fn seek_always_moves_forward() {
        let split = split_by_timestamps(&[ts(0.0), ts(0.0), 1], TS, 300, 3000);
        assert_eq!(split.next_seek, 300);
        assert_eq!(ensure_progress(300, split.next_seek, 3000), 3300);
        assert_eq!(ensure_progress(300, 301, 3000), 301);
        assert_eq!(ensure_progress(300, 200, 0), 301);
    }
}
