//! Evaluation harness for the built-in assessor (run by `eval/run.sh`).
//!
//! Speech is synthesised at run time with espeak-ng: correct takes in
//! several voices, minimal-pair substitutions, omitted and inserted words,
//! speeds 0.7×–1.5×, monotone, and an accented voice. Prints precision and
//! recall per error type, Spearman's ρ of the overall score against the
//! injected degradation, timings, and a Markdown table for BENCHMARKS.md.
//! `--no-transcript` leaves out the Whisper cross-check; `--held-out` uses
//! sentences the rules were not developed on; `--synth flite` speaks the
//! takes with flite's voices instead of espeak-ng's (the cross-synthesiser
//! check); `--recorded` uses real recordings with errors made on the text
//! side (`recorded.rs`); `--no-timing` skips the timing runs; `-v` prints
//! one line per take to stderr. `EVAL_WHISPER_PADDING`, `EVAL_EXPECTED_GOP`: eval/README.md.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use echoloop_core::assessment::{Assessment, ErrorType};
use echoloop_core::audio::pitch;
use echoloop_speech::transcript_check::TranscriptModels;
use echoloop_speech::{Assessor, audio::decode_file};

mod prompts;
mod recorded;

type Error = Box<dyn std::error::Error>;

/// (sentence, [(word index, minimal-pair substitute)]).
const SENTENCES: &[(&str, &[(usize, &str)])] = &[
    ("I saw a ship on the sea", &[(3, "sheep"), (6, "she")]),
    (
        "The quick brown fox jumps over the lazy dog",
        &[(3, "box"), (8, "dock")],
    ),
    (
        "Turn on the light in the kitchen",
        &[(3, "right"), (0, "burn")],
    ),
    (
        "She wants to live in a big city",
        &[(3, "leave"), (6, "pig")],
    ),
    (
        "We need a new pen for the test",
        &[(4, "pin"), (7, "taste")],
    ),
    (
        "My father reads the news every morning",
        &[(1, "bother"), (2, "leads")],
    ),
    (
        "Please put the cup on the table",
        &[(3, "cap"), (0, "bees")],
    ),
    (
        "They walked along the river at night",
        &[(4, "liver"), (6, "knife")],
    ),
];
/// Sentences written after the transcript cross-check's rules were fixed
/// and run once to see whether they carry over (`--held-out`): the main set
/// above is the one the rules were developed on.
const HELD_OUT: &[(&str, &[(usize, &str)])] = &[
    (
        "He will sleep in the bed tonight",
        &[(2, "slip"), (5, "bad")],
    ),
    (
        "We parked the van near the farm",
        &[(3, "fan"), (6, "firm")],
    ),
    ("She bought a hat at the shop", &[(3, "hot"), (6, "chop")]),
    (
        "The boys play with the ball on the grass",
        &[(5, "wall"), (8, "glass")],
    ),
];
const VOICES: &[&str] = &["en-us", "en-us+m3", "en-us+f2", "en-us+m7", "en-us+f4"];
const INSERTED: &[&str] = &["really", "yellow", "maybe", "quickly"];
const ACCENTED_VOICE: &str = "es";
/// `--synth flite`: the same takes spoken by Debian's flite 2.2 voices
/// instead (the cross-synthesiser check: the phone references are
/// espeak-ng's, so takes in espeak-ng's own voice flatter the assessor).
/// kal is an 8 kHz diphone voice, resampled like any other take.
const FLITE_VOICES: &[&str] = &["slt", "rms", "awb", "kal16", "kal"];

#[derive(Clone, Copy, PartialEq, Eq)]
enum Synth {
    Espeak,
    Flite,
}

struct Case {
    kind: &'static str,
    text: String,
    spoken: String,
    voice: String,
    speed: u32,
    monotone: bool,
    /// Expected (position in the result's word list, error).
    expected: Vec<ErrorType>,
    expected_at: Vec<usize>,
    degradation: u32,
    /// A real recording to judge instead of synthesising `spoken`.
    recorded: Option<PathBuf>,
}

fn synth_take(dir: &Path, id: usize, case: &Case, synth: Synth) -> Result<PathBuf, Error> {
    if let Some(recorded) = &case.recorded {
        return Ok(recorded.clone());
    }
    let path = dir.join(format!("case{id}.wav"));
    if synth == Synth::Flite {
        let voice = VOICES
            .iter()
            .position(|v| *v == case.voice)
            .map_or(FLITE_VOICES[0], |i| FLITE_VOICES[i % FLITE_VOICES.len()]);
        // Speed as espeak-ng's words per minute (175 the norm).
        let stretch = 175.0 / case.speed as f32;
        let status = Command::new("flite")
            .args(["-voice", voice, "--setf"])
            .arg(format!("duration_stretch={stretch:.3}"))
            .args(["-t", &case.spoken, "-o"])
            .arg(&path)
            .stdout(Stdio::null())
            .status()?;
        if !status.success() {
            return Err(format!("flite failed for {}", case.spoken).into());
        }
        return Ok(path);
    }
    let text = if case.monotone {
        format!(
            "<speak><prosody range=\"0%\">{}</prosody></speak>",
            case.spoken
        )
    } else {
        case.spoken.clone()
    };
    let mut cmd = Command::new("espeak-ng");
    cmd.args(["-v", &case.voice, "-s", &case.speed.to_string(), "-w"])
        .arg(&path);
    if case.monotone {
        cmd.arg("-m");
    }
    let status = cmd.arg(&text).stdout(Stdio::null()).status()?;
    if !status.success() {
        return Err(format!("espeak-ng failed for {text}").into());
    }
    Ok(path)
}

fn words(s: &str) -> Vec<String> {
    s.split_whitespace().map(str::to_owned).collect()
}

fn cases(sentences: &[(&str, &[(usize, &str)])], synth: Synth) -> Vec<Case> {
    let mut out = Vec::new();
    let base = |kind, text: &str, spoken: String, voice: &str, degradation| Case {
        kind,
        text: text.to_owned(),
        spoken,
        voice: voice.to_owned(),
        speed: 175,
        monotone: false,
        expected: Vec::new(),
        expected_at: Vec::new(),
        degradation,
        recorded: None,
    };
    for (si, (text, pairs)) in sentences.iter().enumerate() {
        let w = words(text);
        for voice in VOICES {
            out.push(base("correct", text, (*text).to_owned(), voice, 0));
        }
        for &(index, substitute) in *pairs {
            let mut spoken = w.clone();
            spoken[index] = substitute.to_owned();
            let mut c = base(
                "substitution",
                text,
                spoken.join(" "),
                VOICES[si % VOICES.len()],
                1,
            );
            c.expected = vec![ErrorType::Mispronunciation];
            c.expected_at = vec![index];
            out.push(c);
        }
        // Omit a word (two places per sentence, not the first or last),
        // insert a word (two places), each in another voice.
        let omit = 1 + si % (w.len() - 2);
        for (k, at) in [omit, w.len() - 2 - si % 2].into_iter().enumerate() {
            let mut spoken = w.clone();
            spoken.remove(at);
            let voice = VOICES[(si + 1 + 2 * k) % VOICES.len()];
            let mut c = base("omission", text, spoken.join(" "), voice, 2);
            c.expected = vec![ErrorType::Omission];
            c.expected_at = vec![at];
            out.push(c);
        }
        for (k, at) in [1 + si % (w.len() - 2), w.len() - 1]
            .into_iter()
            .enumerate()
        {
            let mut spoken = w.clone();
            spoken.insert(at, INSERTED[(si + k) % INSERTED.len()].to_owned());
            let voice = VOICES[(si + 2 + 2 * k) % VOICES.len()];
            let mut c = base("insertion", text, spoken.join(" "), voice, 2);
            c.expected = vec![ErrorType::Insertion];
            c.expected_at = vec![at];
            out.push(c);
        }
        // (degradation is only used for the ladder; speed takes are not on it)
        for (speed, level) in [(122, 2), (150, 1), (220, 1), (262, 2)] {
            let mut c = base("speed", text, (*text).to_owned(), "en-us", level);
            c.speed = speed;
            out.push(c);
        }
        // flite has neither an SSML pitch range nor a Spanish voice.
        if synth == Synth::Espeak {
            let mut c = base("monotone", text, (*text).to_owned(), "en-us", 1);
            c.monotone = true;
            out.push(c);
            out.push(base(
                "accented",
                text,
                (*text).to_owned(),
                ACCENTED_VOICE,
                3,
            ));
        }
        // The degradation ladder for Spearman: errors injected cumulatively
        // into one sentence, one voice.
        let (second_index, second_sub) = pairs[1];
        let mut spoken = w.clone();
        spoken[pairs[0].0] = pairs[0].1.to_owned();
        let mut ladder = vec![(spoken.join(" "), 175, false)];
        spoken[second_index] = second_sub.to_owned();
        ladder.push((spoken.join(" "), 175, false));
        let drop = (1..w.len() - 1).find(|i| *i != pairs[0].0 && *i != second_index);
        if let Some(drop) = drop {
            spoken.remove(drop);
        }
        ladder.push((spoken.join(" "), 175, false));
        spoken.insert(spoken.len() / 2, INSERTED[si % INSERTED.len()].to_owned());
        ladder.push((spoken.join(" "), 175, false));
        ladder.push((spoken.join(" "), 122, synth == Synth::Espeak));
        for (level, (spoken, speed, monotone)) in ladder.into_iter().enumerate() {
            let mut c = base("ladder", text, spoken, "en-us", level as u32 + 1);
            c.speed = speed;
            c.monotone = monotone;
            out.push(c);
        }
    }
    out
}

/// Positions of detected errors, mapped back to reference word indices
/// (insertions: the reference index they precede).
fn detected(a: &Assessment) -> Vec<(usize, ErrorType)> {
    let mut out = Vec::new();
    let mut ref_index = 0;
    for w in &a.words {
        match w.error {
            ErrorType::Insertion => out.push((ref_index, ErrorType::Insertion)),
            e => {
                if e != ErrorType::None {
                    out.push((ref_index, e));
                }
                ref_index += 1;
            }
        }
    }
    out
}

/// The result's words, errors marked: `fox:M38` (Mispronunciation and its
/// accuracy), `the:O` (Omission), `+really` (Insertion).
fn marked(a: &Assessment) -> String {
    a.words
        .iter()
        .map(|w| match w.error {
            ErrorType::Insertion => format!("+{}", w.word),
            ErrorType::Omission => format!("{}:O", w.word),
            ErrorType::Mispronunciation => format!("{}:M{:.0}", w.word, w.accuracy),
            _ => w.word.clone(),
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// One line per phone (for studying calibration): case id, kind, word
/// index, target index, word, expected phone, accuracy, best alternative.
fn dump_phones(path: &str, id: usize, case: &Case, a: &Assessment) -> Result<(), Error> {
    use std::io::Write;
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    let target = case.expected_at.first().map_or(-1, |i| *i as i64);
    for (wi, w) in a.words.iter().enumerate() {
        for p in &w.phones {
            let alt = p.alternatives.first().map_or("-", |c| c.phone.as_str());
            writeln!(
                f,
                "{id}\t{}\t{wi}\t{target}\t{}\t{}\t{:.1}\t{alt}",
                case.kind, w.word, p.expected, p.accuracy
            )?;
        }
    }
    Ok(())
}

#[derive(Default)]
struct Counts {
    tp: u32,
    fp: u32,
    fn_: u32,
}

fn spearman(xs: &[f32], ys: &[f32]) -> f32 {
    fn ranks(v: &[f32]) -> Vec<f32> {
        let mut idx: Vec<usize> = (0..v.len()).collect();
        idx.sort_by(|a, b| v[*a].total_cmp(&v[*b]));
        let mut r = vec![0.0; v.len()];
        let mut i = 0;
        while i < idx.len() {
            let mut j = i;
            while j + 1 < idx.len() && v[idx[j + 1]] == v[idx[i]] {
                j += 1;
            }
            let avg = (i + j) as f32 / 2.0;
            for &k in &idx[i..=j] {
                r[k] = avg;
            }
            i = j + 1;
        }
        r
    }
    let (rx, ry) = (ranks(xs), ranks(ys));
    let n = rx.len() as f32;
    let (mx, my) = (rx.iter().sum::<f32>() / n, ry.iter().sum::<f32>() / n);
    let cov: f32 = rx.iter().zip(&ry).map(|(a, b)| (a - mx) * (b - my)).sum();
    let vx: f32 = rx.iter().map(|a| (a - mx).powi(2)).sum();
    let vy: f32 = ry.iter().map(|b| (b - my).powi(2)).sum();
    cov / (vx * vy).sqrt()
}

fn median(mut v: Vec<f32>) -> f32 {
    v.sort_by(f32::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(f32::NAN)
}

fn main() -> Result<(), Error> {
    let verbose = std::env::args().any(|a| a == "-v");
    // --no-transcript: the phone recogniser alone (the assessor of a machine
    // without a Whisper model), for comparison in the same run.
    let mut assessor = Assessor::load_default()?;
    let with_transcript = !std::env::args().any(|a| a == "--no-transcript");
    // EVAL_WHISPER_PADDING=N: Whisper's encoder sees the take plus N
    // frames (10 ms) of padding; `full`: the 30-second window. Unset: the
    // assessor's default.
    let padding = match std::env::var("EVAL_WHISPER_PADDING").as_deref() {
        Ok("full") => Some(None),
        Ok(n) => Some(Some(n.parse::<usize>()?)),
        Err(_) => None,
    };
    let transcript_models = || {
        let models = TranscriptModels::installed();
        match padding {
            Some(p) => models.with_encoder_padding(p),
            None => models,
        }
    };
    let encoder_padding = transcript_models().encoder_padding();
    assessor = assessor.with_transcript(with_transcript.then(transcript_models));
    // EVAL_EXPECTED_GOP=1/0: judge phones also against espeak-ng's
    // rendition of the sentence, or not. Unset: the assessor's default.
    let expected_gop = match std::env::var("EVAL_EXPECTED_GOP").as_deref() {
        Ok("1") => Some(true),
        Ok("0") => Some(false),
        _ => None,
    };
    if let Some(on) = expected_gop {
        assessor.expected_gop = on;
    }
    // EVAL_RENDITION_VARIANTS="m1,f1" (or ""): the voice variants whose
    // renditions join the expected GOP; EVAL_PACE_MATCHED=1/0: a rendition
    // at the take's pace, or not. Unset: the assessor's defaults.
    if let Ok(list) = std::env::var("EVAL_RENDITION_VARIANTS") {
        assessor.rendition_variants = list
            .split(',')
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
            .collect();
    }
    match std::env::var("EVAL_PACE_MATCHED").as_deref() {
        Ok("1") => assessor.pace_matched = true,
        Ok("0") => assessor.pace_matched = false,
        _ => {}
    }
    // EVAL_COSTS="garbage_per_frame,garbage_entry,skip_word,skip_per_phone"
    // tries other alignment costs without rebuilding.
    if let Ok(spec) = std::env::var("EVAL_COSTS") {
        let v: Vec<f32> = spec.split(',').filter_map(|x| x.parse().ok()).collect();
        if let [a, b, c, d] = v[..] {
            assessor.costs = echoloop_speech::align::AlignCosts {
                garbage_per_frame: a,
                garbage_entry: b,
                skip_word: c,
                skip_per_phone: d,
            };
        }
    }
    let dir = tempfile::tempdir()?;
    let held_out = std::env::args().any(|a| a == "--held-out");
    let args: Vec<String> = std::env::args().collect();
    let synth = match args
        .iter()
        .position(|a| a == "--synth")
        .and_then(|i| args.get(i + 1))
        .map(String::as_str)
    {
        None | Some("espeak-ng") => Synth::Espeak,
        Some("flite") => Synth::Flite,
        Some(other) => return Err(format!("unknown synthesiser {other}").into()),
    };
    // --timing-only: just the timing runs at the end.
    let timing_only = std::env::args().any(|a| a == "--timing-only");
    let recorded = std::env::args().any(|a| a == "--recorded");
    let all = if timing_only {
        Vec::new()
    } else if recorded {
        recorded::cases(dir.path())?
    } else {
        cases(if held_out { HELD_OUT } else { SENTENCES }, synth)
    };
    let mut counts: BTreeMap<&str, Counts> = BTreeMap::new();
    let mut overall_by_kind: BTreeMap<&str, Vec<f32>> = BTreeMap::new();
    let mut ladder: (Vec<f32>, Vec<f32>) = (Vec::new(), Vec::new());
    // Recorded ladders: errors injected per reference word (prompts run
    // from 4 to 20 words, so one error weighs differently in each).
    let mut errors_per_word: Vec<f32> = Vec::new();
    let mut per_sentence: BTreeMap<String, Vec<(f32, f32)>> = BTreeMap::new();
    let mut monotone_flags: BTreeMap<&str, (u32, u32)> = BTreeMap::new();
    let mut engines: Vec<String> = Vec::new();
    // Recording faults reported, per fault and kind of take.
    let mut take_issues: BTreeMap<(&str, &str), u32> = BTreeMap::new();
    // Errors flagged on correct takes, per error type, and their words.
    let mut false_alarms: BTreeMap<String, u32> = BTreeMap::new();
    let mut correct_words = 0usize;
    for (id, case) in all.iter().enumerate() {
        let wav = synth_take(dir.path(), id, case, synth)?;
        let take = decode_file(&wav)?;
        let a = assessor.assess_samples(&take, &case.text, "en", None)?;
        engines.push(a.engine.clone());
        for issue in &a.take_issues {
            *take_issues.entry((issue.name(), case.kind)).or_default() += 1;
        }
        let got = detected(&a);
        let spread = pitch::spread(&pitch::contour(&take, 320));
        if verbose {
            eprintln!(
                "{:12} {:9} {:3} overall {:5.1} acc {:5.1} flu {:5.1} comp {:5.1} pros {:?} spread {:?} got {:?} want {:?}@{:?} | {} | {} | {}",
                case.kind,
                case.voice,
                case.speed,
                a.scores.overall,
                a.scores.accuracy,
                a.scores.fluency,
                a.scores.completeness,
                a.scores.prosody.map(|p| p.round()),
                spread.map(|s| (s * 10.0).round() / 10.0),
                got,
                case.expected,
                case.expected_at,
                case.spoken,
                marked(&a),
                a.engine
            );
        }
        if let Ok(dump) = std::env::var("EVAL_DUMP_PHONES")
            && (case.kind == "correct" || case.kind == "substitution")
        {
            dump_phones(&dump, id, case, &a)?;
        }
        if case.kind == "correct" {
            correct_words += a.words.len();
            for (_, e) in &got {
                *false_alarms.entry(format!("{e:?}")).or_default() += 1;
            }
        }
        overall_by_kind
            .entry(case.kind)
            .or_default()
            .push(a.scores.overall);
        // The synthetic ladder starts from the en-us correct take; a
        // recorded ladder has its own first step.
        if case.kind == "ladder" || (case.kind == "correct" && case.voice == "en-us") {
            ladder.0.push(case.degradation as f32);
            errors_per_word.push(
                (case.degradation as f32 - 1.0)
                    / echoloop_speech::reference::split_words(&case.text).len() as f32,
            );
            ladder.1.push(a.scores.overall);
            let sentence = match &case.recorded {
                Some(wav) => wav.display().to_string(),
                None => case.text.clone(),
            };
            per_sentence
                .entry(sentence)
                .or_default()
                .push((case.degradation as f32, a.scores.overall));
        }
        let monotone_said = a
            .words
            .iter()
            .any(|w| w.prosody_errors.contains(&ErrorType::Monotone));
        let entry = monotone_flags
            .entry(if case.monotone { "monotone" } else { "lively" })
            .or_default();
        entry.0 += u32::from(monotone_said);
        entry.1 += 1;
        // Error-type precision/recall (accented and speed takes have no
        // ground truth per word, so they only count as false positives for
        // omission/insertion, which they do not contain).
        for kind in [
            ErrorType::Omission,
            ErrorType::Insertion,
            ErrorType::Mispronunciation,
        ] {
            if case.kind == "accented" && kind == ErrorType::Mispronunciation {
                continue;
            }
            if case.kind == "ladder" {
                continue;
            }
            let name = match kind {
                ErrorType::Omission => "Omission",
                ErrorType::Insertion => "Insertion",
                _ => "Mispronunciation",
            };
            let c = counts.entry(name).or_default();
            let want: Vec<usize> = case
                .expected
                .iter()
                .zip(&case.expected_at)
                .filter(|(e, _)| **e == kind)
                .map(|(_, at)| *at)
                .collect();
            let have: Vec<usize> = got
                .iter()
                .filter(|(_, e)| *e == kind)
                .map(|(at, _)| *at)
                .collect();
            // A hit is the right type within one word of the right place.
            let hits = want
                .iter()
                .filter(|w| have.iter().any(|h| h.abs_diff(**w) <= 1))
                .count() as u32;
            c.tp += hits;
            c.fn_ += want.len() as u32 - hits;
            c.fp += have.len() as u32 - hits.min(have.len() as u32);
        }
    }

    // Timing: a ~5 s take, models loaded (and Whisper warmed up) once,
    // decode included; with and without the transcript cross-check.
    let long = Case {
        kind: "timing",
        text: "My father reads the news every morning before he walks the dog along the river"
            .into(),
        spoken: "My father reads the news every morning before he walks the dog along the river"
            .into(),
        voice: "en-us".into(),
        speed: 160,
        monotone: false,
        expected: Vec::new(),
        expected_at: Vec::new(),
        degradation: 0,
        recorded: None,
    };
    // --no-timing: quality tables only.
    let timed = !std::env::args().any(|a| a == "--no-timing");
    let wav = synth_take(dir.path(), 9999, &long, Synth::Espeak)?;
    let seconds = decode_file(&wav)?.len() as f32 / 16_000.0;
    let mut acoustic = Assessor::load_default()?.with_transcript(None);
    acoustic.expected_gop = assessor.expected_gop;
    acoustic.rendition_variants = assessor.rendition_variants.clone();
    acoustic.pace_matched = assessor.pace_matched;
    let mut timings = Vec::new();
    let runs: &[&Assessor] = match (timed, with_transcript) {
        (false, _) => &[],
        (true, true) => &[&assessor, &acoustic],
        (true, false) => &[&acoustic],
    };
    for &a in runs {
        a.assess_samples(&decode_file(&wav)?, &long.text, "en", None)?;
        let plain = time_runs(5, || {
            a.assess_samples(&decode_file(&wav)?, &long.text, "en", None)?;
            Ok(())
        })?;
        let shadow = time_runs(5, || {
            let original = decode_file(&wav)?;
            a.assess_samples(&decode_file(&wav)?, &long.text, "en", Some(&original))?;
            Ok(())
        })?;
        let mut name = a
            .assess_samples(&decode_file(&wav)?, &long.text, "en", None)?
            .engine;
        if a.expected_gop {
            // The rendition is cached per sentence; the first take of a
            // sentence pays for it.
            let first = time_runs(5, || {
                a.forget_renditions();
                a.assess_samples(&decode_file(&wav)?, &long.text, "en", None)?;
                Ok(())
            })?;
            // A take in which a word is called mispronounced also pays
            // for the other voices' renditions (and, at an unusual pace,
            // one at its pace): the text says "leads" where "reads" was
            // said.
            let flagged_text = long.text.replacen("reads", "leads", 1);
            let flagged = a
                .assess_samples(&decode_file(&wav)?, &flagged_text, "en", None)?
                .words
                .iter()
                .any(|w| w.error == ErrorType::Mispronunciation);
            let first_flagged = time_runs(5, || {
                a.forget_renditions();
                a.assess_samples(&decode_file(&wav)?, &flagged_text, "en", None)?;
                Ok(())
            })?;
            // A server prepares the sentence a learner says next before
            // the take arrives (job `segment.prepare`): the take then finds
            // every voice's rendition ready.
            let prepare = time_runs(5, || {
                a.forget_renditions();
                a.prepare_renditions(&flagged_text, "en")?;
                Ok(())
            })?;
            let prepared_flagged = time_runs(5, || {
                a.assess_samples(&decode_file(&wav)?, &flagged_text, "en", None)?;
                Ok(())
            })?;
            let ms = |t: (f32, Option<f32>)| {
                format!(
                    "{:.0} ms / {} CPU",
                    1000.0 * t.0,
                    t.1.map_or("?".to_owned(), |c| format!("{:.0} ms", 1000.0 * c))
                )
            };
            name = format!(
                "{name} (first take of the sentence, rendition not cached: {}; \
                 with a word called mispronounced{}: {}; the same take once the \
                 sentence was prepared: {}, preparing it: {})",
                ms(first),
                if flagged { "" } else { " (none was)" },
                ms(first_flagged),
                ms(prepared_flagged),
                ms(prepare)
            );
        }
        timings.push((name, plain, shadow));
    }

    if !timing_only {
        let engines: std::collections::BTreeSet<&str> =
            engines.iter().map(String::as_str).collect();
        println!(
            "### Speech assessment (built-in: {}), {} {}{}{}\n",
            engines.into_iter().collect::<Vec<_>>().join(", "),
            all.len(),
            if recorded {
                "recorded takes, errors made on the text side"
            } else {
                "synthetic takes"
            },
            if held_out && !recorded {
                ", held-out sentences"
            } else {
                ""
            },
            if synth == Synth::Flite && !recorded {
                ", spoken by flite"
            } else {
                ""
            }
        );
        println!(
            "Expected GOP from espeak-ng's rendition: {}\n",
            if !assessor.expected_gop {
                "off".to_owned()
            } else {
                format!(
                    "on; voice variants: {}; a rendition at the take's pace: {}",
                    if assessor.rendition_variants.is_empty() {
                        "none".to_owned()
                    } else {
                        assessor.rendition_variants.join(", ")
                    },
                    if assessor.pace_matched { "yes" } else { "no" }
                )
            }
        );
        if with_transcript {
            println!(
                "Whisper encoder input: {}\n",
                encoder_padding.map_or("30-second window".to_owned(), |p| format!(
                    "the take + {p} frames ({:.1} s)",
                    p as f32 / 100.0
                ))
            );
        }
        println!("| error type | precision | recall | TP | FP | FN |");
        println!("| --- | --- | --- | --- | --- | --- |");
        for (name, c) in &counts {
            let p = c.tp as f32 / (c.tp + c.fp).max(1) as f32;
            let r = c.tp as f32 / (c.tp + c.fn_).max(1) as f32;
            println!(
                "| {name} | {p:.2} | {r:.2} | {} | {} | {} |",
                c.tp, c.fp, c.fn_
            );
        }
        println!(
            "\nFlagged on correct takes ({correct_words} words): {}",
            if false_alarms.is_empty() {
                "nothing".to_owned()
            } else {
                false_alarms
                    .iter()
                    .map(|(e, n)| format!("{e} {n}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            }
        );
        println!("\n| take kind | n | median overall | min overall |");
        println!("| --- | --- | --- | --- |");
        for (kind, scores) in &overall_by_kind {
            let min = scores.iter().copied().fold(f32::INFINITY, f32::min);
            println!(
                "| {kind} | {} | {:.1} | {:.1} |",
                scores.len(),
                median(scores.clone()),
                min
            );
        }
        if !ladder.0.is_empty() {
            let rho = spearman(&ladder.0, &ladder.1.iter().map(|s| -s).collect::<Vec<_>>());
            let per: Vec<f32> = per_sentence
                .values()
                .map(|pairs| {
                    let (d, o): (Vec<f32>, Vec<f32>) = pairs.iter().map(|(d, o)| (*d, -o)).unzip();
                    spearman(&d, &o)
                })
                .collect();
            let mean_per = per.iter().sum::<f32>() / per.len().max(1) as f32;
            println!(
                "\nDegradation ladder ({}):",
                if recorded {
                    "every third prompt: its text → +1 substitution → +added word → +removed word → +2nd substitution, on the text side"
                } else {
                    "each sentence in en-us: correct → +1 minimal-pair substitution → +2nd substitution → +omission → +insertion → +0.7× speed and monotone"
                }
            );
            println!(
                "Spearman ρ(overall, −degradation) pooled over {} takes: {rho:.2}; mean within a sentence: {mean_per:.2}",
                ladder.0.len()
            );
            if recorded {
                let rate = spearman(
                    &errors_per_word,
                    &ladder.1.iter().map(|s| -s).collect::<Vec<_>>(),
                );
                println!("Spearman ρ(overall, −errors per reference word) pooled: {rate:.2}");
            }
        }
        for (kind, (flagged, n)) in &monotone_flags {
            println!("Monotone flagged on {kind} takes: {flagged}/{n}");
        }
        // None of these takes is cut, clipped or silent: every one is a
        // false alarm.
        let faults: Vec<String> = take_issues
            .iter()
            .map(|((name, kind), n)| format!("{name} on {n} {kind} takes"))
            .collect();
        println!(
            "Recording faults reported (none was made): {}",
            if faults.is_empty() {
                "none".to_owned()
            } else {
                faults.join(", ")
            }
        );
    }
    if !timed {
        return Ok(());
    }
    println!(
        "\nTiming ({seconds:.1} s take, decode + assess, 5 runs: median wall / mean CPU of the process):"
    );
    for (name, plain, shadow) in timings {
        println!(
            "- {name}: {:.0} ms / {} CPU; with shadowing comparison: {:.0} ms / {} CPU",
            1000.0 * plain.0,
            plain
                .1
                .map_or("?".to_owned(), |c| format!("{:.0} ms", 1000.0 * c)),
            1000.0 * shadow.0,
            shadow
                .1
                .map_or("?".to_owned(), |c| format!("{:.0} ms", 1000.0 * c)),
        );
    }
    Ok(())
}

/// Median wall time and mean CPU time (all threads) of `runs` calls.
fn time_runs(
    runs: usize,
    mut f: impl FnMut() -> Result<(), Error>,
) -> Result<(f32, Option<f32>), Error> {
    let mut wall = Vec::with_capacity(runs);
    let cpu_before = process_cpu_seconds();
    for _ in 0..runs {
        let t = Instant::now();
        f()?;
        wall.push(t.elapsed().as_secs_f32());
    }
    let cpu = cpu_before
        .zip(process_cpu_seconds())
        .map(|(before, after)| (after - before) / runs as f32);
    Ok((median(wall), cpu))
}

/// User + system time of this process so far (Linux `/proc/self/stat`,
/// in clock ticks of 10 ms); `None` elsewhere.
fn process_cpu_seconds() -> Option<f32> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name, which is in parentheses.
    let fields: Vec<&str> = stat.rsplit_once(") ")?.1.split(' ').collect();
    let ticks: f32 = fields.get(11)?.parse::<f32>().ok()? + fields.get(12)?.parse::<f32>().ok()?;
    Some(ticks / 100.0)
}
