//! A word as the dictionary and the vocabulary key it: the core's lookup
//! key (`House` → `house`: NFKC, lower case, one apostrophe), in the
//! language's primary subtag (`en-US` → `en`), so every spelling a learner
//! taps finds the one shared `word_cores` row.

use echoloop_core::text::normalise::lookup_key;

use super::LanguageTag;

/// The database's limit (`word_cores.word`).
pub const MAX_CHARS: usize = 200;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Word {
    text: String,
    language: String,
}

impl Word {
    pub fn parse(input: &str, language: &LanguageTag) -> Result<Self, String> {
        let text = lookup_key(input.trim(), Some(language.as_str()));
        if text.is_empty() {
            return Err("must not be empty".into());
        }
        if text.chars().count() > MAX_CHARS {
            return Err(format!("must be at most {MAX_CHARS} characters"));
        }
        if text.chars().any(char::is_control) {
            return Err("must not contain control characters".into());
        }
        Ok(Word {
            text,
            language: language.primary().to_owned(),
        })
    }

    /// The lookup key, as stored in `word_cores.word`.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The primary language subtag, as stored in `word_cores.language`.
    pub fn language(&self) -> &str {
        &self.language
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn word(input: &str, tag: &str) -> Result<Word, String> {
        Word::parse(input, &LanguageTag::parse(tag).unwrap())
    }

    #[test]
    fn is_keyed_in_lower_case_and_the_primary_language() {
        let house = word("  House ", "en-GB").unwrap();
        assert_eq!((house.as_str(), house.language()), ("house", "en"));
        assert_eq!(word("ＨＡＵＳ", "de").unwrap().as_str(), "haus");
        assert_eq!(word("don’t", "en").unwrap().as_str(), "don't");
    }

    #[test]
    fn empty_blank_and_over_long_words_are_refused() {
        assert!(word("", "en").is_err());
        assert!(word("   ", "en").is_err());
        assert!(word(&"a".repeat(MAX_CHARS + 1), "en").is_err());
        assert!(word(&"a".repeat(MAX_CHARS), "en").is_ok());
        assert!(word("a\u{7}b", "en").is_err());
    }
}
