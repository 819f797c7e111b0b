//! The phone recogniser: computed in Rust, checked against hama's own engine
//! (`libhama.so`, shipped beside the weights): same frames, the same most
//! likely phone per frame, log-posteriors within a small tolerance.

#[path = "support/hama_engine.rs"]
mod hama_engine;

use std::path::{Path, PathBuf};
use std::process::Command;

use echoloop_speech::acoustic::{AcousticModel, default_model_dir};
use echoloop_speech::audio::decode_file;
use hama_engine::HamaEngine;

fn speak(dir: &Path, name: &str, voice: &str, text: &str) -> PathBuf {
    let path = dir.join(format!("{name}.wav"));
    let status = Command::new("espeak-ng")
        .args(["-v", voice, "-w"])
        .arg(&path)
        .arg(text)
        .status()
        .unwrap_or_else(|e| panic!("espeak-ng: {e}"));
    assert!(status.success());
    path
}

fn argmax(row: &[f32]) -> usize {
    row.iter()
        .enumerate()
        .max_by(|a, b| a.1.total_cmp(b.1))
        .map_or(0, |(i, _)| i)
}

/// The length of the longest common subsequence.
fn common_subsequence(a: &[usize], b: &[usize]) -> usize {
    let mut row = vec![0usize; b.len() + 1];
    for x in a {
        let mut diagonal = 0;
        for (j, y) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = if x == y {
                diagonal + 1
            } else {
                above.max(row[j])
            };
            diagonal = above;
        }
    }
    row[b.len()]
}

/// The phone recogniser, or `None` where a run may go without the models
/// (`ECHOLOOP_ALLOW_MISSING_MODELS`, as in tests/assessment.rs).
fn model() -> Option<(PathBuf, AcousticModel)> {
    let loaded = default_model_dir().map(|dir| (AcousticModel::load(&dir), dir));
    match loaded {
        Some((Ok(model), dir)) => Some((dir, model)),
        _ if std::env::var_os("ECHOLOOP_ALLOW_MISSING_MODELS").is_some() => {
            eprintln!("SKIPPED (ECHOLOOP_ALLOW_MISSING_MODELS): the phone recogniser is missing");
            None
        }
        Some((Err(e), dir)) => panic!("{}: {e}", dir.display()),
        None => panic!("models/hama is missing; run scripts/fetch-models.sh"),
    }
}

#[test]
fn the_rust_network_hears_what_hamas_engine_hears() {
    let Some((dir, model)) = model() else { return };
    // hama's wheel ships its engine for some platforms only.
    if !dir.join("libhama.so").is_file() {
        eprintln!("skipped: hama ships no engine for this platform");
        return;
    }
    let reference = HamaEngine::load(&dir)
        .unwrap_or_else(|| panic!("{}/libhama.so does not load", dir.display()));
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let takes = [
        ("en-us", "The quick brown fox jumps over the lazy dog."),
        (
            "en-gb+f2",
            "She sells sea shells by the sea shore, every single morning.",
        ),
        ("fr", "Le chat dort sur le canapé."),
        ("en-us+m3", "Hi."),
    ];
    let mut worst = 0f32;
    for (i, (voice, text)) in takes.iter().enumerate() {
        let take = decode_file(&speak(tmp.path(), &i.to_string(), voice, text))
            .unwrap_or_else(|e| panic!("{e}"));
        let ours = model
            .posteriors(&take)
            .unwrap_or_else(|e| panic!("{e}"))
            .frames;
        let theirs = reference.posteriors(&take, model.vocab.len());
        assert_eq!(ours.len(), theirs.len(), "{text}: frame count");
        let mut differing = 0;
        for (a, b) in ours.iter().zip(&theirs) {
            if argmax(a) != argmax(b) {
                differing += 1;
            }
            // Compare what matters for alignment: the phones the engine
            // finds at all likely (log-probability above -10).
            for (x, y) in a.iter().zip(b) {
                if *y > -10.0 {
                    worst = worst.max((x - y).abs());
                }
            }
        }
        assert!(
            differing * 100 <= ours.len(),
            "{text}: {differing} of {} frames hear another phone",
            ours.len()
        );
    }
    eprintln!("largest log-posterior difference: {worst}");
    assert!(worst < 0.05, "log-posteriors differ by up to {worst}");
}

#[test]
fn speech_after_the_first_half_minute_is_heard_as_on_its_own() {
    let Some((_, model)) = model() else { return };
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let sentence = decode_file(&speak(
        tmp.path(),
        "late",
        "en-us",
        "Nobody expected the parcel to arrive before the weekend.",
    ))
    .unwrap_or_else(|e| panic!("{e}"));
    // 50 s of quiet noise, the sentence at 33 s: it falls in the second of
    // the windows a long take is heard in (its core 20–40 s, heard with
    // 18–42 s).
    let at = 33 * 16_000;
    let mut long: Vec<f32> = (0..50 * 16_000)
        .map(|i: usize| ((i.wrapping_mul(2_654_435_761) % 1000) as f32 / 1000.0 - 0.5) * 1e-3)
        .collect();
    long[at..at + sentence.len()].copy_from_slice(&sentence);

    let alone = model
        .posteriors(&sentence)
        .unwrap_or_else(|e| panic!("{e}"))
        .frames;
    let within = model
        .posteriors(&long)
        .unwrap_or_else(|e| panic!("{e}"))
        .frames;
    assert_eq!(within.len(), long.len() / 320 + 1, "one frame per 20 ms");
    let first = at / 320;
    let heard = |frames: &[Vec<f32>]| -> Vec<usize> {
        let mut phones: Vec<usize> = frames.iter().map(|f| argmax(f)).collect();
        phones.dedup();
        phones.retain(|&p| p < model.word_boundary);
        phones
    };
    let on_its_own = heard(&alone);
    let in_the_long_take = heard(&within[first - 10..first + alone.len() + 10]);
    assert!(on_its_own.len() > 20, "the sentence alone is heard");
    // Its context differs (quiet noise for 15 s around it rather than the sentence
    // mirrored), so a phone or two may differ; what matters is that it is
    // heard, and as itself.
    let shared = common_subsequence(&on_its_own, &in_the_long_take);
    assert!(
        shared * 5 >= on_its_own.len() * 4 && in_the_long_take.len() <= on_its_own.len() * 6 / 5,
        "{on_its_own:?} heard as {in_the_long_take:?}"
    );
    // Each window's frames land where they belong: the take's frames
    // from 20 s are those of its window (18–42 s) heard alone.
    let window = model
        .posteriors(&long[18 * 16_000..42 * 16_000])
        .unwrap_or_else(|e| panic!("{e}"))
        .frames;
    assert_eq!(within[1000..2000], window[100..1100]);
    // Before the sentence: nothing but blanks and word boundaries.
    let heard_early = within[..first - 50]
        .iter()
        .filter(|f| argmax(f) < model.word_boundary)
        .count();
    assert!(heard_early < 10, "{heard_early} phones heard in the quiet");
}

#[test]
fn damaged_or_foreign_weights_are_refused_naming_the_file() {
    let Some((dir, _)) = model() else { return };
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    std::fs::copy(
        dir.join("g2p_vocab.json"),
        tmp.path().join("g2p_vocab.json"),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let weights = std::fs::read(dir.join("asr_waveform.hama")).unwrap_or_else(|e| panic!("{e}"));
    let refused = |bytes: &[u8]| -> String {
        let path = tmp.path().join("asr_waveform.hama");
        std::fs::write(&path, bytes).unwrap_or_else(|e| panic!("{e}"));
        match AcousticModel::load(tmp.path()) {
            Ok(_) => panic!("weights of {} bytes were accepted", bytes.len()),
            Err(e) => e.to_string(),
        }
    };
    let cut = refused(&weights[..weights.len() / 2]);
    assert!(
        cut.contains("asr_waveform.hama") && cut.contains("ends early"),
        "{cut}"
    );
    let foreign = refused(b"not a weights file at all");
    assert!(foreign.contains("HAMAPK"), "{foreign}");
    // Another file of the model directory in its place.
    let other = std::fs::read(dir.join("g2p_vocab.json")).unwrap_or_default();
    let not_weights = refused(&other);
    assert!(not_weights.contains("asr_waveform.hama"), "{not_weights}");
}
