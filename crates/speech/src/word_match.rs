//! Which transcript word was heard for which reference word, matched by how
//! they sound rather than how they are spelt.
//!
//! Both sides are phone sequences from espeak-ng. Two words are compared by
//! the Levenshtein distance of their phones divided by the longer length
//! (0 = they sound the same, 1 = nothing in common); phones count as equal
//! when a listener accepts one for the other (`phones::accepted_tokens`),
//! so the contrasts learners are judged on (ɪ/i, l/ɹ, f/b) stay distinct.
//! Words are then aligned like a word error rate, by dynamic programming:
//! a reference word heard as a transcript word costs their distance, a
//! reference word not heard or a transcript word with no reference word
//! costs 1, and one transcript word covering two reference words (or two
//! covering one: "everyday" / "every day") costs twice the distance of the
//! joined phones plus [`MERGE_COST`].

use std::ops::Range;

use levenshtein_diff::{Edit, distance, generate_edits};

use crate::phones::accepted_tokens;

/// Extra cost of letting one word on one side stand for two on the other.
/// Three quarters of a word: the same sounds split or joined differently
/// ("every day" / "everyday", cost 0.75) are cheaper as a merge than as a
/// match plus a missing word (≥ 1), but a short word swallowed by its
/// neighbour ("a big" heard as "big": 2 × ¼ + 0.75) stays a missing word.
pub const MERGE_COST: f32 = 0.75;

/// A phone compared by what a listener accepts as the same sound.
#[derive(Debug, Clone)]
struct Sound<'a>(&'a str);

impl PartialEq for Sound<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.0 == other.0
            || accepted_tokens(self.0).contains(&other.0)
            || accepted_tokens(other.0).contains(&self.0)
    }
}

fn sounds(phones: &[String]) -> Vec<Sound<'_>> {
    phones.iter().map(|p| Sound(p)).collect()
}

/// Normalised phone distance: edits / length of the longer sequence, in
/// 0..=1 (0 for two empty sequences).
pub fn phone_distance(a: &[String], b: &[String]) -> f32 {
    let longer = a.len().max(b.len());
    if longer == 0 {
        return 0.0;
    }
    let (edits, _) = distance(&sounds(a), &sounds(b));
    edits as f32 / longer as f32
}

/// A reference phone the transcript word has differently.
#[derive(Debug, Clone, PartialEq)]
pub struct Dispute {
    /// Index into the reference word's phones.
    pub phone: usize,
    /// What may have been heard in its place (empty: nothing).
    pub heard: Vec<String>,
}

/// Where `heard` differs from `reference`, phone by phone (a minimal edit
/// script). Substituted and dropped phones are disputed. A phone heard in
/// addition is a candidate for what its neighbours were heard as: "dog"
/// heard as "dark" (d ɑ g / d ɑ ɹ k) is g→ɹ plus k or g→k plus ɹ at equal
/// cost, so /g/ is disputed with both. Where nothing else differs ("walk"
/// heard as "walks"), the added phone disputes its neighbours by itself.
pub fn disputed_phones(reference: &[String], heard: &[String]) -> Vec<Dispute> {
    let (source, target) = (sounds(reference), sounds(heard));
    let (_, matrix) = distance(&source, &target);
    // Only fails for a matrix of other sequences than these.
    let Ok(edits) = generate_edits(&source, &target, &matrix) else {
        return Vec::new();
    };
    let mut out: Vec<Dispute> = Vec::new();
    let mut inserted = Vec::new();
    for edit in edits {
        // Edit indices count reference phones from 1.
        match edit {
            Edit::Substitute(i, phone) => out.push(Dispute {
                phone: i - 1,
                heard: vec![phone.0.to_owned()],
            }),
            Edit::Delete(i) => out.push(Dispute {
                phone: i - 1,
                heard: Vec::new(),
            }),
            // Inserted after reference phone `i` (0: before the first).
            Edit::Insert(i, phone) => inserted.push((i, phone.0.to_owned())),
        }
    }
    let alone = out.is_empty();
    for (after, phone) in inserted {
        let neighbours = [after.checked_sub(1), Some(after)].into_iter().flatten();
        for neighbour in neighbours.filter(|&n| n < reference.len()) {
            match out.iter_mut().find(|d| d.phone == neighbour) {
                Some(d) => d.heard.push(phone.clone()),
                None if alone => out.push(Dispute {
                    phone: neighbour,
                    heard: vec![phone.clone()],
                }),
                None => {}
            }
        }
    }
    out.sort_by_key(|d| d.phone);
    out
}

/// What the transcript says about one reference word.
#[derive(Debug, Clone, PartialEq)]
pub enum Heard {
    /// Transcript words `words` were heard where this word should be;
    /// `distance` is their phone distance to it (for a merge, of the joined
    /// phones on both sides).
    As { words: Range<usize>, distance: f32 },
    /// Nothing in the transcript stands for this word.
    Not,
}

#[derive(Debug, Clone, PartialEq)]
pub struct WordMatch {
    /// One entry per reference word.
    pub reference: Vec<Heard>,
    /// Transcript words that stand for no reference word, each with the
    /// reference word it comes before (the reference length if after all).
    pub extra: Vec<(usize, usize)>,
}

#[derive(Clone, Copy, PartialEq, Debug)]
enum Step {
    /// (reference words, transcript words) consumed together.
    Pair(usize, usize),
    NotHeard,
    Extra,
}

/// Aligns transcript words to reference words (both as phone sequences).
pub fn match_words(reference: &[Vec<String>], transcript: &[Vec<String>]) -> WordMatch {
    let (n, m) = (reference.len(), transcript.len());
    let joined = |words: &[Vec<String>]| -> Vec<String> { words.concat() };
    let mut cost = vec![vec![f32::INFINITY; m + 1]; n + 1];
    let mut step = vec![vec![Step::NotHeard; m + 1]; n + 1];
    cost[0][0] = 0.0;
    for i in 0..=n {
        for j in 0..=m {
            let here = cost[i][j];
            if here == f32::INFINITY {
                continue;
            }
            let mut relax = |i2: usize, j2: usize, c: f32, s: Step| {
                if i2 <= n && j2 <= m && here + c < cost[i2][j2] {
                    cost[i2][j2] = here + c;
                    step[i2][j2] = s;
                }
            };
            relax(i + 1, j, 1.0, Step::NotHeard);
            relax(i, j + 1, 1.0, Step::Extra);
            if i < n && j < m {
                let d = phone_distance(&reference[i], &transcript[j]);
                relax(i + 1, j + 1, d, Step::Pair(1, 1));
            }
            for (r, t) in [(2, 1), (1, 2)] {
                if i + r <= n && j + t <= m {
                    let d = phone_distance(
                        &joined(&reference[i..i + r]),
                        &joined(&transcript[j..j + t]),
                    );
                    relax(i + r, j + t, 2.0 * d + MERGE_COST, Step::Pair(r, t));
                }
            }
        }
    }

    let mut heard = vec![Heard::Not; n];
    let mut extra = Vec::new();
    let (mut i, mut j) = (n, m);
    while i > 0 || j > 0 {
        match step[i][j] {
            Step::NotHeard => i -= 1,
            Step::Extra => {
                j -= 1;
                extra.push((j, i));
            }
            Step::Pair(r, t) => {
                let (ri, tj) = (i - r, j - t);
                let distance =
                    phone_distance(&joined(&reference[ri..i]), &joined(&transcript[tj..j]));
                for h in &mut heard[ri..i] {
                    *h = Heard::As {
                        words: tj..j,
                        distance,
                    };
                }
                (i, j) = (ri, tj);
            }
        }
    }
    extra.reverse();
    WordMatch {
        reference: heard,
        extra,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// Words written as space-separated phones.
    fn words(s: &str) -> Vec<Vec<String>> {
        s.split('|')
            .map(|w| w.split_whitespace().map(str::to_owned).collect())
            .collect()
    }

    fn distance_of(h: &Heard) -> f32 {
        match h {
            Heard::As { distance, .. } => *distance,
            Heard::Not => f32::NAN,
        }
    }

    #[test]
    fn distance_counts_phone_edits_over_the_longer_word() {
        let ship = &words("ʃ ɪ p")[0];
        let sheep = &words("ʃ i p")[0];
        let shipping = &words("ʃ ɪ p ɪ ŋ")[0];
        assert_eq!(phone_distance(ship, ship), 0.0);
        assert!((phone_distance(ship, sheep) - 1.0 / 3.0).abs() < 1e-6);
        assert!((phone_distance(ship, shipping) - 2.0 / 5.0).abs() < 1e-6);
        assert_eq!(phone_distance(&[], &[]), 0.0);
        assert_eq!(phone_distance(ship, &[]), 1.0);
    }

    #[test]
    fn sounds_a_listener_accepts_are_equal_but_learner_contrasts_are_not() {
        // Reduced vowels and r-coloured variants match…
        assert_eq!(
            phone_distance(&words("ð ə")[0], &words("ð ɐ")[0]),
            0.0,
            "weak the"
        );
        assert_eq!(phone_distance(&words("f ɚ")[0], &words("f ɝ")[0]), 0.0);
        // …ɪ/i and l/ɹ do not.
        assert!(phone_distance(&words("l aɪ t")[0], &words("ɹ aɪ t")[0]) > 0.0);
        assert!(phone_distance(&words("l ɪ v")[0], &words("l i v")[0]) > 0.0);
    }

    #[test]
    fn identical_words_match_one_to_one() {
        let r = words("ð ə|k w ɪ k|f ɑ k s");
        let m = match_words(&r, &r);
        assert!(m.extra.is_empty());
        for (k, h) in m.reference.iter().enumerate() {
            assert_eq!(
                *h,
                Heard::As {
                    words: k..k + 1,
                    distance: 0.0
                }
            );
        }
    }

    #[test]
    fn a_minimal_pair_is_matched_to_its_word_with_a_small_distance() {
        let r = words("aɪ|s ɔ|ɐ|ʃ ɪ p|ɔ n|ð ə|s i");
        let t = words("aɪ|s ɔ|ɐ|ʃ i p|ɔ n|ð ə|s i");
        let m = match_words(&r, &t);
        assert_eq!(
            m.reference[3],
            Heard::As {
                words: 3..4,
                distance: 1.0 / 3.0
            }
        );
        assert!(m.extra.is_empty());
    }

    #[test]
    fn a_missing_word_is_not_heard_and_an_extra_one_is_placed_in_its_gap() {
        let r = words("ð ə|k w ɪ k|b ɹ aʊ n|f ɑ k s");
        let missing = words("ð ə|k w ɪ k|f ɑ k s");
        let m = match_words(&r, &missing);
        assert_eq!(m.reference[2], Heard::Not);
        assert_eq!(distance_of(&m.reference[3]), 0.0);

        let extra = words("ð ə|k w ɪ k|ɹ ɪ l i|b ɹ aʊ n|f ɑ k s");
        let m = match_words(&r, &extra);
        assert_eq!(m.extra, vec![(2, 2)]);
        assert!(m.reference.iter().all(|h| distance_of(h) == 0.0));

        let trailing = words("ð ə|k w ɪ k|b ɹ aʊ n|f ɑ k s|m eɪ b i");
        assert_eq!(match_words(&r, &trailing).extra, vec![(4, 4)]);
    }

    #[test]
    fn one_transcript_word_can_stand_for_two_reference_words() {
        let r = words("ɛ v ɹ i|d eɪ|w i");
        let t = words("ɛ v ɹ i d eɪ|w i");
        let m = match_words(&r, &t);
        let joined = Heard::As {
            words: 0..1,
            distance: 0.0,
        };
        assert_eq!(m.reference[0], joined);
        assert_eq!(m.reference[1], joined);
        assert!(m.extra.is_empty());
        // And the other way round.
        let m = match_words(&t, &r);
        assert_eq!(
            m.reference[0],
            Heard::As {
                words: 0..2,
                distance: 0.0
            }
        );
    }

    #[test]
    fn disputed_phones_name_what_was_heard_instead() {
        let w = |s: &str| words(s).remove(0);
        let dispute = |phone: usize, heard: &[&str]| Dispute {
            phone,
            heard: heard.iter().map(|h| h.to_string()).collect(),
        };
        assert_eq!(
            disputed_phones(&w("ʃ ɪ p"), &w("ʃ i p")),
            vec![dispute(1, &["i"])]
        );
        // "news" heard as "new": the dropped /z/.
        assert_eq!(
            disputed_phones(&w("n u z"), &w("n u")),
            vec![dispute(2, &[])]
        );
        // "dog" heard as "dark": /g/ was heard as ɹ or k.
        let dark = disputed_phones(&w("d ɑ g"), &w("d ɑ ɹ k"));
        assert_eq!(dark.len(), 1);
        assert_eq!(dark[0].phone, 2);
        assert!(dark[0].heard.contains(&"k".to_owned()), "{dark:?}");
        assert!(dark[0].heard.contains(&"ɹ".to_owned()), "{dark:?}");
        // An added phone alone disputes its neighbours.
        assert_eq!(
            disputed_phones(&w("w ɔ k"), &w("w ɔ k s")),
            vec![dispute(2, &["s"])]
        );
        assert!(disputed_phones(&w("ð ə"), &w("ð ɐ")).is_empty());
    }

    #[test]
    fn a_short_word_swallowed_by_its_neighbour_is_not_heard() {
        let r = words("ɪ n|ɐ|b ɪ g|s ɪ ɾ i");
        let t = words("ɪ n|b ɪ g|s ɪ ɾ i");
        let m = match_words(&r, &t);
        assert_eq!(m.reference[1], Heard::Not);
        assert_eq!(
            m.reference[2],
            Heard::As {
                words: 1..2,
                distance: 0.0
            }
        );
    }

    #[test]
    fn an_empty_transcript_hears_nothing() {
        let r = words("h ɛ l oʊ");
        let m = match_words(&r, &[]);
        assert_eq!(m.reference, vec![Heard::Not]);
        assert!(match_words(&[], &r).extra == vec![(0, 0)]);
    }
}
