//! Signal processing on 16 kHz mono samples that the server's assessor and
//! the browser both need: resampling to that rate, MFCC features, pitch
//! contours and dynamic time warping (the shadowing comparison,
//! `crate::shadowing`; the assessor's monotone and prosody checks).

pub mod dtw;
pub mod features;
pub mod pitch;
pub mod resample;

/// The sample rate every function here expects.
pub const SAMPLE_RATE: u32 = 16_000;
