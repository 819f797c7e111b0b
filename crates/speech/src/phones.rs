//! Mapping espeak-ng's IPA onto the acoustic model's phone inventory.
//!
//! espeak-ng writes stress and length marks and ties (`ˈɔː`, `dʒ`) that the
//! model's CTC vocabulary spells differently (`ɔ`, `d͡ʒ`) or not at all. A
//! reference phone is scored against a small class of model tokens that a
//! listener would accept as the same sound (`ɚ`/`ɝ`, `ɡ`/`g`, flap `ɾ`/`t`/`d`)
//! while keeping the contrasts learners are judged on (ɪ/i, ʃ/s, l/ɹ, f/b).

/// Marks that carry no segment of their own.
const DROPPED: &[char] = &['ˈ', 'ˌ', 'ː', 'ˑ', '‿', '\u{329}', '\u{30D}', '-'];

/// Multi-character model tokens worth matching in English IPA, longest
/// first. (The vocabulary's Korean glide tokens like `ju` are left out on
/// purpose: the model emits English /ju/ as `j u`.)
const DIGRAPHS: &[&str] = &["d͡ʒ", "t͡ʃ", "aɪ", "aʊ", "eɪ", "oʊ", "ɔɪ"];

/// Splits an IPA word into model phone symbols.
pub fn tokenize_ipa(ipa: &str) -> Vec<String> {
    let normalised: String = ipa
        .replace("dʒ", "d͡ʒ")
        .replace("tʃ", "t͡ʃ")
        .replace('ᵻ', "ɪ")
        .replace('ɡ', "g")
        .replace('r', "ɹ")
        .chars()
        .filter(|c| !DROPPED.contains(c))
        .collect();
    let mut phones = Vec::new();
    let mut rest = normalised.as_str();
    while let Some(c) = rest.chars().next() {
        if let Some(d) = DIGRAPHS.iter().find(|d| rest.starts_with(**d)) {
            phones.push((*d).to_owned());
            rest = &rest[d.len()..];
        } else {
            if !c.is_whitespace() {
                phones.push(c.to_string());
            }
            rest = &rest[c.len_utf8()..];
        }
    }
    phones
}

/// The model tokens accepted for an expected phone (always includes itself).
pub fn accepted_tokens(expected: &str) -> Vec<&str> {
    let extra: &[&str] = match expected {
        // Schwa is the most variable vowel there is: "the" is ðə or ði,
        // "roses" ends in ɪz or əz. Any reduced vowel is fine.
        "ə" => &["ɐ", "ʌ", "ᵊ", "ɪ", "i", "ɨ"],
        "ɐ" => &["ə", "ʌ"],
        "ʌ" => &["ə", "ɐ"],
        "ɚ" => &["ɝ", "ɜ"],
        "ɜ" => &["ɝ", "ɚ"],
        "ɝ" => &["ɚ", "ɜ"],
        "g" => &["ɡ"],
        "ɹ" => &["r", "ɻ"],
        "ɾ" => &["t", "d"],
        "t" => &["tʰ"],
        "k" => &["kʰ"],
        "p" => &["pʰ"],
        "l" => &["ɫ"],
        // Most Americans merge cot and caught.
        "ɑ" => &["ɒ", "a", "ɔ"],
        "ɔ" => &["ɑ", "ɒ"],
        "ɪ" => &["ᵻ"],
        "oʊ" => &["o"],
        "eɪ" => &["e"],
        "ɛ" => &["e"],
        "u" => &["ʉ"],
        _ => &[],
    };
    std::iter::once(expected)
        .chain(extra.iter().copied())
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn tokenizes_espeak_ipa_into_model_symbols() {
        assert_eq!(tokenize_ipa("ʃˈɪp"), ["ʃ", "ɪ", "p"]);
        assert_eq!(tokenize_ipa("dʒˈʌmps"), ["d͡ʒ", "ʌ", "m", "p", "s"]);
        assert_eq!(tokenize_ipa("bɹˈaʊn"), ["b", "ɹ", "aʊ", "n"]);
        assert_eq!(tokenize_ipa("dˈɑːɡ"), ["d", "ɑ", "g"]);
        assert_eq!(tokenize_ipa("wˈɔːɾɚ"), ["w", "ɔ", "ɾ", "ɚ"]);
        assert_eq!(tokenize_ipa("juː"), ["j", "u"]);
    }

    #[test]
    fn accepted_tokens_keep_learner_contrasts() {
        assert!(!accepted_tokens("ɪ").contains(&"i"));
        assert!(!accepted_tokens("i").contains(&"ɪ"));
        assert!(accepted_tokens("ɾ").contains(&"t"));
        assert_eq!(accepted_tokens("ʃ"), ["ʃ"]);
    }
}
