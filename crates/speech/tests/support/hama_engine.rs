//! hama's own engine (`libhama.so`, shipped in the wheel beside the
//! weights), loaded to compare the Rust network with: the parity test and
//! the phone recogniser's benchmark.

// Calling hama's C library needs `unsafe`; nothing else that uses this does.
#![allow(unsafe_code)]

use std::ffi::c_void;
use std::path::Path;

use echoloop_speech::acoustic::WEIGHTS;

type LoadFn = unsafe extern "C" fn(*const u8, usize) -> *mut c_void;
type FreeFn = unsafe extern "C" fn(*mut c_void);
type NumFramesFn = unsafe extern "C" fn(i64) -> i64;
type RunFn = unsafe extern "C" fn(*mut c_void, *const f32, i64, *mut f32, *mut i64) -> i64;

/// hama's engine, loaded from the model directory.
pub struct HamaEngine {
    _library: libloading::Library,
    handle: *mut c_void,
    free: FreeFn,
    num_frames: NumFramesFn,
    run: RunFn,
}

impl HamaEngine {
    pub fn load(dir: &Path) -> Option<Self> {
        let weights = std::fs::read(dir.join(WEIGHTS)).ok()?;
        // SAFETY: libhama is a self-contained Zig library; its symbols have
        // the signatures hama's own Python binding (hama/_engine.py) uses.
        unsafe {
            let library = libloading::Library::new(dir.join("libhama.so")).ok()?;
            let load: LoadFn = *library.get::<LoadFn>(b"hama_asr_load\0").ok()?;
            let free: FreeFn = *library.get::<FreeFn>(b"hama_asr_free\0").ok()?;
            let num_frames: NumFramesFn =
                *library.get::<NumFramesFn>(b"hama_asr_num_frames\0").ok()?;
            let run: RunFn = *library.get::<RunFn>(b"hama_asr_run\0").ok()?;
            let handle = load(weights.as_ptr(), weights.len());
            (!handle.is_null()).then_some(Self {
                _library: library,
                handle,
                free,
                num_frames,
                run,
            })
        }
    }

    pub fn posteriors(&self, samples: &[f32], width: usize) -> Vec<Vec<f32>> {
        let n = i64::try_from(samples.len()).unwrap_or(i64::MAX);
        // SAFETY: a pure function of the length.
        let capacity = usize::try_from(unsafe { (self.num_frames)(n) }).unwrap_or(0);
        let mut flat = vec![0f32; capacity * width];
        let mut frames: i64 = 0;
        // SAFETY: `samples` holds n floats and `flat` num_frames(n) rows of
        // the vocabulary's width, as the engine requires.
        let rc = unsafe {
            (self.run)(
                self.handle,
                samples.as_ptr(),
                n,
                flat.as_mut_ptr(),
                &mut frames,
            )
        };
        assert!(rc >= 0, "hama_asr_run failed ({rc})");
        let frames = usize::try_from(frames).unwrap_or(0).min(capacity);
        flat.chunks_exact(width)
            .take(frames)
            .map(<[f32]>::to_vec)
            .collect()
    }
}

impl Drop for HamaEngine {
    fn drop(&mut self) {
        // SAFETY: the handle came from hama_asr_load and is freed once.
        unsafe { (self.free)(self.handle) }
    }
}
