//! The server's side of sync (SPEC §5, decision 0024): its hybrid logical
//! clock, which stamps every write made here, and the batched push, which
//! applies devices' changes with the core's merge rules
//! (`echoloop_core::sync`). The pull is a read (`db::sync`).

mod clock;
pub mod push;

pub use clock::{ServerClock, wall_ms};
