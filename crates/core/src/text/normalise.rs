//! Lookup keys: the form under which a word is stored and found in the
//! dictionary and vocabulary, whatever shape it had on screen.

use unicode_normalization::UnicodeNormalization;

/// Characters people and fonts use for the apostrophe in "don't" / "l'eau".
const APOSTROPHES: &[char] = &[
    '\u{2019}', '\u{2018}', '\u{02BC}', '\u{0060}', '\u{00B4}', '\u{FF07}', '\u{2032}',
];

/// NFKC (full-width letters and ligatures to their plain forms), apostrophes
/// unified to `'`, then lower case (Turkish and Azeri dotted/dotless i when
/// the language says so), then NFC.
pub fn lookup_key(word: &str, language: Option<&str>) -> String {
    let compatible: String = word
        .nfkc()
        .map(|c| if APOSTROPHES.contains(&c) { '\'' } else { c })
        .collect();
    let turkic = language.is_some_and(|tag| {
        let primary = tag.split(['-', '_']).next().unwrap_or_default();
        primary.eq_ignore_ascii_case("tr") || primary.eq_ignore_ascii_case("az")
    });
    let lowered: String = if turkic {
        compatible
            .chars()
            .flat_map(|c| match c {
                'I' => vec!['ı'],
                'İ' => vec!['i'],
                other => other.to_lowercase().collect(),
            })
            .collect()
    } else {
        compatible.to_lowercase()
    };
    lowered.nfc().collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn folds_case_width_and_apostrophes() {
        assert_eq!(lookup_key("Don\u{2019}t", None), "don't");
        assert_eq!(lookup_key("ＡＢＣ", None), "abc");
        assert_eq!(lookup_key("ﬁne", None), "fine");
        assert_eq!(lookup_key("Cafe\u{301}", Some("fr")), "café");
        assert_eq!(lookup_key("STRASSE", Some("de")), "strasse");
    }

    #[test]
    fn turkish_i() {
        assert_eq!(lookup_key("IŞIK", Some("tr")), "ışık");
        assert_eq!(lookup_key("İstanbul", Some("tr-TR")), "istanbul");
        assert_eq!(lookup_key("IRON", Some("en")), "iron");
    }
}
