//! The phone recogniser computed in Rust beside hama's own engine, on the
//! same audio in the same run (`make bench`): median wall time per call,
//! real-time factor and the ratio between the two.
//!
//! `cargo run --release -p echoloop-speech --example bench_phone_recogniser`

#[path = "../tests/support/hama_engine.rs"]
mod hama_engine;

use std::process::Command;
use std::time::Instant;

use echoloop_speech::acoustic::{AcousticModel, default_model_dir};
use echoloop_speech::audio::decode_file;
use hama_engine::HamaEngine;

type Error = Box<dyn std::error::Error>;

const RUNS: usize = 7;

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn main() -> Result<(), Error> {
    let dir = default_model_dir().ok_or("no models/hama: run scripts/fetch-models.sh")?;
    let ours = AcousticModel::load(&dir)?;
    let hama = HamaEngine::load(&dir).ok_or("hama's engine (libhama.so) does not load here")?;
    let tmp = tempfile::tempdir()?;
    let wav = tmp.path().join("speech.wav");
    let text = "The committee met on Tuesday to discuss the budget for next year. \
        Several members argued that the library needed new computers, \
        while others wanted to repair the roof before the winter storms arrived. \
        After two hours of debate they agreed to do both, \
        and to ask the town for a little more money in the spring.";
    let status = Command::new("espeak-ng")
        .args(["-v", "en-us", "-w"])
        .arg(&wav)
        .arg(text)
        .status()?;
    if !status.success() {
        return Err("espeak-ng failed".into());
    }
    let speech = decode_file(&wav)?;
    println!("| audio | Rust: median wall, RTF | hama's engine: median wall, RTF | hama / Rust |");
    println!("| --- | --- | --- | --- |");
    for seconds in [2usize, 5, 10, 25] {
        let samples = &speech[..(seconds * 16_000).min(speech.len())];
        let mut rust_times = Vec::new();
        let mut hama_times = Vec::new();
        // Alternate, so a busy moment on a shared machine hits both.
        for _ in 0..RUNS {
            let t = Instant::now();
            let a = ours.posteriors(samples)?;
            rust_times.push(t.elapsed().as_secs_f64());
            let t = Instant::now();
            let b = hama.posteriors(samples, ours.vocab.len());
            hama_times.push(t.elapsed().as_secs_f64());
            if a.frames.len() != b.len() {
                return Err(format!("{} frames against hama's {}", a.frames.len(), b.len()).into());
            }
        }
        let audio = samples.len() as f64 / 16_000.0;
        let (rust, hama) = (median(rust_times), median(hama_times));
        println!(
            "| {audio:.0} s | {:.1} ms, {:.4} | {:.1} ms, {:.4} | {:.1}× |",
            rust * 1000.0,
            rust / audio,
            hama * 1000.0,
            hama / audio,
            hama / rust
        );
    }
    Ok(())
}
