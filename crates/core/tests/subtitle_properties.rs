//! Properties: serialise → parse round-trips, segmentation keeps every word
//! in order, and no input makes the importer panic.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use echoloop_core::subtitles::segment::segment_cues;
use echoloop_core::subtitles::serialise::{to_srt, to_vtt};
use echoloop_core::subtitles::{
    Cue, ImportOptions, SegmentOptions, SubtitleFormat, import, parse_text,
};
use echoloop_core::text::tokens::{TokenKind, tokenize};
use echoloop_core::time::Millis;
use proptest::prelude::*;

/// A caption line: words with optional punctuation, including characters
/// that need escaping in WebVTT and non-Latin scripts.
fn line() -> impl Strategy<Value = String> {
    let word = prop_oneof![
        "[a-zA-Z]{1,8}",
        "[a-z]{1,5}[.,?!]",
        "(é|ß|ø|ñ|ü)[a-z]{0,3}",
        "[0-9]{1,4}",
        Just("&".to_owned()),
        Just("a<b".to_owned()),
        Just("日本語".to_owned()),
        Just("don't".to_owned()),
    ];
    prop::collection::vec(word, 1..8).prop_map(|words| words.join(" "))
}

fn cue_text() -> impl Strategy<Value = String> {
    prop::collection::vec(line(), 1..3).prop_map(|lines| lines.join("\n"))
}

/// Cues in order, each `start < end`, with a gap of at least 1 ms between
/// them; hours may exceed 99.
fn cues(text: impl Strategy<Value = String>) -> impl Strategy<Value = Vec<Cue>> {
    prop::collection::vec((1u64..5_000, 1u64..8_000, text), 1..25).prop_flat_map(|items| {
        (0u64..400_000_000).prop_map(move |origin| {
            let mut at = origin;
            items
                .iter()
                .map(|(gap, length, text)| {
                    let start = at + gap;
                    at = start + length;
                    Cue {
                        start: Millis::new(start),
                        end: Millis::new(at),
                        text: text.clone(),
                        words: None,
                    }
                })
                .collect()
        })
    })
}

fn words_of(text: &str) -> Vec<String> {
    tokenize(text, None)
        .into_iter()
        .filter(|t| t.kind == TokenKind::Word)
        .map(|t| t.text)
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn srt_round_trips(cues in cues(cue_text())) {
        let parsed = parse_text(&to_srt(&cues), SubtitleFormat::Srt).unwrap();
        prop_assert!(parsed.skipped.is_empty());
        prop_assert_eq!(parsed.cues, cues);
    }

    #[test]
    fn vtt_round_trips(cues in cues(cue_text())) {
        let parsed = parse_text(&to_vtt(&cues), SubtitleFormat::Vtt).unwrap();
        prop_assert!(parsed.skipped.is_empty());
        prop_assert_eq!(parsed.cues, cues);
    }

    #[test]
    fn srt_round_trips_through_bytes_and_detection(cues in cues(cue_text())) {
        let imported = import(to_srt(&cues).as_bytes(), None, &ImportOptions { keep_cues: true, ..Default::default() }).unwrap();
        prop_assert_eq!(imported.format, SubtitleFormat::Srt);
        let texts: Vec<_> = imported.segments.iter().map(|s| s.text.clone()).collect();
        let expected: Vec<_> = cues.iter().map(|c| c.text.clone()).collect();
        prop_assert_eq!(texts, expected);
    }

    #[test]
    fn segmentation_keeps_every_word_in_order(
        cues in cues(cue_text()),
        max_chars in 10usize..200,
        max_duration_ms in 1_000u64..20_000,
        pause_ms in 100u64..3_000,
    ) {
        let options = SegmentOptions { max_chars, max_duration_ms, pause_ms, language: None };
        let segments = segment_cues(&cues, &options);
        let before: Vec<String> = cues.iter().flat_map(|c| words_of(&c.text)).collect();
        let after: Vec<String> = segments.iter().flat_map(|s| words_of(&s.text)).collect();
        prop_assert_eq!(after, before);
        for pair in segments.windows(2) {
            prop_assert!(pair[0].start_time <= pair[1].start_time);
        }
        for segment in &segments {
            prop_assert!(segment.start_time < segment.end_time);
        }
    }

    #[test]
    fn any_bytes_give_a_result_not_a_panic(bytes in prop::collection::vec(any::<u8>(), 0..2_000)) {
        let _ = import(&bytes, None, &ImportOptions::default());
    }

    #[test]
    fn any_text_in_any_format_gives_a_result_not_a_panic(text in "(WEBVTT\n|1\n|\\[Events\\]\n|<tt>|\\{\"events\":)?[ -~\n<>{}\\[\\]:.,\\-é日]{0,400}") {
        for format in [SubtitleFormat::Srt, SubtitleFormat::Vtt, SubtitleFormat::Ass, SubtitleFormat::Ttml, SubtitleFormat::Json3, SubtitleFormat::Srv3, SubtitleFormat::Lrc] {
            let _ = parse_text(&text, format);
        }
    }

    #[test]
    fn token_offsets_agree_in_every_unit(text in "\\PC{0,80}") {
        let utf16: Vec<u16> = text.encode_utf16().collect();
        let chars: Vec<char> = text.chars().collect();
        for token in tokenize(&text, None) {
            prop_assert_eq!(&text[token.byte_start..token.byte_end], token.text.as_str());
            prop_assert_eq!(chars[token.char_start..token.char_end].iter().collect::<String>(), token.text.clone());
            prop_assert_eq!(String::from_utf16_lossy(&utf16[token.utf16_start..token.utf16_end]), token.text.clone());
        }
    }
}
