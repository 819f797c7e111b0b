//! The acoustic model: per-frame phone log-posteriors from hama's CTC
//! phone recogniser (PyPI `hama`, Apache-2.0), run by its native engine
//! `libhama.so` through a C ABI. See docs/speech.md for why this model.
//!
//! `scripts/fetch-models.sh` puts `libhama.so`, `asr_waveform.hama` and
//! `g2p_vocab.json` in `models/hama/`.

// The engine is a C library: calling it needs `unsafe`. Everything unsafe in
// the crate is in this module, behind a safe `AcousticModel::posteriors`.
#![allow(unsafe_code)]

use std::ffi::c_void;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::error::{Result, SpeechError};

/// Each output frame covers 320 samples (a 160-sample hop, subsampled by 2).
pub const FRAME_MS: u32 = 20;

/// The weights file in the model directory.
pub const WEIGHTS: &str = "asr_waveform.hama";

type LoadFn = unsafe extern "C" fn(*const u8, usize) -> *mut c_void;
type FreeFn = unsafe extern "C" fn(*mut c_void);
type NumFramesFn = unsafe extern "C" fn(i64) -> i64;
type RunFn = unsafe extern "C" fn(*mut c_void, *const f32, i64, *mut f32, *mut i64) -> i64;

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

struct Engine {
    handle: *mut c_void,
    free: FreeFn,
    num_frames: NumFramesFn,
    run: RunFn,
}

// SAFETY: the handle is owned by this struct and only ever used while the
// surrounding Mutex is held, so the engine never sees concurrent calls.
unsafe impl Send for Engine {}

impl Drop for Engine {
    fn drop(&mut self) {
        // SAFETY: `handle` came from hama_asr_load and is freed exactly once.
        unsafe { (self.free)(self.handle) }
    }
}

/// Engines loaded from the same weights: two takes (or a take's
/// renditions) are heard on two cores at once. Each engine is
/// single-threaded and holds its own copy of the ~5 MB of weights.
const ENGINES: usize = 2;

/// The loaded model. Loading takes ~50 ms; keep one and reuse it.
pub struct AcousticModel {
    engines: Vec<Mutex<Engine>>,
    // Field order matters: `engines` (declared first) drop before the
    // library that holds their code.
    _library: libloading::Library,
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

        // SAFETY: loading a shared library runs its initialisers; libhama is
        // a self-contained Zig library with none beyond libc's.
        let library =
            unsafe { libloading::Library::new(dir.join("libhama.so")) }.map_err(model_err)?;
        // SAFETY: the signatures match hama's C ABI (hama/_engine.py binds
        // the same ones through ctypes). Each handle is a model of its own
        // (the weights are copied in); two handles run on two threads give
        // what one gives alone (tests/assessment.rs).
        let load_engine = || unsafe {
            let load: LoadFn = *library
                .get::<LoadFn>(b"hama_asr_load\0")
                .map_err(model_err)?;
            let free: FreeFn = *library
                .get::<FreeFn>(b"hama_asr_free\0")
                .map_err(model_err)?;
            let num_frames: NumFramesFn = *library
                .get::<NumFramesFn>(b"hama_asr_num_frames\0")
                .map_err(model_err)?;
            let run: RunFn = *library.get::<RunFn>(b"hama_asr_run\0").map_err(model_err)?;
            let handle = load(weights.as_ptr(), weights.len());
            if handle.is_null() {
                return Err(model_err("hama_asr_load refused the weights"));
            }
            Ok(Engine {
                handle,
                free,
                num_frames,
                run,
            })
        };
        let engines = (0..ENGINES)
            .map(|_| load_engine().map(Mutex::new))
            .collect::<Result<Vec<_>>>()?;
        let blank = vocab.len() - 1;
        Ok(Self {
            engines,
            _library: library,
            word_boundary: blank - 1,
            blank,
            vocab,
        })
    }

    /// Per-frame log-posteriors for 16 kHz mono audio.
    pub fn posteriors(&self, samples: &[f32]) -> Result<Posteriors> {
        let width = self.vocab.len();
        if samples.len() < 640 {
            return Ok(Posteriors { frames: Vec::new() });
        }
        // A free engine if there is one, else wait for the first.
        let free = self.engines.iter().find_map(|e| e.try_lock().ok());
        let engine = match free {
            Some(engine) => engine,
            None => self.engines[0]
                .lock()
                .map_err(|_| model_err("engine poisoned by a panic"))?,
        };
        let n = i64::try_from(samples.len()).map_err(model_err)?;
        // SAFETY: pure function of the length.
        let capacity = unsafe { (engine.num_frames)(n) };
        let capacity = usize::try_from(capacity).map_err(model_err)?;
        let mut flat = vec![0f32; capacity * width];
        let mut out_len: i64 = 0;
        // SAFETY: `samples` holds n floats; `flat` holds num_frames(n) rows of
        // the model's vocabulary width, as the engine requires.
        let rc = unsafe {
            (engine.run)(
                engine.handle,
                samples.as_ptr(),
                n,
                flat.as_mut_ptr(),
                &mut out_len,
            )
        };
        if rc < 0 {
            return Err(model_err(format!("hama_asr_run failed ({rc})")));
        }
        let valid = usize::try_from(out_len).unwrap_or(0).min(capacity);
        Ok(Posteriors {
            frames: flat
                .chunks_exact(width)
                .take(valid)
                .map(<[f32]>::to_vec)
                .collect(),
        })
    }

    /// The token id of a phone symbol, if the model knows it.
    /// How many takes can be heard at once.
    pub fn engines(&self) -> usize {
        self.engines.len()
    }

    pub fn token_id(&self, symbol: &str) -> Option<usize> {
        self.vocab.iter().position(|t| t == symbol)
    }
}
