//! The model's vocabulary (`vocabulary.txt`, one token per line, the id is
//! the line number): special token ids, and decoding of GPT-2 byte-level
//! BPE tokens back into text.
//!
//! Decoding is all Whisper needs from a tokenizer here (prompts are built
//! from ids the model produced, and CTranslate2 takes token strings), so a
//! 256-entry byte table replaces the `tokenizers` crate
//! (docs/decisions/0009-whisper-engine.md).

use std::collections::HashMap;
use std::path::Path;

use crate::error::{Result, SpeechError};

/// Characters `string.punctuation` holds; a token that is one of them is a
/// word of its own when words are split.
const ASCII_PUNCTUATION: &str = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~";

/// Languages written without spaces between words: split at characters.
const UNSPACED_LANGUAGES: [&str; 6] = ["zh", "ja", "th", "lo", "my", "yue"];

#[derive(Debug, Clone)]
pub struct Vocabulary {
    tokens: Vec<String>,
    ids: HashMap<String, usize>,
    /// GPT-2's printable stand-in character for each byte, inverted.
    byte_of: HashMap<char, u8>,
    pub eot: usize,
    pub sot: usize,
    pub sot_prev: usize,
    pub transcribe: usize,
    pub no_timestamps: usize,
    /// `<|0.00|>`; every id from here on is a timestamp (20 ms steps).
    pub timestamp_begin: usize,
}

/// GPT-2's `bytes_to_unicode`: printable bytes stand for themselves, the
/// others are shifted to 256 and up.
fn byte_table() -> HashMap<char, u8> {
    let printable = |b: u8| matches!(b, b'!'..=b'~' | 0xA1..=0xAC | 0xAE..=0xFF);
    let mut table = HashMap::with_capacity(256);
    let mut shifted = 0u32;
    for b in 0..=255u8 {
        let c = if printable(b) {
            char::from(b)
        } else {
            shifted += 1;
            char::from_u32(255 + shifted).unwrap_or(char::REPLACEMENT_CHARACTER)
        };
        table.insert(c, b);
    }
    table
}

impl Vocabulary {
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|source| SpeechError::Io {
            path: path.to_owned(),
            source,
        })?;
        Self::from_tokens(text.lines().map(str::to_owned).collect())
            .map_err(|e| SpeechError::Model(format!("{}: {e}", path.display())))
    }

    pub fn from_tokens(tokens: Vec<String>) -> std::result::Result<Self, String> {
        let ids: HashMap<String, usize> = tokens
            .iter()
            .enumerate()
            .map(|(id, t)| (t.clone(), id))
            .collect();
        let id = |t: &str| {
            ids.get(t)
                .copied()
                .ok_or_else(|| format!("the vocabulary has no {t} token"))
        };
        let vocab = Self {
            eot: id("<|endoftext|>")?,
            sot: id("<|startoftranscript|>")?,
            sot_prev: id("<|startofprev|>")?,
            transcribe: id("<|transcribe|>")?,
            no_timestamps: id("<|notimestamps|>")?,
            timestamp_begin: id("<|0.00|>")?,
            byte_of: byte_table(),
            tokens,
            ids,
        };
        Ok(vocab)
    }

    pub fn len(&self) -> usize {
        self.tokens.len()
    }

    pub fn is_empty(&self) -> bool {
        self.tokens.is_empty()
    }

    /// Multilingual models have 51865 tokens or more (English-only: 51864).
    pub fn is_multilingual(&self) -> bool {
        self.tokens.len() >= 51_865
    }

    pub fn token(&self, id: usize) -> Option<&str> {
        self.tokens.get(id).map(String::as_str)
    }

    pub fn id(&self, token: &str) -> Option<usize> {
        self.ids.get(token).copied()
    }

    /// `<|fr|>` for `fr`, if the model knows the language.
    pub fn language_token(&self, code: &str) -> Option<usize> {
        self.id(&format!("<|{code}|>"))
            .filter(|&id| id > self.sot && id < self.transcribe.min(self.sot_prev))
    }

    pub fn is_timestamp(&self, id: usize) -> bool {
        id >= self.timestamp_begin
    }

    /// The text of the text tokens among `ids` (specials and timestamps
    /// skipped), invalid UTF-8 shown as U+FFFD.
    pub fn decode(&self, ids: &[usize]) -> String {
        let mut bytes = Vec::new();
        for &id in ids.iter().filter(|&&id| id < self.eot) {
            self.push_bytes(id, &mut bytes);
        }
        String::from_utf8_lossy(&bytes).into_owned()
    }

    fn push_bytes(&self, id: usize, bytes: &mut Vec<u8>) {
        if let Some(token) = self.tokens.get(id) {
            for c in token.chars() {
                match self.byte_of.get(&c) {
                    Some(&b) => bytes.push(b),
                    None => {
                        let mut buf = [0u8; 4];
                        bytes.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                    }
                }
            }
        }
    }

    /// Groups tokens into pieces that decode to whole characters (a
    /// multi-byte character may span tokens). Special tokens are pieces of
    /// their own, written as their token string.
    pub fn split_on_unicode(&self, ids: &[usize]) -> Vec<(String, Vec<usize>)> {
        let mut pieces = Vec::new();
        let mut current: Vec<usize> = Vec::new();
        for &id in ids {
            if id >= self.eot {
                if !current.is_empty() {
                    let text = self.decode(&current);
                    pieces.push((text, std::mem::take(&mut current)));
                }
                pieces.push((self.token(id).unwrap_or_default().to_owned(), vec![id]));
                continue;
            }
            current.push(id);
            let text = self.decode(&current);
            if !text.contains(char::REPLACEMENT_CHARACTER) {
                pieces.push((text, std::mem::take(&mut current)));
            }
        }
        if !current.is_empty() {
            let text = self.decode(&current);
            pieces.push((text, current));
        }
        pieces
    }

    /// Words with the tokens that make them up, as faster-whisper splits
    /// them for word timestamps: a new word starts at a leading space, at a
    /// punctuation mark and at a special token; languages without spaces
    /// split at every character.
    pub fn split_to_words(&self, ids: &[usize], language: &str) -> Vec<(String, Vec<usize>)> {
        let pieces = self.split_on_unicode(ids);
        if UNSPACED_LANGUAGES.contains(&language) {
            return pieces;
        }
        let mut words: Vec<(String, Vec<usize>)> = Vec::new();
        for (text, tokens) in pieces {
            let special = tokens.first().is_some_and(|&t| t >= self.eot);
            let trimmed = text.trim();
            let punctuation = trimmed.is_empty() || ASCII_PUNCTUATION.contains(trimmed);
            let starts_word = special || text.starts_with(' ') || punctuation;
            match words.last_mut() {
                Some((word, word_tokens)) if !starts_word => {
                    word.push_str(&text);
                    word_tokens.extend(tokens);
                }
                _ => words.push((text, tokens)),
            }
        }
        words
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A tiny stand-in with the special tokens in Whisper's order.
    pub(crate) fn toy() -> Vocabulary {
        let mut tokens: Vec<String> = [
            "Hello", "Ġworld", ".", "Ġcaf", "Ã©", "Ġ(", "yes", ")", "Ġ", "ä¸", "Ń", "æĸĩ", "Ġit",
            "'s",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        for special in [
            "<|endoftext|>",
            "<|startoftranscript|>",
            "<|en|>",
            "<|fr|>",
            "<|translate|>",
            "<|transcribe|>",
            "<|startoflm|>",
            "<|startofprev|>",
            "<|nocaptions|>",
            "<|notimestamps|>",
        ] {
            tokens.push(special.to_owned());
        }
        for i in 0..=1500 {
            tokens.push(format!("<|{:.2}|>", f64::from(i) * 0.02));
        }
        match Vocabulary::from_tokens(tokens) {
            Ok(v) => v,
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn the_byte_table_is_gpt2s() {
        let t = byte_table();
        assert_eq!(t.len(), 256);
        assert_eq!(t[&'Ġ'], b' ');
        assert_eq!(t[&'Ċ'], b'\n');
        assert_eq!(t[&'A'], b'A');
        assert_eq!(t[&'Ã'], 0xC3);
        assert_eq!(t[&'©'], 0xA9);
        assert_eq!(t[&'Ń'], 0xAD);
    }

    #[test]
    fn special_ids_are_found_by_name() {
        let v = toy();
        assert_eq!(v.eot, 14);
        assert_eq!(v.sot, 15);
        assert_eq!(v.transcribe, 19);
        assert_eq!(v.sot_prev, 21);
        assert_eq!(v.no_timestamps, 23);
        assert_eq!(v.timestamp_begin, 24);
        assert_eq!(v.language_token("fr"), Some(17));
        assert_eq!(v.language_token("xx"), None);
        assert_eq!(v.language_token("transcribe"), None);
        assert!(!v.is_multilingual());
    }

    #[test]
    fn decoding_joins_bytes_and_skips_specials_and_timestamps() {
        let v = toy();
        let ts = v.timestamp_begin;
        assert_eq!(v.decode(&[ts, 0, 1, 2, ts + 50, v.eot]), "Hello world.");
        assert_eq!(v.decode(&[3, 4]), " café");
        // 中 is E4 B8 AD: split over two tokens; alone the first is invalid.
        assert_eq!(v.decode(&[8, 9, 10]), " 中");
        assert_eq!(v.decode(&[9]), "\u{FFFD}");
        assert_eq!(v.decode(&[]), "");
    }

    #[test]
    fn words_start_at_spaces_punctuation_and_specials() {
        let v = toy();
        let words = v.split_to_words(&[0, 1, 2, 3, 4, 5, 6, 7, 12, 13, v.eot], "en");
        let texts: Vec<&str> = words.iter().map(|(w, _)| w.as_str()).collect();
        assert_eq!(
            texts,
            // "yes" has no leading space: it continues " (" (punctuation
            // is merged into words later, in `words::merge_punctuation`).
            [
                "Hello",
                " world",
                ".",
                " café",
                " (yes",
                ")",
                " it's",
                "<|endoftext|>"
            ]
        );
        assert_eq!(words[3].1, vec![3, 4]);
        assert_eq!(words[6].1, vec![12, 13]);
    }

    #[test]
    fn multibyte_characters_spanning_tokens_stay_together() {
        let v = toy();
        let pieces = v.split_on_unicode(&[8, 9, 10, 11]);
        let texts: Vec<&str> = pieces.iter().map(|(w, _)| w.as_str()).collect();
        assert_eq!(texts, [" ", "中", "文"]);
        assert_eq!(pieces[1].1, vec![9, 10]);
        // Chinese is split by character, not by spaces.
        assert_eq!(v.split_to_words(&[9, 10, 11], "zh").len(), 2);
    }
}
