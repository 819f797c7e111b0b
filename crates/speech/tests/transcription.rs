//! Whisper transcription end to end on speech synthesised at test time
//! with espeak-ng, and on bad input. Needs the Whisper models
//! (`scripts/fetch-models.sh`, run by `make test`). A missing model fails
//! these tests unless `ECHOLOOP_ALLOW_MISSING_MODELS=1` says the caller
//! knowingly runs without it.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use echoloop_core::assessment::Transcript;
use echoloop_speech::transcript_check::ENCODER_PADDING_FRAMES;
use echoloop_speech::wer::{normalise, word_error_rate as wer};
use echoloop_speech::whisper::{Compute, DecodeOptions, EngineSettings, WhisperModel};
use echoloop_speech::{SpeechError, audio::decode_file};

const RATE: u32 = 16_000;

fn model(name: &'static str) -> Option<&'static WhisperModel> {
    static TINY: OnceLock<Option<WhisperModel>> = OnceLock::new();
    static BASE: OnceLock<Option<WhisperModel>> = OnceLock::new();
    let cell = if name == "tiny.en" { &TINY } else { &BASE };
    cell.get_or_init(|| {
        let settings = EngineSettings {
            threads: 2,
            compute: Compute::Int8,
        };
        match WhisperModel::load(name, settings) {
            Ok(m) => Some(m),
            Err(e) if std::env::var_os("ECHOLOOP_ALLOW_MISSING_MODELS").is_some() => {
                eprintln!("SKIPPED (ECHOLOOP_ALLOW_MISSING_MODELS): {e}");
                None
            }
            Err(e) => {
                panic!("the Whisper model {name} is missing ({e}); run scripts/fetch-models.sh")
            }
        }
    })
    .as_ref()
}

/// espeak-ng's speech for `text`, resampled to 16 kHz mono.
fn speak(voice: &str, text: &str) -> Vec<f32> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.wav");
    let status = Command::new("espeak-ng")
        .args(["-v", voice, "-w"])
        .arg(&path)
        .arg(text)
        .status()
        .expect("espeak-ng");
    assert!(status.success());
    decode_file(&path).unwrap()
}

/// First and last sample louder than −40 dBFS, in ms.
fn speech_bounds(samples: &[f32]) -> (u64, u64) {
    let loud = |s: &&f32| s.abs() > 0.01;
    let first = samples.iter().position(|s| loud(&s)).unwrap_or(0);
    let last = samples.iter().rposition(|s| loud(&s)).unwrap_or(0);
    (
        first as u64 * 1000 / u64::from(RATE),
        last as u64 * 1000 / u64::from(RATE),
    )
}

fn write_wav(path: &Path, samples: &[f32]) {
    let mut bytes = Vec::with_capacity(44 + samples.len() * 2);
    let data_len = (samples.len() * 2) as u32;
    bytes.extend_from_slice(b"RIFF");
    bytes.extend_from_slice(&(36 + data_len).to_le_bytes());
    bytes.extend_from_slice(b"WAVEfmt ");
    bytes.extend_from_slice(&16u32.to_le_bytes());
    bytes.extend_from_slice(&1u16.to_le_bytes());
    bytes.extend_from_slice(&1u16.to_le_bytes());
    bytes.extend_from_slice(&RATE.to_le_bytes());
    bytes.extend_from_slice(&(RATE * 2).to_le_bytes());
    bytes.extend_from_slice(&2u16.to_le_bytes());
    bytes.extend_from_slice(&16u16.to_le_bytes());
    bytes.extend_from_slice(b"data");
    bytes.extend_from_slice(&data_len.to_le_bytes());
    for s in samples {
        let v = (s.clamp(-1.0, 1.0) * 32767.0) as i16;
        bytes.extend_from_slice(&v.to_le_bytes());
    }
    std::fs::write(path, bytes).unwrap();
}

fn silence(ms: u64) -> Vec<f32> {
    vec![0.0; (ms * u64::from(RATE) / 1000) as usize]
}

fn transcribe(model: &WhisperModel, path: &Path, language: Option<&str>) -> Transcript {
    let options = DecodeOptions {
        language: language.map(str::to_owned),
        ..DecodeOptions::default()
    };
    model.transcribe_file(path, &options).unwrap()
}

struct Spoken {
    path: PathBuf,
    _dir: tempfile::TempDir,
    /// Per sentence: text and true start/end in ms.
    truth: Vec<(&'static str, u64, u64)>,
}

/// The sentences one after another with the given pauses between them.
fn sentences_with_pauses(voice: &str, sentences: &[&'static str], pauses_ms: &[u64]) -> Spoken {
    let mut all = silence(500);
    let mut truth = Vec::new();
    for (i, text) in sentences.iter().enumerate() {
        let speech = speak(voice, text);
        let (from, to) = speech_bounds(&speech);
        let offset = all.len() as u64 * 1000 / u64::from(RATE);
        truth.push((*text, offset + from, offset + to));
        all.extend(speech);
        all.extend(silence(pauses_ms[i % pauses_ms.len()]));
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sentences.wav");
    write_wav(&path, &all);
    Spoken {
        path,
        _dir: dir,
        truth,
    }
}

const ENGLISH: [&str; 4] = [
    "The weather was cold and grey all morning.",
    "She opened the window and listened to the birds singing in the garden.",
    "Thank you.",
    "We will meet again at the station tomorrow before the train leaves.",
];

#[test]
fn english_sentences_are_transcribed_with_their_times() {
    let Some(tiny) = model("tiny.en") else { return };
    let spoken = sentences_with_pauses("en-us", &ENGLISH, &[900, 1500, 700]);
    let t = transcribe(tiny, &spoken.path, None);
    let reference = ENGLISH.join(" ");
    let error = wer(&reference, &t.text);
    assert!(error <= 0.15, "WER {error:.2}: {:?}", t.text);
    assert_eq!(t.language.as_deref(), Some("en"));
    assert!(!t.segments.is_empty());
    // Words are in order, inside the audio, and carry confidences.
    for pair in t.words.windows(2) {
        assert!(pair[0].start_ms <= pair[1].start_ms, "{pair:?}");
    }
    assert!(t.words.iter().all(|w| w.start_ms <= w.end_ms));
    assert!(t.words.iter().all(|w| w.confidence.is_some()));

    // Each sentence's first and last word fall within 400 ms of the truth.
    for (text, start, end) in &spoken.truth {
        let first = normalise(text).first().cloned().unwrap();
        let last = normalise(text).last().cloned().unwrap();
        let found_start = t
            .words
            .iter()
            .filter(|w| normalise(&w.word).first() == Some(&first))
            .map(|w| w.start_ms)
            .min_by_key(|&s| s.abs_diff(*start))
            .unwrap_or_else(|| panic!("{first:?} not heard in {:?}", t.text));
        let found_end = t
            .words
            .iter()
            .filter(|w| normalise(&w.word).last() == Some(&last))
            .map(|w| w.end_ms)
            .min_by_key(|&e| e.abs_diff(*end))
            .unwrap_or_else(|| panic!("{last:?} not heard in {:?}", t.text));
        assert!(
            found_start.abs_diff(*start) <= 400,
            "{text:?} starts at {start} ms, heard at {found_start} ms"
        );
        assert!(
            found_end.abs_diff(*end) <= 400,
            "{text:?} ends at {end} ms, heard at {found_end} ms"
        );
    }
}

#[test]
fn silence_gives_no_segments() {
    let Some(tiny) = model("tiny.en") else { return };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("silence.wav");
    write_wav(&path, &silence(12_000));
    let t = transcribe(tiny, &path, None);
    assert!(t.segments.is_empty(), "{t:?}");
    assert!(t.words.is_empty());
    assert_eq!(t.text, "");

    // Low noise is silence too.
    let mut state = 12345u32;
    let noise: Vec<f32> = (0..RATE * 8)
        .map(|_| {
            state = state.wrapping_mul(1_103_515_245).wrapping_add(12345);
            (f32::from((state >> 16) as u16) / 65535.0 - 0.5) * 0.002
        })
        .collect();
    write_wav(&path, &noise);
    let t = transcribe(tiny, &path, None);
    assert!(t.segments.is_empty(), "{t:?}");
}

#[test]
fn empty_and_tiny_inputs_are_handled() {
    let Some(tiny) = model("tiny.en") else { return };
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.wav");
    std::fs::write(&empty, b"").unwrap();
    let err = tiny
        .transcribe_file(&empty, &DecodeOptions::default())
        .unwrap_err();
    assert!(matches!(err, SpeechError::EmptyAudio(_)), "{err}");

    // A header without samples.
    let header_only = dir.path().join("header.wav");
    write_wav(&header_only, &[]);
    let result = tiny.transcribe_file(&header_only, &DecodeOptions::default());
    assert!(
        matches!(result, Err(SpeechError::EmptyAudio(_)))
            || result.is_ok_and(|t| t.segments.is_empty())
    );

    // 50 ms and 1 sample: less than a window, still an answer.
    for len in [800, 1] {
        let short = dir.path().join(format!("short{len}.wav"));
        write_wav(&short, &vec![0.1; len]);
        let t = transcribe(tiny, &short, None);
        assert!(t.words.iter().all(|w| w.end_ms <= 1000), "{t:?}");
    }
}

#[test]
fn a_truncated_file_yields_the_speech_before_the_cut() {
    let Some(tiny) = model("tiny.en") else { return };
    // Two long sentences: what tiny.en makes of a short one's odd word
    // ("grey") varies with the CPU's instruction set and the window's rest.
    let said = [ENGLISH[1], ENGLISH[3]];
    let spoken = sentences_with_pauses("en-us", &said, &[1000]);
    let bytes = std::fs::read(&spoken.path).unwrap();
    // Cut inside the second sentence: its header still claims the full length.
    let cut_ms = spoken.truth[1].1 + 600;
    let cut = 44 + (cut_ms as usize * RATE as usize / 1000) * 2;
    let truncated = spoken.path.with_file_name("cut.wav");
    std::fs::write(&truncated, &bytes[..cut]).unwrap();
    let t = transcribe(tiny, &truncated, None);
    assert!(wer(said[0], &t.segments[0].text) <= 0.2, "{t:?}");
    assert!(t.words.iter().all(|w| w.end_ms <= cut_ms + 100), "{t:?}");
}

#[test]
fn clipped_speech_is_still_understood() {
    let Some(tiny) = model("tiny.en") else { return };
    let speech = speak("en-us", ENGLISH[1]);
    // 8× gain, hard-clipped at full scale.
    let clipped: Vec<f32> = speech.iter().map(|s| (s * 8.0).clamp(-1.0, 1.0)).collect();
    let share = clipped.iter().filter(|s| s.abs() >= 1.0).count() as f64 / clipped.len() as f64;
    assert!(share > 0.05, "only {share:.3} of samples clipped");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("clipped.wav");
    write_wav(&path, &clipped);
    let t = transcribe(tiny, &path, None);
    let error = wer(ENGLISH[1], &t.text);
    assert!(error <= 0.3, "WER {error:.2}: {:?}", t.text);
}

#[test]
fn the_language_is_detected_with_the_multilingual_model() {
    let Some(base) = model("base") else { return };
    for (voice, text) in [
        (
            "fr",
            "Bonjour, je voudrais un café et un croissant, s'il vous plaît.",
        ),
        (
            "de",
            "Guten Morgen, ich möchte heute mit dem Zug nach Berlin fahren.",
        ),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.wav");
        write_wav(&path, &speak(voice, text));
        let t = transcribe(base, &path, None);
        assert_eq!(t.language.as_deref(), Some(voice), "{t:?}");
        assert!(wer(text, &t.text) <= 0.6, "{voice}: {:?}", t.text);
    }
}

#[test]
fn the_wrong_language_is_refused_or_transcribed_without_crashing() {
    let Some(tiny) = model("tiny.en") else { return };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("fr.wav");
    write_wav(
        &path,
        &speak("fr", "Nous allons visiter le musée du Louvre demain matin."),
    );
    // An English-only model asked for French says so.
    let options = DecodeOptions {
        language: Some("fr-FR".to_owned()),
        ..DecodeOptions::default()
    };
    let err = tiny.transcribe_file(&path, &options).unwrap_err();
    assert!(err.to_string().contains("English-only"), "{err}");
    // Told nothing, it hears French as (some) English: no crash, some text.
    let t = transcribe(tiny, &path, None);
    assert_eq!(t.language.as_deref(), Some("en"));

    // A language Whisper does not know.
    if let Some(base) = model("base") {
        let options = DecodeOptions {
            language: Some("tlh".to_owned()),
            ..DecodeOptions::default()
        };
        let err = base.transcribe_file(&path, &options).unwrap_err();
        assert!(matches!(err, SpeechError::UnsupportedLanguage(_)), "{err}");
    }
}

#[test]
fn a_missing_model_names_the_command_that_installs_it() {
    let err = WhisperModel::load("large-v9", EngineSettings::default()).unwrap_err();
    let message = err.to_string();
    assert!(message.contains("large-v9"), "{message}");
    assert!(message.contains("scripts/fetch-models.sh"), "{message}");
}

#[test]
fn the_one_call_entry_point_picks_the_model_for_the_language() {
    if model("tiny.en").is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.wav");
    let mut samples = silence(500);
    samples.extend(speak("en-us", ENGLISH[1]));
    write_wav(&path, &samples);
    let t = echoloop_speech::transcribe(&path, Some("en-US")).unwrap();
    assert_eq!(t.language.as_deref(), Some("en"));
    assert!(wer(ENGLISH[1], &t.text) <= 0.2, "{t:?}");
}

/// The assessor's short encoder window: a short take plus padding instead
/// of 30 seconds.
fn short_window(padding: usize) -> DecodeOptions {
    DecodeOptions {
        language: Some("en".to_owned()),
        temperatures: vec![0.0],
        word_timestamps: false,
        short_window_padding: Some(padding),
        ..DecodeOptions::default()
    }
}

fn text_of(model: &WhisperModel, samples: Vec<f32>, options: &DecodeOptions) -> String {
    let mut text = String::new();
    model
        .transcribe_stream(std::iter::once(Ok(samples)), options, &mut |s| {
            text.push_str(&s.text)
        })
        .unwrap();
    text
}

#[test]
fn a_short_encoder_window_transcribes_a_short_take() {
    let Some(tiny) = model("tiny.en") else { return };
    let sentence = "She wants to live in a big city";
    let mut take = silence(300);
    take.extend(speak("en-us", sentence));
    take.extend(silence(300));
    // The assessor's padding, and more.
    for padding in [ENCODER_PADDING_FRAMES, 1_500] {
        let text = text_of(tiny, take.clone(), &short_window(padding));
        assert!(wer(sentence, &text) <= 0.15, "padding {padding}: {text:?}");
    }
    // With word timings too (the alignment sees the shorter encoding).
    let options = DecodeOptions {
        word_timestamps: true,
        ..short_window(ENCODER_PADDING_FRAMES)
    };
    let mut words = Vec::new();
    tiny.transcribe_stream(std::iter::once(Ok(take)), &options, &mut |s| {
        words.extend(s.words)
    })
    .unwrap();
    assert!(words.len() >= 6, "{words:?}");
    assert!(words.windows(2).all(|w| w[0].start_ms <= w[1].start_ms));
}

#[test]
fn a_tiny_or_empty_take_in_a_short_window_does_not_crash() {
    let Some(tiny) = model("tiny.en") else { return };
    // Nothing, 10 ms and 1.6 s of silence (1.6 s + 0 padding is the width
    // whose encoding would look unencoded): not decoded at all.
    for take in [Vec::new(), silence(10), silence(1_600)] {
        for padding in [0, 60, ENCODER_PADDING_FRAMES] {
            let text = text_of(tiny, take.clone(), &short_window(padding));
            assert_eq!(text, "", "padding {padding}");
        }
    }
    // One short word. (With under ~3 s of padding the greedy decoder
    // repeats what it heard up to its length limit: why the assessor pads
    // 10 s; not run here, it is slow.)
    let word = speak("en-us", "yes");
    let text = text_of(tiny, word, &short_window(ENCODER_PADDING_FRAMES));
    assert!(text.to_lowercase().contains("yes"), "{text:?}");
}

#[test]
fn a_long_input_with_a_short_window_setting_still_uses_full_windows() {
    let Some(tiny) = model("tiny.en") else { return };
    // 35 s: every window is a full one whatever the setting (a short last
    // window with little padding would repeat its sentence).
    let mut take = silence(500);
    take.extend(speak("en-us", ENGLISH[1]));
    take.extend(silence(31_000));
    take.extend(speak("en-us", ENGLISH[3]));
    let text = text_of(tiny, take, &short_window(100));
    let expected = format!("{} {}", ENGLISH[1], ENGLISH[3]);
    assert!(wer(&expected, &text) <= 0.2, "{text:?}");
}

/// Texts read to the decoder against a take: the sentence said is the more
/// probable reading, whichever of two minimal pairs was said, with the full
/// window and the assessor's short one; an empty text costs nothing.
#[test]
fn given_texts_are_scored_against_a_take() {
    let Some(tiny) = model("tiny.en") else { return };
    assert!(tiny.can_score_texts());
    let readings = [
        "I saw a ship on the sea".to_owned(),
        "I saw a sheep on the sea".to_owned(),
        String::new(),
    ];
    for (said, (more, less)) in [("ship", (0, 1)), ("sheep", (1, 0))] {
        let take = speak("en-us", &format!("I saw a {said} on the sea"));
        for padding in [None, Some(ENCODER_PADDING_FRAMES)] {
            let encoded = tiny.encode_take(&take, padding).unwrap();
            let scores = tiny.text_log_probs(&encoded, "en", &readings).unwrap();
            assert_eq!(scores.len(), 3);
            assert!(
                scores[more] > scores[less] + 1.0,
                "{said}, padding {padding:?}: {scores:?}"
            );
            assert!(scores[more] < 0.0 && scores[more].is_finite(), "{scores:?}");
            assert_eq!(scores[2], 0.0);
        }
        // The encoding a transcription keeps is the one scored above.
        let (_, kept) = tiny
            .transcribe_take(&take, &short_window(ENCODER_PADDING_FRAMES), &mut |_| {})
            .unwrap();
        let kept = tiny
            .text_log_probs(&kept.unwrap(), "en", &readings)
            .unwrap();
        let encoded = tiny
            .encode_take(&take, Some(ENCODER_PADDING_FRAMES))
            .unwrap();
        let fresh = tiny.text_log_probs(&encoded, "en", &readings).unwrap();
        for (k, f) in kept.iter().zip(&fresh) {
            assert!((k - f).abs() < 1e-3, "{kept:?} {fresh:?}");
        }
    }
    // Silence is not encoded by the transcription at all.
    let (_, kept) = tiny
        .transcribe_take(
            &silence(2_000),
            &short_window(ENCODER_PADDING_FRAMES),
            &mut |_| {},
        )
        .unwrap();
    assert!(kept.is_none());
}

/// A model directory without `tokenizer.json` transcribes as before but
/// cannot score texts, and says which file it lacks.
#[test]
fn a_model_without_its_tokenizer_cannot_score_texts() {
    let Some(tiny) = model("tiny.en") else { return };
    let installed = echoloop_speech::whisper::catalog::installed_dir("tiny.en").unwrap();
    let dir = tempfile::tempdir().unwrap();
    for file in ["model.bin", "config.json", "vocabulary.txt"] {
        std::os::unix::fs::symlink(installed.join(file), dir.path().join(file)).unwrap();
    }
    let bare = WhisperModel::load_dir(dir.path(), "tiny.en", EngineSettings::default()).unwrap();
    assert!(tiny.can_score_texts() && !bare.can_score_texts());
    let take = bare.encode_take(&speak("en-us", "yes"), None).unwrap();
    let err = bare
        .text_log_probs(&take, "en", &["yes".to_owned()])
        .unwrap_err();
    assert!(err.to_string().contains("tokenizer.json"), "{err}");
}
