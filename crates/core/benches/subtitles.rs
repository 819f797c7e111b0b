//! Subtitle parsing speed on generated files: a 2-hour film (~1,500 cues) as
//! SRT, WebVTT and ASS, and ~10 MB SRT and WebVTT files. Writes the files it
//! times to a directory (`--dir DIR`, default a temp dir) so
//! `bench/subtitles_vs_pysubs2.sh` can time pysubs2 on the very same bytes.
//!
//! Output: one line per case, `case<TAB>bytes<TAB>cues<TAB>median_ms`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::Instant;

use echoloop_core::subtitles::serialise::{to_srt, to_vtt};
use echoloop_core::subtitles::{Cue, ImportOptions, import, parse_bytes};
use echoloop_core::time::Millis;

const WORDS: &[&str] = &[
    "the", "station", "was", "empty", "when", "we", "arrived", "and", "nobody", "knew", "where",
    "train", "had", "gone", "I", "think", "you", "should", "call", "her", "tomorrow", "morning",
    "before", "it's", "too", "late", "maybe", "they", "will", "listen", "this", "time", "don't",
    "worry", "about", "me", "river", "bridge", "light", "window", "coffee",
];

/// Deterministic pseudo-random numbers, so every run times the same files.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, below: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % below
    }
}

fn generate_cues(count: usize, spacing_ms: u64, seed: u64) -> Vec<Cue> {
    let mut random = Lcg(seed);
    let mut at = 1_000;
    (0..count)
        .map(|_| {
            let lines = 1 + random.next(2) as usize;
            let text = (0..lines)
                .map(|_| {
                    let words = 3 + random.next(6) as usize;
                    let mut line: Vec<&str> = (0..words)
                        .map(|_| WORDS[random.next(WORDS.len() as u64) as usize])
                        .collect();
                    if random.next(3) == 0 {
                        line.push("<i>really</i>");
                    }
                    let mark = [",", ".", "?", ""][random.next(4) as usize];
                    format!("{}{mark}", line.join(" "))
                })
                .collect::<Vec<_>>()
                .join("\n");
            let start = at + random.next(400);
            let end = start + 1_200 + random.next(spacing_ms.saturating_sub(1_700).max(1));
            at = end + 100;
            Cue {
                start: Millis::new(start),
                end: Millis::new(end),
                text,
                words: None,
            }
        })
        .collect()
}

fn ass_clock(ms: u64) -> String {
    format!(
        "{}:{:02}:{:02}.{:02}",
        ms / 3_600_000,
        ms / 60_000 % 60,
        ms / 1000 % 60,
        ms % 1000 / 10
    )
}

fn to_ass(cues: &[Cue]) -> String {
    let mut out = String::from(
        "[Script Info]\nScriptType: v4.00+\nPlayResX: 1920\nPlayResY: 1080\n\n[V4+ Styles]\nFormat: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, BackColour, Bold, Italic, Underline, StrikeOut, ScaleX, ScaleY, Spacing, Angle, BorderStyle, Outline, Shadow, Alignment, MarginL, MarginR, MarginV, Encoding\nStyle: Default,Arial,60,&H00FFFFFF,&H000000FF,&H00000000,&H00000000,0,0,0,0,100,100,0,0,1,2,2,2,10,10,10,1\n\n[Events]\nFormat: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text\n",
    );
    for cue in cues {
        let text = cue
            .text
            .replace("<i>", "{\\i1}")
            .replace("</i>", "{\\i0}")
            .replace('\n', "\\N");
        let _ = writeln!(
            out,
            "Dialogue: 0,{},{},Default,,0,0,0,,{text}",
            ass_clock(cue.start.get()),
            ass_clock(cue.end.get())
        );
    }
    out
}

fn median_ms(iterations: usize, mut run: impl FnMut()) -> f64 {
    let mut times: Vec<f64> = (0..iterations)
        .map(|_| {
            let started = Instant::now();
            run();
            started.elapsed().as_secs_f64() * 1000.0
        })
        .collect();
    times.sort_by(f64::total_cmp);
    times[times.len() / 2]
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let dir = args
        .iter()
        .position(|arg| arg == "--dir")
        .and_then(|at| args.get(at + 1))
        .map_or_else(
            || std::env::temp_dir().join("echoloop-subtitle-bench"),
            PathBuf::from,
        );
    std::fs::create_dir_all(&dir).expect("bench directory");

    // `cargo bench` passes --bench; `cargo test --all-targets` runs this
    // binary too, where one small pass proves it still works.
    let smoke = !args.iter().any(|arg| arg == "--bench");
    // A 2-hour film: ~1,500 cues, one every ~4.8 s.
    let film = generate_cues(if smoke { 50 } else { 1_500 }, 4_800, 7);
    // ~10 MB: enough cues at film density to reach it (hours > 99 included).
    let big = generate_cues(if smoke { 200 } else { 125_000 }, 4_800, 11);
    let files = [
        ("film.srt", to_srt(&film)),
        ("film.vtt", to_vtt(&film)),
        ("film.ass", to_ass(&film)),
        ("big.srt", to_srt(&big)),
        ("big.vtt", to_vtt(&big)),
    ];
    println!("case\tbytes\tcues\tmedian_ms");
    for (name, content) in &files {
        std::fs::write(dir.join(name), content).expect("write bench file");
        let bytes = content.as_bytes();
        let iterations = match (smoke, bytes.len() > 1_000_000) {
            (true, _) => 1,
            (false, true) => 7,
            (false, false) => 51,
        };
        let cues = parse_bytes(bytes, Some(name))
            .expect("generated file parses")
            .parsed
            .cues
            .len();
        let parse = median_ms(iterations, || {
            std::hint::black_box(
                parse_bytes(std::hint::black_box(bytes), Some(name)).expect("parses"),
            );
        });
        println!("parse {name}\t{}\t{cues}\t{parse:.3}", bytes.len());
        let full = median_ms(iterations, || {
            std::hint::black_box(
                import(
                    std::hint::black_box(bytes),
                    Some(name),
                    &ImportOptions::default(),
                )
                .expect("imports"),
            );
        });
        println!("import+segment {name}\t{}\t{cues}\t{full:.3}", bytes.len());
    }
    eprintln!("files in {}", dir.display());
}
