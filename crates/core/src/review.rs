//! Spaced repetition of saved words: a word's schedule is derived from its
//! whole review log with FSRS (the scheduler Anki uses, `fsrs` crate, its
//! default parameters), never stored as the only truth. The browser (through
//! wasm, offline) and the server (when a device's reviews arrive) call the
//! same function on the same log, so they agree; two devices' logs merge
//! as a set (union by id) and the schedule is computed again.

use fsrs::{FSRS, ItemState, MemoryState, NextStates};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Share of words the learner should still recall when they come due.
pub const DESIRED_RETENTION: f32 = 0.9;
/// A word whose next interval is at least this long is mastered (Anki's
/// "mature" cards: three weeks).
pub const MASTERED_AFTER_DAYS: f32 = 21.0;
/// A word answered "Again" comes back after this long (a learning step),
/// whatever its memory state says.
pub const RELEARN_AFTER_MS: i64 = 10 * 60 * 1000;

const DAY_MS: i64 = 24 * 60 * 60 * 1000;

/// The learner's answer to one review.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "u8", into = "u8")]
pub enum Rating {
    Again = 1,
    Hard = 2,
    Good = 3,
    Easy = 4,
}

impl TryFrom<u8> for Rating {
    type Error = String;

    fn try_from(value: u8) -> Result<Self, Self::Error> {
        match value {
            1 => Ok(Rating::Again),
            2 => Ok(Rating::Hard),
            3 => Ok(Rating::Good),
            4 => Ok(Rating::Easy),
            _ => Err("rating must be 1 (again), 2 (hard), 3 (good) or 4 (easy)".into()),
        }
    }
}

impl From<Rating> for u8 {
    fn from(rating: Rating) -> u8 {
        rating as u8
    }
}

/// One answer in a word's log. Ids are chosen by the device that answered,
/// so a log sent twice, or by two devices, is counted once.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Review {
    pub id: Uuid,
    /// Milliseconds since the Unix epoch.
    pub reviewed_at_ms: i64,
    pub rating: Rating,
}

/// The seed's `vocabulary_items.status`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VocabularyStatus {
    /// Never reviewed.
    New,
    Learning,
    /// Its next interval is `MASTERED_AFTER_DAYS` or more.
    Mastered,
}

#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Schedule {
    pub status: VocabularyStatus,
    /// When the word is due (ms); `None`: never reviewed (a new word is due
    /// at once).
    pub due_at_ms: Option<i64>,
    /// FSRS memory stability: days until recall falls to 90 %.
    pub stability_days: Option<f32>,
    /// FSRS difficulty, 1 (easy) to 10 (hard).
    pub difficulty: Option<f32>,
    pub reviews: u32,
    /// "Again" on a word that had been recalled before.
    pub lapses: u32,
    pub last_reviewed_at_ms: Option<i64>,
}

/// The union of two logs (by id), in time order (ties by id, so every
/// device orders the same log the same way).
pub fn merge_logs(a: &[Review], b: &[Review]) -> Vec<Review> {
    let mut merged: Vec<Review> = a.iter().chain(b).copied().collect();
    merged.sort_by_key(|review| (review.reviewed_at_ms, review.id));
    merged.dedup_by_key(|review| review.id);
    merged
}

/// Where a word stands after its log (in any order; duplicate ids count once).
pub fn schedule(log: &[Review]) -> Schedule {
    let replayed = Replay::of(log);
    let Some(last) = replayed.last else {
        return Schedule {
            status: VocabularyStatus::New,
            due_at_ms: None,
            stability_days: None,
            difficulty: None,
            reviews: 0,
            lapses: 0,
            last_reviewed_at_ms: None,
        };
    };
    Schedule {
        status: if last.interval_days >= MASTERED_AFTER_DAYS {
            VocabularyStatus::Mastered
        } else {
            VocabularyStatus::Learning
        },
        due_at_ms: Some(last.due_at_ms),
        stability_days: replayed.memory.map(|memory| memory.stability),
        difficulty: replayed.memory.map(|memory| memory.difficulty),
        reviews: replayed.reviews,
        lapses: replayed.lapses,
        last_reviewed_at_ms: Some(last.reviewed_at_ms),
    }
}

/// When the word would be due if answered Again, Hard, Good or Easy at
/// `now_ms` (what the answer buttons show).
pub fn preview(log: &[Review], now_ms: i64) -> [i64; 4] {
    let replayed = Replay::of(log);
    let elapsed = replayed
        .last
        .map_or(0, |last| days_between(last.reviewed_at_ms, now_ms));
    let states = next_states(&replayed.fsrs, replayed.memory, elapsed);
    [Rating::Again, Rating::Hard, Rating::Good, Rating::Easy].map(|rating| match &states {
        Some(states) => due_after(rating, chosen(states, rating).interval, now_ms),
        None => due_after(rating, 1.0, now_ms),
    })
}

/// A log replayed through FSRS.
struct Replay {
    fsrs: FSRS,
    memory: Option<MemoryState>,
    reviews: u32,
    lapses: u32,
    last: Option<Answered>,
}

#[derive(Clone, Copy)]
struct Answered {
    reviewed_at_ms: i64,
    interval_days: f32,
    due_at_ms: i64,
}

impl Replay {
    fn of(log: &[Review]) -> Self {
        let mut replay = Replay {
            fsrs: FSRS::default(),
            memory: None,
            reviews: 0,
            lapses: 0,
            last: None,
        };
        let mut recalled_before = false;
        for review in merge_logs(log, &[]) {
            let elapsed = replay.last.map_or(0, |last| {
                days_between(last.reviewed_at_ms, review.reviewed_at_ms)
            });
            // `None` only for a state FSRS finds not finite, which its
            // default parameters never produce: the answer still counts.
            let state = next_states(&replay.fsrs, replay.memory, elapsed)
                .map(|states| chosen(&states, review.rating).clone());
            let interval_days = state.as_ref().map_or(1.0, |state| state.interval);
            if let Some(state) = state {
                replay.memory = Some(state.memory);
            }
            replay.reviews += 1;
            if review.rating == Rating::Again && recalled_before {
                replay.lapses += 1;
            }
            recalled_before |= review.rating != Rating::Again;
            replay.last = Some(Answered {
                reviewed_at_ms: review.reviewed_at_ms,
                interval_days: if review.rating == Rating::Again {
                    0.0
                } else {
                    interval_days
                },
                due_at_ms: due_after(review.rating, interval_days, review.reviewed_at_ms),
            });
        }
        replay
    }
}

fn next_states(fsrs: &FSRS, memory: Option<MemoryState>, elapsed_days: u32) -> Option<NextStates> {
    fsrs.next_states(memory, DESIRED_RETENTION, elapsed_days)
        .ok()
}

fn chosen(states: &NextStates, rating: Rating) -> &ItemState {
    match rating {
        Rating::Again => &states.again,
        Rating::Hard => &states.hard,
        Rating::Good => &states.good,
        Rating::Easy => &states.easy,
    }
}

/// Whole days from one time to a later one (0 for the same day or an
/// earlier time: clocks of two devices may disagree).
fn days_between(from_ms: i64, to_ms: i64) -> u32 {
    u32::try_from(to_ms.saturating_sub(from_ms).max(0) / DAY_MS).unwrap_or(u32::MAX)
}

/// "Again" is a learning step; otherwise the interval in whole days, at
/// least one.
fn due_after(rating: Rating, interval_days: f32, at_ms: i64) -> i64 {
    if rating == Rating::Again {
        return at_ms.saturating_add(RELEARN_AFTER_MS);
    }
    let days = interval_days.round().max(1.0);
    // Far beyond any interval FSRS gives (100 years).
    let days = if days.is_finite() {
        days.min(36_500.0)
    } else {
        1.0
    };
    at_ms.saturating_add(days as i64 * DAY_MS)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const T0: i64 = 1_780_000_000_000;

    fn review(n: u128, at_ms: i64, rating: Rating) -> Review {
        Review {
            id: Uuid::from_u128(n),
            reviewed_at_ms: at_ms,
            rating,
        }
    }

    #[test]
    fn a_word_never_reviewed_is_new_and_due_now() {
        let schedule = schedule(&[]);
        assert_eq!(schedule.status, VocabularyStatus::New);
        assert_eq!(schedule.due_at_ms, None);
        assert_eq!(schedule.reviews, 0);
    }

    #[test]
    fn good_answers_push_the_word_further_each_time() {
        let first = review(1, T0, Rating::Good);
        let after_one = schedule(&[first]);
        assert_eq!(after_one.status, VocabularyStatus::Learning);
        let gap_one = after_one.due_at_ms.unwrap() - T0;
        assert!((DAY_MS..=4 * DAY_MS).contains(&gap_one), "{gap_one}");

        let second = review(2, after_one.due_at_ms.unwrap(), Rating::Good);
        let after_two = schedule(&[first, second]);
        let gap_two = after_two.due_at_ms.unwrap() - second.reviewed_at_ms;
        assert!(gap_two > gap_one, "{gap_two} after {gap_one}");
        assert_eq!(after_two.reviews, 2);
        assert!(after_two.stability_days.unwrap() > after_one.stability_days.unwrap());
    }

    #[test]
    fn a_word_answered_on_time_for_long_enough_is_mastered() {
        let mut log = Vec::new();
        let mut at = T0;
        for n in 0..8 {
            log.push(review(n, at, Rating::Good));
            let next = schedule(&log);
            if next.status == VocabularyStatus::Mastered {
                assert!(next.due_at_ms.unwrap() - at >= 21 * DAY_MS);
                return;
            }
            at = next.due_at_ms.unwrap();
        }
        panic!("not mastered after 8 good answers: {:?}", schedule(&log));
    }

    #[test]
    fn again_brings_the_word_back_in_minutes_and_counts_a_lapse_once_it_was_known() {
        let first = schedule(&[review(1, T0, Rating::Again)]);
        assert_eq!(first.due_at_ms, Some(T0 + RELEARN_AFTER_MS));
        assert_eq!(first.lapses, 0);

        let known = review(1, T0, Rating::Good);
        let later = T0 + 3 * DAY_MS;
        let forgot = schedule(&[known, review(2, later, Rating::Again)]);
        assert_eq!(forgot.due_at_ms, Some(later + RELEARN_AFTER_MS));
        assert_eq!(forgot.lapses, 1);
        assert_eq!(forgot.status, VocabularyStatus::Learning);
    }

    #[test]
    fn the_order_of_arrival_and_duplicates_do_not_change_the_schedule() {
        let log = [
            review(1, T0, Rating::Good),
            review(2, T0 + 2 * DAY_MS, Rating::Hard),
            review(3, T0 + 5 * DAY_MS, Rating::Easy),
        ];
        let in_order = schedule(&log);
        let shuffled = schedule(&[log[2], log[0], log[1], log[0]]);
        assert_eq!(in_order, shuffled);
        assert_eq!(shuffled.reviews, 3);
    }

    #[test]
    fn two_devices_logs_merge_as_a_set() {
        let shared = review(1, T0, Rating::Good);
        let phone = [shared, review(2, T0 + DAY_MS, Rating::Good)];
        let laptop = [shared, review(3, T0 + 4 * DAY_MS, Rating::Again)];
        let merged = merge_logs(&phone, &laptop);
        assert_eq!(
            merged.iter().map(|r| r.id.as_u128()).collect::<Vec<_>>(),
            [1, 2, 3]
        );
        assert_eq!(merge_logs(&laptop, &phone), merged);
        assert_eq!(schedule(&merged).lapses, 1);
    }

    #[test]
    fn the_buttons_preview_what_each_answer_would_do() {
        let log = [review(1, T0, Rating::Good)];
        let now = T0 + 3 * DAY_MS;
        let [again, hard, good, easy] = preview(&log, now);
        assert_eq!(again, now + RELEARN_AFTER_MS);
        assert!(
            now + DAY_MS <= hard && hard <= good && good < easy,
            "{hard} {good} {easy}"
        );
        // Answering as previewed gives the previewed schedule.
        let answered = schedule(&[log[0], review(2, now, Rating::Good)]);
        assert_eq!(answered.due_at_ms, Some(good));
        // A new word's preview, too.
        let [again, _, good, _] = preview(&[], now);
        assert_eq!(again, now + RELEARN_AFTER_MS);
        assert!(good > now + DAY_MS - 1);
    }

    #[test]
    fn ratings_are_one_to_four() {
        assert_eq!(Rating::try_from(3), Ok(Rating::Good));
        assert!(Rating::try_from(0).is_err());
        assert!(Rating::try_from(5).is_err());
        let parsed: Review = serde_json::from_str(
            r#"{"id":"00000000-0000-0000-0000-000000000001","reviewed_at_ms":5,"rating":4}"#,
        )
        .unwrap();
        assert_eq!(parsed.rating, Rating::Easy);
        assert!(
            serde_json::from_str::<Review>(
                r#"{"id":"00000000-0000-0000-0000-000000000001","reviewed_at_ms":5,"rating":7}"#
            )
            .is_err()
        );
    }

    #[test]
    fn clocks_that_disagree_do_not_break_the_replay() {
        // A review stamped before the previous one by a device whose clock is behind.
        let log = [
            review(1, T0, Rating::Good),
            review(2, T0 - DAY_MS, Rating::Good),
        ];
        let schedule = schedule(&log);
        assert_eq!(schedule.reviews, 2);
        assert!(schedule.due_at_ms.unwrap() > T0);
    }
}
