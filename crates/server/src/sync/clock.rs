//! One hybrid logical clock per server process. It stamps every write the
//! resource endpoints (and uploads, and jobs) make to a synced row, and
//! observes every clock a device pushes, so a write made here after a
//! pushed one is ordered after it even when the device's clock runs ahead
//! of the server's (by at most `MAX_AHEAD_MS`, which the push enforces).
//!
//! What one process has observed is not enough: after a restart, or on
//! another instance behind the same database, the clock has not seen the
//! clocks already stored. So a write that replaces stored row versions is
//! stamped with [`ServerClock::now_after`] the latest of their clocks, read
//! in the writing transaction under the lock that keeps them (decision
//! 0024, "Revised").

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

    /// The time of a write that replaces stored row versions, `stored` the
    /// latest of their clocks as stored (wire text; `None`: nothing is
    /// replaced, or only rows from before clocks). Later than it, whichever
    /// process stamped it, and later than every time this clock has handed
    /// out or observed; the clock keeps it as the last time it handed out.
    /// The caller holds the rows (or the lock every writer of them takes)
    /// until its transaction ends, so `stored` stays the latest.
    pub fn now_after(&self, stored: Option<&str>) -> anyhow::Result<Hlc> {
        let stored = stored
            .map(str::parse::<Hlc>)
            .transpose()
            .map_err(|error| anyhow::anyhow!("a stored clock: {error}"))?;
        let wall = wall_ms();
        Ok(self.lock(|clock| match stored {
            // `observe` hands out a time later than both.
            Some(stored) => clock.observe(stored, wall),
            None => clock.now(wall),
        }))
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
#[allow(clippy::unwrap_used)]
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

    #[test]
    fn a_fresh_clock_stamps_a_replacing_write_after_the_stored_clock() {
        // Another process stored a clock five minutes ahead; this one never
        // observed it (a restart, a second instance).
        let stored = Hlc::new(wall_ms() + 5 * 60 * 1000, 7, NodeId::new(2));
        let clock = ServerClock::with_node(NodeId::new(1));
        let before = clock.now();
        assert!(before < stored);
        let stamp = clock.now_after(Some(&stored.to_string())).unwrap();
        assert!(stamp > stored && stamp > before);
        assert_eq!(stamp.node(), NodeId::new(1));
        // Never older than a time handed out before, stored clock or not.
        let older = Hlc::new(1_000, 0, NodeId::new(3));
        let next = clock.now_after(Some(&older.to_string())).unwrap();
        assert!(next > stamp);
        assert!(clock.now_after(None).unwrap() > next);
        assert!(clock.now() > next);
    }

    #[test]
    fn a_malformed_stored_clock_is_an_error() {
        let clock = ServerClock::with_node(NodeId::new(1));
        assert!(clock.now_after(Some("yesterday")).is_err());
    }
}
