//! FreeDict dictionaries as Debian ships them (`dict-freedict-*`): dictd
//! files, an `.index` of `headword TAB offset TAB length` (numbers in
//! dictd's base64) and a `.dict.dz` (dictzip: gzip with random access;
//! read whole here) of plain-text entries:
//!
//! ```text
//! go /ɡˈəʊ/ (went /wˈɛnt/ <>, gone /ɡˈɒn/ <>) <v>
//! gehen <v, intr>
//!       "Let's go!"  - Gehen wir!, Lass uns gehen!
//!  see: {going}, {gone}
//! ```
//!
//! The first line is the headword, its pronunciation and its part of
//! speech; lines at the margin (optionally numbered `1.`) are translations
//! with grammar in `<…>` and labels in `[…]`; indented lines are examples,
//! notes and cross-references. The whole file is read and checked before
//! anything is written, so a bad file changes nothing.

use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use echoloop_core::text::normalise::lookup_key;

use crate::domain::word::MAX_CHARS;

/// What went wrong, and where.
#[derive(Debug, thiserror::Error)]
pub enum FreedictError {
    #[error("cannot read {}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}:{line}: {reason}", path.display())]
    Index {
        path: PathBuf,
        line: usize,
        reason: String,
    },
    #[error("{}: {reason}", path.display())]
    Dict { path: PathBuf, reason: String },
}

/// One meaning group of a headword: its part of speech and translations,
/// most used first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sense {
    pub part_of_speech: Option<&'static str>,
    pub definitions: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Headword {
    /// The lookup key (`House` → `house`).
    pub word: String,
    pub ipa: Option<String>,
    pub senses: Vec<Sense>,
}

impl Headword {
    /// Every part of speech of its senses, sorted.
    pub fn parts_of_speech(&self) -> Vec<&'static str> {
        let mut parts: Vec<&'static str> = self
            .senses
            .iter()
            .filter_map(|sense| sense.part_of_speech)
            .collect();
        parts.sort_unstable();
        parts.dedup();
        parts
    }
}

#[derive(Debug, Default)]
pub struct Dictionary {
    /// In index order of their first entry.
    pub headwords: Vec<Headword>,
    /// Distinct entries read (an entry indexed under several keys counts once).
    pub entries: usize,
    /// Entries left out: no translation, or a headword longer than a word may be.
    pub skipped: usize,
}

/// The most definitions one sense keeps (`word_senses.definitions`).
const MAX_DEFINITIONS: usize = 500;

/// Reads `index` and the `.dict.dz` (or `.dict`) beside it.
pub fn read(index: &Path, language: &str) -> Result<Dictionary, FreedictError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| FreedictError::Io { path, source }
    };
    let index_text = std::fs::read(index).map_err(io(index))?;
    let dict_path = dict_path(index)?;
    let file = std::fs::File::open(&dict_path).map_err(io(&dict_path))?;
    let mut dict = Vec::new();
    if dict_path.extension().is_some_and(|ext| ext == "dz") {
        flate2::read::GzDecoder::new(file)
            .read_to_end(&mut dict)
            .map_err(|error| FreedictError::Dict {
                path: dict_path.clone(),
                reason: format!("not a readable dictzip/gzip file: {error}"),
            })?;
    } else {
        std::io::BufReader::new(file)
            .read_to_end(&mut dict)
            .map_err(io(&dict_path))?;
    }
    parse(index, &index_text, &dict_path, &dict, language)
}

/// `x.index` → `x.dict.dz`, else `x.dict`.
fn dict_path(index: &Path) -> Result<PathBuf, FreedictError> {
    let name = index
        .file_name()
        .and_then(|name| name.to_str())
        .unwrap_or_default();
    let Some(stem) = name.strip_suffix(".index") else {
        return Err(FreedictError::Dict {
            path: index.to_path_buf(),
            reason: "expected a dictd index named NAME.index (beside NAME.dict.dz)".into(),
        });
    };
    let compressed = index.with_file_name(format!("{stem}.dict.dz"));
    let plain = index.with_file_name(format!("{stem}.dict"));
    Ok(if !compressed.exists() && plain.exists() {
        plain
    } else {
        compressed
    })
}

/// Parses a whole dictionary held in memory.
pub fn parse(
    index_path: &Path,
    index: &[u8],
    dict_path: &Path,
    dict: &[u8],
    language: &str,
) -> Result<Dictionary, FreedictError> {
    let index_error = |line: usize, reason: String| FreedictError::Index {
        path: index_path.to_path_buf(),
        line,
        reason,
    };
    let text = std::str::from_utf8(index).map_err(|error| {
        let line = index[..error.valid_up_to()]
            .iter()
            .filter(|&&b| b == b'\n')
            .count()
            + 1;
        index_error(line, "not UTF-8 text".into())
    })?;
    let mut seen = std::collections::HashSet::new();
    let mut groups: HashMap<String, Group> = HashMap::new();
    let mut order: Vec<String> = Vec::new();
    let mut dictionary = Dictionary::default();
    for (number, line) in text.lines().enumerate() {
        let number = number + 1;
        if line.is_empty() {
            continue;
        }
        let (_, offset, length) =
            parse_index_line(line).map_err(|reason| index_error(number, reason))?;
        let end = offset
            .checked_add(length)
            .filter(|&end| end <= dict.len() as u64)
            .ok_or_else(|| {
                index_error(
                    number,
                    format!(
                        "entry at {offset}+{length} lies beyond the end of {} ({} bytes)",
                        dict_path.display(),
                        dict.len()
                    ),
                )
            })?;
        if !seen.insert(offset) {
            continue;
        }
        let bytes = &dict[offset as usize..end as usize];
        let entry = std::str::from_utf8(bytes).map_err(|_| {
            index_error(
                number,
                format!(
                    "the entry it points to in {} is not UTF-8 text",
                    dict_path.display()
                ),
            )
        })?;
        if entry.starts_with("00-database") || entry.starts_with("00database") {
            continue;
        }
        dictionary.entries += 1;
        let Some(entry) = parse_entry(entry) else {
            dictionary.skipped += 1;
            continue;
        };
        let key = lookup_key(&entry.headword, Some(language));
        if key.is_empty() || key.chars().count() > MAX_CHARS {
            dictionary.skipped += 1;
            continue;
        }
        let group = groups.entry(key.clone()).or_insert_with(|| {
            order.push(key);
            Group::default()
        });
        group.ipa = group.ipa.take().or(entry.ipa);
        group
            .entries
            .push((entry.part_of_speech, entry.examples, entry.translations));
    }
    dictionary.headwords = order
        .into_iter()
        .filter_map(|word| {
            let group = groups.remove(&word)?;
            Some(group.into_headword(word))
        })
        .collect();
    Ok(dictionary)
}

#[derive(Default)]
struct Group {
    ipa: Option<String>,
    /// (part of speech, examples, translations) per entry, in index order.
    entries: Vec<(Option<&'static str>, usize, Vec<String>)>,
}

impl Group {
    /// One sense per part of speech, in order of first appearance; within
    /// it, entries with more examples first (the usual meaning of a word
    /// has the most: `house` → Haus before Geschlecht), translations once.
    fn into_headword(mut self, word: String) -> Headword {
        self.entries
            .sort_by_key(|(_, examples, _)| std::cmp::Reverse(*examples));
        let mut senses: Vec<Sense> = Vec::new();
        for (part_of_speech, _, translations) in self.entries {
            let index = match senses
                .iter()
                .position(|sense| sense.part_of_speech == part_of_speech)
            {
                Some(index) => index,
                None => {
                    senses.push(Sense {
                        part_of_speech,
                        definitions: Vec::new(),
                    });
                    senses.len() - 1
                }
            };
            let definitions = &mut senses[index].definitions;
            for translation in translations {
                if definitions.len() < MAX_DEFINITIONS && !definitions.contains(&translation) {
                    definitions.push(translation);
                }
            }
        }
        Headword {
            word,
            ipa: self.ipa,
            senses,
        }
    }
}

/// `headword TAB offset TAB length`, numbers in dictd's base64 (`A`–`Z`,
/// `a`–`z`, `0`–`9`, `+`, `/`, most significant digit first).
pub fn parse_index_line(line: &str) -> Result<(&str, u64, u64), String> {
    let mut fields = line.split('\t');
    let (Some(headword), Some(offset), Some(length)) =
        (fields.next(), fields.next(), fields.next())
    else {
        return Err("expected headword, offset and length separated by tabs".into());
    };
    let offset = decode_number(offset).map_err(|reason| format!("offset: {reason}"))?;
    let length = decode_number(length).map_err(|reason| format!("length: {reason}"))?;
    Ok((headword, offset, length))
}

fn decode_number(digits: &str) -> Result<u64, String> {
    if digits.is_empty() {
        return Err("empty".into());
    }
    digits.chars().try_fold(0u64, |number, c| {
        let digit = match c {
            'A'..='Z' => c as u64 - 'A' as u64,
            'a'..='z' => c as u64 - 'a' as u64 + 26,
            '0'..='9' => c as u64 - '0' as u64 + 52,
            '+' => 62,
            '/' => 63,
            _ => return Err(format!("{digits:?} is not a dictd base64 number")),
        };
        number
            .checked_mul(64)
            .and_then(|n| n.checked_add(digit))
            .ok_or_else(|| format!("{digits:?} is too large"))
    })
}

/// One dictd entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// As written (`House`, `incriminate sb.`).
    pub headword: String,
    /// Without slashes.
    pub ipa: Option<String>,
    pub part_of_speech: Option<&'static str>,
    pub translations: Vec<String>,
    /// Example sentences given (how much the entry is used).
    pub examples: usize,
}

/// `None`: not an entry with translations (a cross-reference only, or empty).
pub fn parse_entry(text: &str) -> Option<Entry> {
    let mut lines = text.lines();
    let first = lines.by_ref().find(|line| !line.trim().is_empty())?;
    let (headword, ipa, part_of_speech) = parse_headword_line(first)?;
    let mut translations = Vec::new();
    let mut grammar = None;
    let mut examples = 0;
    for line in lines {
        let trimmed = line.trim();
        let indent = line.len() - line.trim_start().len();
        if trimmed.is_empty() {
            continue;
        }
        if trimmed.starts_with('"') {
            examples += 1;
            continue;
        }
        if indent >= 3 || is_label(trimmed) {
            continue;
        }
        let (items, pos) = parse_translations(strip_number(trimmed));
        grammar = grammar.or(pos);
        for item in items {
            if !translations.contains(&item) {
                translations.push(item);
            }
        }
    }
    if translations.is_empty() {
        return None;
    }
    Some(Entry {
        headword,
        ipa,
        part_of_speech: part_of_speech.or(grammar),
        translations,
        examples,
    })
}

/// `house /hˈaʊs/`, `go /ɡˈəʊ/ (went /wˈɛnt/ <>, …) <v>`, `cat <n>`.
fn parse_headword_line(line: &str) -> Option<(String, Option<String>, Option<&'static str>)> {
    let line = line.trim();
    let (headword, ipa, rest) = match line.find(" /") {
        Some(start) => {
            let after = &line[start + 2..];
            let end = after.find('/')?;
            let ipa = after[..end].trim();
            (
                &line[..start],
                (!ipa.is_empty()).then(|| ipa.to_owned()),
                &after[end + 1..],
            )
        }
        None => match top_level_find(line, '<') {
            Some(start) => (&line[..start], None, &line[start..]),
            None => (line, None, ""),
        },
    };
    let headword = collapse_whitespace(headword);
    if headword.is_empty() {
        return None;
    }
    // Inflections in parentheses carry their own `<>`; the part of speech
    // is the one outside them.
    let outside = remove_groups(rest, '(', ')');
    let part_of_speech = grammar_groups(&outside).find_map(part_of_speech);
    Some((headword, ipa, part_of_speech))
}

/// `see:`, `Note:`, `Synonyms:` and the like.
fn is_label(line: &str) -> bool {
    line.split_once(':').is_some_and(|(label, _)| {
        (2..=12).contains(&label.len()) && label.chars().all(|c| c.is_ascii_alphabetic())
    })
}

/// `1. Haus` → `Haus`.
fn strip_number(line: &str) -> &str {
    let digits = line.len() - line.trim_start_matches(|c: char| c.is_ascii_digit()).len();
    if digits > 0 && line[digits..].starts_with(". ") {
        line[digits + 2..].trim_start()
    } else {
        line
    }
}

/// `Haus <neut>, Gebäude <neut> [arch.]` → (`Haus`, `Gebäude`), noun.
fn parse_translations(line: &str) -> (Vec<String>, Option<&'static str>) {
    let part_of_speech = grammar_groups(line).find_map(part_of_speech);
    let plain = remove_groups(
        &remove_groups(&remove_groups(line, '<', '>'), '[', ']'),
        '{',
        '}',
    );
    let mut items = Vec::new();
    let mut depth = 0usize;
    let mut start = 0;
    for (at, c) in plain.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            ',' | ';' if depth == 0 => {
                items.push(&plain[start..at]);
                start = at + 1;
            }
            _ => {}
        }
    }
    items.push(&plain[start..]);
    let items = items
        .into_iter()
        .map(collapse_whitespace)
        .filter(|item| !item.is_empty() && !is_pronunciation(item))
        .collect();
    (items, part_of_speech)
}

/// `/ˈaɪ/`: a pronunciation among the translations.
fn is_pronunciation(item: &str) -> bool {
    item.len() > 1 && item.starts_with('/') && item.ends_with('/')
}

/// The contents of each `<…>`.
fn grammar_groups(text: &str) -> impl Iterator<Item = &str> {
    text.split('<')
        .skip(1)
        .filter_map(|part| part.split_once('>').map(|(inside, _)| inside))
}

/// A grammar note's part of speech: `v`, `v, intr` → verb; a German
/// noun's gender (`neut`, `masc`, `fem`, `pl`) → noun.
fn part_of_speech(grammar: &str) -> Option<&'static str> {
    grammar.split([',', ' ']).find_map(|tag| {
        Some(match tag.trim().trim_end_matches('.') {
            "n" | "noun" | "masc" | "fem" | "neut" | "m" | "f" | "nt" | "pl" | "plural" => "noun",
            "v" | "verb" | "vt" | "vi" | "trans" | "intr" | "refl" => "verb",
            "adj" | "a" | "adjective" => "adjective",
            "adv" | "adverb" => "adverb",
            "pron" | "pronoun" | "pers" => "pronoun",
            "prep" | "prp" | "preposition" => "preposition",
            "conj" | "conjunction" => "conjunction",
            "interj" | "int" | "intj" | "interjection" => "interjection",
            "num" | "numeral" => "numeral",
            "art" | "article" | "det" => "article",
            _ => return None,
        })
    })
}

/// `text` without its `open…close` groups (nested ones too).
fn remove_groups(text: &str, open: char, close: char) -> String {
    let mut out = String::with_capacity(text.len());
    let mut depth = 0usize;
    for c in text.chars() {
        if c == open {
            depth += 1;
        } else if c == close && depth > 0 {
            depth -= 1;
        } else if depth == 0 {
            out.push(c);
        }
    }
    out
}

/// Where `needle` first occurs outside parentheses.
fn top_level_find(text: &str, needle: char) -> Option<usize> {
    let mut depth = 0usize;
    for (at, c) in text.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            c if c == needle && depth == 0 => return Some(at),
            _ => {}
        }
    }
    None
}

fn collapse_whitespace(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// ISO 639-1 for the ISO 639-2/3 codes FreeDict names its pairs with
/// (`eng` → `en`); a code without a two-letter form is kept.
pub fn iso639_1(code: &str) -> &str {
    const CODES: &[(&str, &str)] = &[
        ("afr", "af"),
        ("ara", "ar"),
        ("bre", "br"),
        ("bul", "bg"),
        ("cat", "ca"),
        ("ces", "cs"),
        ("cym", "cy"),
        ("dan", "da"),
        ("deu", "de"),
        ("ell", "el"),
        ("eng", "en"),
        ("epo", "eo"),
        ("est", "et"),
        ("fin", "fi"),
        ("fra", "fr"),
        ("gla", "gd"),
        ("gle", "ga"),
        ("glg", "gl"),
        ("heb", "he"),
        ("hin", "hi"),
        ("hrv", "hr"),
        ("hun", "hu"),
        ("ind", "id"),
        ("isl", "is"),
        ("ita", "it"),
        ("jpn", "ja"),
        ("kur", "ku"),
        ("lat", "la"),
        ("lit", "lt"),
        ("lav", "lv"),
        ("mkd", "mk"),
        ("nld", "nl"),
        ("nno", "nn"),
        ("nob", "nb"),
        ("nor", "no"),
        ("pol", "pl"),
        ("por", "pt"),
        ("ron", "ro"),
        ("rus", "ru"),
        ("slk", "sk"),
        ("slv", "sl"),
        ("spa", "es"),
        ("sqi", "sq"),
        ("srp", "sr"),
        ("swa", "sw"),
        ("swe", "sv"),
        ("tha", "th"),
        ("tur", "tr"),
        ("ukr", "uk"),
        ("vie", "vi"),
        ("zho", "zh"),
    ];
    CODES
        .iter()
        .find(|(three, _)| three.eq_ignore_ascii_case(code))
        .map_or(code, |(_, two)| two)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const GO: &str = "go /ɡˈəʊ/ (went /wˈɛnt/ <>, gone /ɡˈɒn/ <>) <v>\n\
        gehen <v, intr>\n      \"Let's go!\"  - Gehen wir!, Lass uns gehen!\n      \"I go home.\"  - Ich gehe nach Hause.\n \
        see: {going}, {gone}\n\n";

    #[test]
    fn an_entry_gives_headword_pronunciation_part_of_speech_and_translations() {
        let entry = parse_entry(GO).unwrap();
        assert_eq!(entry.headword, "go");
        assert_eq!(entry.ipa.as_deref(), Some("ɡˈəʊ"));
        assert_eq!(entry.part_of_speech, Some("verb"));
        assert_eq!(entry.translations, ["gehen"]);
        assert_eq!(entry.examples, 2);
    }

    #[test]
    fn grammar_and_labels_are_dropped_and_a_gender_means_a_noun() {
        let entry = parse_entry(
            "run /ɹˈʌn/\n [Am.] Laufmasche <fem>, Fallmasche <fem> [textil.]\n   Synonym: {ladder}\n",
        )
        .unwrap();
        assert_eq!(entry.translations, ["Laufmasche", "Fallmasche"]);
        assert_eq!(entry.part_of_speech, Some("noun"));
        let entry = parse_entry(
            "incriminate sb. /ɪŋkɹˈɪmɪnˌeɪt ˌɛsbˈiː/\njdn. belasten, beschuldigen, inkriminieren <v, trans> [geh.]  [jur.]\n",
        )
        .unwrap();
        assert_eq!(entry.headword, "incriminate sb.");
        assert_eq!(
            entry.translations,
            ["jdn. belasten", "beschuldigen", "inkriminieren"]
        );
        assert_eq!(entry.part_of_speech, Some("verb"));
    }

    #[test]
    fn commas_inside_parentheses_do_not_split_a_translation() {
        let entry = parse_entry("fix /fˈɪks/\netw. (an, in) befestigen, fixieren\n").unwrap();
        assert_eq!(entry.translations, ["etw. (an, in) befestigen", "fixieren"]);
        assert_eq!(entry.part_of_speech, None);
    }

    #[test]
    fn headwords_with_parentheses_and_without_pronunciation_are_read() {
        let entry = parse_entry("match (up) the names /mˈatʃ ˌʌp ðə nˈeɪmz/\ndie Namen zuordnen\n")
            .unwrap();
        assert_eq!(entry.headword, "match (up) the names");
        let entry = parse_entry("chat <n, masc>\n1. cat\n2. tomcat, puss\n").unwrap();
        assert_eq!(entry.headword, "chat");
        assert_eq!(entry.ipa, None);
        assert_eq!(entry.part_of_speech, Some("noun"));
        assert_eq!(entry.translations, ["cat", "tomcat", "puss"]);
    }

    #[test]
    fn an_entry_without_translations_is_none() {
        assert_eq!(parse_entry("house /hˈaʊs/\n see: {houses}\n"), None);
        assert_eq!(parse_entry(""), None);
    }

    #[test]
    fn index_numbers_are_dictd_base64() {
        assert_eq!(
            parse_index_line("house\tBAK3S\tx").unwrap(),
            ("house", 16_821_714, 49)
        );
        assert_eq!(parse_index_line("a\tA\t/").unwrap(), ("a", 0, 63));
        assert!(parse_index_line("house BAK3S x").is_err());
        assert!(parse_index_line("house\tBA-K\tx").is_err());
        assert!(parse_index_line("house\t\tx").is_err());
        assert!(parse_index_line("house\t//////////////\tx").is_err());
    }

    fn dictionary(entries: &[(&str, &str)]) -> (Vec<u8>, Vec<u8>) {
        let mut dict = Vec::new();
        let mut index = String::new();
        let mut offsets = HashMap::new();
        for (key, text) in entries {
            let offset = *offsets.entry(*text).or_insert_with(|| {
                dict.extend_from_slice(text.as_bytes());
                dict.len() - text.len()
            });
            index.push_str(&format!(
                "{key}\t{}\t{}\n",
                encode(offset as u64),
                encode(text.len() as u64)
            ));
        }
        (index.into_bytes(), dict)
    }

    fn encode(mut n: u64) -> String {
        const DIGITS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut out = vec![DIGITS[(n % 64) as usize]];
        n /= 64;
        while n > 0 {
            out.push(DIGITS[(n % 64) as usize]);
            n /= 64;
        }
        out.reverse();
        String::from_utf8(out).unwrap()
    }

    fn parse_all(index: &[u8], dict: &[u8]) -> Result<Dictionary, FreedictError> {
        parse(
            Path::new("t.index"),
            index,
            Path::new("t.dict.dz"),
            dict,
            "en",
        )
    }

    #[test]
    fn entries_of_one_word_merge_by_part_of_speech_most_exemplified_first() {
        let (index, dict) = dictionary(&[
            ("00-database-info", "00-database-info\nabout\n"),
            ("house", "house /hˈaʊs/\nGeschlecht <neut>, Familie <fem>\n"),
            (
                "house",
                "House /hˈaʊs/\nHaus <neut>\n      \"build a house\"  - ein Haus bauen\n",
            ),
            ("house", "house /hˈaʊs/ <v>\nunterbringen <v, trans>\n"),
            ("house", "house /hˈaʊs/\n see: {houses}\n"),
            ("go", GO),
            ("went", GO),
        ]);
        let dictionary = parse_all(&index, &dict).unwrap();
        assert_eq!(
            dictionary.entries, 5,
            "the database entry and repeated offsets do not count"
        );
        assert_eq!(dictionary.skipped, 1);
        let house = &dictionary.headwords[0];
        assert_eq!(house.word, "house");
        assert_eq!(house.ipa.as_deref(), Some("hˈaʊs"));
        assert_eq!(
            house.senses,
            [
                Sense {
                    part_of_speech: Some("noun"),
                    definitions: vec!["Haus".into(), "Geschlecht".into(), "Familie".into()]
                },
                Sense {
                    part_of_speech: Some("verb"),
                    definitions: vec!["unterbringen".into()]
                },
            ]
        );
        assert_eq!(house.parts_of_speech(), ["noun", "verb"]);
        assert_eq!(dictionary.headwords[1].word, "go");
        assert_eq!(dictionary.headwords.len(), 2);
    }

    #[test]
    fn a_bad_index_line_is_named() {
        let (mut index, dict) = dictionary(&[("house", "house /hˈaʊs/\nHaus <neut>\n")]);
        index.extend_from_slice(b"broken line\n");
        let error = parse_all(&index, &dict).unwrap_err().to_string();
        assert!(error.starts_with("t.index:2: expected headword"), "{error}");
    }

    #[test]
    fn an_offset_beyond_the_dictionary_is_named() {
        let (index, dict) = dictionary(&[("house", "house /hˈaʊs/\nHaus <neut>\n")]);
        let error = parse_all(&index, &dict[..10]).unwrap_err().to_string();
        assert!(
            error.starts_with("t.index:1: entry at 0+")
                && error.contains("lies beyond the end of t.dict.dz (10 bytes)"),
            "{error}"
        );
    }

    #[test]
    fn text_that_is_not_utf8_is_named() {
        let error = parse_all(b"ok\tA\tB\n\xff\tA\tB\n", b"x\ny\n")
            .unwrap_err()
            .to_string();
        assert!(error.starts_with("t.index:2: not UTF-8"), "{error}");
        let (index, _) = dictionary(&[("house", "ab")]);
        let error = parse_all(&index, b"\xff\xfe").unwrap_err().to_string();
        assert!(
            error.contains("t.index:1: the entry it points to in t.dict.dz is not UTF-8"),
            "{error}"
        );
    }

    #[test]
    fn three_letter_codes_become_two_letter_ones() {
        assert_eq!(iso639_1("eng"), "en");
        assert_eq!(iso639_1("deu"), "de");
        assert_eq!(iso639_1("de"), "de");
        assert_eq!(iso639_1("yue"), "yue");
    }
}
