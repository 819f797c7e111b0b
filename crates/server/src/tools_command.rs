//! Offline tools on local files, sharing the engines the server uses:
//! `echoloop assess`, `echoloop transcribe`, `echoloop subtitles import`,
//! `echoloop models list`.

use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::{Args, Subcommand, ValueEnum};
use echoloop_core::subtitles::{self, Cue, ImportOptions};
use echoloop_core::time::Millis;
use echoloop_speech::whisper::{self, Compute, DecodeOptions, EngineSettings, WhisperModel};

#[derive(Debug, Args)]
pub struct AssessArgs {
    /// The learner's recording (wav, webm/opus, ogg, mp3, m4a, flac, video…).
    pub take: PathBuf,
    /// The sentence the learner was asked to say.
    #[arg(long)]
    pub text: String,
    /// Language of the sentence (BCP 47).
    #[arg(long, default_value = "en")]
    pub lang: String,
    /// The original recording being shadowed; adds timing and pitch comparison.
    #[arg(long, requires_all = ["from", "to"])]
    pub original: Option<PathBuf>,
    /// Start of the sentence in the original, milliseconds.
    #[arg(long, requires = "original")]
    pub from: Option<u64>,
    /// End of the sentence in the original, milliseconds.
    #[arg(long, requires = "original")]
    pub to: Option<u64>,
    /// Print the whole result as JSON instead of a summary.
    #[arg(long)]
    pub json: bool,
    /// Judge by the phone recogniser alone, without cross-checking with a
    /// Whisper transcript (faster; more false alarms).
    #[arg(long)]
    pub no_transcript: bool,
}

#[derive(Debug, Args)]
pub struct TranscribeArgs {
    /// The recording (wav, webm/opus, ogg, mp3, m4a, flac, video…), any length.
    pub file: PathBuf,
    /// Whisper model: `tiny.en` (English only, fast), `base` (multilingual), or a
    /// CTranslate2 model directory. Default: tiny.en for `--language en`, else base.
    #[arg(long, env = "ECHOLOOP_WHISPER_MODEL")]
    pub model: Option<String>,
    /// Spoken language (BCP 47, e.g. `en`, `fr-FR`). Default: detected.
    #[arg(long)]
    pub language: Option<String>,
    /// Output: SubRip, WebVTT, or the transcript as JSON (segments and word timings).
    #[arg(long, value_enum, default_value_t = TranscriptFormat::Srt)]
    pub format: TranscriptFormat,
    /// CPU threads for the model (0: CTranslate2's default). Default: the available cores, at most 8.
    #[arg(long, env = "ECHOLOOP_WHISPER_THREADS")]
    pub threads: Option<usize>,
    /// Arithmetic: int8 (quantised weights, about twice as fast) or float32.
    #[arg(long, env = "ECHOLOOP_WHISPER_COMPUTE", default_value = "int8", value_parser = parse_compute)]
    pub compute: Compute,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TranscriptFormat {
    Srt,
    Vtt,
    Json,
}

fn parse_compute(s: &str) -> Result<Compute, String> {
    Compute::parse(s).ok_or_else(|| format!("{s:?} is not int8 or float32"))
}

#[derive(Debug, Subcommand)]
pub enum SubtitlesCommand {
    /// Parse a subtitle file (format and encoding detected) into sentence
    /// segments, printed as the same JSON the web client gets.
    Import {
        file: PathBuf,
        /// One segment per cue instead of re-cut sentences.
        #[arg(long)]
        keep_cues: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum ModelsCommand {
    /// Show which speech models are installed and where.
    List,
}

pub fn assess(args: AssessArgs) -> anyhow::Result<()> {
    let original = match (&args.original, args.from, args.to) {
        (Some(path), Some(from), Some(to)) if from < to => Some((path.as_path(), from, to)),
        (Some(_), Some(from), Some(to)) => {
            anyhow::bail!("--from ({from} ms) must be before --to ({to} ms)")
        }
        _ => None,
    };
    let assessment = echoloop_speech::assess(
        &args.take,
        &args.text,
        &args.lang,
        original,
        !args.no_transcript,
    )
    .with_context(|| format!("cannot assess {}", args.take.display()))?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&assessment)?);
        return Ok(());
    }
    let scores = &assessment.scores;
    let prosody = scores
        .prosody
        .map_or_else(|| "-".to_string(), |p| format!("{p:.0}"));
    println!(
        "overall {:.0}  accuracy {:.0}  fluency {:.0}  completeness {:.0}  prosody {prosody}  ({})",
        scores.overall, scores.accuracy, scores.fluency, scores.completeness, assessment.engine,
    );
    for issue in &assessment.take_issues {
        println!("  the recording: {}", issue.advice());
    }
    for word in &assessment.words {
        println!(
            "  {:<20} {:>5.0}  {:?}",
            word.word, word.accuracy, word.error
        );
    }
    Ok(())
}

pub fn transcribe(args: TranscribeArgs) -> anyhow::Result<()> {
    let primary = args.language.as_deref().map(|tag| {
        tag.split(['-', '_'])
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase()
    });
    let name = args
        .model
        .clone()
        .unwrap_or_else(|| whisper::catalog::default_for(primary.as_deref()).to_owned());
    let mut settings = EngineSettings {
        compute: args.compute,
        ..EngineSettings::default()
    };
    if let Some(threads) = args.threads {
        settings.threads = threads;
    }
    let model = WhisperModel::load(&name, settings)?;
    let options = DecodeOptions {
        language: args.language.clone(),
        ..DecodeOptions::default()
    };
    let transcript = model
        .transcribe_file(&args.file, &options)
        .with_context(|| format!("cannot transcribe {}", args.file.display()))?;
    let cues = || -> Vec<Cue> {
        transcript
            .segments
            .iter()
            .filter(|s| s.start_ms < s.end_ms)
            .map(|s| Cue {
                start: Millis::new(s.start_ms),
                end: Millis::new(s.end_ms),
                text: s.text.clone(),
                words: None,
            })
            .collect()
    };
    match args.format {
        TranscriptFormat::Srt => print!("{}", subtitles::serialise::to_srt(&cues())),
        TranscriptFormat::Vtt => print!("{}", subtitles::serialise::to_vtt(&cues())),
        TranscriptFormat::Json => println!("{}", serde_json::to_string_pretty(&transcript)?),
    }
    Ok(())
}

pub fn subtitles(command: SubtitlesCommand) -> anyhow::Result<()> {
    match command {
        SubtitlesCommand::Import { file, keep_cues } => {
            let bytes = read_limited(&file)?;
            let options = ImportOptions {
                keep_cues,
                ..ImportOptions::default()
            };
            let name = file.file_name().and_then(|name| name.to_str());
            let json = subtitles::import_to_json(&bytes, name, &options)
                .with_context(|| format!("cannot import {}", file.display()))?;
            println!("{json}");
            Ok(())
        }
    }
}

pub fn models(command: ModelsCommand) -> anyhow::Result<()> {
    match command {
        ModelsCommand::List => {
            match echoloop_speech::acoustic::default_model_dir() {
                Some(dir) => println!(
                    "hama (phone recogniser, pronunciation assessment): {}",
                    dir.display()
                ),
                None => println!(
                    "hama (phone recogniser, pronunciation assessment): not installed — run scripts/fetch-models.sh"
                ),
            }
            for known in whisper::catalog::KNOWN_MODELS {
                let languages = if known.multilingual {
                    "multilingual"
                } else {
                    "English only"
                };
                let place = match whisper::catalog::installed_dir(known.name) {
                    Some(dir) => dir.display().to_string(),
                    None => "not installed — run scripts/fetch-models.sh".to_owned(),
                };
                println!(
                    "whisper {} (transcription, {languages}; {}): {place}",
                    known.name, known.source
                );
            }
            Ok(())
        }
    }
}

/// Refuses files beyond the parser's own limit before reading them whole.
fn read_limited(path: &Path) -> anyhow::Result<Vec<u8>> {
    let size = std::fs::metadata(path)
        .with_context(|| format!("cannot read {}", path.display()))?
        .len();
    let limit = subtitles::limits::MAX_FILE_BYTES as u64;
    if size > limit {
        anyhow::bail!(
            "{} is {size} bytes; subtitle files are limited to {limit} bytes",
            path.display()
        );
    }
    std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))
}
