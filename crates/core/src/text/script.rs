//! Which characters belong to scripts written without spaces between words.

/// Han, kana, Hangul is spaced so not included; Thai, Lao, Khmer and Myanmar
/// are unspaced. Used to join caption lines without inventing spaces.
pub fn is_unspaced_script(c: char) -> bool {
    matches!(c as u32,
        0x0E00..=0x0EFF        // Thai, Lao
        | 0x1000..=0x109F      // Myanmar
        | 0x1780..=0x17FF      // Khmer
        | 0x2E80..=0x2FDF      // CJK radicals
        | 0x3000..=0x303F      // CJK punctuation
        | 0x3040..=0x30FF      // Hiragana, Katakana
        | 0x3400..=0x4DBF      // CJK extension A
        | 0x4E00..=0x9FFF      // CJK unified ideographs
        | 0xF900..=0xFAFF      // CJK compatibility ideographs
        | 0xFF00..=0xFFEF      // full-width forms
        | 0x20000..=0x3FFFF    // CJK extensions B and beyond
    )
}

/// Wide characters count double toward a segment's length limit, since one
/// ideograph carries about as much speech as two Latin letters.
pub fn display_weight(c: char) -> usize {
    if is_unspaced_script(c)
        && !matches!(c as u32, 0x0E00..=0x0EFF | 0x1000..=0x109F | 0x1780..=0x17FF)
    {
        2
    } else {
        1
    }
}
