//! Clock notations shared by SRT, WebVTT, ASS and LRC: `H:MM:SS.fff`,
//! `MM:SS.fff`, with `.` or `,` before the fraction and any number of
//! fraction digits (ASS writes centiseconds, LRC hundredths, SRT millis).

use crate::time::Millis;

/// Longest run of hour or minute digits we accept (keeps the arithmetic far
/// from overflow while allowing hours > 99 where a format permits them).
const MAX_LEADING_DIGITS: usize = 9;

/// Parses `[H…:]MM:SS[.,]fraction`. Without hours, minutes may exceed 59
/// (LRC and some WebVTT writers count minutes only).
pub fn parse_clock(text: &str) -> Result<Millis, String> {
    let text = text.trim();
    let parts: Vec<&str> = text.split(':').collect();
    let (hours, minutes, seconds) = match parts.as_slice() {
        [h, m, s] => (parse_digits(h, "hours")?, parse_digits(m, "minutes")?, *s),
        [m, s] => (0, parse_digits(m, "minutes")?, *s),
        _ => return Err(format!("`{text}` is not a time like 00:01:02,500")),
    };
    if parts.len() == 3 && minutes > 59 {
        return Err(format!("minutes {minutes} in `{text}` exceed 59"));
    }
    let (whole, fraction) = match seconds.find(['.', ',']) {
        Some(at) => (&seconds[..at], &seconds[at + 1..]),
        None => (seconds, ""),
    };
    let whole_seconds = parse_digits(whole, "seconds")?;
    if whole_seconds > 59 {
        return Err(format!("seconds {whole_seconds} in `{text}` exceed 59"));
    }
    let millis = parse_fraction_as_millis(fraction)
        .ok_or_else(|| format!("`{fraction}` in `{text}` is not a fraction of a second"))?;
    Ok(Millis::new(
        ((hours * 60 + minutes) * 60 + whole_seconds) * 1000 + millis,
    ))
}

fn parse_digits(text: &str, what: &str) -> Result<u64, String> {
    if text.is_empty()
        || text.len() > MAX_LEADING_DIGITS
        || !text.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(format!("{what} `{text}` must be digits"));
    }
    text.parse::<u64>()
        .map_err(|_| format!("{what} `{text}` must be digits"))
}

/// `"5"` → 500, `"05"` → 50, `"123456"` → 123 (truncated, not rounded, so a
/// time never moves past the next cue's start).
pub fn parse_fraction_as_millis(fraction: &str) -> Option<u64> {
    if fraction.is_empty() {
        return Some(0);
    }
    if !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut millis = 0;
    for (index, digit) in fraction.bytes().take(3).enumerate() {
        millis += u64::from(digit - b'0') * [100, 10, 1][index];
    }
    Some(millis)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn reads_common_notations() {
        assert_eq!(parse_clock("00:01:02,500"), Ok(Millis::new(62_500)));
        assert_eq!(parse_clock("01:02.5"), Ok(Millis::new(62_500)));
        assert_eq!(parse_clock("0:00:01.25"), Ok(Millis::new(1_250)));
        assert_eq!(parse_clock("123:00:00.000"), Ok(Millis::new(442_800_000)));
        assert_eq!(parse_clock("75:30.00"), Ok(Millis::new(4_530_000)));
    }

    #[test]
    fn rejects_out_of_range_and_garbage() {
        assert!(parse_clock("00:61:00,000").is_err());
        assert!(parse_clock("00:00:60,000").is_err());
        assert!(parse_clock("aa:00:00,000").is_err());
        assert!(parse_clock("1:2:3:4").is_err());
        assert!(parse_clock("00:00:01,5x").is_err());
        assert!(parse_clock("99999999999:00:00,000").is_err());
    }
}
