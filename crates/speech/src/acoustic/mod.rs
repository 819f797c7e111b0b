//! The acoustic model: per-frame phone log-posteriors from hama's CTC
//! phone recogniser (PyPI `hama`, Apache-2.0), its weights computed by
//! [`network`] in Rust. See docs/speech.md for why this model.
//!
//! `scripts/fetch-models.sh` puts `asr_waveform.hama` and `g2p_vocab.json`
//! in `models/hama/` (and hama's own engine, `libhama.so`, which the parity
//! test compares against).

mod network;
mod package;

use std::path::{Path, PathBuf};

use crate::error::{Result, SpeechError};
use network::Network;
use package::Package;

/// Each output frame covers 320 samples (a 160-sample hop, subsampled by 2).
pub const FRAME_MS: u32 = 20;

/// The weights file in the model directory.
pub const WEIGHTS: &str = "asr_waveform.hama";

/// Log-posteriors, one row of `vocab_size` per 20 ms frame.
#[derive(Debug, Clone)]
pub struct Posteriors {
    pub frames: Vec<Vec<f32>>,
}

/// Where the model files live: `$ECHOLOOP_MODELS_DIR/hama`, else the first
/// `models/hama` found walking up from the current directory or from the
/// executable (so tests, examples and an installed server all find the
/// workspace's `models/`).
pub fn default_model_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("ECHOLOOP_MODELS_DIR") {
        return Some(PathBuf::from(dir).join("hama"));
    }
    let starts = [std::env::current_dir().ok(), std::env::current_exe().ok()];
    starts
        .iter()
        .flatten()
        .flat_map(|start| start.ancestors())
        .map(|a| a.join("models").join("hama"))
        .find(|d| d.join(WEIGHTS).is_file())
}

/// Audio up to this long is heard in one piece (the model's 30-second
/// limit, with room for its framing).
const WHOLE_SAMPLES: usize = 29 * 16_000;

/// Longer audio is heard in windows: each contributes the frames of its
/// core, and hears this much on either side for context. Both are whole
/// output frames (320 samples), so a window's frames fall on the take's.
const CORE_SAMPLES: usize = 20 * 16_000;
const MARGIN_SAMPLES: usize = 2 * 16_000;

/// Takes (or a take's renditions) heard at once: the network runs on one
/// core per call, and the callers use this many threads.
const PARALLEL: usize = 2;

/// The loaded model (~9 MB of weights widened to `f32`): keep one and
/// reuse it. It is read-only once loaded, so any number of threads can use
/// it at once.
pub struct AcousticModel {
    network: Network,
    /// Token strings by id; the last two are the word boundary and blank.
    pub vocab: Vec<String>,
    pub blank: usize,
    pub word_boundary: usize,
}

fn model_err(e: impl std::fmt::Display) -> SpeechError {
    SpeechError::Model(e.to_string())
}

impl AcousticModel {
    pub fn load(dir: &Path) -> Result<Self> {
        let vocab_json = std::fs::read_to_string(dir.join("g2p_vocab.json"))
            .map_err(|e| model_err(format!("{}: {e}", dir.join("g2p_vocab.json").display())))?;
        let vocab_doc: serde_json::Value = serde_json::from_str(&vocab_json).map_err(model_err)?;
        let mut vocab: Vec<String> = vocab_doc["decoder"]
            .as_array()
            .ok_or_else(|| model_err("g2p_vocab.json has no decoder list"))?
            .iter()
            .filter_map(|t| t.as_str().map(str::to_owned))
            .collect();
        // The recogniser's output layer is the decoder vocabulary plus these
        // two, in this order (hama's asr.py does the same).
        vocab.push("<wb>".into());
        vocab.push("<blank>".into());
        let weights = std::fs::read(dir.join(WEIGHTS))
            .map_err(|e| model_err(format!("{}: {e}", dir.join(WEIGHTS).display())))?;
        let network = Package::parse(&weights)
            .and_then(|package| Network::load(&package))
            .map_err(|e| model_err(format!("{}: {e}", dir.join(WEIGHTS).display())))?;
        if network.vocab_size != vocab.len() {
            return Err(model_err(format!(
                "the phone recogniser has {} outputs, its vocabulary {} phones",
                network.vocab_size,
                vocab.len()
            )));
        }
        let blank = vocab.len() - 1;
        Ok(Self {
            network,
            word_boundary: blank - 1,
            blank,
            vocab,
        })
    }

    /// Per-frame log-posteriors for 16 kHz mono audio.
    pub fn posteriors(&self, samples: &[f32]) -> Result<Posteriors> {
        if samples.len() < 640 {
            return Ok(Posteriors { frames: Vec::new() });
        }
        if samples.len() <= WHOLE_SAMPLES {
            let log_probs = self.network.run(samples);
            return Ok(Posteriors {
                frames: log_probs.rows().into_iter().map(|r| r.to_vec()).collect(),
            });
        }
        let samples_per_frame = Network::SAMPLES_PER_FRAME;
        let mut frames = Vec::with_capacity(Network::frames(samples.len()));
        let mut core_start = 0;
        while core_start < samples.len() {
            let last = core_start + CORE_SAMPLES + MARGIN_SAMPLES >= samples.len();
            let start = core_start.saturating_sub(MARGIN_SAMPLES);
            let end = if last {
                samples.len()
            } else {
                core_start + CORE_SAMPLES + MARGIN_SAMPLES
            };
            let log_probs = self.network.run(&samples[start..end]);
            let skip = (core_start - start) / samples_per_frame;
            let keep = if last {
                usize::MAX
            } else {
                CORE_SAMPLES / samples_per_frame
            };
            frames.extend(
                log_probs
                    .rows()
                    .into_iter()
                    .skip(skip)
                    .take(keep)
                    .map(|r| r.to_vec()),
            );
            if last {
                break;
            }
            core_start += CORE_SAMPLES;
        }
        Ok(Posteriors { frames })
    }

    /// How many inputs are best heard at once (one core each).
    pub fn at_once(&self) -> usize {
        PARALLEL
    }

    /// The token id of a phone symbol, if the model knows it.
    pub fn token_id(&self, symbol: &str) -> Option<usize> {
        self.vocab.iter().position(|t| t == symbol)
    }
}
