//! The built-in assessor end to end on speech synthesised at test time.
//! Needs the acoustic model (`scripts/fetch-models.sh`, run by `make test`).
//! A missing model fails these tests unless `ECHOLOOP_ALLOW_MISSING_MODELS=1`
//! says the caller knowingly runs without it.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use echoloop_core::assessment::{Assessment, ErrorType};
use echoloop_speech::{Assessor, audio::decode_file};

const TEXT: &str = "The quick brown fox jumps over the lazy dog.";

fn assessor() -> Option<&'static Assessor> {
    static ASSESSOR: OnceLock<Option<Assessor>> = OnceLock::new();
    ASSESSOR
        .get_or_init(|| match Assessor::load_default() {
            Ok(a) => Some(a),
            Err(e) if std::env::var_os("ECHOLOOP_ALLOW_MISSING_MODELS").is_some() => {
                eprintln!("SKIPPED (ECHOLOOP_ALLOW_MISSING_MODELS): {e}");
                None
            }
            Err(e) => panic!("the acoustic model is missing ({e}); run scripts/fetch-models.sh"),
        })
        .as_ref()
}

fn speak(dir: &Path, name: &str, args: &[&str], text: &str) -> PathBuf {
    let path = dir.join(name);
    let status = Command::new("espeak-ng")
        .args(["-v", "en-us"])
        .args(args)
        .arg("-w")
        .arg(&path)
        .arg(text)
        .status()
        .unwrap();
    assert!(status.success());
    path
}

fn assess(a: &Assessor, path: &Path, original: Option<&Path>) -> Assessment {
    let take = decode_file(path).unwrap();
    let original = original.map(|p| decode_file(p).unwrap());
    a.assess_samples(&take, TEXT, "en", original.as_deref())
        .unwrap()
}

fn word<'a>(a: &'a Assessment, text: &str) -> &'a echoloop_core::assessment::WordResult {
    a.words.iter().find(|w| w.word == text).unwrap()
}

#[test]
fn a_correct_take_scores_high_with_every_word_found() {
    let Some(a) = assessor() else { return };
    let dir = tempfile::tempdir().unwrap();
    let result = assess(a, &speak(dir.path(), "ok.wav", &[], TEXT), None);
    assert_eq!(result.engine, "builtin-hama");
    assert_eq!(result.words.len(), 9, "{:?}", result.words);
    assert_eq!(result.scores.completeness, 100.0);
    assert!(result.scores.overall >= 80.0, "{:?}", result.scores);
    assert!(
        result
            .words
            .iter()
            .all(|w| !matches!(w.error, ErrorType::Omission | ErrorType::Insertion))
    );
    // Words come in order with increasing offsets and phones inside them.
    let offsets: Vec<u64> = result.words.iter().filter_map(|w| w.offset_ms).collect();
    assert!(offsets.windows(2).all(|p| p[0] < p[1]), "{offsets:?}");
    let fox = word(&result, "fox");
    assert_eq!(
        fox.phones
            .iter()
            .map(|p| p.expected.as_str())
            .collect::<Vec<_>>(),
        ["f", "ɑ", "k", "s"]
    );
    assert!(!fox.phones[0].alternatives.is_empty());
}

#[test]
fn an_omitted_word_is_an_omission() {
    let Some(a) = assessor() else { return };
    let dir = tempfile::tempdir().unwrap();
    let take = speak(
        dir.path(),
        "om.wav",
        &[],
        "The quick brown jumps over the lazy dog.",
    );
    let result = assess(a, &take, None);
    let fox = word(&result, "fox");
    assert_eq!(fox.error, ErrorType::Omission);
    assert_eq!(fox.offset_ms, None);
    assert!(result.scores.completeness < 100.0);
}

#[test]
fn an_inserted_word_is_an_insertion() {
    let Some(a) = assessor() else { return };
    let dir = tempfile::tempdir().unwrap();
    let take = speak(
        dir.path(),
        "ins.wav",
        &[],
        "The quick brown fox really jumps over the lazy dog.",
    );
    let result = assess(a, &take, None);
    let inserted: Vec<_> = result
        .words
        .iter()
        .filter(|w| w.error == ErrorType::Insertion)
        .collect();
    assert_eq!(inserted.len(), 1, "{:?}", result.words);
    let position = result
        .words
        .iter()
        .position(|w| w.error == ErrorType::Insertion)
        .unwrap();
    assert_eq!(result.words[position - 1].word, "fox");
}

#[test]
fn a_substituted_sound_lowers_that_word() {
    let Some(a) = assessor() else { return };
    let dir = tempfile::tempdir().unwrap();
    let good = assess(a, &speak(dir.path(), "ok.wav", &[], TEXT), None);
    let bad = assess(
        a,
        &speak(
            dir.path(),
            "box.wav",
            &[],
            "The quick brown box jumps over the lazy dog.",
        ),
        None,
    );
    let (good_fox, bad_fox) = (word(&good, "fox"), word(&bad, "fox"));
    assert!(
        bad_fox.accuracy + 30.0 < good_fox.accuracy,
        "{} vs {}",
        bad_fox.accuracy,
        good_fox.accuracy
    );
    assert_eq!(bad_fox.error, ErrorType::Mispronunciation);
    // The engine says what it heard instead of /f/.
    assert_eq!(bad_fox.phones[0].alternatives[0].phone, "b");
}

#[test]
fn a_monotone_take_is_flagged_and_loses_prosody() {
    let Some(a) = assessor() else { return };
    let dir = tempfile::tempdir().unwrap();
    let lively = assess(a, &speak(dir.path(), "ok.wav", &[], TEXT), None);
    let ssml = format!("<speak><prosody range=\"0%\">{TEXT}</prosody></speak>");
    let flat = assess(a, &speak(dir.path(), "flat.wav", &["-m"], &ssml), None);
    assert!(
        flat.words
            .iter()
            .all(|w| w.prosody_errors.contains(&ErrorType::Monotone))
    );
    assert!(
        lively
            .words
            .iter()
            .all(|w| !w.prosody_errors.contains(&ErrorType::Monotone))
    );
    assert!(flat.scores.prosody.unwrap() + 20.0 < lively.scores.prosody.unwrap());
}

#[test]
fn a_slow_shadow_shows_stretched_words_and_a_following_pitch() {
    let Some(a) = assessor() else { return };
    let dir = tempfile::tempdir().unwrap();
    let original = speak(dir.path(), "orig.wav", &[], TEXT);
    let slow = speak(dir.path(), "slow.wav", &["-s", "120"], TEXT);
    let result = assess(a, &slow, Some(&original));
    let shadow = result.shadowing.unwrap();
    assert_eq!(shadow.words.len(), 9);
    let stretched = shadow
        .words
        .iter()
        .filter(|w| w.duration_ratio > 1.1)
        .count();
    assert!(stretched >= 6, "{:?}", shadow.words);
    // Later words fall further behind.
    assert!(shadow.words[8].lag_ms > shadow.words[1].lag_ms);
    assert!(
        shadow.pitch_correlation.unwrap() > 0.3,
        "{:?}",
        shadow.pitch_correlation
    );

    let same = assess(a, &original, Some(&original)).shadowing.unwrap();
    assert!(
        same.words.iter().all(|w| w.lag_ms.abs() <= 20),
        "{:?}",
        same.words
    );
    assert!(same.rhythm > 95.0);
}

#[test]
fn assess_reads_a_browser_recording_and_cuts_the_original_clip() {
    if assessor().is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let wav = speak(dir.path(), "ok.wav", &[], TEXT);
    let webm = dir.path().join("take.webm");
    let status = Command::new("ffmpeg")
        .args(["-v", "error", "-y", "-i"])
        .arg(&wav)
        .args(["-c:a", "libopus"])
        .arg(&webm)
        .status()
        .unwrap();
    assert!(status.success());
    // The original: one second of silence, the sentence, then more silence.
    let padded = dir.path().join("video.ogg");
    let status = Command::new("ffmpeg")
        .args(["-v", "error", "-y", "-i"])
        .arg(&wav)
        .args(["-af", "adelay=1000,apad=pad_dur=2", "-c:a", "libopus"])
        .arg(&padded)
        .status()
        .unwrap();
    assert!(status.success());
    let seconds = decode_file(&wav).unwrap().len() as u64 / 16;
    let result =
        echoloop_speech::assess(&webm, TEXT, "en", Some((&padded, 1000, 1000 + seconds))).unwrap();
    assert!(result.scores.overall >= 80.0, "{:?}", result.scores);
    let shadow = result.shadowing.unwrap();
    assert!(shadow.lag_ms.abs() <= 60, "median lag {}", shadow.lag_ms);
}
