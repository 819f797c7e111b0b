//! LRC lyrics: `[mm:ss.xx]line` (several time tags may share one line),
//! metadata tags such as `[ar:…]` and `[offset:+500]`, and the "enhanced"
//! word timings `<mm:ss.xx>`. A line lasts until the next line starts; an
//! empty timed line marks the end of the previous one.

use super::cue::{Cue, CueCollector, ParsedCues, WordTiming};
use super::error::{SkippedCue, SubtitleError};
use super::timecode::parse_clock;
use crate::time::Millis;

/// How long the last line stays when nothing follows it.
const LAST_LINE_DURATION: Millis = Millis::new(4_000);

struct TimedLine {
    line: usize,
    start: Millis,
    text: String,
    words: Option<Vec<(Millis, String)>>,
}

pub fn parse(text: &str) -> Result<ParsedCues, SubtitleError> {
    let mut collector = CueCollector::default();
    let mut offset_ms: i64 = 0;
    let mut timed = Vec::new();
    for (index, raw_line) in text.split('\n').enumerate() {
        let line_number = index + 1;
        let mut rest = raw_line.trim().trim_start_matches('\u{feff}');
        let mut starts = Vec::new();
        while let Some(after) = rest.strip_prefix('[') {
            let Some(close) = after.find(']') else { break };
            let tag = &after[..close];
            rest = &after[close + 1..];
            if tag.starts_with(|c: char| c.is_ascii_digit()) {
                match parse_clock(&lrc_clock(tag)) {
                    Ok(at) => starts.push(at),
                    Err(reason) => collector.skip(SkippedCue::new(line_number, Some(2), reason)),
                }
            } else if let Some(value) = tag.strip_prefix("offset:") {
                offset_ms = value.trim().parse().unwrap_or(0);
            }
        }
        let (text, words) = read_enhanced(rest.trim());
        for start in starts {
            timed.push(TimedLine {
                line: line_number,
                start,
                text: text.clone(),
                words: words.clone(),
            });
        }
    }
    timed.sort_by_key(|line| line.start);
    let shift = |at: Millis| -> Millis {
        // A positive offset makes lyrics appear sooner.
        Millis::new(
            u64::try_from(
                i64::try_from(at.get())
                    .unwrap_or(i64::MAX)
                    .saturating_sub(offset_ms),
            )
            .unwrap_or(0),
        )
    };
    for (index, line) in timed.iter().enumerate() {
        let end = timed.get(index + 1).map_or(
            Millis::new(line.start.get() + LAST_LINE_DURATION.get()),
            |next| next.start,
        );
        let words = line.words.as_ref().map(|words| {
            words
                .iter()
                .enumerate()
                .map(|(i, (start, text))| WordTiming {
                    text: text.clone(),
                    start_time: shift(*start),
                    end_time: shift(words.get(i + 1).map_or(end, |next| next.0)),
                })
                .filter(|word| word.start_time < word.end_time)
                .collect()
        });
        collector.push(
            line.line,
            Cue {
                start: shift(line.start),
                end: shift(end),
                text: line.text.clone(),
                words,
            },
        )?;
    }
    collector.finish()
}

/// LRC writes `mm:ss.xx`, sometimes `mm:ss:xx`; the clock parser wants the
/// fraction after a dot.
fn lrc_clock(tag: &str) -> String {
    match tag.matches(':').count() {
        2 => match tag.rfind(':') {
            Some(at) => format!("{}.{}", &tag[..at], &tag[at + 1..]),
            None => tag.to_owned(),
        },
        _ => tag.to_owned(),
    }
}

/// Splits `<00:01.00>word <00:01.50>word` into plain text and timed words.
fn read_enhanced(text: &str) -> (String, Option<Vec<(Millis, String)>>) {
    if !text.contains('<') {
        return (text.to_owned(), None);
    }
    let mut plain = String::new();
    let mut words: Vec<(Millis, String)> = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix('<')
            && let Some(close) = after.find('>')
            && let Ok(at) = parse_clock(&lrc_clock(&after[..close]))
        {
            words.push((at, String::new()));
            rest = &after[close + 1..];
            continue;
        }
        let first_len = rest.chars().next().map_or(1, char::len_utf8);
        let next = rest[first_len..]
            .find('<')
            .map_or(rest.len(), |i| i + first_len);
        plain.push_str(&rest[..next]);
        if let Some(last) = words.last_mut() {
            last.1.push_str(&rest[..next]);
        }
        rest = &rest[next..];
    }
    let words: Vec<_> = words
        .into_iter()
        .map(|(at, text)| (at, text.trim().to_owned()))
        .filter(|(_, text)| !text.is_empty())
        .collect();
    let plain = plain.split_whitespace().collect::<Vec<_>>().join(" ");
    (plain, (!words.is_empty()).then_some(words))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn reads_repeated_tags_offset_and_enhanced_words() {
        let file = "[ar:Someone]\n[offset:+500]\n[00:10.00][00:20.00]Chorus line\n[00:15.00]<00:15.00>Hello <00:16.00>there\n[00:18.00]\n";
        let parsed = parse(file).unwrap();
        let cues: Vec<_> = parsed
            .cues
            .iter()
            .map(|c| (c.start.get(), c.end.get(), c.text.as_str()))
            .collect();
        assert_eq!(
            cues,
            [
                (9_500, 14_500, "Chorus line"),
                (14_500, 17_500, "Hello there"),
                (19_500, 23_500, "Chorus line")
            ]
        );
        let words = parsed.cues[1].words.as_ref().unwrap();
        assert_eq!(
            (
                words[1].text.as_str(),
                words[1].start_time.get(),
                words[1].end_time.get()
            ),
            ("there", 15_500, 17_500)
        );
    }
}
