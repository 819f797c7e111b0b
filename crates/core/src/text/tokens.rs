//! Splitting a segment's text into clickable words and the punctuation
//! between them, by Unicode word boundaries (UAX #29): "don't" stays one word,
//! "U.S." one word, and scripts without spaces split per ideograph or kana
//! run instead of forming one word per line.

use serde::{Deserialize, Serialize};
use unicode_segmentation::UnicodeSegmentation;

use super::normalise::lookup_key;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TokenKind {
    Word,
    Punctuation,
}

/// A word or punctuation run, with half-open offsets into the text in UTF-8
/// bytes (Rust), Unicode scalar values, and UTF-16 code units (JavaScript's
/// `String.prototype.slice`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Token {
    pub text: String,
    pub kind: TokenKind,
    pub byte_start: usize,
    pub byte_end: usize,
    pub char_start: usize,
    pub char_end: usize,
    pub utf16_start: usize,
    pub utf16_end: usize,
    /// The dictionary key; words only.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub key: Option<String>,
}

/// Tokens in text order; whitespace is not a token. Adjacent punctuation
/// (`...`, `?!`) forms one token.
pub fn tokenize(text: &str, language: Option<&str>) -> Vec<Token> {
    let mut tokens: Vec<Token> = Vec::new();
    let mut chars_before = 0;
    let mut utf16_before = 0;
    let mut counted_to = 0;
    for (byte_start, piece) in text.split_word_bound_indices() {
        let advance = &text[counted_to..byte_start];
        chars_before += advance.chars().count();
        utf16_before += advance.encode_utf16().count();
        counted_to = byte_start;
        if piece.chars().all(char::is_whitespace) {
            continue;
        }
        let kind = if piece.chars().any(char::is_alphanumeric) {
            TokenKind::Word
        } else {
            TokenKind::Punctuation
        };
        let (char_len, utf16_len) = (piece.chars().count(), piece.encode_utf16().count());
        let byte_end = byte_start + piece.len();
        if kind == TokenKind::Punctuation
            && let Some(previous) = tokens.last_mut()
            && previous.kind == TokenKind::Punctuation
            && previous.byte_end == byte_start
        {
            previous.text.push_str(piece);
            previous.byte_end = byte_end;
            previous.char_end += char_len;
            previous.utf16_end += utf16_len;
            continue;
        }
        tokens.push(Token {
            text: piece.to_owned(),
            kind,
            byte_start,
            byte_end,
            char_start: chars_before,
            char_end: chars_before + char_len,
            utf16_start: utf16_before,
            utf16_end: utf16_before + utf16_len,
            key: (kind == TokenKind::Word).then(|| lookup_key(piece, language)),
        });
    }
    tokens
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn texts(tokens: &[Token]) -> Vec<&str> {
        tokens.iter().map(|t| t.text.as_str()).collect()
    }

    #[test]
    fn words_and_punctuation_apart_with_offsets() {
        let tokens = tokenize("“Don’t go…” 😀 said Zoë.", Some("en"));
        assert_eq!(
            texts(&tokens),
            ["“", "Don’t", "go", "…”", "😀", "said", "Zoë", "."]
        );
        let zoe = &tokens[6];
        assert_eq!(
            (zoe.byte_start, zoe.char_start, zoe.utf16_start),
            (30, 19, 20)
        );
        assert_eq!(zoe.key.as_deref(), Some("zoë"));
        assert_eq!(tokens[1].key.as_deref(), Some("don't"));
        assert_eq!(tokens[4].kind, TokenKind::Punctuation);
    }

    #[test]
    fn unspaced_scripts_do_not_become_one_word() {
        assert!(tokenize("我们今天学习中文。", Some("zh")).len() > 3);
        assert!(tokenize("今日は日本語を勉強します。", Some("ja")).len() > 3);
        assert!(tokenize("ฉันชอบกินข้าวมาก", Some("th")).len() > 1);
    }
}
