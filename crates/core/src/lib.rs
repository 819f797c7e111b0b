//! Echoloop's pure logic, shared by the server and (through `echoloop-wasm`)
//! the browser. Nothing in this crate performs I/O, so it builds for
//! `wasm32-unknown-unknown` unchanged.

pub mod assessment;
pub mod audio;
pub mod review;
pub mod segment_id;
pub mod shadowing;
pub mod subtitles;
pub mod sync;
pub mod text;
pub mod time;
