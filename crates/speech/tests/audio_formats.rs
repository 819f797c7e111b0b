//! Decoding every format browsers record and learners import. Audio is made
//! at test time with espeak-ng and ffmpeg.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::Command;

use echoloop_speech::SpeechError;
use echoloop_speech::audio::{AudioStream, SAMPLE_RATE, decode_file};

fn run(cmd: &mut Command) {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A 44.1 kHz stereo wav of speech, about 2 s long.
fn speech_wav(dir: &Path) -> PathBuf {
    let mono = dir.join("mono.wav");
    run(Command::new("espeak-ng")
        .args(["-v", "en-us", "-w"])
        .arg(&mono)
        .arg("the quick brown fox jumps over the lazy dog"));
    let wav = dir.join("speech.wav");
    run(Command::new("ffmpeg")
        .args(["-v", "error", "-y", "-i"])
        .arg(&mono)
        .args(["-ar", "44100", "-ac", "2"])
        .arg(&wav));
    wav
}

fn convert(src: &Path, dst: &Path, args: &[&str]) {
    run(Command::new("ffmpeg")
        .args(["-v", "error", "-y", "-i"])
        .arg(src)
        .args(args)
        .arg(dst));
}

fn duration_s(samples: &[f32]) -> f32 {
    samples.len() as f32 / SAMPLE_RATE as f32
}

fn rms(samples: &[f32]) -> f32 {
    (samples.iter().map(|s| s * s).sum::<f32>() / samples.len() as f32).sqrt()
}

#[test]
fn decodes_every_supported_format_to_16k_mono_of_the_same_length() {
    let dir = tempfile::tempdir().unwrap();
    let wav = speech_wav(dir.path());
    let reference = decode_file(&wav).unwrap();
    let expected = duration_s(&reference);
    assert!(expected > 1.5 && expected < 4.0, "{expected}");
    assert!(rms(&reference) > 0.01);

    let cases: &[(&str, &[&str])] = &[
        ("take.ogg", &["-c:a", "libopus"]),
        ("take.webm", &["-c:a", "libopus"]),
        ("take.mp3", &["-c:a", "libmp3lame"]),
        ("take.m4a", &["-c:a", "aac"]),
        ("take.flac", &["-c:a", "flac"]),
        ("take.oga", &["-c:a", "libvorbis"]),
    ];
    for (name, args) in cases {
        let path = dir.path().join(name);
        convert(&wav, &path, args);
        let samples = decode_file(&path).unwrap_or_else(|e| panic!("{name}: {e}"));
        let got = duration_s(&samples);
        // Encoders pad by a frame or two (mp3, aac): allow 120 ms.
        assert!(
            (got - expected).abs() < 0.12,
            "{name}: {got} s vs {expected} s"
        );
        assert!(rms(&samples) > 0.5 * rms(&reference), "{name} is too quiet");
    }
}

#[test]
fn decodes_audio_from_a_video_container() {
    let dir = tempfile::tempdir().unwrap();
    let wav = speech_wav(dir.path());
    let video = dir.path().join("clip.mp4");
    run(Command::new("ffmpeg")
        .args([
            "-v",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            "testsrc=size=64x64:rate=10",
            "-i",
        ])
        .arg(&wav)
        .args(["-shortest", "-c:v", "mpeg4", "-c:a", "aac"])
        .arg(&video));
    let samples = decode_file(&video).unwrap();
    assert!(duration_s(&samples) > 1.5);
    assert!(rms(&samples) > 0.01);
}

#[test]
fn falls_back_to_ffmpeg_for_formats_symphonia_lacks() {
    // symphonia has no AC-3 decoder, so only the ffmpeg path can read this.
    let dir = tempfile::tempdir().unwrap();
    let wav = speech_wav(dir.path());
    let ac3 = dir.path().join("take.ac3");
    convert(&wav, &ac3, &["-c:a", "ac3"]);
    let samples = decode_file(&ac3).unwrap();
    assert!(duration_s(&samples) > 1.5);
    assert!(rms(&samples) > 0.01);
}

#[test]
fn streams_in_bounded_chunks() {
    let dir = tempfile::tempdir().unwrap();
    let wav = speech_wav(dir.path());
    let long = dir.path().join("long.ogg");
    // ~60 s: the clip looped.
    run(Command::new("ffmpeg")
        .args(["-v", "error", "-y", "-stream_loop", "25", "-i"])
        .arg(&wav)
        .args(["-c:a", "libopus"])
        .arg(&long));
    let mut total = 0usize;
    let mut largest = 0usize;
    for chunk in AudioStream::open(&long).unwrap() {
        let chunk = chunk.unwrap();
        largest = largest.max(chunk.len());
        total += chunk.len();
    }
    assert!(total as f32 / SAMPLE_RATE as f32 > 50.0);
    assert!(largest <= 16_384, "a chunk of {largest} samples");
}

#[test]
fn a_truncated_file_yields_what_was_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let wav = speech_wav(dir.path());
    let ogg = dir.path().join("take.ogg");
    convert(&wav, &ogg, &["-c:a", "libopus"]);
    let bytes = std::fs::read(&ogg).unwrap();
    let cut = dir.path().join("cut.ogg");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    let full = decode_file(&ogg).unwrap();
    let partial = decode_file(&cut).unwrap();
    assert!(
        partial.len() > full.len() / 4,
        "{} of {}",
        partial.len(),
        full.len()
    );
    assert!(partial.len() < full.len());
}

#[test]
fn random_bytes_are_unsupported() {
    let dir = tempfile::tempdir().unwrap();
    let junk = dir.path().join("junk.webm");
    // Deterministic noise: a simple LCG.
    let mut x: u32 = 12345;
    let bytes: Vec<u8> = (0..20_000)
        .map(|_| {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
            (x >> 16) as u8
        })
        .collect();
    std::fs::write(&junk, bytes).unwrap();
    let err = decode_file(&junk).unwrap_err();
    assert!(
        matches!(
            err,
            SpeechError::UnsupportedFormat { .. } | SpeechError::CorruptAudio { .. }
        ),
        "{err:?}"
    );
}

#[test]
fn an_empty_file_is_empty_audio() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.wav");
    std::fs::write(&empty, b"").unwrap();
    assert!(matches!(
        decode_file(&empty),
        Err(SpeechError::EmptyAudio(_))
    ));
}

#[test]
fn a_missing_file_is_an_io_error() {
    assert!(matches!(
        decode_file(Path::new("/nonexistent/take.webm")),
        Err(SpeechError::Io { .. })
    ));
}
