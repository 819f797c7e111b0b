//! Evaluation and benchmark of Whisper transcription (run by
//! `eval/transcribe.sh`, part of `make eval-speech`).
//!
//! All speech is synthesised at run time with espeak-ng: 24 English
//! sentences of 1–26 words joined by known pauses (WER and per-sentence
//! start/end error with tiny.en and base), French/Spanish/German passages
//! (language detection with base), and bad input (empty, silent, clipped,
//! truncated, wrong language, a three-hour file for memory). Every
//! transcription runs in a child process (`eval_transcribe run …`) so its
//! peak memory is its own; the same files go through the faster-whisper
//! Python package (`eval/faster_whisper_run.py`) when it is installed.
//! `--recorded` measures accuracy and language detection on real recorded
//! prompts instead (`eval/prompts.rs`).
//! Prints a Markdown report for BENCHMARKS.md.
//!
//! eval_transcribe [--python PATH] [--skip-long | --long-only | --recorded] [--reps N] [--keep DIR]
//! eval_transcribe run MODEL FILE [--threads N] [--compute int8|float32] [--language L]

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use echoloop_speech::audio::decode_file;
use echoloop_speech::wer::{align_words, normalise, word_error_rate};
use echoloop_speech::whisper::{self, Compute, DecodeOptions, EngineSettings, WhisperModel};
use serde_json::{Value, json};

#[path = "eval/prompts.rs"]
mod prompts;

type Error = Box<dyn std::error::Error>;

const RATE: u32 = 16_000;
const THREADS: usize = 2;

/// Varied lengths (1 to 26 words), no digits or hyphens (so the reference
/// has one spelling).
const ENGLISH: [&str; 24] = [
    "Hello.",
    "Thank you very much.",
    "The weather was cold and grey all morning.",
    "She opened the window and listened to the birds singing in the garden.",
    "Where is the nearest train station?",
    "I would like a cup of coffee with milk, please.",
    "Our teacher asked us to read the first chapter of the book before next week, \
     and to write a short summary of what happens in it.",
    "Good night.",
    "The children played football in the park until it got dark.",
    "Can you help me carry these boxes upstairs?",
    "He forgot his umbrella at the restaurant, so he went back to get it.",
    "Learning a new language takes time and patience.",
    "Yesterday my sister and I visited our grandparents, who live in a small village \
     near the sea, and we stayed for dinner.",
    "Please turn off the lights when you leave the room.",
    "The museum is closed on Mondays.",
    "I think we should leave early tomorrow morning to avoid the traffic.",
    "What time does the film start?",
    "My brother works as a doctor in a large hospital in the city.",
    "It was the best day of the summer.",
    "They are building a new bridge across the river.",
    "Could you speak a little more slowly?",
    "The old man sat on a bench and fed the pigeons.",
    "We watched the sun go down behind the mountains.",
    "Excuse me.",
];
const PAUSES_MS: [u64; 6] = [400, 700, 1000, 1500, 2500, 600];

const FRENCH: [&str; 4] = [
    "Bonjour, je voudrais un café et un croissant, s'il vous plaît.",
    "Nous allons visiter le musée du Louvre demain matin.",
    "Il fait très beau aujourd'hui, allons nous promener au bord de la rivière.",
    "Est-ce que vous savez où se trouve la gare?",
];
const SPANISH: [&str; 4] = [
    "Buenos días, me gustaría reservar una mesa para dos personas.",
    "Mañana vamos a la playa con nuestros amigos.",
    "¿Dónde está la biblioteca de la universidad?",
    "Me encanta aprender idiomas y viajar por el mundo.",
];
const GERMAN: [&str; 4] = [
    "Guten Morgen, ich möchte heute mit dem Zug nach Berlin fahren.",
    "Das Wetter ist heute sehr schön und warm.",
    "Können Sie mir bitte sagen, wo der Bahnhof ist?",
    "Wir essen am Abend zusammen in einem kleinen Restaurant.",
];

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = if args.first().map(String::as_str) == Some("run") {
        run_one(&args[1..])
    } else {
        evaluate(&args)
    };
    if let Err(e) = result {
        eprintln!("eval_transcribe: {e}");
        std::process::exit(1);
    }
}

fn flag<'a>(args: &'a [String], name: &str) -> Option<&'a str> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .map(String::as_str)
}

/// Peak resident memory of this process (VmHWM), MiB.
fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

/// `run MODEL FILE …`: one transcription, one JSON line on stdout.
fn run_one(args: &[String]) -> Result<(), Error> {
    let (Some(model_name), Some(file)) = (args.first(), args.get(1)) else {
        return Err(
            "usage: eval_transcribe run MODEL FILE [--threads N] [--compute C] [--language L]"
                .into(),
        );
    };
    let threads = flag(args, "--threads").map_or(Ok(THREADS), str::parse)?;
    let compute = Compute::parse(flag(args, "--compute").unwrap_or("int8"))
        .ok_or("--compute is int8 or float32")?;
    let started = Instant::now();
    let model = WhisperModel::load(model_name, EngineSettings { threads, compute })?;
    let load_s = started.elapsed().as_secs_f64();
    let options = DecodeOptions {
        language: flag(args, "--language").map(str::to_owned),
        ..DecodeOptions::default()
    };
    let started = Instant::now();
    let stream = echoloop_speech::audio::AudioStream::open(Path::new(file));
    let (segments, info) = match stream {
        Ok(stream) => {
            let mut segments = Vec::new();
            let info = model.transcribe_stream(stream, &options, &mut |s| segments.push(s))?;
            (segments, info)
        }
        Err(e) => {
            println!("{}", json!({"engine": "echoloop", "error": e.to_string()}));
            return Ok(());
        }
    };
    let wall_s = started.elapsed().as_secs_f64();
    let transcript = whisper::to_transcript(&info, segments);
    println!(
        "{}",
        json!({
            "engine": "echoloop",
            "loadS": load_s,
            "wallS": wall_s,
            "audioS": info.duration_ms as f64 / 1000.0,
            "peakRssMb": peak_rss_mb(),
            "language": info.language,
            "languageProbability": info.language_probability,
            "segments": transcript.segments,
            "words": transcript.words,
        })
    );
    Ok(())
}

// ---------------------------------------------------------------- audio

fn speak(dir: &Path, voice: &str, text: &str) -> Result<Vec<f32>, Error> {
    let path = dir.join("sentence.wav");
    let status = Command::new("espeak-ng")
        .args(["-v", voice, "-w"])
        .arg(&path)
        .arg(text)
        .status()?;
    if !status.success() {
        return Err(format!("espeak-ng failed on {text:?}").into());
    }
    Ok(decode_file(&path)?)
}

/// First and last sample above −40 dBFS, in ms.
fn speech_bounds(samples: &[f32]) -> (u64, u64) {
    let first = samples.iter().position(|s| s.abs() > 0.01).unwrap_or(0);
    let last = samples.iter().rposition(|s| s.abs() > 0.01).unwrap_or(0);
    (ms_of(first), ms_of(last))
}

fn ms_of(samples: usize) -> u64 {
    samples as u64 * 1000 / u64::from(RATE)
}

fn silence(ms: u64) -> Vec<f32> {
    vec![0.0; (ms * u64::from(RATE) / 1000) as usize]
}

/// A 16-bit mono wav writer that streams (the three-hour file is never in
/// memory).
struct WavWriter {
    out: BufWriter<File>,
}

impl WavWriter {
    fn create(path: &Path, total_samples: u64) -> Result<Self, Error> {
        let mut out = BufWriter::new(File::create(path)?);
        let data_len = u32::try_from(total_samples * 2)?;
        out.write_all(b"RIFF")?;
        out.write_all(&(36 + data_len).to_le_bytes())?;
        out.write_all(b"WAVEfmt ")?;
        out.write_all(&16u32.to_le_bytes())?;
        out.write_all(&1u16.to_le_bytes())?;
        out.write_all(&1u16.to_le_bytes())?;
        out.write_all(&RATE.to_le_bytes())?;
        out.write_all(&(RATE * 2).to_le_bytes())?;
        out.write_all(&2u16.to_le_bytes())?;
        out.write_all(&16u16.to_le_bytes())?;
        out.write_all(b"data")?;
        out.write_all(&data_len.to_le_bytes())?;
        Ok(Self { out })
    }

    fn write(&mut self, samples: &[f32]) -> Result<(), Error> {
        for s in samples {
            let v = (s.clamp(-1.0, 1.0) * 32767.0) as i16;
            self.out.write_all(&v.to_le_bytes())?;
        }
        Ok(())
    }

    fn finish(mut self) -> Result<(), Error> {
        self.out.flush()?;
        Ok(())
    }
}

fn write_wav(path: &Path, samples: &[f32]) -> Result<(), Error> {
    let mut w = WavWriter::create(path, samples.len() as u64)?;
    w.write(samples)?;
    w.finish()
}

/// Sentence text with its true start and end in the file.
struct Truth {
    text: String,
    start_ms: u64,
    end_ms: u64,
}

fn passage(dir: &Path, voice: &str, sentences: &[&str]) -> Result<(Vec<f32>, Vec<Truth>), Error> {
    let spoken = sentences
        .iter()
        .map(|text| Ok(((*text).to_owned(), speak(dir, voice, text)?)))
        .collect::<Result<Vec<_>, Error>>()?;
    Ok(join(spoken))
}

/// Sentences one after another, between pauses of `PAUSES_MS`, and where
/// each one's speech starts and ends.
fn join(sentences: Vec<(String, Vec<f32>)>) -> (Vec<f32>, Vec<Truth>) {
    let mut all = silence(500);
    let mut truth = Vec::new();
    for (i, (text, speech)) in sentences.into_iter().enumerate() {
        let (from, to) = speech_bounds(&speech);
        let offset = ms_of(all.len());
        truth.push(Truth {
            text,
            start_ms: offset + from,
            end_ms: offset + to,
        });
        all.extend(speech);
        all.extend(silence(PAUSES_MS[i % PAUSES_MS.len()]));
    }
    (all, truth)
}

/// `n` recorded prompts of `lang` with `words` words, spread evenly over
/// the prompt list, joined into one passage.
fn recorded_passage(
    dir: &Path,
    lang: &str,
    n: usize,
    words: std::ops::RangeInclusive<usize>,
) -> Result<(Vec<f32>, Vec<Truth>), Error> {
    let eligible: Vec<prompts::Prompt> = prompts::plain(lang)?
        .into_iter()
        .filter(|p| words.contains(&normalise(&p.text).len()))
        .collect();
    let step = (eligible.len() / n).max(1);
    let spoken = eligible
        .iter()
        .step_by(step)
        .take(n)
        .map(|p| Ok((p.text.clone(), decode_file(&p.wav(dir)?)?)))
        .collect::<Result<Vec<_>, Error>>()?;
    Ok(join(spoken))
}

// ---------------------------------------------------------------- metrics

struct Scored {
    wer: f64,
    /// Per sentence: |start error|, |end error| in ms (None: not heard).
    timing: Vec<Option<(u64, u64)>>,
}

impl Scored {
    /// Sentences whose start and end are both within 400 ms, and the
    /// median and largest timing error over the sentences heard.
    fn timing_summary(&self) -> (usize, u64, u64) {
        let heard: Vec<(u64, u64)> = self.timing.iter().flatten().copied().collect();
        let within = heard.iter().filter(|(a, b)| *a <= 400 && *b <= 400).count();
        let errors: Vec<u64> = heard.iter().flat_map(|&(a, b)| [a, b]).collect();
        let max = errors.iter().max().copied().unwrap_or(0);
        (within, median(errors), max)
    }
}

/// WER over the whole passage and each sentence's timing error, from the
/// word list of a run's JSON.
fn score(result: &Value, truth: &[Truth]) -> Scored {
    let mut reference = Vec::new();
    let mut sentence_of = Vec::new();
    for (s, t) in truth.iter().enumerate() {
        for w in normalise(&t.text) {
            reference.push(w);
            sentence_of.push(s);
        }
    }
    // Hypothesis tokens with the time of the word they came from.
    let mut hyp = Vec::new();
    let mut times = Vec::new();
    for w in result["words"].as_array().into_iter().flatten() {
        let (start, end) = (
            w["startMs"].as_u64().unwrap_or(0),
            w["endMs"].as_u64().unwrap_or(0),
        );
        for token in normalise(w["word"].as_str().unwrap_or("")) {
            hyp.push(token);
            times.push((start, end));
        }
    }
    let (errors, pairs) = align_words(&reference, &hyp);
    let timing = truth
        .iter()
        .enumerate()
        .map(|(s, t)| {
            let idx: Vec<usize> = (0..reference.len())
                .filter(|&i| sentence_of[i] == s)
                .collect();
            let first = idx.first().and_then(|&i| pairs[i])?;
            let last = idx.last().and_then(|&i| pairs[i])?;
            Some((
                times[first].0.abs_diff(t.start_ms),
                times[last].1.abs_diff(t.end_ms),
            ))
        })
        .collect();
    Scored {
        wer: errors as f64 / reference.len().max(1) as f64,
        timing,
    }
}

fn text_of(result: &Value) -> String {
    result["segments"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| s["text"].as_str())
        .collect::<Vec<_>>()
        .join(" ")
}

fn wer_of(result: &Value, reference: &str) -> f64 {
    word_error_rate(reference, &text_of(result))
}

fn median(mut v: Vec<u64>) -> u64 {
    if v.is_empty() {
        return 0;
    }
    v.sort_unstable();
    v[v.len() / 2]
}

// ---------------------------------------------------------------- runs

struct Runner {
    exe: PathBuf,
    python: Option<PathBuf>,
    models: PathBuf,
}

impl Runner {
    fn ours(
        &self,
        model: &str,
        file: &Path,
        compute: &str,
        language: Option<&str>,
    ) -> Result<Value, Error> {
        let mut cmd = Command::new(&self.exe);
        cmd.args(["run", model]).arg(file).args([
            "--threads",
            &THREADS.to_string(),
            "--compute",
            compute,
        ]);
        if let Some(l) = language {
            cmd.args(["--language", l]);
        }
        json_of(cmd)
    }

    fn faster_whisper(
        &self,
        model: &str,
        file: &Path,
        compute: &str,
        language: Option<&str>,
    ) -> Result<Option<Value>, Error> {
        let Some(python) = &self.python else {
            return Ok(None);
        };
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../eval/faster_whisper_run.py");
        let mut cmd = Command::new(python);
        cmd.arg(script)
            .arg(self.models.join(format!("whisper-{model}")))
            .arg(file)
            .args(["--threads", &THREADS.to_string(), "--compute", compute]);
        if let Some(l) = language {
            cmd.args(["--language", l]);
        }
        json_of(cmd).map(Some)
    }
}

fn json_of(mut cmd: Command) -> Result<Value, Error> {
    let out = cmd.stderr(Stdio::inherit()).output()?;
    if !out.status.success() {
        return Err(format!("{cmd:?} failed ({})", out.status).into());
    }
    let text = String::from_utf8(out.stdout)?;
    let line = text.lines().last().ok_or("no output")?;
    Ok(serde_json::from_str(line)?)
}

fn f(v: &Value, key: &str) -> f64 {
    v[key].as_f64().unwrap_or(f64::NAN)
}

fn evaluate(args: &[String]) -> Result<(), Error> {
    let reps: usize = flag(args, "--reps").map_or(Ok(1), str::parse)?;
    let skip_long = args.iter().any(|a| a == "--skip-long");
    let python = flag(args, "--python")
        .map(PathBuf::from)
        .filter(|p| p.exists());
    let models = whisper::catalog::installed_dir("tiny.en")
        .and_then(|d| d.parent().map(Path::to_path_buf))
        .ok_or("the Whisper models are not installed; run scripts/fetch-models.sh")?;
    let runner = Runner {
        exe: std::env::current_exe()?,
        python,
        models,
    };
    // `--keep DIR`: work in DIR and leave the synthesised files there.
    let keep = flag(args, "--keep").map(PathBuf::from);
    let tmp = keep.clone().unwrap_or_else(|| {
        std::env::temp_dir().join(format!("echoloop-eval-transcribe-{}", std::process::id()))
    });
    std::fs::create_dir_all(&tmp)?;
    let result = if args.iter().any(|a| a == "--recorded") {
        evaluate_recorded(&tmp, &runner)
    } else if args.iter().any(|a| a == "--long-only") {
        passage(&tmp, "en-us", &ENGLISH)
            .and_then(|(english, _)| {
                let path = tmp.join("english.wav");
                write_wav(&path, &english)?;
                Ok(path)
            })
            .and_then(|path| long_file(&tmp, &runner, &path))
    } else {
        evaluate_in(&tmp, &runner, reps, skip_long)
    };
    if keep.is_none() {
        let _ = std::fs::remove_dir_all(&tmp);
    }
    result
}

fn evaluate_in(tmp: &Path, runner: &Runner, reps: usize, skip_long: bool) -> Result<(), Error> {
    eprintln!("synthesising speech with espeak-ng …");
    let (english, truth) = passage(tmp, "en-us", &ENGLISH)?;
    let english_path = tmp.join("english.wav");
    write_wav(&english_path, &english)?;
    let english_s = english.len() as f64 / f64::from(RATE);
    let words: usize = ENGLISH.iter().map(|s| normalise(s).len()).sum();

    println!("## Transcription (Whisper)\n");
    println!(
        "English passage: {} sentences ({} words, 1–{} words each), espeak-ng `en-us`, \
         joined by pauses of {:?} ms: {:.1} s. {THREADS} threads, beam 5, word timestamps. \
         Timing error: |start of the sentence's first word − truth|, |end of its last word − truth|; \
         truth = first/last sample above −40 dBFS of each sentence's synthesis.\n",
        ENGLISH.len(),
        words,
        ENGLISH
            .iter()
            .map(|s| normalise(s).len())
            .max()
            .unwrap_or(0),
        PAUSES_MS,
        english_s
    );

    // ---- accuracy, speed and memory, side by side
    println!(
        "| engine | model | compute | WER | sentences with start and end ≤ 400 ms | median / max timing error (ms) | RTF (wall / audio) | load (s) | peak RSS (MiB) |"
    );
    println!("| --- | --- | --- | --- | --- | --- | --- | --- | --- |");
    let mut speed: Vec<(String, String, String, f64)> = Vec::new();
    for (model, compute) in [
        ("tiny.en", "int8"),
        ("tiny.en", "float32"),
        ("base", "int8"),
        ("base", "float32"),
    ] {
        let language = (model == "base").then_some("en");
        for engine in ["echoloop", "faster-whisper"] {
            let mut best: Option<Value> = None;
            for _ in 0..reps {
                let r = if engine == "echoloop" {
                    Some(runner.ours(model, &english_path, compute, language)?)
                } else {
                    runner.faster_whisper(model, &english_path, compute, language)?
                };
                let Some(r) = r else { break };
                if best.as_ref().is_none_or(|b| f(&r, "wallS") < f(b, "wallS")) {
                    best = Some(r);
                }
            }
            let Some(r) = best else {
                println!("| {engine} | {model} | {compute} | not installed | | | | | |");
                continue;
            };
            let s = score(&r, &truth);
            let (within, median_ms, max_ms) = s.timing_summary();
            let rtf = f(&r, "wallS") / english_s;
            speed.push((engine.to_owned(), model.to_owned(), compute.to_owned(), rtf));
            println!(
                "| {engine} | {model} | {compute} | {:.1} % | {within}/{} | {median_ms} / {max_ms} | {rtf:.3} | {:.2} | {:.0} |",
                s.wer * 100.0,
                truth.len(),
                f(&r, "loadS"),
                f(&r, "peakRssMb"),
            );
            if engine == "echoloop" && model == "tiny.en" && compute == "int8" {
                for (t, timing) in truth.iter().zip(&s.timing) {
                    eprintln!(
                        "  {:>6}–{:>6} ms {timing:?} {}",
                        t.start_ms, t.end_ms, t.text
                    );
                }
                eprintln!("  heard: {}", text_of(&r));
            }
        }
    }
    println!();
    for (model, compute) in [
        ("tiny.en", "int8"),
        ("tiny.en", "float32"),
        ("base", "int8"),
        ("base", "float32"),
    ] {
        let find = |engine: &str| {
            speed
                .iter()
                .find(|(e, m, c, _)| e == engine && m == model && c == compute)
                .map(|s| s.3)
        };
        if let (Some(ours), Some(theirs)) = (find("echoloop"), find("faster-whisper")) {
            println!(
                "- {model} {compute}: Echoloop takes {:.2}× faster-whisper's time",
                ours / theirs
            );
        }
    }
    println!();

    // ---- language detection
    println!("| language | audio (s) | engine | detected (probability) | WER |");
    println!("| --- | --- | --- | --- | --- |");
    for (voice, sentences) in [("fr", &FRENCH), ("es", &SPANISH), ("de", &GERMAN)] {
        let (samples, _) = passage(tmp, voice, sentences)?;
        let path = tmp.join(format!("{voice}.wav"));
        write_wav(&path, &samples)?;
        language_rows(runner, voice, &path, &samples, &sentences.join(" "))?;
    }
    println!();

    // ---- bad input
    println!("| input | result (Echoloop, tiny.en int8) |");
    println!("| --- | --- |");
    let empty = tmp.join("empty.wav");
    std::fs::write(&empty, b"")?;
    let r = runner.ours("tiny.en", &empty, "int8", None)?;
    println!(
        "| empty file (0 bytes) | error: {} |",
        r["error"].as_str().unwrap_or("none (!)")
    );

    let quiet = tmp.join("silence.wav");
    write_wav(&quiet, &silence(60_000))?;
    let r = runner.ours("tiny.en", &quiet, "int8", None)?;
    println!(
        "| 60 s of digital silence | {} segments |",
        r["segments"].as_array().map_or(0, Vec::len)
    );

    let clipped: Vec<f32> = english.iter().map(|s| (s * 8.0).clamp(-1.0, 1.0)).collect();
    let share = clipped.iter().filter(|s| s.abs() >= 1.0).count() as f64 / clipped.len() as f64;
    let clipped_path = tmp.join("clipped.wav");
    write_wav(&clipped_path, &clipped)?;
    let r = runner.ours("tiny.en", &clipped_path, "int8", None)?;
    println!(
        "| the English passage ×8 gain, hard-clipped ({:.0} % of samples at full scale) | WER {:.1} % |",
        share * 100.0,
        score(&r, &truth).wer * 100.0
    );

    let bytes = std::fs::read(&english_path)?;
    let cut_ms = truth[truth.len() / 2].start_ms + 700;
    let cut = 44 + (cut_ms as usize * RATE as usize / 1000) * 2;
    let truncated = tmp.join("truncated.wav");
    std::fs::write(&truncated, &bytes[..cut])?;
    let r = runner.ours("tiny.en", &truncated, "int8", None)?;
    let before: Vec<Truth> = truth
        .iter()
        .take_while(|t| t.end_ms < cut_ms)
        .map(|t| Truth {
            text: t.text.clone(),
            start_ms: t.start_ms,
            end_ms: t.end_ms,
        })
        .collect();
    let before_text: Vec<&str> = before.iter().map(|t| t.text.as_str()).collect();
    let last_end = r["words"]
        .as_array()
        .and_then(|w| w.last())
        .and_then(|w| w["endMs"].as_u64())
        .unwrap_or(0);
    println!(
        "| the English passage cut at {:.1} s mid-sentence (header still claims {:.1} s) | the {} complete sentences before the cut: WER {:.1} %; last word ends at {:.1} s |",
        cut_ms as f64 / 1000.0,
        english_s,
        before.len(),
        wer_of_prefix(&r, &before_text.join(" ")) * 100.0,
        last_end as f64 / 1000.0
    );

    let (french, _) = passage(tmp, "fr", &FRENCH)?;
    let french_path = tmp.join("french.wav");
    write_wav(&french_path, &french)?;
    let r = runner.ours("tiny.en", &french_path, "int8", None)?;
    println!(
        "| French speech, English-only model | no error; {} segments of would-be English, e.g. {:?} |",
        r["segments"].as_array().map_or(0, Vec::len),
        text_of(&r).chars().take(60).collect::<String>()
    );
    let r = runner.ours("base", &french_path, "int8", Some("en"))?;
    println!(
        "| French speech, base told `--language en` | {:?} |",
        text_of(&r).chars().take(60).collect::<String>()
    );

    if !skip_long {
        long_file(tmp, runner, &english_path)?;
    }
    Ok(())
}

/// `--recorded`: the accuracy and language tables on real speech
/// (`eval/prompts.rs`): 24 English prompts joined by the same pauses, and
/// six prompts each of French, Spanish, Italian and Russian.
fn evaluate_recorded(tmp: &Path, runner: &Runner) -> Result<(), Error> {
    let (english, truth) = recorded_passage(tmp, "en", 24, 4..=20)?;
    let path = tmp.join("recorded-english.wav");
    write_wav(&path, &english)?;
    let seconds = english.len() as f64 / f64::from(RATE);
    println!("## Transcription of recorded speech (Whisper)\n");
    println!(
        "English passage: {} prompts read by one professional speaker (Debian's \
         asterisk-core-sounds-en-g722, 16 kHz G.722), joined by pauses of {PAUSES_MS:?} ms: \
         {seconds:.1} s. {THREADS} threads, beam 5, word timestamps. Truth: first/last sample \
         above −40 dBFS of each prompt.\n",
        truth.len()
    );
    println!(
        "| engine | model | compute | WER | sentences with start and end ≤ 400 ms | median / max timing error (ms) | RTF (wall / audio) |"
    );
    println!("| --- | --- | --- | --- | --- | --- | --- |");
    for model in ["tiny.en", "base"] {
        let language = (model == "base").then_some("en");
        for engine in ["echoloop", "faster-whisper"] {
            let r = if engine == "echoloop" {
                Some(runner.ours(model, &path, "int8", language)?)
            } else {
                runner.faster_whisper(model, &path, "int8", language)?
            };
            let Some(r) = r else { continue };
            let s = score(&r, &truth);
            let (within, median_ms, max_ms) = s.timing_summary();
            println!(
                "| {engine} | {model} | int8 | {:.1} % | {within}/{} | {median_ms} / {max_ms} | {:.3} |",
                s.wer * 100.0,
                truth.len(),
                f(&r, "wallS") / seconds,
            );
            if engine == "echoloop" {
                for (t, timing) in truth.iter().zip(&s.timing) {
                    eprintln!(
                        "  {model} {:>6}–{:>6} ms {timing:?} {}",
                        t.start_ms, t.end_ms, t.text
                    );
                }
                eprintln!("  {model} heard: {}", text_of(&r));
            }
        }
    }
    println!("\n| language | audio (s) | engine | detected (probability) | WER |");
    println!("| --- | --- | --- | --- | --- |");
    for lang in ["fr", "es", "it", "ru"] {
        let (samples, truth) = recorded_passage(tmp, lang, 6, 4..=20)?;
        let path = tmp.join(format!("recorded-{lang}.wav"));
        write_wav(&path, &samples)?;
        let reference: Vec<&str> = truth.iter().map(|t| t.text.as_str()).collect();
        language_rows(runner, lang, &path, &samples, &reference.join(" "))?;
    }
    Ok(())
}

/// The language-detection table's rows for one passage: base int8 told no
/// language, Echoloop and faster-whisper (when installed).
fn language_rows(
    runner: &Runner,
    lang: &str,
    path: &Path,
    samples: &[f32],
    reference: &str,
) -> Result<(), Error> {
    for engine in ["echoloop", "faster-whisper"] {
        let r = if engine == "echoloop" {
            Some(runner.ours("base", path, "int8", None)?)
        } else {
            runner.faster_whisper("base", path, "int8", None)?
        };
        let Some(r) = r else { continue };
        println!(
            "| {lang} | {:.1} | {engine} base int8 | {} ({:.2}) | {:.1} % |",
            samples.len() as f64 / f64::from(RATE),
            r["language"].as_str().unwrap_or("?"),
            f(&r, "languageProbability"),
            wer_of(&r, reference) * 100.0
        );
        if engine == "echoloop" {
            eprintln!("  {lang} heard: {}", text_of(&r));
        }
    }
    Ok(())
}

/// WER of the hypothesis' first words against `reference` (the hypothesis
/// may hold a partial sentence after the cut, which is not an error).
fn wer_of_prefix(result: &Value, reference: &str) -> f64 {
    let r = normalise(reference);
    let h: Vec<String> = normalise(&text_of(result))
        .into_iter()
        .take(r.len())
        .collect();
    let (errors, _) = align_words(&r, &h);
    errors as f64 / r.len().max(1) as f64
}

/// One and three hours: one English sentence a minute, silence between.
/// Memory is constant when both peak at the same level.
fn long_file(tmp: &Path, runner: &Runner, short: &Path) -> Result<(), Error> {
    let per_minute = u64::from(RATE) * 60;
    let sentences: Vec<Vec<f32>> = ENGLISH
        .iter()
        .map(|s| speak(tmp, "en-us", s))
        .collect::<Result<_, _>>()?;
    let write = |minutes: u64, path: &Path| -> Result<(), Error> {
        let mut w = WavWriter::create(path, per_minute * minutes)?;
        for minute in 0..minutes as usize {
            let s = &sentences[minute % sentences.len()];
            let take = s.len().min(per_minute as usize);
            w.write(&s[..take])?;
            w.write(&vec![0.0; per_minute as usize - take])?;
        }
        w.finish()
    };
    let short_run = runner.ours("tiny.en", short, "int8", None)?;
    for minutes in [60u64, 180] {
        let path = tmp.join(format!("{minutes}-minutes.wav"));
        write(minutes, &path)?;
        eprintln!("transcribing {minutes} minutes …");
        let mut runs = vec![runner.ours("tiny.en", &path, "int8", None)?];
        if minutes == 60
            && let Some(r) = runner.faster_whisper("tiny.en", &path, "int8", None)?
        {
            runs.push(r);
        }
        let _ = std::fs::remove_file(&path);
        let reference: Vec<&str> = (0..minutes as usize)
            .map(|m| ENGLISH[m % ENGLISH.len()])
            .collect();
        for r in runs {
            println!(
                "| {minutes}-minute file (one sentence a minute, {} MB wav), {} | {} segments, WER {:.1} %, RTF {:.3}; peak RSS {:.0} MiB (Echoloop on the {:.0}-s passage: {:.0} MiB) |",
                per_minute * minutes * 2 / 1_000_000,
                r["engine"].as_str().unwrap_or("?"),
                r["segments"].as_array().map_or(0, Vec::len),
                wer_of(&r, &reference.join(" ")) * 100.0,
                f(&r, "wallS") / f(&r, "audioS"),
                f(&r, "peakRssMb"),
                f(&short_run, "audioS"),
                f(&short_run, "peakRssMb"),
            );
        }
    }
    Ok(())
}
