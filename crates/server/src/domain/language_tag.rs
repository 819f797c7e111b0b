//! A BCP 47 language tag (RFC 5646) of the shape learners need:
//! `language[-script][-region][-variant...]`, e.g. `en`, `en-US`, `zh-Hant-TW`,
//! `pt-BR`, `yue`. The primary language must be a known ISO 639 code, so a
//! typo such as `xx` or `english` is refused. Stored in canonical case
//! (`zh-Hant-TW`: language lower, script title, region upper).

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LanguageTag(String);

/// The database's limit (`users_native_language_tag`).
const MAX_LEN: usize = 35;

/// ISO 639-1 (two letters), the complete list.
const ISO_639_1: &[&str] = &[
    "aa", "ab", "ae", "af", "ak", "am", "an", "ar", "as", "av", "ay", "az", "ba", "be", "bg", "bi",
    "bm", "bn", "bo", "br", "bs", "ca", "ce", "ch", "co", "cr", "cs", "cu", "cv", "cy", "da", "de",
    "dv", "dz", "ee", "el", "en", "eo", "es", "et", "eu", "fa", "ff", "fi", "fj", "fo", "fr", "fy",
    "ga", "gd", "gl", "gn", "gu", "gv", "ha", "he", "hi", "ho", "hr", "ht", "hu", "hy", "hz", "ia",
    "id", "ie", "ig", "ii", "ik", "io", "is", "it", "iu", "ja", "jv", "ka", "kg", "ki", "kj", "kk",
    "kl", "km", "kn", "ko", "kr", "ks", "ku", "kv", "kw", "ky", "la", "lb", "lg", "li", "ln", "lo",
    "lt", "lu", "lv", "mg", "mh", "mi", "mk", "ml", "mn", "mr", "ms", "mt", "my", "na", "nb", "nd",
    "ne", "ng", "nl", "nn", "no", "nr", "nv", "ny", "oc", "oj", "om", "or", "os", "pa", "pi", "pl",
    "ps", "pt", "qu", "rm", "rn", "ro", "ru", "rw", "sa", "sc", "sd", "se", "sg", "si", "sk", "sl",
    "sm", "sn", "so", "sq", "sr", "ss", "st", "su", "sv", "sw", "ta", "te", "tg", "th", "ti", "tk",
    "tl", "tn", "to", "tr", "ts", "tt", "tw", "ty", "ug", "uk", "ur", "uz", "ve", "vi", "vo", "wa",
    "wo", "xh", "yi", "yo", "za", "zh", "zu",
];

/// Three-letter ISO 639-2/3 codes for languages learners study that have no
/// two-letter code (BCP 47 uses the shortest code, so `eng` is not valid).
const ISO_639_3: &[&str] = &[
    "ast", "ceb", "chr", "ckb", "cmn", "fil", "gsw", "haw", "hak", "hmn", "ilo", "jbo", "kab",
    "lad", "lij", "lmo", "mai", "mni", "nan", "nap", "nds", "pap", "scn", "sco", "syc", "szl",
    "tok", "vec", "wuu", "yue", "zza",
];

impl LanguageTag {
    pub fn parse(input: &str) -> Result<Self, String> {
        let input = input.trim();
        if input.is_empty() {
            return Err("must not be empty".into());
        }
        if input.len() > MAX_LEN {
            return Err(format!("must be at most {MAX_LEN} characters"));
        }
        let mut subtags = input.split(['-', '_']);
        let language = subtags.next().unwrap_or_default().to_ascii_lowercase();
        let known = match language.len() {
            2 => ISO_639_1.contains(&language.as_str()),
            3 => ISO_639_3.contains(&language.as_str()),
            _ => false,
        };
        if !known || !language.chars().all(|c| c.is_ascii_lowercase()) {
            return Err(format!(
                "{language:?} is not a known ISO 639 language code (BCP 47, e.g. en, pt-BR, zh-Hant-TW)"
            ));
        }
        let mut canonical = language;
        // Order inside a tag is fixed: script, then region, then variants.
        let mut stage = 0;
        for subtag in subtags {
            let is_alpha = subtag.chars().all(|c| c.is_ascii_alphabetic());
            let is_digit = subtag.chars().all(|c| c.is_ascii_digit());
            let is_alnum = subtag.chars().all(|c| c.is_ascii_alphanumeric());
            let formatted = if stage < 1 && subtag.len() == 4 && is_alpha {
                stage = 1;
                let mut chars = subtag.chars();
                let first = chars
                    .next()
                    .map(|c| c.to_ascii_uppercase())
                    .unwrap_or_default();
                format!("{first}{}", chars.as_str().to_ascii_lowercase())
            } else if stage < 2
                && ((subtag.len() == 2 && is_alpha) || (subtag.len() == 3 && is_digit))
            {
                stage = 2;
                subtag.to_ascii_uppercase()
            } else if is_alnum
                && ((5..=8).contains(&subtag.len())
                    || (subtag.len() == 4 && subtag.starts_with(|c: char| c.is_ascii_digit())))
            {
                stage = 3;
                subtag.to_ascii_lowercase()
            } else {
                return Err(format!(
                    "{subtag:?} is not a valid script, region or variant subtag"
                ));
            };
            canonical.push('-');
            canonical.push_str(&formatted);
        }
        Ok(LanguageTag(canonical))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The language alone, without script, region or variants (`en-US` →
    /// `en`): what the dictionary is keyed by.
    pub fn primary(&self) -> &str {
        self.0.split('-').next().unwrap_or(&self.0)
    }
}

impl AsRef<str> for LanguageTag {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for LanguageTag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::LanguageTag;

    fn canonical(input: &str) -> String {
        LanguageTag::parse(input).unwrap().as_str().to_owned()
    }

    #[test]
    fn common_tags_are_accepted_in_canonical_case() {
        assert_eq!(canonical("en"), "en");
        assert_eq!(canonical("EN-us"), "en-US");
        assert_eq!(canonical("zh-hant-tw"), "zh-Hant-TW");
        assert_eq!(canonical("es-419"), "es-419");
        assert_eq!(canonical("yue"), "yue");
        assert_eq!(canonical("pt_BR"), "pt-BR");
        assert_eq!(canonical("de-CH-1901"), "de-CH-1901");
    }

    #[test]
    fn empty_is_rejected() {
        assert!(LanguageTag::parse("").is_err());
    }

    #[test]
    fn unknown_language_is_rejected() {
        assert!(LanguageTag::parse("xx").is_err());
        assert!(LanguageTag::parse("qqq").is_err());
    }

    #[test]
    fn language_names_are_rejected() {
        assert!(LanguageTag::parse("english").is_err());
    }

    #[test]
    fn three_letter_code_with_a_two_letter_equivalent_is_rejected() {
        assert!(LanguageTag::parse("eng").is_err());
    }

    #[test]
    fn malformed_subtags_are_rejected() {
        assert!(LanguageTag::parse("en-").is_err());
        assert!(LanguageTag::parse("en-U").is_err());
        assert!(LanguageTag::parse("en-US-US").is_err());
        assert!(LanguageTag::parse("en-toolongvariant").is_err());
        assert!(LanguageTag::parse("en US").is_err());
    }

    #[test]
    fn script_after_region_is_rejected() {
        assert!(LanguageTag::parse("zh-TW-Hant").is_err());
    }

    #[test]
    fn too_long_is_rejected() {
        assert!(LanguageTag::parse("de-CH-1901-abcdefgh-abcdefgh-abcdefgh").is_err());
    }
}
