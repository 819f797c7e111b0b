//! `--recorded`: real speech instead of synthesis, the English prompts of
//! `prompts.rs` (one professional US English speaker). The speaker makes
//! no errors, so the errors are made on the text side, as is usual for
//! mispronunciation-detection tests on native speech: the reference the
//! take is judged against is changed, the audio is not.
//!
//! - correct: the prompt against its own text;
//! - substitution: one word of the text replaced by a real English word
//!   (`/usr/share/dict/words`) whose espeak-ng phones differ from it in
//!   exactly one phone a listener would not accept as the same (the
//!   speaker said "that" where the reference wants "bat") → a
//!   Mispronunciation of that word;
//! - omission: a word added to the text that the speaker did not say;
//! - insertion: a word of three or more phones removed from the text, so
//!   the speaker said it in addition;
//! - a degradation ladder on every third prompt: its text, then
//!   cumulatively a substitution, an added word, a removed word and a
//!   second substitution.
//!
//! Every choice (which prompt, word, substitute) is a fixed function of the
//! prompt's position, so runs are comparable.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use echoloop_core::assessment::ErrorType;
use echoloop_speech::phones::{accepted_tokens, tokenize_ipa};
use echoloop_speech::reference::split_words;

use super::{Case, Error, prompts};

const LEXICON: &str = "/usr/share/dict/words";
/// Words the omission takes add to the text (not said by the speaker).
const ADDED: &[&str] = &["really", "yellow", "maybe", "quickly"];
/// Prompts of this many words are used: long enough to hold an error in
/// the middle, short enough to be one sentence or two.
const WORDS: std::ops::RangeInclusive<usize> = 4..=20;

/// A prompt: its audio (converted to WAV) and its words with the text's
/// pauses (word, punctuation after it).
struct Prompt {
    wav: PathBuf,
    words: Vec<(String, bool)>,
}

/// The prompts and their takes. Converts the G.722 files into `dir`.
pub fn cases(dir: &Path) -> Result<Vec<Case>, Error> {
    let prompts = prompts(dir)?;
    let lexicon = Lexicon::load()?;
    let mut out = Vec::new();
    for (pi, prompt) in prompts.iter().enumerate() {
        let w = &prompt.words;
        out.push(case("correct", prompt, w.clone(), None));
        if let Some((at, substitute)) = substitution(pi, w, &lexicon)? {
            let mut text = w.clone();
            text[at].0 = substitute;
            out.push(case(
                "substitution",
                prompt,
                text,
                Some((ErrorType::Mispronunciation, at)),
            ));
        }
        // Omission and insertion in turn, in the middle of the prompt.
        let middle = w.len() / 2;
        if pi % 2 == 0 {
            let mut text = w.clone();
            text.insert(middle, (ADDED[(pi / 2) % ADDED.len()].to_owned(), false));
            out.push(case(
                "omission",
                prompt,
                text,
                Some((ErrorType::Omission, middle)),
            ));
        } else if let Some(at) = removable(w, &lexicon, middle) {
            let mut text = w.clone();
            let (_, break_after) = text.remove(at);
            // The pause after the removed word now follows its neighbour.
            text[at - 1].1 |= break_after;
            out.push(case(
                "insertion",
                prompt,
                text,
                Some((ErrorType::Insertion, at)),
            ));
        }
        if pi % 3 == 0 {
            out.extend(ladder(pi, prompt, &lexicon)?);
        }
    }
    Ok(out)
}

/// The prompt's text made cumulatively worse, one error a step (fewer steps
/// when the prompt has no word left for one); degradation 1 is the text
/// itself.
fn ladder(pi: usize, prompt: &Prompt, lexicon: &Lexicon) -> Result<Vec<Case>, Error> {
    // (word, pause after it, already edited)
    let mut words: Vec<(String, bool, bool)> = prompt
        .words
        .iter()
        .map(|(w, pause)| (w.clone(), *pause, false))
        .collect();
    let plain = |words: &[(String, bool, bool)]| -> Vec<(String, bool)> {
        words.iter().map(|(w, p, _)| (w.clone(), *p)).collect()
    };
    let mut steps = vec![plain(&words)];
    let substitute = |words: &mut Vec<(String, bool, bool)>, salt: usize| -> Result<bool, Error> {
        let unedited: Vec<(String, bool)> = words
            .iter()
            .map(|(w, p, edited)| (if *edited { String::new() } else { w.clone() }, *p))
            .collect();
        Ok(match substitution(pi + salt, &unedited, lexicon)? {
            Some((at, word)) => {
                words[at] = (word, words[at].1, true);
                true
            }
            None => false,
        })
    };
    if substitute(&mut words, 0)? {
        steps.push(plain(&words));
    }
    let middle = words.len() / 2;
    words.insert(middle, (ADDED[pi % ADDED.len()].to_owned(), false, true));
    steps.push(plain(&words));
    let unedited: Vec<(String, bool)> = words
        .iter()
        .map(|(w, p, edited)| (if *edited { String::new() } else { w.clone() }, *p))
        .collect();
    if let Some(at) = removable(&unedited, lexicon, words.len() / 2) {
        let (_, pause, _) = words.remove(at);
        words[at - 1].1 |= pause;
        steps.push(plain(&words));
    }
    if substitute(&mut words, 1)? {
        steps.push(plain(&words));
    }
    Ok(steps
        .into_iter()
        .enumerate()
        .map(|(level, text)| {
            let mut c = case("ladder", prompt, text, None);
            c.degradation = level as u32 + 1;
            c
        })
        .collect())
}

fn case(
    kind: &'static str,
    prompt: &Prompt,
    words: Vec<(String, bool)>,
    error: Option<(ErrorType, usize)>,
) -> Case {
    let text = words
        .iter()
        .map(|(w, pause)| if *pause { format!("{w},") } else { w.clone() })
        .collect::<Vec<_>>()
        .join(" ");
    Case {
        kind,
        spoken: format!("(recorded) {}", prompt.wav.display()),
        text,
        voice: "Allison".into(),
        speed: 175,
        monotone: false,
        expected: error.iter().map(|(e, _)| *e).collect(),
        expected_at: error.iter().map(|(_, at)| *at).collect(),
        degradation: 0,
        recorded: Some(prompt.wav.clone()),
    }
}

fn prompts(dir: &Path) -> Result<Vec<Prompt>, Error> {
    let mut out = Vec::new();
    for prompt in prompts::plain("en")? {
        let words = split_words(&prompt.text);
        if WORDS.contains(&words.len()) {
            out.push(Prompt {
                wav: prompt.wav(dir)?,
                words,
            });
        }
    }
    Ok(out)
}

/// espeak-ng's citation phones of the lexicon's lower-case words, indexed
/// for one-phone substitutions.
struct Lexicon {
    phones: HashMap<String, Vec<String>>,
    /// The phones with one position replaced by `*` → the words.
    neighbours: HashMap<Vec<String>, Vec<String>>,
}

impl Lexicon {
    fn load() -> Result<Self, Error> {
        let list = std::fs::read_to_string(LEXICON)
            .map_err(|e| format!("{LEXICON}: {e} (apt-get install wamerican)"))?;
        let words: Vec<&str> = list
            .lines()
            .filter(|w| w.len() >= 3 && w.chars().all(|c| c.is_ascii_lowercase()))
            .collect();
        let phones = citation_phones(&words)?;
        let mut neighbours: HashMap<Vec<String>, Vec<String>> = HashMap::new();
        for (word, p) in &phones {
            for key in wildcards(p) {
                neighbours.entry(key).or_default().push(word.clone());
            }
        }
        for list in neighbours.values_mut() {
            list.sort();
        }
        Ok(Self { phones, neighbours })
    }

    /// Words whose phones differ from `word`'s in one phone a listener
    /// would not accept as the same, in alphabetical order.
    fn minimal_pairs(&self, word: &str) -> Vec<&str> {
        let Some(own) = self.phones.get(word) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for (i, key) in wildcards(own).into_iter().enumerate() {
            for other in self.neighbours.get(&key).into_iter().flatten() {
                let theirs = &self.phones[other];
                let (a, b) = (own[i].as_str(), theirs[i].as_str());
                if a != b && !accepted_tokens(a).contains(&b) && !accepted_tokens(b).contains(&a) {
                    out.push(other.as_str());
                }
            }
        }
        out.sort_unstable();
        out.dedup();
        out
    }
}

fn wildcards(phones: &[String]) -> Vec<Vec<String>> {
    (0..phones.len())
        .map(|i| {
            let mut key = phones.to_vec();
            key[i] = "*".into();
            key
        })
        .collect()
}

/// One espeak-ng run over all words, one per line (citation forms).
fn citation_phones(words: &[&str]) -> Result<HashMap<String, Vec<String>>, Error> {
    let mut child = Command::new("espeak-ng")
        .args(["-q", "--ipa", "-v", "en-us"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()?;
    let input = words.join("\n");
    let mut stdin = child.stdin.take().ok_or("espeak-ng has no stdin")?;
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let out = child.wait_with_output()?;
    writer.join().map_err(|_| "writing to espeak-ng failed")??;
    let lines: Vec<Vec<String>> = String::from_utf8(out.stdout)?
        .lines()
        .map(|l| tokenize_ipa(&l.split_whitespace().collect::<String>()))
        .filter(|p| !p.is_empty())
        .collect();
    if lines.len() != words.len() {
        return Err(format!(
            "espeak-ng gave {} pronunciations for {} words",
            lines.len(),
            words.len()
        )
        .into());
    }
    Ok(words.iter().map(|w| (*w).to_owned()).zip(lines).collect())
}

/// The word to replace and its substitute: among the prompt's words of
/// three or more letters that have a minimal pair, one chosen by the
/// prompt's position, and one of its pairs likewise.
fn substitution(
    prompt_index: usize,
    words: &[(String, bool)],
    lexicon: &Lexicon,
) -> Result<Option<(usize, String)>, Error> {
    let eligible: Vec<(usize, Vec<&str>)> = words
        .iter()
        .enumerate()
        .map(|(i, (w, _))| (i, lexicon.minimal_pairs(&w.to_lowercase())))
        .filter(|(_, pairs)| !pairs.is_empty())
        .collect();
    if eligible.is_empty() {
        return Ok(None);
    }
    let (at, pairs) = &eligible[(prompt_index * 7) % eligible.len()];
    let substitute = pairs[(prompt_index * 13) % pairs.len()];
    Ok(Some((*at, substitute.to_owned())))
}

/// A word of three or more phones, not first or last, nearest the middle.
fn removable(words: &[(String, bool)], lexicon: &Lexicon, middle: usize) -> Option<usize> {
    (1..words.len() - 1)
        .filter(|&i| {
            lexicon
                .phones
                .get(&words[i].0.to_lowercase())
                .is_some_and(|p| p.len() >= 3)
        })
        .min_by_key(|&i| i.abs_diff(middle))
}
