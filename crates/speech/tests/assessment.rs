//! The built-in assessor end to end on speech synthesised at test time.
//! Needs the acoustic model and Whisper tiny.en (`scripts/fetch-models.sh`,
//! run by `make test`). A missing model fails these tests unless
//! `ECHOLOOP_ALLOW_MISSING_MODELS=1` says the caller knowingly runs without
//! it.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use echoloop_core::assessment::{Assessment, ErrorType, TakeIssue, WordResult};
use echoloop_speech::acoustic::{AcousticModel, default_model_dir};
use echoloop_speech::transcript_check::TranscriptModels;
use echoloop_speech::whisper::catalog;
use echoloop_speech::{Assessor, audio::decode_file};

const TEXT: &str = "The quick brown fox jumps over the lazy dog.";
/// The engine when the transcript was cross-checked (English: tiny.en).
const WITH_TRANSCRIPT: &str = "builtin-hama+whisper-tiny.en";

fn missing(what: &str) -> bool {
    if std::env::var_os("ECHOLOOP_ALLOW_MISSING_MODELS").is_some() {
        eprintln!("SKIPPED (ECHOLOOP_ALLOW_MISSING_MODELS): {what} is missing");
        return true;
    }
    panic!("{what} is missing; run scripts/fetch-models.sh")
}

/// The assessor as a server loads it: the acoustic model and Whisper.
fn assessor() -> Option<&'static Assessor> {
    static ASSESSOR: OnceLock<Option<Assessor>> = OnceLock::new();
    ASSESSOR
        .get_or_init(|| {
            if catalog::installed_dir("tiny.en").is_none() && missing("Whisper tiny.en") {
                return None;
            }
            match Assessor::load_default() {
                Ok(a) => Some(a),
                Err(e) => {
                    missing(&format!("the acoustic model ({e})"));
                    None
                }
            }
        })
        .as_ref()
}

/// The acoustic model with Whisper looked for in an empty models directory:
/// the assessor of a machine without a Whisper model.
fn acoustic_only(no_models: &Path) -> Option<Assessor> {
    let loaded = default_model_dir().map(|dir| Assessor::load(&dir));
    let Some(Ok(a)) = loaded else {
        missing("the acoustic model");
        return None;
    };
    Some(a.with_transcript(Some(TranscriptModels::in_dir(no_models))))
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

/// Assessment of `path` against another sentence than [`TEXT`].
fn assess_text(a: &Assessor, path: &Path, text: &str) -> Assessment {
    let take = decode_file(path).unwrap();
    a.assess_samples(&take, text, "en", None).unwrap()
}

/// Real speech: a prompt Debian ships (`asterisk-core-sounds-en-g722`, one
/// professional US English speaker, CC-BY-SA-3.0; `make test` installs it)
/// and the text it reads.
const RECORDED: &str = "agent-alreadyon";
const RECORDED_TEXT: &str =
    "That agent is already logged on. Please enter your agent number followed by the pound key.";

/// A recorded prompt as a WAV file (raw G.722 has no container for the
/// decoder to probe, so ffmpeg is told its format).
fn recorded_take(dir: &Path, name: &str) -> Option<PathBuf> {
    let g722 = format!("/usr/share/asterisk/sounds/en_US_f_Allison/{name}.g722");
    if !Path::new(&g722).exists() {
        missing("the recorded prompts (apt-get install asterisk-core-sounds-en-g722)");
        return None;
    }
    let wav = dir.join(format!("{name}.wav"));
    let status = Command::new("ffmpeg")
        .args(["-nostdin", "-loglevel", "error", "-f", "g722", "-i", &g722])
        .args(["-ar", "16000", "-ac", "1"])
        .arg(&wav)
        .status()
        .unwrap();
    assert!(status.success());
    Some(wav)
}

fn word<'a>(a: &'a Assessment, text: &str) -> &'a WordResult {
    a.words.iter().find(|w| w.word == text).unwrap()
}

/// The words reported with an error, as (word, error).
fn errors(a: &Assessment) -> Vec<(&str, ErrorType)> {
    a.words
        .iter()
        .filter(|w| w.error != ErrorType::None)
        .map(|w| (w.word.as_str(), w.error))
        .collect()
}

#[test]
fn a_correct_take_scores_high_with_every_word_found() {
    let Some(a) = assessor() else { return };
    let dir = tempfile::tempdir().unwrap();
    let result = assess(a, &speak(dir.path(), "ok.wav", &[], TEXT), None);
    assert_eq!(result.engine, WITH_TRANSCRIPT);
    assert_eq!(result.words.len(), 9, "{:?}", result.words);
    assert_eq!(result.scores.completeness, 100.0);
    assert!(result.scores.overall >= 80.0, "{:?}", result.scores);
    // Nothing is flagged: no word missing, added or mispronounced, and
    // nothing wrong with the recording.
    assert_eq!(errors(&result), vec![], "{:?}", result.words);
    assert_eq!(result.take_issues, vec![]);
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

/// A recording cut short, one too loud and one with nothing said are
/// told apart from a clean one, whose verdict says nothing of the kind.
#[test]
fn what_is_wrong_with_the_recording_itself_is_said_beside_the_verdict() {
    let Some(a) = assessor() else { return };
    let dir = tempfile::tempdir().unwrap();
    let Some(path) = recorded_take(dir.path(), RECORDED) else {
        return;
    };
    let take = decode_file(&path).unwrap();
    let judge = |samples: &[f32]| {
        a.assess_samples(samples, RECORDED_TEXT, "en", None)
            .unwrap()
    };
    assert_eq!(judge(&take).take_issues, vec![]);

    // Stopped in the middle of "pound", before "key" (the prompt lasts 5.5 s).
    let stopped_early = &take[..take.len() - 16_000 * 7 / 10];
    let cut = judge(stopped_early);
    assert_eq!(cut.take_issues, vec![TakeIssue::CutOff], "{:?}", cut.words);
    // Started late, in the middle of "That": the word is lost, and the
    // recording is said to be why.
    let started_late = judge(&take[16_000 * 4 / 10..]);
    assert_eq!(
        started_late.words[0].error,
        ErrorType::Omission,
        "{:?}",
        started_late.words[0]
    );
    assert_eq!(started_late.take_issues, vec![TakeIssue::CutOff]);
    // Cut early enough that "That" is still heard whole: nothing is said
    // of the recording (espeak-ng too speaks from its first sample).
    let barely = judge(&take[16_000 * 15 / 100..]);
    assert_eq!(errors(&barely), vec![]);
    assert_eq!(barely.take_issues, vec![]);

    let peak = take.iter().fold(0f32, |m, s| m.max(s.abs()));
    let too_loud: Vec<f32> = take
        .iter()
        .map(|s| (s * 4.0 / peak).clamp(-1.0, 1.0))
        .collect();
    // Clipping distorts the sounds (here "enter" is lost and "pound"
    // misheard): the learner is told the recording is at fault.
    assert_eq!(judge(&too_loud).take_issues, vec![TakeIssue::Clipped]);

    let silent = judge(&vec![0.0; 16_000 * 2]);
    assert_eq!(silent.take_issues, vec![TakeIssue::NoSpeech]);
    assert_eq!(silent.scores.overall, 0.0);
}

/// The evaluation's recorded set in small (eval/README.md): the speaker
/// makes no errors, so errors are made on the text the take is judged
/// against.
#[test]
fn recorded_speech_is_judged_right_and_errors_made_on_its_text_are_found() {
    let Some(a) = assessor() else { return };
    let dir = tempfile::tempdir().unwrap();
    let Some(take) = recorded_take(dir.path(), RECORDED) else {
        return;
    };
    let correct = assess_text(a, &take, RECORDED_TEXT);
    assert_eq!(correct.engine, WITH_TRANSCRIPT);
    assert_eq!(errors(&correct), vec![], "{:?}", correct.words);
    assert_eq!(correct.scores.completeness, 100.0);
    assert!(correct.scores.overall >= 90.0, "{:?}", correct.scores);

    // "That" said where the text wants "bat" (one phone apart).
    let substituted = assess_text(a, &take, &RECORDED_TEXT.replacen("That", "bat", 1));
    assert_eq!(
        errors(&substituted),
        vec![("bat", ErrorType::Mispronunciation)]
    );
    // A word the speaker did not say.
    let added = assess_text(
        a,
        &take,
        &RECORDED_TEXT.replacen("enter", "enter really", 1),
    );
    assert_eq!(errors(&added), vec![("really", ErrorType::Omission)]);
    // A word the speaker said that the text leaves out, named as heard.
    let removed = assess_text(a, &take, &RECORDED_TEXT.replacen(" number", "", 1));
    assert_eq!(errors(&removed), vec![("number", ErrorType::Insertion)]);
    assert!(removed.scores.overall < correct.scores.overall);
}

/// espeak-ng's monotone "at night" is "at the height" to Whisper's free
/// transcript, and the phone recogniser hears its /n/ as /h/: both
/// listeners point at "night". Told the sentence, Whisper finds "at night"
/// more probable than "at height", so the near miss is given up. (The
/// minimal pairs of the test below stay errors: there Whisper keeps its
/// hearing.)
#[test]
fn a_near_miss_whisper_gives_up_once_told_the_sentence_is_no_error() {
    let Some(a) = assessor() else { return };
    let dir = tempfile::tempdir().unwrap();
    let text = "They walked along the river at night";
    let ssml = format!("<speak><prosody range=\"0%\">{text}</prosody></speak>");
    let take = speak(dir.path(), "monotone.wav", &["-m"], &ssml);
    let result = assess_text(a, &take, text);
    assert_eq!(result.engine, WITH_TRANSCRIPT);
    assert_eq!(errors(&result), vec![], "{:?}", result.words);
    assert!(
        word(&result, "night").accuracy >= 50.0,
        "{:?}",
        result.words
    );
}

/// espeak-ng's Spanish voice reading English says "big" as /βiɡ/, which
/// the phone recogniser cannot find between its neighbours, and Whisper's
/// transcript of the accented take fails its own checks. Read the sentence
/// with and without "big", Whisper finds it more probable with: the word
/// was said, and it is not reported missing.
#[test]
fn a_word_whisper_says_was_said_is_not_missing_though_unfound() {
    let Some(a) = assessor() else { return };
    let dir = tempfile::tempdir().unwrap();
    let text = "She wants to live in a big city";
    let path = dir.path().join("accented.wav");
    let status = Command::new("espeak-ng")
        .args(["-v", "es", "-w"])
        .arg(&path)
        .arg(text)
        .status()
        .unwrap();
    assert!(status.success());
    let result = assess_text(a, &path, text);
    let omitted: Vec<_> = errors(&result)
        .into_iter()
        .filter(|(_, e)| *e == ErrorType::Omission)
        .collect();
    assert_eq!(omitted, vec![], "{:?}", result.words);
    assert_eq!(result.scores.completeness, 100.0);
    // Whisper's reading was evidence, though its transcript was not.
    assert_eq!(result.engine, WITH_TRANSCRIPT);
    assert_eq!(word(&result, "big").error, ErrorType::None);
}

/// A word said between two others that the text leaves out, where the
/// alignment skips the following word and fills the gap with speech: the
/// gap holds both, and Whisper heard both, so the following word is there
/// and the extra word is an insertion.
#[test]
fn an_extra_word_next_to_a_word_the_alignment_skipped_is_still_an_insertion() {
    let Some(a) = assessor() else { return };
    let dir = tempfile::tempdir().unwrap();
    // Read as "You will now be placed into the conference."
    let Some(take) = recorded_take(dir.path(), "conf-placeintoconf") else {
        return;
    };
    let result = assess_text(a, &take, "You will now be into the conference.");
    assert_eq!(
        errors(&result),
        vec![("placed", ErrorType::Insertion)],
        "{:?}",
        result.words
    );
    let position = result
        .words
        .iter()
        .position(|w| w.word == "placed")
        .unwrap();
    assert_eq!(result.words[position + 1].word, "into");
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
    // Named by what Whisper heard, timed by the phone recogniser.
    assert_eq!(inserted[0].word, "really");
    assert!(inserted[0].offset_ms.is_some());
    let position = result
        .words
        .iter()
        .position(|w| w.error == ErrorType::Insertion)
        .unwrap();
    assert_eq!(result.words[position - 1].word, "fox");
    assert_eq!(errors(&result), vec![("really", ErrorType::Insertion)]);
}

#[test]
fn a_minimal_pair_substitution_is_a_mispronunciation_and_nothing_else_is() {
    let Some(a) = assessor() else { return };
    let dir = tempfile::tempdir().unwrap();
    let text = "I saw a ship on the sea.";
    let result = assess_text(
        a,
        &speak(dir.path(), "sheep.wav", &[], "I saw a sheep on the sea."),
        text,
    );
    assert_eq!(result.engine, WITH_TRANSCRIPT);
    assert_eq!(
        errors(&result),
        vec![("ship", ErrorType::Mispronunciation)],
        "{:?}",
        result.words
    );
    let ship = word(&result, "ship");
    assert!(ship.accuracy < 50.0, "{}", ship.accuracy);
    // The vowel is where both listeners heard /i/.
    let vowel = ship.phones.iter().find(|p| p.expected == "ɪ").unwrap();
    assert!(vowel.accuracy < 50.0, "{:?}", ship.phones);

    let correct = assess_text(a, &speak(dir.path(), "ship.wav", &[], text), text);
    assert_eq!(errors(&correct), vec![], "{:?}", correct.words);
    assert!(word(&correct, "ship").accuracy > ship.accuracy + 30.0);
}

#[test]
fn phones_are_judged_against_the_sentences_own_rendition() {
    let no_models = tempfile::tempdir().unwrap();
    let (Some(mut with), Some(mut without)) = (
        acoustic_only(no_models.path()),
        acoustic_only(no_models.path()),
    ) else {
        return;
    };
    with.expected_gop = true;
    without.expected_gop = false;
    let dir = tempfile::tempdir().unwrap();
    // Another voice than the rendition's, slower.
    let take = speak(dir.path(), "m3.wav", &["-v", "en-us+m3", "-s", "150"], TEXT);
    let judged = assess(&with, &take, None);
    let plain = assess(&without, &take, None);
    // The rendition only ever lowers a phone's bar: no phone scores lower.
    for (a, b) in judged.words.iter().zip(&plain.words) {
        for (p, q) in a.phones.iter().zip(&b.phones) {
            assert!(p.accuracy >= q.accuracy, "{} {p:?} {q:?}", a.word);
        }
    }
    assert!(judged.scores.accuracy >= plain.scores.accuracy);
    // A missing word is still missing, and the cached rendition is reused
    // for the second take of the sentence.
    let missing_word = speak(
        dir.path(),
        "om.wav",
        &[],
        "The quick brown jumps over the lazy dog.",
    );
    assert_eq!(
        word(&assess(&with, &missing_word, None), "fox").error,
        ErrorType::Omission
    );
    // Next to no audio does not fail.
    let short = with
        .assess_samples(&[0.0; 1_600], "Yes.", "en", None)
        .unwrap();
    assert_eq!(short.words.len(), 1, "{:?}", short.words);
    // A rendition made again gives the same verdicts.
    with.forget_renditions();
    let again = assess(&with, &take, None);
    assert_eq!(again.scores, judged.scores);
}

#[test]
fn a_fast_take_is_judged_against_native_speech_at_its_pace_and_in_other_voices() {
    let no_models = tempfile::tempdir().unwrap();
    let (Some(wide), Some(mut narrow)) = (
        acoustic_only(no_models.path()),
        acoustic_only(no_models.path()),
    ) else {
        return;
    };
    narrow.rendition_variants.clear();
    narrow.pace_matched = false;
    let dir = tempfile::tempdir().unwrap();
    // 1.5× the usual pace; no transcript, so the phone recogniser decides.
    let fast = speak(dir.path(), "fast.wav", &["-s", "262"], TEXT);
    let misheard = |a: &Assessment| {
        errors(a)
            .into_iter()
            .filter(|(_, e)| *e == ErrorType::Mispronunciation)
            .count()
    };
    let judged = assess(&wide, &fast, None);
    let usual_only = assess(&narrow, &fast, None);
    assert!(
        misheard(&usual_only) > 0,
        "against the usual rendition alone the fast take loses words: {:?}",
        errors(&usual_only)
    );
    assert_eq!(misheard(&judged), 0, "{:?}", errors(&judged));
    // The wider renditions only ever lower a phone's bar.
    for (a, b) in judged.words.iter().zip(&usual_only.words) {
        assert!(a.accuracy >= b.accuracy, "{a:?} {b:?}");
    }
    // A word really replaced at that pace is still found.
    let replaced = speak(
        dir.path(),
        "box.wav",
        &["-s", "262"],
        "The quick brown box jumps over the lazy dog.",
    );
    assert_eq!(
        word(&assess(&wide, &replaced, None), "fox").error,
        ErrorType::Mispronunciation
    );
}

#[test]
fn a_prepared_sentence_is_judged_without_rendering_and_the_same_from_a_store() {
    let no_models = tempfile::tempdir().unwrap();
    let (Some(preparer), Some(fresh), Some(reference)) = (
        acoustic_only(no_models.path()),
        acoustic_only(no_models.path()),
        acoustic_only(no_models.path()),
    ) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    // A word replaced: the usual rendition calls it mispronounced, so the
    // take is judged against every voice.
    let take = speak(
        dir.path(),
        "box.wav",
        &[],
        "The quick brown box jumps over the lazy dog.",
    );

    // The usual voice and its four variants, rendered once.
    assert_eq!(preparer.prepare_renditions(TEXT, "en").unwrap(), 5);
    assert_eq!(preparer.prepare_renditions(TEXT, "en").unwrap(), 0);
    let prepared = preparer.renditions_of(TEXT, "en");
    let voices: Vec<&str> = prepared.iter().map(|r| r.voice.as_str()).collect();
    assert_eq!(
        voices,
        ["en-us", "en-us+f1", "en-us+f3", "en-us+m1", "en-us+m2"]
    );
    let judged = assess(&preparer, &take, None);
    assert_eq!(preparer.renditions_spoken(), 5, "nothing more to render");
    assert_eq!(word(&judged, "fox").error, ErrorType::Mispronunciation);

    // Through a store (JSON), to an assessor that never rendered them.
    let stored: Vec<echoloop_speech::Rendition> =
        serde_json::from_str(&serde_json::to_string(&prepared).unwrap()).unwrap();
    assert_eq!(fresh.adopt_renditions(TEXT, "en", stored).unwrap(), 5);
    let from_store = assess(&fresh, &take, None);
    assert_eq!(fresh.renditions_spoken(), 0);
    assert_eq!(from_store.scores, judged.scores);
    // The same verdicts as rendering them on the spot.
    let rendered = assess(&reference, &take, None);
    assert_eq!(reference.renditions_spoken(), 5);
    assert_eq!(rendered.scores, judged.scores);
    assert_eq!(fresh.rendition_engine(), reference.rendition_engine());

    // A stored rendition of another sentence, or with numbers that are not
    // numbers, is not taken: it would judge the wrong phones.
    let other = fresh.renditions_of(TEXT, "en");
    assert_eq!(
        fresh
            .adopt_renditions("The lazy dog sleeps.", "en", other.clone())
            .unwrap(),
        0
    );
    let mut broken = other[0].clone();
    broken.expected[0] = Some(vec![f32::NAN; 2]);
    assert_eq!(fresh.adopt_renditions(TEXT, "en", vec![broken]).unwrap(), 0);
    assert_eq!(fresh.renditions_of(TEXT, "en"), other);
}

#[test]
fn the_phone_recogniser_hears_the_same_on_two_threads_at_once() {
    let Some(Ok(model)) = default_model_dir().map(|dir| AcousticModel::load(&dir)) else {
        missing("the acoustic model");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let takes = [
        decode_file(&speak(dir.path(), "a.wav", &[], TEXT)).unwrap(),
        decode_file(&speak(
            dir.path(),
            "b.wav",
            &["-v", "en-us+f3", "-s", "220"],
            TEXT,
        ))
        .unwrap(),
    ];
    let alone: Vec<_> = takes
        .iter()
        .map(|t| model.posteriors(t).unwrap().frames)
        .collect();
    for _ in 0..3 {
        let together: Vec<_> = std::thread::scope(|scope| {
            let running: Vec<_> = takes
                .iter()
                .map(|t| scope.spawn(|| model.posteriors(t).unwrap().frames))
                .collect();
            running.into_iter().map(|h| h.join().unwrap()).collect()
        });
        assert_eq!(together, alone);
    }
}

#[test]
fn the_assessor_works_without_a_whisper_model() {
    let no_models = tempfile::tempdir().unwrap();
    let Some(a) = acoustic_only(no_models.path()) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let correct = assess(&a, &speak(dir.path(), "ok.wav", &[], TEXT), None);
    assert_eq!(correct.engine, "builtin-hama");
    assert_eq!(correct.words.len(), 9);
    assert_eq!(correct.scores.completeness, 100.0);
    assert!(correct.scores.overall >= 80.0, "{:?}", correct.scores);

    let missing_word = speak(
        dir.path(),
        "om.wav",
        &[],
        "The quick brown jumps over the lazy dog.",
    );
    let omitted = assess(&a, &missing_word, None);
    assert_eq!(word(&omitted, "fox").error, ErrorType::Omission);

    let extra_word = speak(
        dir.path(),
        "ins.wav",
        &[],
        "The quick brown fox really jumps over the lazy dog.",
    );
    let inserted = assess(&a, &extra_word, None);
    // Without a transcript the inserted word is named by its phones.
    let insertion = inserted
        .words
        .iter()
        .find(|w| w.error == ErrorType::Insertion)
        .unwrap();
    assert!(insertion.word.starts_with('['), "{}", insertion.word);

    // The one-call API without the cross-check says so too.
    let quick = echoloop_speech::assess(&missing_word, TEXT, "en", None, false).unwrap();
    assert_eq!(quick.engine, "builtin-hama");
    assert_eq!(word(&quick, "fox").error, ErrorType::Omission);
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
    let result = echoloop_speech::assess(
        &webm,
        TEXT,
        "en",
        Some((&padded, 1000, 1000 + seconds)),
        true,
    )
    .unwrap();
    assert_eq!(result.engine, WITH_TRANSCRIPT);
    assert!(result.scores.overall >= 80.0, "{:?}", result.scores);
    let shadow = result.shadowing.unwrap();
    assert!(shadow.lag_ms.abs() <= 60, "median lag {}", shadow.lag_ms);
}
