//! The fixture corpus: each file imported with default options; its format,
//! encoding, segments and skipped cues asserted exactly.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use echoloop_core::subtitles::limits::MAX_CUES;
use echoloop_core::subtitles::serialise::to_srt;
use echoloop_core::subtitles::{
    Cue, ImportOptions, Imported, SubtitleError, SubtitleFormat, import, import_to_json,
    pair_translations_json,
};
use echoloop_core::time::Millis;

fn fixture(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/tests/fixtures/subtitles/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap_or_else(|error| panic!("{path}: {error}"))
}

fn imported(name: &str) -> Imported {
    import(&fixture(name), Some(name), &ImportOptions::default())
        .unwrap_or_else(|error| panic!("{name}: {error}"))
}

/// `(start, end, text)` per segment.
fn segments(imported: &Imported) -> Vec<(u64, u64, &str)> {
    imported
        .segments
        .iter()
        .map(|s| (s.start_time.get(), s.end_time.get(), s.text.as_str()))
        .collect()
}

fn skipped(imported: &Imported) -> Vec<(usize, Option<usize>, &str)> {
    imported
        .skipped
        .iter()
        .map(|s| (s.line, s.column, s.reason.as_str()))
        .collect()
}

fn words(imported: &Imported, segment: usize) -> Vec<(&str, u64, u64)> {
    let words = imported.segments[segment]
        .words
        .as_ref()
        .expect("word timings");
    words
        .iter()
        .map(|w| (w.text.as_str(), w.start_time.get(), w.end_time.get()))
        .collect()
}

#[test]
fn film_srt_with_bom_crlf_tags_dashes_sound_cue_and_no_final_newline() {
    let film = imported("film_bom_crlf.srt");
    assert_eq!(
        (film.format, film.encoding.as_str()),
        (SubtitleFormat::Srt, "UTF-8")
    );
    assert_eq!(
        segments(&film),
        [
            (1_200, 3_400, "Where were you last night?"),
            (3_900, 5_115, "I was at the station."),
            (5_115, 6_100, "The whole night?"),
            (
                8_300,
                12_700,
                "I missed the last train, so I waited for the first one."
            ),
        ]
    );
    assert!(film.skipped.is_empty());
    assert!(film.segments.iter().all(|s| s.words.is_none()));
}

#[test]
fn srt_hours_above_99_and_a_broken_cue_skipped_with_position() {
    let stream = imported("stream_hours_partly_bad.srt");
    assert_eq!(
        segments(&stream),
        [
            (359_998_000, 359_999_500, "Still live after four days."),
            (360_003_000, 360_005_250, "Thanks for staying!")
        ]
    );
    assert_eq!(
        skipped(&stream),
        [(6, Some(19), "end time: hours `1OO` must be digits")]
    );
}

#[test]
fn overlapping_cues_stay_apart_and_zero_length_cue_is_skipped() {
    let overlapping = imported("overlapping.srt");
    assert_eq!(
        segments(&overlapping),
        [
            (1_000, 4_000, "Can you hear me?"),
            (2_500, 5_000, "Yes, loud and clear.")
        ]
    );
    assert_eq!(
        skipped(&overlapping),
        [(
            10,
            None,
            "the cue ends (0:00:05.000) before or when it starts (0:00:05.000)"
        )]
    );
}

#[test]
fn legacy_encodings_are_detected() {
    let chinese = imported("chinese_gbk.srt");
    assert_eq!(chinese.encoding, "GBK");
    assert_eq!(
        segments(&chinese),
        [
            (1_000, 4_454, "我们今天去图书馆学习中文。"),
            (4_454, 5_000, "你呢？")
        ]
    );

    let japanese = imported("japanese_shift_jis.srt");
    assert_eq!(japanese.encoding, "Shift_JIS");
    assert_eq!(
        segments(&japanese),
        [
            (1_000, 4_000, "今日はとても暑いですね。"),
            (4_500, 7_000, "冷たいお茶を飲みましょう。")
        ]
    );

    let french = imported("french_windows1252.srt");
    assert_eq!(french.encoding, "windows-1252");
    assert_eq!(
        segments(&french),
        [
            (1_000, 3_500, "Ça, c'est très drôle."),
            (3_500, 6_000, "Où est passée la bibliothèque ?")
        ]
    );

    let utf16 = imported("utf16be_no_bom.srt");
    assert_eq!(utf16.encoding, "UTF-16BE");
    assert_eq!(segments(&utf16), [(500, 2_000, "Plain ASCII in UTF-16BE.")]);
}

#[test]
fn webvtt_utf16_with_note_style_region_voices_and_entities() {
    let lesson = imported("lesson_utf16le_bom.vtt");
    assert_eq!(
        (lesson.format, lesson.encoding.as_str()),
        (SubtitleFormat::Vtt, "UTF-16LE")
    );
    assert_eq!(
        segments(&lesson),
        [
            (500, 1_062, "¡Hola!"),
            (1_062, 2_000, "¿Qué tal?"),
            (2_000, 4_500, "Muy bien, gracias, & tú?")
        ]
    );
    assert!(lesson.skipped.is_empty());
}

#[test]
fn youtube_rolling_webvtt_is_deduplicated_with_word_timings() {
    let rolling = imported("youtube_auto_rolling.vtt");
    assert_eq!(
        segments(&rolling),
        [
            (0, 4_990, "so today we're going to make bread at home"),
            (10_000, 12_000, "first you need flour")
        ]
    );
    assert_eq!(
        words(&rolling, 0),
        [
            ("so", 0, 320),
            ("today", 320, 640),
            ("we're", 640, 960),
            ("going", 960, 1_280),
            ("to", 1_280, 1_600),
            ("make", 1_600, 2_490),
            ("bread", 2_500, 2_900),
            ("at", 2_900, 3_200),
            ("home", 3_200, 4_990),
        ]
    );
    assert_eq!(
        words(&rolling, 1),
        [
            ("first", 10_000, 10_400),
            ("you", 10_400, 10_800),
            ("need", 10_800, 11_200),
            ("flour", 11_200, 12_000)
        ]
    );
    assert!(rolling.skipped.is_empty());
}

#[test]
fn ass_layers_drawings_overrides_and_a_bad_line() {
    let episode = imported("episode_layers.ass");
    assert_eq!(
        segments(&episode),
        [
            (1_500, 4_200, "Nice to meet you, I'm Mika."),
            (4_500, 7_000, "Ken, from the third floor."),
            (36_000_000, 36_002_000, "Ten hours in."),
        ]
    );
    assert_eq!(
        skipped(&episode),
        [(18, None, "start time: seconds `0x` must be digits")]
    );
}

#[test]
fn netflix_ttml_ticks_frames_offsets_spans_and_breaks() {
    let ttml = imported("netflix.ttml");
    assert_eq!(ttml.format, SubtitleFormat::Ttml);
    assert_eq!(
        segments(&ttml),
        [
            (1_502, 3_879, "Wo warst du gestern Abend?"),
            (4_004, 4_790, "Am Bahnhof."),
            (4_790, 6_006, "Die ganze Nacht."),
            (7_501, 9_000, "Mit Frames gezählt."),
            (10_000, 11_500, "Versatzzeit."),
        ]
    );
    assert_eq!(
        skipped(&ttml),
        [(15, None, "begin: `bad` is not a TTML time expression")]
    );
}

#[test]
fn youtube_json3_auto_captions_overlapping_events() {
    let json3 = imported("auto_captions.json3");
    assert_eq!(json3.format, SubtitleFormat::Json3);
    assert_eq!(
        segments(&json3),
        [
            (240, 6_160, "hey everyone welcome back to the channel"),
            (10_000, 12_000, "today we cook")
        ]
    );
    assert_eq!(
        words(&json3, 0),
        [
            ("hey", 240, 600),
            ("everyone", 600, 1_120),
            ("welcome", 1_120, 1_520),
            ("back", 1_520, 2_160),
            ("to", 2_160, 2_360),
            ("the", 2_360, 2_560),
            ("channel", 2_560, 6_160),
        ]
    );
}

#[test]
fn youtube_srv3_auto_and_manual_lines() {
    let srv3 = imported("auto_captions.srv3");
    assert_eq!(srv3.format, SubtitleFormat::Srv3);
    assert_eq!(
        segments(&srv3),
        [
            (100, 4_910, "I think so too"),
            (7_000, 9_000, "Manual line & more second half.")
        ]
    );
    assert_eq!(
        words(&srv3, 0),
        [
            ("I", 100, 400),
            ("think", 400, 800),
            ("so", 800, 1_910),
            ("too", 1_910, 4_910)
        ]
    );
    assert!(srv3.segments[1].words.is_none());
}

#[test]
fn lrc_lines_with_offset_repeats_and_enhanced_words() {
    let song = imported("song_enhanced_no_final_newline.lrc");
    assert_eq!(song.format, SubtitleFormat::Lrc);
    assert_eq!(
        segments(&song),
        [
            (12_250, 17_450, "Wake up, the sun is high"),
            (17_450, 22_750, "Sing it with me"),
            (22_750, 28_250, "Every single day"),
            (62_650, 70_250, "Sing it with me"),
            (70_250, 74_250, "The end"),
        ]
    );
    assert_eq!(
        words(&song, 2),
        [
            ("Every", 22_750, 23_350),
            ("single", 23_350, 24_050),
            ("day", 24_050, 28_250)
        ]
    );
}

#[test]
fn format_is_detected_from_content_not_extension() {
    let vtt = import(
        &fixture("lesson_utf16le_bom.vtt"),
        Some("lesson.srt"),
        &ImportOptions::default(),
    )
    .unwrap();
    assert_eq!(vtt.format, SubtitleFormat::Vtt);
    let ttml = import(
        &fixture("netflix.ttml"),
        Some("download.txt"),
        &ImportOptions::default(),
    )
    .unwrap();
    assert_eq!(ttml.format, SubtitleFormat::Ttml);
}

#[test]
fn unusable_files_are_errors_with_reasons() {
    let options = ImportOptions::default();
    assert_eq!(import(b"", None, &options), Err(SubtitleError::Empty));
    assert_eq!(
        import(b"\xef\xbb\xbf \r\n", None, &options),
        Err(SubtitleError::Empty)
    );
    assert_eq!(
        import(b"just a note", Some("a.txt"), &options),
        Err(SubtitleError::UnknownFormat)
    );
    let broken_xml = import(
        b"<tt xmlns=\"http://www.w3.org/ns/ttml\">\n<body><p begin=\"1s\" end=\"2s\">x</div></tt>",
        None,
        &options,
    );
    assert!(
        matches!(
            broken_xml,
            Err(SubtitleError::Malformed {
                line: 2,
                column: Some(_),
                ..
            })
        ),
        "{broken_xml:?}"
    );
    let no_good_cue = import(b"1\n00:00:0x,000 --> 00:00:02,000\nHi\n", None, &options);
    assert_eq!(
        no_good_cue,
        Err(SubtitleError::Malformed {
            line: 2,
            column: Some(1),
            reason: "start time: seconds `0x` must be digits".into()
        })
    );
    let too_large = vec![b'a'; echoloop_core::subtitles::limits::MAX_FILE_BYTES + 1];
    assert!(matches!(
        import(&too_large, None, &options),
        Err(SubtitleError::TooLarge { .. })
    ));
}

#[test]
fn cue_count_is_bounded() {
    let cues: Vec<Cue> = (0..=MAX_CUES as u64)
        .map(|index| Cue {
            start: Millis::new(index * 10),
            end: Millis::new(index * 10 + 5),
            text: "x".into(),
            words: None,
        })
        .collect();
    let file = to_srt(&cues);
    let result = import(file.as_bytes(), None, &ImportOptions::default());
    assert!(matches!(result, Err(SubtitleError::TooManyCues)));
    let within_limit = to_srt(&cues[..MAX_CUES]);
    let result = import(
        within_limit.as_bytes(),
        None,
        &ImportOptions {
            keep_cues: true,
            ..Default::default()
        },
    );
    assert_eq!(result.map(|imported| imported.segments.len()), Ok(MAX_CUES));
}

#[test]
fn json_shape_for_the_web_client() {
    let json = import_to_json(
        &fixture("overlapping.srt"),
        None,
        &ImportOptions {
            keep_cues: true,
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(
        json,
        r#"{"format":"srt","encoding":"UTF-8","segments":[{"startTime":1000,"endTime":4000,"text":"Can you hear me?"},{"startTime":2500,"endTime":5000,"text":"Yes, loud and clear."}],"skipped":[{"line":10,"reason":"the cue ends (0:00:05.000) before or when it starts (0:00:05.000)"}]}"#
    );
}

#[test]
fn translations_pair_by_time() {
    let segments = r#"[{"startTime":1200,"endTime":3400,"text":"Where were you last night?"},{"startTime":3900,"endTime":6100,"text":"I was at the station."}]"#;
    let spanish = "1\n00:00:01,100 --> 00:00:03,500\n¿Dónde estabas anoche?\n\n2\n00:00:03,800 --> 00:00:05,000\nEn la estación.\n\n3\n00:00:05,000 --> 00:00:06,000\nToda la noche.\n";
    let paired = pair_translations_json(segments, spanish.as_bytes(), None).unwrap();
    assert_eq!(
        paired,
        r#"[{"startTime":1200,"endTime":3400,"text":"Where were you last night?","translation":"¿Dónde estabas anoche?"},{"startTime":3900,"endTime":6100,"text":"I was at the station.","translation":"En la estación. Toda la noche."}]"#
    );
}

#[test]
fn pairing_rejects_bad_segments_json_with_its_position() {
    let error = pair_translations_json(
        "[{\"startTime\": 1,\n \"endTime\": }]",
        b"1\n00:00:01,000 --> 00:00:02,000\nHola\n",
        None,
    );
    assert!(
        matches!(
            error,
            Err(SubtitleError::Malformed {
                line: 2,
                column: Some(_),
                ..
            })
        ),
        "{error:?}"
    );
}
