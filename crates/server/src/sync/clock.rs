//! One hybrid logical clock per server process. It stamps every write the
//! resource endpoints (and uploads, and jobs) make to a synced row, and
//! observes every clock a device pushes, so a write made here after a
//! pushed one is ordered after it even when the device's clock runs ahead
//! of the server's (by at most `MAX_AHEAD_MS`, which the push enforces).

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{SystemTime, UNIX_EPOCH};

use echoloop_core::sync::{Clock, Hlc, NodeId};

/// Cheap to clone: every clone is the same clock.
#[derive(Clone)]
pub struct ServerClock(Arc<Mutex<Clock>>);

impl ServerClock {
    /// A clock with a random node id (64 bits: two processes never share
    /// one in practice, and equal times are then ordered by node).
    pub fn new() -> Self {
        let mut bytes = [0u8; 8];
        // Without the OS's randomness, the time and process id still make
        // an id no other process is likely to hold.
        if getrandom::fill(&mut bytes).is_err() {
            let fallback = (u64::from(std::process::id()) << 32) ^ wall_ms();
            bytes = fallback.to_le_bytes();
        }
        Self::with_node(NodeId::new(u64::from_le_bytes(bytes)))
    }

    pub fn with_node(node: NodeId) -> Self {
        ServerClock(Arc::new(Mutex::new(Clock::new(node, None))))
    }

    /// The time of a write made now, later than every time this clock has
    /// handed out or observed.
    pub fn now(&self) -> Hlc {
        let wall = wall_ms();
        self.lock(|clock| clock.now(wall))
    }

    /// Takes in a clock another writer stamped (a pushed change).
    pub fn observe(&self, remote: Hlc) {
        let wall = wall_ms();
        self.lock(|clock| clock.observe(remote, wall));
    }

    fn lock<T>(&self, f: impl FnOnce(&mut Clock) -> T) -> T {
        // A panic while holding the lock cannot leave a `Clock` half
        // updated (it is one copyable value), so a poisoned lock is fine.
        let mut clock = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        f(&mut clock)
    }
}

impl Default for ServerClock {
    fn default() -> Self {
        Self::new()
    }
}

/// The server's wall clock in milliseconds since the epoch.
pub fn wall_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|elapsed| u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_write_after_an_observed_clock_ahead_is_later() {
        let clock = ServerClock::with_node(NodeId::new(1));
        let ahead = Hlc::new(wall_ms() + 5 * 60 * 1000, 7, NodeId::new(2));
        clock.observe(ahead);
        assert!(clock.now() > ahead);
        let first = clock.now();
        assert!(clock.clone().now() > first, "clones share one clock");
    }
}
