//! Arbitrary text through the ass parser, then segmentation of whatever it read.
#![no_main]

use echoloop_core::subtitles::segment::segment_cues;
use echoloop_core::subtitles::{SegmentOptions, SubtitleFormat, parse_text};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(parsed) = parse_text(&text, SubtitleFormat::Ass) {
        let _ = segment_cues(&parsed.cues, &SegmentOptions::default());
    }
});
