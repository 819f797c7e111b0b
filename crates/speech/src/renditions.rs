//! espeak-ng's renditions of a sentence as the phone recogniser hears them
//! (the expected GOP, docs/speech.md step 5): spoken, kept in memory, and
//! handed to and from a store that outlives the process (the server keeps
//! them in PostgreSQL, so a sentence is rendered once for every instance).

use std::collections::HashMap;
use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::audio::decode_file;
use crate::error::{Result, SpeechError};

/// How the phone recogniser hears each reference phone in one rendition of
/// the sentence: per alignable word, per scorable phone, the raw
/// log-posterior ratio (`None` where the alignment skipped the word). A
/// phone the model does not recognise even there, in that context, is
/// judged against that rendition rather than against full marks.
pub type ExpectedGop = Vec<Option<Vec<f32>>>;

/// One rendition of a sentence, as the phone recogniser heard it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rendition {
    /// espeak-ng voice (`en-us`, `en-us+m1`, …).
    pub voice: String,
    /// Pace, words per minute.
    pub wpm: u32,
    pub expected: ExpectedGop,
    /// Frames from the first to the last phone (its pace).
    pub speech_frames: usize,
}

impl Rendition {
    /// Only finite numbers survive a trip through JSON.
    fn is_storable(&self) -> bool {
        self.expected
            .iter()
            .flatten()
            .flatten()
            .all(|r| r.is_finite())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Key {
    text: String,
    lang: String,
    voice: String,
    wpm: u32,
}

/// Renditions kept: about 400 sentences with all their voices (a server
/// sees the same sentences again and again; the cache is emptied when it
/// is full).
const CAPACITY: usize = 2048;

/// Changes whenever what a stored rendition means changes (the scoring of
/// a phone, the phone classes), so older stored ones are not used.
const FORMAT: u32 = 1;

/// The renditions of this process, and what makes them comparable with
/// stored ones.
pub(crate) struct Renditions {
    cache: Mutex<HashMap<Key, Arc<Rendition>>>,
    spoken: AtomicU64,
    engine: String,
}

impl Renditions {
    /// For the phone recogniser whose weights are `weights`.
    pub(crate) fn new(weights: &Path) -> Result<Self> {
        let bytes = std::fs::read(weights)
            .map_err(|e| SpeechError::Model(format!("{}: {e}", weights.display())))?;
        let digest = hex(&Sha256::digest(&bytes)[..8]);
        Ok(Self {
            cache: Mutex::new(HashMap::new()),
            spoken: AtomicU64::new(0),
            engine: format!(
                "hama-{digest}/{}/renditions-{FORMAT}/speech-{}",
                espeak_version(),
                env!("CARGO_PKG_VERSION")
            ),
        })
    }

    /// What produced these renditions: the phone recogniser's weights,
    /// espeak-ng's version and this crate's. A stored rendition is only
    /// valid for the same engine.
    pub(crate) fn engine(&self) -> &str {
        &self.engine
    }

    /// How many renditions this process has spoken (not found cached).
    pub(crate) fn spoken(&self) -> u64 {
        self.spoken.load(Ordering::Relaxed)
    }

    pub(crate) fn get(
        &self,
        text: &str,
        lang: &str,
        voice: &str,
        wpm: u32,
    ) -> Option<Arc<Rendition>> {
        self.lock().get(&key(text, lang, voice, wpm)).cloned()
    }

    /// Keeps a rendition; `spoken`: it was just rendered here.
    pub(crate) fn insert(
        &self,
        text: &str,
        lang: &str,
        rendition: Rendition,
        spoken: bool,
    ) -> Arc<Rendition> {
        if spoken {
            self.spoken.fetch_add(1, Ordering::Relaxed);
        }
        let key = key(text, lang, &rendition.voice, rendition.wpm);
        let rendition = Arc::new(rendition);
        let mut cache = self.lock();
        if cache.len() >= CAPACITY {
            cache.clear();
        }
        cache.insert(key, Arc::clone(&rendition));
        rendition
    }

    /// Every storable rendition of the sentence held here.
    pub(crate) fn of(&self, text: &str, lang: &str) -> Vec<Rendition> {
        let mut found: Vec<Rendition> = self
            .lock()
            .iter()
            .filter(|(k, _)| k.text == text && k.lang == lang)
            .map(|(_, r)| Rendition::clone(r))
            .filter(Rendition::is_storable)
            .collect();
        found.sort_by(|a, b| (&a.voice, a.wpm).cmp(&(&b.voice, b.wpm)));
        found
    }

    pub(crate) fn clear(&self) {
        self.lock().clear();
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<Key, Arc<Rendition>>> {
        // The map is only ever changed whole; a panic elsewhere cannot have
        // left it half-written.
        self.cache
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

fn key(text: &str, lang: &str, voice: &str, wpm: u32) -> Key {
    Key {
        text: text.to_owned(),
        lang: lang.to_owned(),
        voice: voice.to_owned(),
        wpm,
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `espeak-ng-1.51` style: the version espeak-ng reports, or `espeak-ng-?`.
fn espeak_version() -> String {
    let version = Command::new("espeak-ng")
        .arg("--version")
        .output()
        .ok()
        .and_then(|out| {
            // "eSpeak NG text-to-speech: 1.51  Data at: …"
            let text = String::from_utf8_lossy(&out.stdout).into_owned();
            text.split_whitespace()
                .skip_while(|w| !w.ends_with("text-to-speech:"))
                .nth(1)
                .map(str::to_owned)
        });
    format!("espeak-ng-{}", version.as_deref().unwrap_or("?"))
}

/// espeak-ng's rendition of `text` by `voice` at `wpm`, 16 kHz mono;
/// `None` when espeak-ng is missing or fails (the take is then judged
/// without it).
pub(crate) fn speak(text: &str, voice: &str, wpm: u32) -> Result<Option<Vec<f32>>> {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let path = std::env::temp_dir().join(format!(
        "echoloop-rendition-{}-{}.wav",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    // The text goes in on stdin, so no sentence is read as an option.
    let spoken = Command::new("espeak-ng")
        .args(["--stdin", "-v", voice, "-s", &wpm.to_string(), "-w"])
        .arg(&path)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .and_then(|mut child| {
            if let Some(mut stdin) = child.stdin.take() {
                stdin.write_all(text.as_bytes())?;
            }
            child.wait()
        })
        .is_ok_and(|s| s.success());
    let samples = if spoken {
        match decode_file(&path) {
            Ok(s) => Some(s),
            Err(SpeechError::EmptyAudio(_)) => None,
            Err(e) => {
                let _ = std::fs::remove_file(&path);
                return Err(e);
            }
        }
    } else {
        None
    };
    let _ = std::fs::remove_file(&path);
    Ok(samples)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rendition(voice: &str, expected: ExpectedGop) -> Rendition {
        Rendition {
            voice: voice.into(),
            wpm: 175,
            expected,
            speech_frames: 100,
        }
    }

    #[test]
    fn renditions_of_a_sentence_are_found_by_text_and_language_only() {
        let cache = Renditions {
            cache: Mutex::new(HashMap::new()),
            spoken: AtomicU64::new(0),
            engine: "test".into(),
        };
        cache.insert("hi there", "en", rendition("en-us+m1", vec![None]), true);
        cache.insert(
            "hi there",
            "en",
            rendition("en-us", vec![Some(vec![-1.0])]),
            false,
        );
        cache.insert("hi there", "fr", rendition("fr", vec![None]), true);
        cache.insert("bye", "en", rendition("en-us", vec![None]), true);
        let found = cache.of("hi there", "en");
        let voices: Vec<&str> = found.iter().map(|r| r.voice.as_str()).collect();
        assert_eq!(voices, ["en-us", "en-us+m1"]);
        assert_eq!(cache.spoken(), 3);
        assert!(cache.get("hi there", "en", "en-us", 175).is_some());
        assert!(cache.get("hi there", "en", "en-us", 200).is_none());
    }

    #[test]
    fn a_rendition_with_numbers_json_cannot_hold_is_not_handed_out() {
        let cache = Renditions {
            cache: Mutex::new(HashMap::new()),
            spoken: AtomicU64::new(0),
            engine: "test".into(),
        };
        cache.insert(
            "hi",
            "en",
            rendition("en-us", vec![Some(vec![f32::NEG_INFINITY])]),
            true,
        );
        assert!(cache.of("hi", "en").is_empty());
        assert!(cache.get("hi", "en", "en-us", 175).is_some());
    }

    #[test]
    fn the_engine_names_espeak_ng_by_its_version() {
        let version = espeak_version();
        assert!(version.starts_with("espeak-ng-1."), "{version}");
    }
}
