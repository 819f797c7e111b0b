//! Media time. Echoloop stores every time as integer milliseconds; this module
//! turns them into the clock notation learners and subtitle files use.

use std::fmt;

/// A non-negative point or length in media time, in milliseconds.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Default,
    serde::Serialize,
    serde::Deserialize,
)]
#[serde(transparent)]
pub struct Millis(u64);

impl Millis {
    pub const ZERO: Millis = Millis(0);

    pub const fn new(ms: u64) -> Self {
        Millis(ms)
    }

    pub const fn get(self) -> u64 {
        self.0
    }

    /// Clock notation `H:MM:SS.mmm`, hours unbounded (a 120-hour stream is
    /// `120:00:00.000`), as shown next to each segment in the practice view.
    pub fn to_clock(self) -> String {
        self.to_string()
    }
}

impl fmt::Display for Millis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ms = self.0 % 1000;
        let total_seconds = self.0 / 1000;
        let seconds = total_seconds % 60;
        let minutes = (total_seconds / 60) % 60;
        let hours = total_seconds / 3600;
        write!(f, "{hours}:{minutes:02}:{seconds:02}.{ms:03}")
    }
}

/// The span of a segment: `start < end`, both in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SegmentSpan {
    start: Millis,
    end: Millis,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SpanError {
    #[error("start time {start} ms must be before end time {end} ms")]
    NotIncreasing { start: u64, end: u64 },
    #[error("time {0} ms is negative")]
    Negative(i64),
}

impl SegmentSpan {
    /// Parses a span from signed milliseconds as they arrive from JSON or SQL.
    pub fn parse(start_ms: i64, end_ms: i64) -> Result<Self, SpanError> {
        let start = u64::try_from(start_ms).map_err(|_| SpanError::Negative(start_ms))?;
        let end = u64::try_from(end_ms).map_err(|_| SpanError::Negative(end_ms))?;
        if start >= end {
            return Err(SpanError::NotIncreasing { start, end });
        }
        Ok(SegmentSpan {
            start: Millis(start),
            end: Millis(end),
        })
    }

    pub fn start(self) -> Millis {
        self.start
    }

    pub fn end(self) -> Millis {
        self.end
    }

    pub fn duration(self) -> Millis {
        Millis(self.end.0 - self.start.0)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn clock_notation_pads_minutes_seconds_and_millis() {
        assert_eq!(Millis::new(0).to_clock(), "0:00:00.000");
        assert_eq!(Millis::new(61_005).to_clock(), "0:01:01.005");
        assert_eq!(Millis::new(3_723_456).to_clock(), "1:02:03.456");
    }

    #[test]
    fn clock_notation_allows_hours_beyond_99() {
        assert_eq!(Millis::new(432_000_000).to_clock(), "120:00:00.000");
    }

    #[test]
    fn span_requires_start_before_end() {
        assert_eq!(
            SegmentSpan::parse(500, 500),
            Err(SpanError::NotIncreasing {
                start: 500,
                end: 500
            })
        );
        assert_eq!(
            SegmentSpan::parse(900, 100),
            Err(SpanError::NotIncreasing {
                start: 900,
                end: 100
            })
        );
        assert_eq!(SegmentSpan::parse(-1, 100), Err(SpanError::Negative(-1)));
        let span = SegmentSpan::parse(1_000, 2_500).unwrap();
        assert_eq!(span.duration(), Millis::new(1_500));
    }
}
