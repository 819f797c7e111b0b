//! What a learner sends about a saved word: where it was met, and review
//! answers, parsed once into values the rest of the code trusts.

use chrono::{DateTime, Duration, Utc};
use echoloop_core::review::{Rating, Review};
use echoloop_core::text::tokens::{TokenKind, tokenize};
use uuid::Uuid;

use super::{LanguageTag, Word};

/// The database's limit (`vocabulary_items.context_sentence`).
pub const MAX_SENTENCE_CHARS: usize = 2000;

/// The database's limit (`vocabulary_items.context_surface`).
pub const MAX_SURFACE_CHARS: usize = 200;

/// Where a saved word was met: the sentence, and optionally the form the
/// word was tapped in, the material, its segment and the time in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Context {
    pub sentence: String,
    /// A word of `sentence` (the core's tokens) whose lookup key is the
    /// item's word, as it stood there ("Running" for `running`).
    pub surface: Option<String>,
    pub material_id: Option<Uuid>,
    pub segment_id: Option<Uuid>,
    pub time_ms: Option<i64>,
}

impl Context {
    /// `Err((field, reason))`, the field relative to the context object.
    pub fn parse(
        sentence: &str,
        material_id: Option<Uuid>,
        segment_id: Option<Uuid>,
        time_ms: Option<i64>,
    ) -> Result<Self, (&'static str, String)> {
        let sentence = sentence.trim();
        if sentence.is_empty() {
            return Err(("sentence", "must not be empty".into()));
        }
        if sentence.chars().count() > MAX_SENTENCE_CHARS {
            return Err((
                "sentence",
                format!("must be at most {MAX_SENTENCE_CHARS} characters"),
            ));
        }
        if time_ms.is_some_and(|ms| ms < 0) {
            return Err(("time_ms", "must not be negative".into()));
        }
        if time_ms.is_some() && material_id.is_none() && segment_id.is_none() {
            return Err(("time_ms", "needs the material_id it is a time in".into()));
        }
        Ok(Context {
            sentence: sentence.to_owned(),
            surface: None,
            material_id,
            segment_id,
            time_ms,
        })
    }
}

/// The form the word was tapped in (trimmed): exactly the text of one of
/// the core's word tokens of `sentence` whose lookup key is `word`'s, so
/// another device finds and highlights it with the same tokens. Not a
/// case-insensitive substring: that would accept part of a word ("run" in
/// "Running") and, since normalising changes lengths (NFKC: `ﬁ` → `fi`),
/// could not say where in the sentence it stands. `Err(reason)`.
pub fn parse_surface(
    surface: &str,
    sentence: &str,
    word: &Word,
    language: &LanguageTag,
) -> Result<String, String> {
    let surface = surface.trim();
    if surface.is_empty() {
        return Err("must not be empty".into());
    }
    if surface.chars().count() > MAX_SURFACE_CHARS {
        return Err(format!("must be at most {MAX_SURFACE_CHARS} characters"));
    }
    let found = tokenize(sentence, Some(language.as_str()))
        .iter()
        .any(|token| {
            token.kind == TokenKind::Word
                && token.text == surface
                && token.key.as_deref() == Some(word.as_str())
        });
    if !found {
        return Err(format!(
            "must be a word of context.sentence whose lookup key is \"{}\"",
            word.as_str()
        ));
    }
    Ok(surface.to_owned())
}

/// The most reviews one request may carry (413 beyond).
pub const MAX_REVIEWS_PER_REQUEST: usize = 500;

/// How far ahead of the server's clock a device's review time may be.
pub const CLOCK_SKEW: Duration = Duration::minutes(5);

/// One review answer as sent; `Err((field, reason))`.
pub fn parse_review(
    id: Uuid,
    reviewed_at: DateTime<Utc>,
    rating: i64,
    now: DateTime<Utc>,
) -> Result<Review, (&'static str, String)> {
    let rating = u8::try_from(rating)
        .map_err(|_| String::new())
        .and_then(Rating::try_from)
        .map_err(|_| {
            (
                "rating",
                "must be 1 (again), 2 (hard), 3 (good) or 4 (easy)".to_owned(),
            )
        })?;
    if reviewed_at > now + CLOCK_SKEW {
        return Err((
            "reviewed_at",
            format!("is in the future ({reviewed_at}; the server's time is {now})"),
        ));
    }
    Ok(Review {
        id,
        reviewed_at_ms: reviewed_at.timestamp_millis(),
        rating,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_context_is_a_sentence_and_where_it_was_met() {
        let material = Uuid::new_v4();
        let context = Context::parse("  It's my house. ", Some(material), None, Some(0)).unwrap();
        assert_eq!(context.sentence, "It's my house.");
        assert_eq!(
            Context::parse(" ", None, None, None).unwrap_err().0,
            "sentence"
        );
        let long = "a".repeat(MAX_SENTENCE_CHARS + 1);
        assert_eq!(
            Context::parse(&long, None, None, None).unwrap_err().0,
            "sentence"
        );
        assert_eq!(
            Context::parse("a", Some(material), None, Some(-1))
                .unwrap_err()
                .0,
            "time_ms"
        );
        assert_eq!(
            Context::parse("a", None, None, Some(5)).unwrap_err().0,
            "time_ms"
        );
    }

    #[test]
    fn a_surface_is_a_word_of_the_sentence_keyed_as_the_item() {
        let en = LanguageTag::parse("en-US").unwrap();
        let word = |text: &str| Word::parse(text, &en).unwrap();
        let sentence = "Running is fun. Don\u{2019}t stop!";
        assert_eq!(
            parse_surface(" Running ", sentence, &word("running"), &en).unwrap(),
            "Running"
        );
        assert_eq!(
            parse_surface("Don\u{2019}t", sentence, &word("don't"), &en).unwrap(),
            "Don\u{2019}t"
        );
        for (surface, key) in [
            ("running", "running"), // not as it stands
            ("Run", "run"),         // part of a word
            ("Running", "fun"),     // another word's form
            ("is fun", "is"),       // two words
            ("Walking", "walking"), // not in the sentence
            (" ", "running"),
        ] {
            assert!(
                parse_surface(surface, sentence, &word(key), &en).is_err(),
                "{surface}"
            );
        }
        let long = "a".repeat(MAX_SURFACE_CHARS + 1);
        assert!(parse_surface(&long, &long, &word(&long[..200]), &en).is_err());
        let de = LanguageTag::parse("de").unwrap();
        let strasse = Word::parse("Straße", &de).unwrap();
        assert!(parse_surface("Straße", "Die Straße ist lang.", &strasse, &de).is_ok());
    }

    #[test]
    fn ratings_are_1_to_4_and_times_not_in_the_future() {
        let now = Utc::now();
        let id = Uuid::new_v4();
        for rating in 1..=4 {
            assert!(parse_review(id, now, rating, now).is_ok());
        }
        for rating in [0, 5, -1, 256 + 3] {
            assert_eq!(parse_review(id, now, rating, now).unwrap_err().0, "rating");
        }
        assert!(parse_review(id, now + Duration::minutes(4), 3, now).is_ok());
        assert_eq!(
            parse_review(id, now + Duration::minutes(6), 3, now)
                .unwrap_err()
                .0,
            "reviewed_at"
        );
    }
}
