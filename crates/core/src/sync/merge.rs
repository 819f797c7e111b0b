//! Which write wins. Both the server (applying a push) and the browser
//! (applying a pull) call these, so a row converges to the same value
//! whichever order two devices' writes arrive in.

use serde::{Deserialize, Serialize};

use super::Hlc;

/// What a row holds now, as far as merging is concerned. Rows written
/// before clocks existed have no clock: any clocked write is newer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RowClock {
    pub hlc: Option<Hlc>,
    pub deleted: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Write {
    /// An edit of a row the writer has (or had) from the server.
    Upsert,
    /// The row made from scratch with everything it holds (an import that
    /// the server has not confirmed yet) — for a platform material, whose
    /// id is fixed, possibly the same id as a row deleted before.
    Create,
    Delete,
}

/// The fate of one incoming write.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Newer than what is there: store it.
    Apply,
    /// This very write is there already (a retry): nothing to do, and the
    /// sender should count it as done.
    AlreadyApplied,
    /// What is there is newer (or a tombstone): keep it, and hand it to
    /// the sender so it adopts it.
    Superseded,
}

/// Last writer wins for a whole row, by clock, and a tombstone is final
/// for edits: a deleted row's media and children are gone, so an edit (even
/// one made after the delete on a device that had not seen it) cannot bring
/// back a half-empty row, and deleting it again is a retry. Only a creation
/// newer than the delete brings the id back — a video deleted and imported
/// again, which arrives with its sentences.
pub fn decide(stored: Option<RowClock>, write: Write, incoming: Hlc) -> Verdict {
    let Some(stored) = stored else {
        return Verdict::Apply;
    };
    if stored.deleted {
        return match write {
            Write::Delete => Verdict::AlreadyApplied,
            Write::Upsert => Verdict::Superseded,
            Write::Create => match stored.hlc {
                Some(hlc) if incoming <= hlc => Verdict::Superseded,
                _ => Verdict::Apply,
            },
        };
    }
    match stored.hlc {
        None => Verdict::Apply,
        Some(hlc) if incoming > hlc => Verdict::Apply,
        Some(hlc) if incoming == hlc => Verdict::AlreadyApplied,
        Some(_) => Verdict::Superseded,
    }
}

/// Where a learner is in one material.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProgressState {
    pub last_segment_index: u32,
    pub completed: bool,
    /// `None` only for progress stored before clocks existed.
    pub hlc: Option<Hlc>,
}

/// The value to keep after a merge, and how the incoming write fared.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Merged<T> {
    pub value: T,
    pub verdict: Verdict,
    /// The result differs from what was stored (so it must be written).
    pub changed: bool,
}

/// Progress merges field by field: the position is the newer write's, and
/// "completed" never regresses — a material finished on one device stays
/// finished when an older or newer "in progress" arrives from another. So
/// an older write can still change the row (it may carry the completion).
pub fn merge_progress(
    stored: Option<ProgressState>,
    incoming: ProgressState,
) -> Merged<ProgressState> {
    let Some(stored) = stored else {
        return Merged {
            value: incoming,
            verdict: Verdict::Apply,
            changed: true,
        };
    };
    let incoming_hlc = incoming.hlc;
    let verdict = match (stored.hlc, incoming_hlc) {
        (Some(s), Some(i)) if i == s => Verdict::AlreadyApplied,
        (Some(s), Some(i)) if i < s => Verdict::Superseded,
        (Some(_), None) => Verdict::Superseded,
        _ => Verdict::Apply,
    };
    let newer = if verdict == Verdict::Apply {
        incoming
    } else {
        stored
    };
    let value = ProgressState {
        last_segment_index: newer.last_segment_index,
        completed: stored.completed || incoming.completed,
        hlc: newer.hlc,
    };
    Merged {
        value,
        verdict,
        changed: value != stored,
    }
}

#[cfg(test)]
mod tests {
    use super::super::NodeId;
    use super::*;
    use proptest::prelude::*;

    fn at(ms: u64, node: u64) -> Hlc {
        Hlc::new(ms, 0, NodeId::new(node))
    }

    fn live(hlc: Hlc) -> Option<RowClock> {
        Some(RowClock {
            hlc: Some(hlc),
            deleted: false,
        })
    }

    #[test]
    fn the_newer_write_wins_and_a_retry_is_recognised() {
        assert_eq!(decide(None, Write::Upsert, at(1, 1)), Verdict::Apply);
        assert_eq!(
            decide(live(at(1, 1)), Write::Upsert, at(2, 1)),
            Verdict::Apply
        );
        assert_eq!(
            decide(live(at(2, 1)), Write::Upsert, at(2, 1)),
            Verdict::AlreadyApplied
        );
        assert_eq!(
            decide(live(at(2, 1)), Write::Upsert, at(1, 9)),
            Verdict::Superseded
        );
        assert_eq!(
            decide(live(at(2, 1)), Write::Delete, at(1, 9)),
            Verdict::Superseded
        );
        assert_eq!(
            decide(live(at(2, 1)), Write::Delete, at(3, 9)),
            Verdict::Apply
        );
    }

    #[test]
    fn equal_times_are_ordered_by_node() {
        assert_eq!(
            decide(live(at(5, 1)), Write::Upsert, at(5, 2)),
            Verdict::Apply
        );
        assert_eq!(
            decide(live(at(5, 2)), Write::Upsert, at(5, 1)),
            Verdict::Superseded
        );
    }

    #[test]
    fn a_row_from_before_clocks_loses_to_any_clocked_write() {
        let unclocked = Some(RowClock {
            hlc: None,
            deleted: false,
        });
        assert_eq!(decide(unclocked, Write::Upsert, at(0, 0)), Verdict::Apply);
    }

    #[test]
    fn tombstones_are_final() {
        let gone = Some(RowClock {
            hlc: Some(at(1, 1)),
            deleted: true,
        });
        assert_eq!(decide(gone, Write::Upsert, at(9, 1)), Verdict::Superseded);
        assert_eq!(
            decide(gone, Write::Delete, at(9, 1)),
            Verdict::AlreadyApplied
        );
    }

    #[test]
    fn only_a_creation_after_the_delete_brings_the_id_back() {
        let gone = Some(RowClock {
            hlc: Some(at(5, 1)),
            deleted: true,
        });
        assert_eq!(decide(gone, Write::Create, at(6, 2)), Verdict::Apply);
        assert_eq!(decide(gone, Write::Create, at(4, 2)), Verdict::Superseded);
        let gone_before_clocks = Some(RowClock {
            hlc: None,
            deleted: true,
        });
        assert_eq!(
            decide(gone_before_clocks, Write::Create, at(0, 0)),
            Verdict::Apply
        );
        // A retried creation is recognised like any write.
        assert_eq!(
            decide(live(at(6, 2)), Write::Create, at(6, 2)),
            Verdict::AlreadyApplied
        );
        assert_eq!(
            decide(live(at(7, 1)), Write::Create, at(6, 2)),
            Verdict::Superseded
        );
    }

    fn progress(index: u32, completed: bool, hlc: Hlc) -> ProgressState {
        ProgressState {
            last_segment_index: index,
            completed,
            hlc: Some(hlc),
        }
    }

    #[test]
    fn completion_survives_a_newer_in_progress_write() {
        let merged = merge_progress(
            Some(progress(40, true, at(1, 1))),
            progress(3, false, at(2, 2)),
        );
        assert_eq!(merged.verdict, Verdict::Apply);
        assert_eq!(merged.value, progress(3, true, at(2, 2)));
        assert!(merged.changed);
    }

    #[test]
    fn an_older_completion_still_completes() {
        let merged = merge_progress(
            Some(progress(3, false, at(2, 2))),
            progress(40, true, at(1, 1)),
        );
        assert_eq!(merged.verdict, Verdict::Superseded);
        assert_eq!(merged.value, progress(3, true, at(2, 2)));
        assert!(merged.changed);
    }

    #[test]
    fn an_older_position_changes_nothing() {
        let stored = progress(7, false, at(2, 2));
        let merged = merge_progress(Some(stored), progress(1, false, at(1, 1)));
        assert_eq!(merged.verdict, Verdict::Superseded);
        assert_eq!(merged.value, stored);
        assert!(!merged.changed);
    }

    #[test]
    fn a_retried_progress_write_changes_nothing() {
        let stored = progress(7, false, at(2, 2));
        let merged = merge_progress(Some(stored), stored);
        assert_eq!(merged.verdict, Verdict::AlreadyApplied);
        assert!(!merged.changed);
    }

    fn any_progress() -> impl Strategy<Value = ProgressState> {
        (0u32..50, any::<bool>(), 0u64..20, 0u64..3)
            .prop_map(|(index, completed, ms, node)| progress(index, completed, at(ms, node)))
    }

    proptest! {
        /// Two devices' writes reach the same value whichever arrives first,
        /// and a write arriving twice changes nothing the second time.
        #[test]
        fn progress_converges_in_any_order(a in any_progress(), b in any_progress()) {
            prop_assume!(a.hlc != b.hlc || a == b);
            let ab = merge_progress(Some(merge_progress(None, a).value), b).value;
            let ba = merge_progress(Some(merge_progress(None, b).value), a).value;
            prop_assert_eq!(ab, ba);
            prop_assert_eq!(merge_progress(Some(ab), b).value, ab);
        }

        #[test]
        fn rows_converge_in_any_order(a in 0u64..20, b in 0u64..20, na in 0u64..3, nb in 0u64..3) {
            let (a, b) = (at(a, na), at(b, nb));
            let winner = |first: Hlc, second: Hlc| match decide(live(first), Write::Upsert, second) {
                Verdict::Apply | Verdict::AlreadyApplied => second,
                Verdict::Superseded => first,
            };
            prop_assert_eq!(winner(a, b), winner(b, a));
        }
    }
}
