//! The transcript cross-check: what Whisper heard in a take, as words with
//! times and espeak-ng phones, matched to the reference words by sound
//! ([`crate::word_match`]).
//!
//! Whisper is not prompted with the reference text: a prompt would pull it
//! towards the words the learner should have said, and the point is to
//! learn what a listener who does not know the text would hear. Only
//! afterwards, for words the two listeners dispute, is it read the text
//! ([`weigh_near_misses`], [`said_though_unfound`]): a second question
//! whose answer is a comparison of two readings, not a transcript.

use std::ops::Range;
use std::path::PathBuf;
use std::sync::OnceLock;

use crate::error::{Result, SpeechError};
use crate::fusion::{CLOSE_DISTANCE, Transcribed};
use crate::reference::{ReferenceWord, reference_words, split_words};
use crate::whisper::{DecodeOptions, EncodedTake, EngineSettings, WhisperModel, catalog};
use crate::word_match::{Heard as Match, disputed_phones, match_words};

/// The Whisper models an assessor may use: tiny.en for English (fast),
/// base for other languages. Each is loaded on first use and kept; one
/// that is not installed means no cross-check for its languages.
pub struct TranscriptModels {
    /// Models directory to look in; `None`: the usual search
    /// (`ECHOLOOP_MODELS_DIR`, else the nearest `models/`).
    root: Option<PathBuf>,
    settings: EngineSettings,
    /// Encoder padding after a take ([`DecodeOptions::short_window_padding`]).
    padding: Option<usize>,
    english: OnceLock<Option<WhisperModel>>,
    multilingual: OnceLock<Option<WhisperModel>>,
}

impl TranscriptModels {
    /// Models found where `echoloop transcribe` finds them.
    pub fn installed() -> Self {
        Self::new(None)
    }

    /// Models under one models directory (`<root>/whisper-<name>/`).
    pub fn in_dir(root: impl Into<PathBuf>) -> Self {
        Self::new(Some(root.into()))
    }

    fn new(root: Option<PathBuf>) -> Self {
        Self {
            root,
            // One thread: Whisper runs beside the phone recogniser, and a
            // second thread of the matrix library only spins when the other
            // core is busy (tiny.en on a 4.5 s take on 2 loaded cores: 3.2 s
            // with two threads, 1.2 s with one).
            settings: EngineSettings {
                threads: 1,
                ..EngineSettings::default()
            },
            padding: Some(ENCODER_PADDING_FRAMES),
            english: OnceLock::new(),
            multilingual: OnceLock::new(),
        }
    }

    /// Encoder padding after the take, in 10 ms mel frames; `None`: the
    /// full 30-second window Whisper was trained on.
    pub fn with_encoder_padding(mut self, frames: Option<usize>) -> Self {
        self.padding = frames;
        self
    }

    pub fn encoder_padding(&self) -> Option<usize> {
        self.padding
    }

    /// The model for `lang` (a BCP 47 tag), loading it on first use;
    /// `None` when no suitable model is installed.
    pub fn for_language(&self, lang: &str) -> Result<Option<&WhisperModel>> {
        if primary_language(lang) == "en" {
            self.get(&self.english, &["tiny.en", "base"])
        } else {
            self.get(&self.multilingual, &["base"])
        }
    }

    fn get<'a>(
        &self,
        cell: &'a OnceLock<Option<WhisperModel>>,
        names: &[&str],
    ) -> Result<Option<&'a WhisperModel>> {
        if let Some(model) = cell.get() {
            return Ok(model.as_ref());
        }
        let found = names.iter().find_map(|name| {
            let dir = match &self.root {
                Some(root) => catalog::installed_in(root, name),
                None => catalog::installed_dir(name),
            };
            dir.map(|d| (*name, d))
        });
        // Loaded outside the cell so that a broken model is an error for
        // this call rather than a silent "not installed" for good; two
        // threads racing here each load one and one copy is dropped.
        let loaded = match found {
            Some((name, dir)) => Some(WhisperModel::load_dir(&dir, name, self.settings)?),
            None => None,
        };
        Ok(cell.get_or_init(|| loaded).as_ref())
    }
}

/// Frames (10 ms) of silence after a take that Whisper's encoder sees: the
/// take plus 10 s instead of a 30-second window, since the encoder's cost
/// grows with its input. Less is not enough: with 0–3 s the greedy decoder
/// repeats the sentence until its length limit (the transcript is then
/// rejected as repetitive), and with 5 s the evaluation's main set had 21
/// rejected transcripts instead of 5. Chosen on the main set among 5, 10
/// and 15 s (BENCHMARKS.md, "Speech").
pub const ENCODER_PADDING_FRAMES: usize = 1000;

/// "en-US" → "en".
fn primary_language(lang: &str) -> String {
    lang.split(['-', '_'])
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase()
}

/// What Whisper heard in a take.
#[derive(Debug, Clone)]
pub struct Heard {
    /// The model that listened (`tiny.en`, `base`).
    pub model: String,
    /// Words with something pronounceable in them, in order, as written
    /// (with their punctuation).
    pub words: Vec<String>,
    /// Their phones, read by espeak-ng as one sentence (as the reference is).
    pub phones: Vec<Vec<String>>,
}

/// The transcript set against the reference.
#[derive(Debug, Clone)]
pub struct CrossCheck {
    /// Per reference word.
    pub words: Vec<Transcribed>,
    /// Per reference word, the transcript words heard for it.
    pub heard_as: Vec<Option<Range<usize>>>,
    /// Transcript words that stand for no reference word, each with the
    /// reference word it comes before.
    pub extra: Vec<(usize, usize)>,
}

impl Heard {
    /// Matches the heard words to the reference words by sound.
    pub fn cross_check(&self, reference: &[ReferenceWord]) -> CrossCheck {
        let reference_phones: Vec<Vec<String>> =
            reference.iter().map(|w| w.phones.clone()).collect();
        let matched = match_words(&reference_phones, &self.phones);
        let mut words = Vec::with_capacity(reference.len());
        let mut heard_as = Vec::with_capacity(reference.len());
        for (word, m) in reference.iter().zip(&matched.reference) {
            match m {
                Match::Not => {
                    words.push(Transcribed::NotHeard);
                    heard_as.push(None);
                }
                Match::As {
                    words: range,
                    distance,
                } => {
                    let spelt_alike = range.len() == 1
                        && self
                            .words
                            .get(range.start)
                            .is_some_and(|w| same_spelling(w, &word.text));
                    words.push(if *distance == 0.0 || spelt_alike {
                        Transcribed::Same
                    } else {
                        let heard = self.phones[range.clone()].concat();
                        Transcribed::Other {
                            distance: *distance,
                            disputes: disputed_phones(&word.phones, &heard),
                        }
                    });
                    heard_as.push(Some(range.clone()));
                }
            }
        }
        CrossCheck {
            words,
            heard_as,
            extra: matched.extra,
        }
    }

    /// A transcript word as text, without punctuation.
    pub fn text(&self, index: usize) -> String {
        self.words
            .get(index)
            .map(|w| split_words(w).into_iter().map(|(t, _)| t).collect())
            .unwrap_or_default()
    }
}

/// The same word written the same way, whatever the case and punctuation
/// ("The" / "the,"): the same word even where espeak-ng reads it in another
/// form in the other sentence (weak "for" /fɚ/, strong /fɔɹ/).
fn same_spelling(a: &str, b: &str) -> bool {
    let letters = |s: &str| -> String {
        s.chars()
            .filter(|c| c.is_alphanumeric())
            .flat_map(char::to_lowercase)
            .collect()
    };
    letters(a) == letters(b)
}

/// What Whisper made of a take.
pub struct Listening {
    /// The words it heard; `None` when the transcript failed the tests on
    /// which faster-whisper would decode again at a higher temperature:
    /// text so repetitive it is hallucinated (a loop of "Thank you." over
    /// speech it cannot make out) or so improbable it is a guess ("I'll see
    /// you in the next video." for accented speech). Decoding again samples
    /// at random, and the same take must always get the same verdict, so
    /// such a transcript is not used at all.
    pub heard: Option<Heard>,
    /// The take's encoding, to read texts against ([`weigh_near_misses`],
    /// [`said_though_unfound`]); `None` when the take was not encoded
    /// (silence). Reading given texts is not a guess, so it stays usable
    /// when the free transcript was rejected.
    pub encoded: Option<EncodedTake>,
}

/// Transcribes a 16 kHz mono take and reads the words' phones, keeping the
/// take's encoding. `None` for a language Whisper does not know.
pub fn listen(
    model: &WhisperModel,
    take: &[f32],
    lang: &str,
    padding: Option<usize>,
) -> Result<Option<Listening>> {
    let options = DecodeOptions {
        short_window_padding: padding,
        language: Some(primary_language(lang)),
        temperatures: vec![0.0],
        // Only the words count here, not when they were said.
        word_timestamps: false,
        ..DecodeOptions::default()
    };
    let mut text = String::new();
    let mut failed = false;
    let transcribed = model.transcribe_take(take, &options, &mut |segment| {
        failed |= segment.compression_ratio > options.compression_ratio_threshold
            || segment.avg_logprob < options.log_prob_threshold;
        text.push_str(&segment.text);
        text.push(' ');
    });
    let encoded = match transcribed {
        // A language Whisper does not know: assess without it.
        Err(SpeechError::UnsupportedLanguage(_)) => return Ok(None),
        other => other?.1,
    };
    let heard = if failed {
        None
    } else {
        heard_words(model, &text, lang)?
    };
    Ok(Some(Listening { heard, encoded }))
}

/// The transcript's words and their phones; `None` when espeak-ng cannot
/// pronounce what was heard word by word (a stray symbol).
fn heard_words(model: &WhisperModel, text: &str, lang: &str) -> Result<Option<Heard>> {
    // Words that are only punctuation have nothing to pronounce.
    let words: Vec<String> = text
        .split_whitespace()
        .filter(|w| !split_words(w).is_empty())
        .map(str::to_owned)
        .collect();
    let phones = if words.is_empty() {
        Vec::new()
    } else {
        match reference_words(&words.join(" "), lang) {
            Ok(read) => read.into_iter().map(|w| w.phones).collect(),
            Err(SpeechError::Tool { .. } | SpeechError::EmptyReference) => return Ok(None),
            Err(e) => return Err(e),
        }
    };
    Ok(Some(Heard {
        model: model.name().to_owned(),
        words,
        phones,
    }))
}

/// Near misses Whisper gives up once it is told the sentence. A word
/// heard as a close other word ("height" for "night") is weighed again:
/// Whisper reads the reference sentence, and the sentence with the heard
/// word in its place, to the take (teacher forcing), and where the
/// reference reading is at least as probable the word counts as heard as
/// itself. The free transcript is one best guess, made before Whisper knew
/// what followed ("at the height"). On real speech the substitutions it
/// hears outweigh the reference by a factor of e^5 and more (BENCHMARKS.md,
/// "Speech"). Words heard as distant words are left alone: the heard word
/// is then no fair rival, and their verdict rests on the phone recogniser.
pub fn weigh_near_misses(
    model: &WhisperModel,
    take: &EncodedTake,
    lang: &str,
    reference: &[ReferenceWord],
    heard: &Heard,
    check: &mut CrossCheck,
) -> Result<()> {
    let near_misses: Vec<(usize, String)> = check
        .words
        .iter()
        .zip(&check.heard_as)
        .enumerate()
        .filter_map(
            |(index, (transcribed, heard_as))| match (transcribed, heard_as) {
                (Transcribed::Other { distance, .. }, Some(range))
                    if *distance <= CLOSE_DISTANCE =>
                {
                    let said: Vec<String> = range.clone().map(|k| heard.text(k)).collect();
                    Some((index, said.join(" ")))
                }
                _ => None,
            },
        )
        .collect();
    if near_misses.is_empty() || !model.can_score_texts() {
        return Ok(());
    }
    let words: Vec<&str> = reference.iter().map(|w| w.text.as_str()).collect();
    let as_heard: Vec<String> = near_misses
        .iter()
        .map(|(index, said)| {
            let mut reading = words.clone();
            reading[*index] = said;
            reading.join(" ")
        })
        .collect();
    let preferred = written_preferred(model, take, lang, &words.join(" "), &as_heard)?;
    for ((index, _), written) in near_misses.iter().zip(preferred) {
        if written {
            check.words[*index] = Transcribed::Same;
        }
    }
    Ok(())
}

/// Of reference words the alignment left out (`missing`, indices into
/// `reference`), those Whisper says were said: read the reference
/// sentence with and without the word, it finds the sentence with it at
/// least as probable. In the evaluation the words really left out are at
/// least e^1.2 more probable without (BENCHMARKS.md, "Speech"); a word
/// said too weakly or too differently for the phone recogniser to find
/// its phones (a weak "the", "big" as Spanish /βiɡ/) is not.
pub fn said_though_unfound(
    model: &WhisperModel,
    take: &EncodedTake,
    lang: &str,
    reference: &[ReferenceWord],
    missing: &[usize],
) -> Result<Vec<usize>> {
    if missing.is_empty() || !model.can_score_texts() {
        return Ok(Vec::new());
    }
    let words: Vec<&str> = reference.iter().map(|w| w.text.as_str()).collect();
    let without: Vec<String> = missing
        .iter()
        .map(|&index| {
            let mut reading = words.clone();
            reading.remove(index);
            reading.join(" ")
        })
        .collect();
    let preferred = written_preferred(model, take, lang, &words.join(" "), &without)?;
    Ok(missing
        .iter()
        .zip(preferred)
        .filter(|&(_, written)| written)
        .map(|(&index, _)| index)
        .collect())
}

/// For each of `others`, whether Whisper finds the `written` reading of
/// the take at least as probable.
fn written_preferred(
    model: &WhisperModel,
    take: &EncodedTake,
    lang: &str,
    written: &str,
    others: &[String],
) -> Result<Vec<bool>> {
    let mut readings = Vec::with_capacity(others.len() + 1);
    readings.push(written.to_owned());
    readings.extend_from_slice(others);
    let log_probs = model.text_log_probs(take, &primary_language(lang), &readings)?;
    let Some((&as_written, rest)) = log_probs.split_first() else {
        return Ok(Vec::new());
    };
    Ok(rest.iter().map(|&other| other <= as_written).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn word(text: &str, phones: &str) -> ReferenceWord {
        ReferenceWord {
            text: text.to_owned(),
            phones: phones.split_whitespace().map(str::to_owned).collect(),
            break_after: false,
        }
    }

    fn heard(words: &[(&str, &str)]) -> Heard {
        Heard {
            model: "test".to_owned(),
            words: words.iter().map(|(w, _)| (*w).to_owned()).collect(),
            phones: words
                .iter()
                .map(|(_, p)| p.split_whitespace().map(str::to_owned).collect())
                .collect(),
        }
    }

    #[test]
    fn the_cross_check_sorts_words_into_same_other_and_not_heard() {
        let reference = [
            word("I", "aɪ"),
            word("saw", "s ɔ"),
            word("a", "ɐ"),
            word("ship", "ʃ ɪ p"),
            word("for", "f ɚ"),
        ];
        // An extra "really" first, "a" swallowed, "ship" heard as "sheep",
        // "for" read in its strong form.
        let h = heard(&[
            ("Really", "ɹ i l i"),
            ("I", "aɪ"),
            ("saw", "s ɔ"),
            ("sheep", "ʃ i p"),
            ("for.", "f ɔ ɹ"),
        ]);
        let check = h.cross_check(&reference);
        assert_eq!(check.words[0], Transcribed::Same);
        assert_eq!(check.words[2], Transcribed::NotHeard);
        assert!(matches!(
            &check.words[3],
            Transcribed::Other { disputes, .. } if disputes.len() == 1 && disputes[0].phone == 1
        ));
        assert_eq!(check.words[4], Transcribed::Same);
        assert_eq!(check.extra, vec![(0, 0)]);
        assert_eq!(check.heard_as[3], Some(3..4));
        assert_eq!(h.text(4), "for");
    }

    #[test]
    fn spelling_ignores_case_and_punctuation() {
        assert!(same_spelling("The", "the,"));
        assert!(!same_spelling("ship", "sheep"));
    }

    #[test]
    fn language_tags_reduce_to_their_primary_subtag() {
        assert_eq!(primary_language("en-US"), "en");
        assert_eq!(primary_language("fr"), "fr");
    }
}
