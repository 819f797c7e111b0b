//! Bounds on what one import may cost, so a hostile or broken file cannot
//! exhaust memory in the browser tab or on the server.

/// The largest subtitle file we accept: 50 MiB (a 2-hour film's SRT is about
/// 100 KB; word-timed auto-captions of a 10-hour stream stay under 20 MB).
pub const MAX_FILE_BYTES: usize = 50 * 1024 * 1024;

/// The most cues one file may hold (a 2-hour film has about 1,500).
pub const MAX_CUES: usize = 200_000;

/// The most problems listed one by one; beyond this the list ends with one
/// entry that counts the rest.
pub const MAX_SKIPPED_LISTED: usize = 1_000;
