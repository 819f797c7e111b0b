//! Arbitrary bytes through the whole import: encoding detection, format
//! detection, parsing, segmentation, tokenising the segments.
#![no_main]

use echoloop_core::subtitles::{ImportOptions, import};
use echoloop_core::text::tokens::tokenize;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(imported) = import(data, None, &ImportOptions::default()) {
        for segment in &imported.segments {
            let _ = tokenize(&segment.text, None);
        }
    }
});
