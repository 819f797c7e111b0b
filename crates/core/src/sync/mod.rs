//! Sync merge rules (SPEC §5), shared by the server, which applies pushed
//! changes, and the browser, which applies pulled ones: both sides decide
//! with the same functions, so they cannot disagree about which write won.
//!
//! - Plain rows: last writer wins by hybrid logical clock ([`Hlc`]); a
//!   tombstone is final for edits, and only a newer creation brings its id
//!   back ([`decide`]).
//! - Progress: the newer write's position, and "completed" never regresses
//!   ([`merge_progress`]).
//! - Review logs: an append-only set (`crate::review::merge_logs`).

mod hlc;
mod merge;

pub use hlc::{Clock, ClockAhead, Hlc, HlcError, MAX_AHEAD_MS, NodeId};
pub use merge::{Merged, ProgressState, RowClock, Verdict, Write, decide, merge_progress};
