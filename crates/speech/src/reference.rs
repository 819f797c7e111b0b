//! The reference: the words of the target sentence and their expected
//! phones, from espeak-ng's pronunciation rules and lexicon.

use std::io::Write;
use std::process::{Command, Stdio};

use crate::error::{Result, SpeechError};
use crate::phones::tokenize_ipa;

/// A word of the target text with its expected phones.
#[derive(Debug, Clone, PartialEq)]
pub struct ReferenceWord {
    /// As written (punctuation stripped).
    pub text: String,
    pub phones: Vec<String>,
    /// The text puts punctuation after this word, where a native speaker
    /// pauses (used for MissingBreak).
    pub break_after: bool,
}

/// Splits text into words, remembering where punctuation asks for a pause.
pub fn split_words(text: &str) -> Vec<(String, bool)> {
    text.split_whitespace()
        .filter_map(|raw| {
            let word: String = raw
                .chars()
                .filter(|c| c.is_alphanumeric() || *c == '\'' || *c == '’')
                .collect();
            let break_after = raw.ends_with([',', '.', ';', ':', '!', '?', '—']);
            (!word.is_empty()).then_some((word, break_after))
        })
        .collect()
}

/// espeak-ng's voice for a language tag ("en" means American English).
pub fn espeak_voice(lang: &str) -> String {
    match lang {
        "" | "en" => "en-us".to_owned(),
        other => other.to_ascii_lowercase(),
    }
}

fn espeak_ipa(voice: &str, input: &str) -> Result<String> {
    let tool = |detail: String| SpeechError::Tool {
        program: "espeak-ng",
        detail,
    };
    let mut child = Command::new("espeak-ng")
        .args(["-q", "--ipa", "-v", voice])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| tool(e.to_string()))?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin
            .write_all(input.as_bytes())
            .map_err(|e| tool(e.to_string()))?;
    }
    let out = child.wait_with_output().map_err(|e| tool(e.to_string()))?;
    if !out.status.success() {
        return Err(tool(String::from_utf8_lossy(&out.stderr).trim().to_owned()));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// How espeak-ng pronounces `text` in `lang` (a BCP 47 tag), as one line
/// of IPA with stress marks (`house` → `hˈaʊs`): what the dictionary shows
/// for a word its source gives no pronunciation for.
pub fn ipa(text: &str, lang: &str) -> Result<String> {
    let out = espeak_ipa(&espeak_voice(lang), text)?;
    Ok(out.split_whitespace().collect::<Vec<_>>().join(" "))
}

/// Looks up each word's phones. The whole sentence is read at once, so
/// words get their connected-speech forms (weak "a" `ɐ`, "for" `fɚ`). When
/// espeak-ng fuses words ("on the" → `ɔnðə`), each word is also read on its
/// own line, and the fused group is split between its words in proportion
/// to their citation lengths.
pub fn reference_words(text: &str, lang: &str) -> Result<Vec<ReferenceWord>> {
    let words = split_words(text);
    if words.is_empty() {
        return Err(SpeechError::EmptyReference);
    }
    let voice = espeak_voice(lang);
    let sentence: Vec<&str> = words.iter().map(|(w, _)| w.as_str()).collect();
    let joined = espeak_ipa(&voice, &sentence.join(" "))?;
    let groups: Vec<Vec<String>> = joined.split_whitespace().map(tokenize_ipa).collect();
    let phones = if groups.len() == words.len() {
        groups
    } else {
        let lines = espeak_ipa(&voice, &sentence.join("\n"))?;
        let citation: Vec<Vec<String>> = lines
            .lines()
            .map(|l| tokenize_ipa(&l.split_whitespace().collect::<String>()))
            .filter(|p| !p.is_empty())
            .collect();
        if citation.len() != words.len() {
            return Err(SpeechError::Tool {
                program: "espeak-ng",
                detail: format!(
                    "{} pronunciations for {} words",
                    citation.len(),
                    words.len()
                ),
            });
        }
        split_fused_groups(&groups, &citation)
    };
    Ok(words
        .into_iter()
        .zip(phones)
        .map(|((text, break_after), phones)| ReferenceWord {
            text,
            phones,
            break_after,
        })
        .collect())
}

/// Gives each connected-speech group a run of consecutive words (the
/// partition whose citation lengths best match the group lengths, by
/// dynamic programming), then splits each group's phones between its words
/// in proportion to their citation lengths. Falls back to citation forms
/// when groups outnumber words.
fn split_fused_groups(groups: &[Vec<String>], citation: &[Vec<String>]) -> Vec<Vec<String>> {
    let (m, n) = (groups.len(), citation.len());
    if m > n || m == 0 {
        return citation.to_vec();
    }
    // best[g][w]: least mismatch placing the first g groups on the first w
    // words; from[g][w]: where group g-1's run starts.
    let mut best = vec![vec![usize::MAX; n + 1]; m + 1];
    let mut from = vec![vec![0usize; n + 1]; m + 1];
    best[0][0] = 0;
    for g in 1..=m {
        for w in g..=n {
            for start in (g - 1)..w {
                if best[g - 1][start] == usize::MAX {
                    continue;
                }
                let len: usize = citation[start..w].iter().map(Vec::len).sum();
                let cost = best[g - 1][start] + len.abs_diff(groups[g - 1].len());
                if cost < best[g][w] {
                    best[g][w] = cost;
                    from[g][w] = start;
                }
            }
        }
    }
    let mut runs = vec![(0, 0); m];
    let mut w = n;
    for g in (1..=m).rev() {
        runs[g - 1] = (from[g][w], w);
        w = from[g][w];
    }
    let mut out = Vec::with_capacity(n);
    for (group, &(first, last)) in groups.iter().zip(&runs) {
        let lengths: Vec<usize> = citation[first..last].iter().map(Vec::len).collect();
        let total: usize = lengths.iter().sum::<usize>().max(1);
        let (mut taken, mut cumulative) = (0, 0);
        for (i, len) in lengths.iter().enumerate() {
            cumulative += len;
            let end = if first + i + 1 == last {
                group.len()
            } else {
                ((cumulative * group.len() + total / 2) / total).clamp(taken, group.len())
            };
            let part = group[taken..end].to_vec();
            // A word left with nothing keeps its citation form.
            out.push(if part.is_empty() {
                citation[first + i].clone()
            } else {
                part
            });
            taken = end;
        }
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn splits_words_and_notes_punctuation() {
        assert_eq!(
            split_words("Hello, world. It's  me!"),
            vec![
                ("Hello".to_owned(), true),
                ("world".to_owned(), true),
                ("It's".to_owned(), false),
                ("me".to_owned(), true),
            ]
        );
        assert!(split_words(" -- ").is_empty());
    }

    #[test]
    fn fused_words_fall_back_to_one_word_per_line() {
        // espeak-ng fuses "on the" in running speech.
        let words = reference_words("I saw a ship on the sea", "en").unwrap();
        assert_eq!(words.len(), 7);
        assert_eq!(words[3].phones, ["ʃ", "ɪ", "p"]);
        assert_eq!(words[4].text, "on");
        assert_eq!(words[4].phones, ["ɔ", "n"]);
        assert_eq!(words[5].phones, ["ð", "ə"]);
        // The weak form of "a" survives (citation form would be eɪ).
        assert_eq!(words[2].phones, ["ɐ"]);
    }

    #[test]
    fn fused_groups_split_in_proportion() {
        let v = |s: &[&str]| s.iter().map(|p| p.to_string()).collect::<Vec<_>>();
        let groups = vec![
            v(&["a"]),
            v(&["f", "ɚ", "ð", "ə"]),
            v(&["t", "ɛ", "s", "t"]),
        ];
        let citation = vec![
            v(&["a"]),
            v(&["f", "ɔ", "ɹ"]),
            v(&["ð", "ə"]),
            v(&["t", "ɛ", "s", "t"]),
        ];
        let split = split_fused_groups(&groups, &citation);
        assert_eq!(
            split,
            vec![
                v(&["a"]),
                v(&["f", "ɚ"]),
                v(&["ð", "ə"]),
                v(&["t", "ɛ", "s", "t"])
            ]
        );
    }

    #[test]
    fn minimal_pair_differs_in_its_vowel() {
        let words = reference_words("ship sheep", "en").unwrap();
        assert_ne!(words[0].phones, words[1].phones);
        assert_eq!(words[1].phones, ["ʃ", "i", "p"]);
    }

    #[test]
    fn empty_text_is_an_error() {
        assert!(matches!(
            reference_words("  ", "en"),
            Err(SpeechError::EmptyReference)
        ));
    }
}
