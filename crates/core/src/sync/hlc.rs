//! Hybrid logical clocks (Kulkarni et al., 2014): a wall-clock time in
//! milliseconds, a counter that orders events within one millisecond or
//! while the wall clock lags a time already seen, and the writing node's id
//! to break the last ties. A device's clock never runs backwards (it
//! follows the largest time it has seen), so a device whose wall clock is
//! behind still orders its own edits after the ones it has pulled.
//!
//! On the wire a clock is one fixed-width string,
//! `<13-digit ms>-<4 hex counter>-<16 hex node>`, e.g.
//! `1733356800000-0001-9f3a2b1c4d5e6f70`, so it sorts as text the way it
//! sorts as a clock.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// The largest time a clock can carry (13 decimal digits: year 2286).
const MAX_PHYSICAL_MS: u64 = 9_999_999_999_999;

/// How far a pushed clock may run ahead of the server's wall clock. Without
/// a bound one device with a clock set a year ahead would win every
/// conflict for a year; ten minutes tolerates phones that drift.
pub const MAX_AHEAD_MS: u64 = 10 * 60 * 1000;

/// The id of one writer (a browser profile, a server instance): 64 random
/// bits, 16 lowercase hex digits on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct NodeId(u64);

impl NodeId {
    pub fn new(bits: u64) -> Self {
        NodeId(bits)
    }

    pub fn bits(self) -> u64 {
        self.0
    }
}

impl FromStr for NodeId {
    type Err = HlcError;

    fn from_str(input: &str) -> Result<Self, HlcError> {
        parse_hex(input, 16).map(NodeId).ok_or(HlcError::Node)
    }
}

impl fmt::Display for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}", self.0)
    }
}

/// One point in hybrid logical time. The field order is the comparison
/// order: time, then counter, then node.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Hlc {
    physical_ms: u64,
    counter: u16,
    node: NodeId,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HlcError {
    #[error(
        "a clock is \"<13-digit milliseconds>-<4 hex digits>-<16 hex digits>\", e.g. 1733356800000-0000-9f3a2b1c4d5e6f70"
    )]
    Format,
    #[error("a node id is 16 lowercase hex digits")]
    Node,
}

/// A pushed clock too far ahead of the receiver's wall clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error(
    "this device's clock is {ahead_ms} ms ahead of the server's (at most {MAX_AHEAD_MS} ms is accepted): set the device's time"
)]
pub struct ClockAhead {
    pub ahead_ms: u64,
}

impl Hlc {
    pub fn new(physical_ms: u64, counter: u16, node: NodeId) -> Self {
        Hlc {
            physical_ms: physical_ms.min(MAX_PHYSICAL_MS),
            counter,
            node,
        }
    }

    pub fn physical_ms(&self) -> u64 {
        self.physical_ms
    }

    pub fn counter(&self) -> u16 {
        self.counter
    }

    pub fn node(&self) -> NodeId {
        self.node
    }

    /// Refuses a clock more than [`MAX_AHEAD_MS`] ahead of `wall_ms`.
    pub fn check_not_ahead(&self, wall_ms: u64) -> Result<(), ClockAhead> {
        let ahead_ms = self.physical_ms.saturating_sub(wall_ms);
        if ahead_ms > MAX_AHEAD_MS {
            Err(ClockAhead { ahead_ms })
        } else {
            Ok(())
        }
    }

    /// The time after `physical_ms`/`counter` as one step: the counter
    /// moves on, and when it is spent the millisecond does.
    fn step(physical_ms: u64, counter: u16, node: NodeId) -> Self {
        match counter.checked_add(1) {
            Some(counter) => Hlc::new(physical_ms, counter, node),
            None => Hlc::new(physical_ms.saturating_add(1), 0, node),
        }
    }
}

impl FromStr for Hlc {
    type Err = HlcError;

    fn from_str(input: &str) -> Result<Self, HlcError> {
        let mut parts = input.split('-');
        let (Some(physical), Some(counter), Some(node), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(HlcError::Format);
        };
        if physical.len() != 13 || !physical.bytes().all(|b| b.is_ascii_digit()) {
            return Err(HlcError::Format);
        }
        let physical_ms = physical.parse().map_err(|_| HlcError::Format)?;
        let counter = parse_hex(counter, 4)
            .and_then(|c| u16::try_from(c).ok())
            .ok_or(HlcError::Format)?;
        let node = node.parse().map_err(|_| HlcError::Format)?;
        Ok(Hlc {
            physical_ms,
            counter,
            node,
        })
    }
}

impl TryFrom<String> for Hlc {
    type Error = HlcError;

    fn try_from(value: String) -> Result<Self, HlcError> {
        value.parse()
    }
}

impl From<Hlc> for String {
    fn from(hlc: Hlc) -> String {
        hlc.to_string()
    }
}

impl fmt::Display for Hlc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:013}-{:04x}-{}",
            self.physical_ms, self.counter, self.node
        )
    }
}

/// Exactly `digits` lowercase hex digits.
fn parse_hex(input: &str, digits: usize) -> Option<u64> {
    let well_formed = input.len() == digits
        && input
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    if well_formed {
        u64::from_str_radix(input, 16).ok()
    } else {
        None
    }
}

/// One writer's clock: the last time it handed out or saw. Keep it across
/// restarts (the browser stores the last value) so it never goes back.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Clock {
    node: NodeId,
    last: Option<Hlc>,
}

impl Clock {
    pub fn new(node: NodeId, last: Option<Hlc>) -> Self {
        Clock { node, last }
    }

    pub fn last(&self) -> Option<Hlc> {
        self.last
    }

    /// The time of a local write at wall time `wall_ms`: later than every
    /// time this clock has handed out or seen.
    pub fn now(&mut self, wall_ms: u64) -> Hlc {
        let wall_ms = wall_ms.min(MAX_PHYSICAL_MS);
        let next = match self.last {
            Some(last) if last.physical_ms >= wall_ms => {
                Hlc::step(last.physical_ms, last.counter, self.node)
            }
            _ => Hlc::new(wall_ms, 0, self.node),
        };
        self.last = Some(next);
        next
    }

    /// Takes in a time another writer stamped (a pulled row, a server's
    /// answer), so this clock's next time is later than it.
    pub fn observe(&mut self, remote: Hlc, wall_ms: u64) -> Hlc {
        let wall_ms = wall_ms.min(MAX_PHYSICAL_MS);
        let last = self.last.unwrap_or(Hlc::new(0, 0, self.node));
        let physical_ms = wall_ms.max(last.physical_ms).max(remote.physical_ms);
        let next = if physical_ms == wall_ms
            && physical_ms != last.physical_ms
            && physical_ms != remote.physical_ms
        {
            Hlc::new(physical_ms, 0, self.node)
        } else {
            let seen = [last, remote]
                .into_iter()
                .filter(|t| t.physical_ms == physical_ms)
                .map(|t| t.counter)
                .max()
                .unwrap_or(0);
            Hlc::step(physical_ms, seen, self.node)
        };
        self.last = Some(next);
        next
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const A: NodeId = NodeId(0xa);
    const B: NodeId = NodeId(0xb);

    #[test]
    fn a_clock_prints_and_parses_as_fixed_width_text() {
        let hlc = Hlc::new(1_733_356_800_000, 1, NodeId(0x9f3a_2b1c_4d5e_6f70));
        assert_eq!(hlc.to_string(), "1733356800000-0001-9f3a2b1c4d5e6f70");
        assert_eq!("1733356800000-0001-9f3a2b1c4d5e6f70".parse(), Ok(hlc));
    }

    #[test]
    fn malformed_clocks_are_refused() {
        for input in [
            "",
            "1733356800000-0001",
            "1733356800000-0001-9f3a2b1c4d5e6f70-1",
            "173335680000-0001-9f3a2b1c4d5e6f70",
            "1733356800000-001-9f3a2b1c4d5e6f70",
            "1733356800000-0001-9F3A2B1C4D5E6F70",
            "1733356800000-0001-9f3a2b1c4d5e6f7",
            "+733356800000-0001-9f3a2b1c4d5e6f70",
            "1733356800000-000g-9f3a2b1c4d5e6f70",
        ] {
            assert_eq!(input.parse::<Hlc>(), Err(HlcError::Format), "{input}");
        }
    }

    #[test]
    fn local_writes_move_forward_even_when_the_wall_clock_goes_back() {
        let mut clock = Clock::new(A, None);
        let first = clock.now(1_000);
        let second = clock.now(1_000);
        let third = clock.now(900);
        let fourth = clock.now(2_000);
        assert!(first < second && second < third && third < fourth);
        assert_eq!(third.physical_ms(), 1_000);
        assert_eq!(fourth, Hlc::new(2_000, 0, A));
    }

    #[test]
    fn a_clock_behind_orders_its_next_write_after_what_it_saw() {
        let mut behind = Clock::new(A, None);
        let remote = Hlc::new(5_000, 3, B);
        behind.observe(remote, 1_000);
        let next = behind.now(1_001);
        assert!(next > remote);
        assert_eq!(next.node(), A);
    }

    #[test]
    fn a_spent_counter_moves_the_millisecond() {
        let mut clock = Clock::new(A, Some(Hlc::new(1_000, u16::MAX, A)));
        assert_eq!(clock.now(1_000), Hlc::new(1_001, 0, A));
    }

    #[test]
    fn a_clock_far_ahead_of_the_receiver_is_refused() {
        let wall = 1_733_356_800_000;
        assert!(
            Hlc::new(wall + MAX_AHEAD_MS, 0, A)
                .check_not_ahead(wall)
                .is_ok()
        );
        assert_eq!(
            Hlc::new(wall + MAX_AHEAD_MS + 1, 0, A).check_not_ahead(wall),
            Err(ClockAhead {
                ahead_ms: MAX_AHEAD_MS + 1
            })
        );
        assert!(Hlc::new(0, 0, A).check_not_ahead(wall).is_ok());
    }

    fn any_hlc() -> impl Strategy<Value = Hlc> {
        (0..=MAX_PHYSICAL_MS, any::<u16>(), any::<u64>())
            .prop_map(|(ms, counter, node)| Hlc::new(ms, counter, NodeId(node)))
    }

    proptest! {
        #[test]
        fn text_order_is_clock_order(a in any_hlc(), b in any_hlc()) {
            prop_assert_eq!(a.to_string().cmp(&b.to_string()), a.cmp(&b));
            prop_assert_eq!(a.to_string().parse::<Hlc>(), Ok(a));
        }

        #[test]
        fn every_time_handed_out_is_later_than_all_before(
            events in prop::collection::vec((any::<bool>(), 0u64..10_000, any_hlc()), 1..60)
        ) {
            let mut clock = Clock::new(A, None);
            let mut latest: Option<Hlc> = None;
            for (is_remote, wall, remote) in events {
                let remote = Hlc::new(remote.physical_ms() % 10_000, remote.counter(), remote.node());
                let next = if is_remote { clock.observe(remote, wall) } else { clock.now(wall) };
                if let Some(latest) = latest {
                    prop_assert!(next > latest);
                }
                if is_remote {
                    prop_assert!(next > remote);
                }
                prop_assert!(next.physical_ms() >= wall);
                latest = Some(next.max(if is_remote { remote } else { next }));
            }
        }
    }
}
