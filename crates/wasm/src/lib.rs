//! Browser bindings of `echoloop-core`. Each export is a thin conversion
//! layer: the logic itself lives in the core crate, once.

use wasm_bindgen::prelude::*;

/// Formats a media time in milliseconds as `H:MM:SS.mmm`.
#[wasm_bindgen(js_name = formatClock)]
pub fn format_clock(ms: f64) -> Result<String, JsError> {
    if !ms.is_finite() || ms < 0.0 || ms > 9.0e15 {
        return Err(JsError::new("time must be a finite, non-negative number of milliseconds"));
    }
    Ok(echoloop_core::time::Millis::new(ms as u64).to_clock())
}

/// The version of the core logic compiled into this module.
#[wasm_bindgen(js_name = coreVersion)]
pub fn core_version() -> String {
    env!("CARGO_PKG_VERSION").to_owned()
}
