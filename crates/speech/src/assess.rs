//! The built-in pronunciation assessor: reference phones (espeak-ng) →
//! phone posteriors (hama) → forced alignment with skip and garbage paths →
//! goodness of pronunciation per phone → word verdicts, fluency, prosody,
//! and optionally the shadowing comparison against the original clip.

use std::path::Path;

use echoloop_core::assessment::{Assessment, ErrorType, PhoneResult, Scores, WordResult};

use crate::acoustic::{AcousticModel, FRAME_MS, Posteriors, default_model_dir};
use crate::align::{AlignCosts, FrameScores, WordAlignment, align};
use crate::audio::{AudioStream, SAMPLE_RATE, decode_file};
use crate::error::{Result, SpeechError};
use crate::fluency::{self, WordTiming};
use crate::gop::{Calibration, ScoredFrame, log_sum_exp, score_phone};
use crate::phones::accepted_tokens;
use crate::reference::{ReferenceWord, reference_words};
use crate::shadowing::{self, TakeWord};
use crate::{pitch, prosody};

/// Below this word accuracy a spoken word is a Mispronunciation. (60 was
/// the design target; on the evaluation set 50 has the same recall with
/// fewer false alarms, see BENCHMARKS.md.)
pub const MISPRONOUNCED_BELOW: f32 = 50.0;
/// Garbage in a gap needs this many phones to count as an inserted word
/// (one stray phone is a hesitation or a breath, not a word).
const INSERTION_MIN_PHONES: usize = 2;

/// Weights of the overall score (Azure's PronScore weighting without
/// prosody is 0.6/0.2/0.2; we keep prosody at 0.2 and renormalise when the
/// take has too little voicing to judge it).
pub const WEIGHT_ACCURACY: f32 = 0.4;
pub const WEIGHT_FLUENCY: f32 = 0.2;
pub const WEIGHT_COMPLETENESS: f32 = 0.2;
pub const WEIGHT_PROSODY: f32 = 0.2;

/// The engine, with its model loaded once.
pub struct Assessor {
    model: AcousticModel,
    pub costs: AlignCosts,
    pub calibration: Calibration,
}

/// A reference word prepared for alignment.
struct Prepared {
    word: ReferenceWord,
    /// Phones the model can score, with their class index.
    phones: Vec<(String, usize)>,
}

impl Assessor {
    pub fn load(model_dir: &Path) -> Result<Self> {
        Ok(Self {
            model: AcousticModel::load(model_dir)?,
            costs: AlignCosts::default(),
            calibration: Calibration::builtin(),
        })
    }

    /// Loads the model from `ECHOLOOP_MODELS_DIR` or the nearest `models/`.
    pub fn load_default() -> Result<Self> {
        let dir = default_model_dir()
            .ok_or_else(|| SpeechError::Model("models/hama not found".into()))?;
        Self::load(&dir)
    }

    /// Assesses a 16 kHz mono take against `text`; with `original`, also
    /// compares it with the clip being shadowed.
    pub fn assess_samples(
        &self,
        take: &[f32],
        text: &str,
        lang: &str,
        original: Option<&[f32]>,
    ) -> Result<Assessment> {
        let (prepared, classes) = self.prepare(reference_words(text, lang)?);
        let posteriors = self.model.posteriors(take)?;
        let skip = [self.model.blank, self.model.word_boundary];
        let frame_scores = frame_scores(&posteriors, &classes, &skip);
        let scored: Vec<ScoredFrame<'_>> = posteriors
            .frames
            .iter()
            .zip(&frame_scores)
            .map(|(lp, fs)| ScoredFrame {
                log_probs: lp,
                phone_mass: fs.phone_mass,
            })
            .collect();

        let alignable: Vec<usize> = (0..prepared.len())
            .filter(|&i| !prepared[i].phones.is_empty())
            .collect();
        let word_classes: Vec<Vec<usize>> = alignable
            .iter()
            .map(|&i| prepared[i].phones.iter().map(|(_, c)| *c).collect())
            .collect();
        let reduced: Vec<FrameScores> = frame_scores.into_iter().map(|f| f.reduced).collect();
        let alignment = align(&reduced, &word_classes, &self.costs);

        // Word verdicts in reference order, with insertions at their gaps.
        let mut words: Vec<WordResult> = Vec::new();
        let mut timings: Vec<(usize, WordTiming)> = Vec::new();
        let mut insertions = 0;
        let mut aligned = alignable.iter().zip(&alignment.words).peekable();
        for (ref_index, prep) in prepared.iter().enumerate() {
            let gap = alignable.iter().position(|&i| i == ref_index);
            if let Some(gap) = gap
                && let Some(inserted) = self.inserted_word(&alignment.garbage, gap, &posteriors)
            {
                words.push(inserted);
                insertions += 1;
            }
            let Some((_, word_alignment)) = aligned.next_if(|(i, _)| **i == ref_index) else {
                // No phone the model knows: nothing to judge.
                words.push(unjudged(&prep.word.text));
                continue;
            };
            let result = match word_alignment {
                WordAlignment::Skipped => omitted(&prep.word.text),
                WordAlignment::Spoken { phones } => {
                    let phone_results: Vec<PhoneResult> = prep
                        .phones
                        .iter()
                        .zip(phones)
                        .map(|((symbol, class), span)| {
                            let s = score_phone(
                                &scored,
                                *span,
                                &classes[*class],
                                &self.model.vocab,
                                &skip,
                                self.calibration.offset(symbol),
                            );
                            PhoneResult {
                                expected: symbol.clone(),
                                accuracy: s.accuracy,
                                offset_ms: Some(frames_to_ms(span.start)),
                                duration_ms: Some(frames_to_ms(span.end - span.start)),
                                alternatives: s.alternatives,
                            }
                        })
                        .collect();
                    let accuracy = word_accuracy(&phone_results);
                    let start = phones.first().map_or(0, |p| p.start);
                    let end = phones.last().map_or(start, |p| p.end);
                    timings.push((
                        words.len(),
                        WordTiming {
                            start_ms: frames_to_ms(start),
                            end_ms: frames_to_ms(end),
                            phones: phone_results.len(),
                            break_after: prep.word.break_after,
                        },
                    ));
                    WordResult {
                        word: prep.word.text.clone(),
                        accuracy,
                        error: if accuracy < MISPRONOUNCED_BELOW {
                            ErrorType::Mispronunciation
                        } else {
                            ErrorType::None
                        },
                        prosody_errors: Vec::new(),
                        offset_ms: Some(frames_to_ms(start)),
                        duration_ms: Some(frames_to_ms(end - start)),
                        phones: phone_results,
                    }
                }
            };
            words.push(result);
        }
        if let Some(inserted) = self.inserted_word(&alignment.garbage, alignable.len(), &posteriors)
        {
            words.push(inserted);
            insertions += 1;
        }

        let spoken_timings: Vec<WordTiming> = timings.iter().map(|(_, t)| *t).collect();
        let fluency = fluency::judge(&spoken_timings, insertions);
        let contour = pitch::contour(take, (SAMPLE_RATE * FRAME_MS / 1000) as usize);
        let prosody = prosody::judge(
            &contour,
            fluency.break_errors,
            spoken_timings.len().saturating_sub(1),
        );
        for ((word_index, _), breaks) in timings.iter().zip(&fluency.breaks) {
            let word = &mut words[*word_index];
            word.prosody_errors.extend(breaks.iter().copied());
            if prosody.monotone {
                word.prosody_errors.push(ErrorType::Monotone);
            }
        }

        let scores = take_scores(&words, &prepared, fluency.score, prosody.score);
        let shadowing = original.map(|clip| {
            let take_words: Vec<TakeWord<'_>> = words
                .iter()
                .filter(|w| w.error != ErrorType::Omission && w.error != ErrorType::Insertion)
                .filter_map(|w| {
                    let start_ms = w.offset_ms?;
                    Some(TakeWord {
                        word: &w.word,
                        start_ms,
                        end_ms: start_ms + w.duration_ms.unwrap_or(0),
                    })
                })
                .collect();
            shadowing::compare(take, clip, &take_words)
        });
        Ok(Assessment {
            engine: "builtin-hama".to_owned(),
            scores,
            words,
            shadowing,
        })
    }

    /// Maps every reference phone to a class of model tokens; phones the
    /// model has no token for are left out of scoring.
    fn prepare(&self, words: Vec<ReferenceWord>) -> (Vec<Prepared>, Vec<Vec<usize>>) {
        let mut class_names: Vec<String> = Vec::new();
        let mut classes: Vec<Vec<usize>> = Vec::new();
        let prepared = words
            .into_iter()
            .map(|word| {
                let phones = word
                    .phones
                    .iter()
                    .filter_map(|symbol| {
                        if let Some(i) = class_names.iter().position(|n| n == symbol) {
                            return Some((symbol.clone(), i));
                        }
                        let tokens: Vec<usize> = accepted_tokens(symbol)
                            .into_iter()
                            .filter_map(|t| self.model.token_id(t))
                            .collect();
                        if tokens.is_empty() {
                            return None;
                        }
                        class_names.push(symbol.clone());
                        classes.push(tokens);
                        Some((symbol.clone(), classes.len() - 1))
                    })
                    .collect();
                Prepared { word, phones }
            })
            .collect();
        (prepared, classes)
    }

    /// The garbage in gap `gap`, if it sounds like a word. Runs in one gap
    /// are merged (blank frames split a spoken word into several runs), so a
    /// gap yields at most one insertion.
    fn inserted_word(
        &self,
        garbage: &[(usize, usize, usize)],
        gap: usize,
        posteriors: &Posteriors,
    ) -> Option<WordResult> {
        let runs: Vec<(usize, usize)> = garbage
            .iter()
            .filter(|(g, _, _)| *g == gap)
            .map(|&(_, s, e)| (s, e))
            .collect();
        let start = runs.iter().map(|r| r.0).min()?;
        let end = runs.iter().map(|r| r.1).max()?;
        let heard: Vec<String> = runs
            .iter()
            .flat_map(|&(s, e)| self.greedy_phones(&posteriors.frames[s..e]))
            .collect();
        (heard.len() >= INSERTION_MIN_PHONES).then(|| WordResult {
            word: format!("[{}]", heard.join("")),
            accuracy: 0.0,
            error: ErrorType::Insertion,
            prosody_errors: Vec::new(),
            offset_ms: Some(frames_to_ms(start)),
            duration_ms: Some(frames_to_ms(end - start)),
            phones: Vec::new(),
        })
    }

    /// CTC greedy decoding: best token per frame, repeats collapsed, blanks
    /// and word boundaries dropped.
    fn greedy_phones(&self, frames: &[Vec<f32>]) -> Vec<String> {
        let mut out = Vec::new();
        let mut previous = usize::MAX;
        for f in frames {
            let best = f
                .iter()
                .enumerate()
                .max_by(|a, b| a.1.total_cmp(b.1))
                .map_or(self.model.blank, |(i, _)| i);
            if best != previous && best != self.model.blank && best != self.model.word_boundary {
                out.push(self.model.vocab[best].clone());
            }
            previous = best;
        }
        out
    }
}

struct FrameInfo {
    reduced: FrameScores,
    phone_mass: f32,
}

fn frame_scores(posteriors: &Posteriors, classes: &[Vec<usize>], skip: &[usize]) -> Vec<FrameInfo> {
    posteriors
        .frames
        .iter()
        .map(|lp| {
            let phones = lp
                .iter()
                .enumerate()
                .filter(|(t, _)| !skip.contains(t))
                .map(|(_, v)| *v);
            let phone_mass = log_sum_exp(phones.clone());
            let best_phone = phones.fold(f32::NEG_INFINITY, f32::max);
            FrameInfo {
                reduced: FrameScores {
                    class: classes
                        .iter()
                        .map(|tokens| log_sum_exp(tokens.iter().map(|&t| lp[t])))
                        .collect(),
                    blank: log_sum_exp(skip.iter().map(|&t| lp[t])),
                    best_phone,
                },
                phone_mass,
            }
        })
        .collect()
}

fn frames_to_ms(frames: usize) -> u64 {
    frames as u64 * u64::from(FRAME_MS)
}

/// Half the mean, half the worst phone: one clearly wrong phone (a minimal
/// pair) must be able to sink a word, as a listener would hear it.
fn word_accuracy(phones: &[PhoneResult]) -> f32 {
    if phones.is_empty() {
        return 0.0;
    }
    let mean = phones.iter().map(|p| p.accuracy).sum::<f32>() / phones.len() as f32;
    let worst = phones
        .iter()
        .map(|p| p.accuracy)
        .fold(f32::INFINITY, f32::min);
    0.5 * mean + 0.5 * worst
}

fn omitted(word: &str) -> WordResult {
    WordResult {
        word: word.to_owned(),
        accuracy: 0.0,
        error: ErrorType::Omission,
        prosody_errors: Vec::new(),
        offset_ms: None,
        duration_ms: None,
        phones: Vec::new(),
    }
}

fn unjudged(word: &str) -> WordResult {
    WordResult {
        word: word.to_owned(),
        accuracy: 100.0,
        error: ErrorType::None,
        prosody_errors: Vec::new(),
        offset_ms: None,
        duration_ms: None,
        phones: Vec::new(),
    }
}

fn take_scores(
    words: &[WordResult],
    prepared: &[Prepared],
    fluency: f32,
    prosody: Option<f32>,
) -> Scores {
    let judged: Vec<&WordResult> = words
        .iter()
        .filter(|w| {
            w.error != ErrorType::Insertion && !(w.phones.is_empty() && w.error == ErrorType::None)
        })
        .collect();
    let reference_count = prepared
        .iter()
        .filter(|p| !p.phones.is_empty())
        .count()
        .max(1);
    let spoken: Vec<&&WordResult> = judged
        .iter()
        .filter(|w| w.error != ErrorType::Omission)
        .collect();
    let completeness = 100.0 * spoken.len() as f32 / reference_count as f32;
    let phone_total: usize = spoken.iter().map(|w| w.phones.len()).sum();
    let accuracy = if phone_total == 0 {
        0.0
    } else {
        spoken
            .iter()
            .map(|w| w.accuracy * w.phones.len() as f32)
            .sum::<f32>()
            / phone_total as f32
    };
    let (weighted, weight) = match prosody {
        Some(p) => (
            WEIGHT_ACCURACY * accuracy
                + WEIGHT_FLUENCY * fluency
                + WEIGHT_COMPLETENESS * completeness
                + WEIGHT_PROSODY * p,
            1.0,
        ),
        None => (
            WEIGHT_ACCURACY * accuracy
                + WEIGHT_FLUENCY * fluency
                + WEIGHT_COMPLETENESS * completeness,
            WEIGHT_ACCURACY + WEIGHT_FLUENCY + WEIGHT_COMPLETENESS,
        ),
    };
    // Nothing spoken is nothing to be fluent in.
    let fluency = if spoken.is_empty() { 0.0 } else { fluency };
    Scores {
        overall: if spoken.is_empty() {
            0.0
        } else {
            weighted / weight
        },
        accuracy,
        fluency,
        completeness,
        prosody,
    }
}

/// Decodes `from_ms..to_ms` of a (possibly long) file, streaming so that a
/// feature-length video costs no more memory than the clip.
pub fn decode_clip(path: &Path, from_ms: u64, to_ms: u64) -> Result<Vec<f32>> {
    let per_ms = u64::from(SAMPLE_RATE) / 1000;
    let (first, last) = ((from_ms * per_ms) as usize, (to_ms * per_ms) as usize);
    let mut clip = Vec::with_capacity(last.saturating_sub(first));
    let mut position = 0usize;
    for chunk in AudioStream::open(path)? {
        let chunk = chunk?;
        let (chunk_start, chunk_end) = (position, position + chunk.len());
        position = chunk_end;
        if chunk_end <= first {
            continue;
        }
        let from = first.saturating_sub(chunk_start);
        let to = (last - chunk_start).min(chunk.len());
        if from < to {
            clip.extend_from_slice(&chunk[from..to]);
        }
        if chunk_end >= last {
            break;
        }
    }
    Ok(clip)
}

/// Assesses a take file against `text`. `original` is the clip being
/// shadowed: (file, from_ms, to_ms). Loads the model on each call; servers
/// should keep an [`Assessor`].
pub fn assess(
    take_path: &Path,
    text: &str,
    lang: &str,
    original: Option<(&Path, u64, u64)>,
) -> Result<Assessment> {
    let assessor = Assessor::load_default()?;
    let take = decode_file(take_path)?;
    let clip = original
        .map(|(path, from, to)| decode_clip(path, from, to))
        .transpose()?;
    assessor.assess_samples(&take, text, lang, clip.as_deref())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn phone(accuracy: f32) -> PhoneResult {
        PhoneResult {
            expected: "a".into(),
            accuracy,
            offset_ms: None,
            duration_ms: None,
            alternatives: Vec::new(),
        }
    }

    #[test]
    fn one_wrong_phone_sinks_a_word_but_a_weak_one_does_not() {
        let minimal_pair = word_accuracy(&[phone(100.0), phone(5.0), phone(100.0)]);
        assert!(minimal_pair < MISPRONOUNCED_BELOW, "{minimal_pair}");
        let weak = word_accuracy(&[phone(100.0), phone(70.0), phone(100.0)]);
        assert!(weak >= MISPRONOUNCED_BELOW + 25.0, "{weak}");
    }

    #[test]
    fn an_assessor_can_be_shared_between_threads() {
        fn shareable<T: Send + Sync>() {}
        shareable::<Assessor>();
    }

    #[test]
    fn decode_clip_cuts_the_requested_span() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tone.wav");
        let status = std::process::Command::new("ffmpeg")
            .args([
                "-v",
                "error",
                "-y",
                "-f",
                "lavfi",
                "-i",
                "sine=frequency=300:duration=3",
            ])
            .args(["-ar", "44100"])
            .arg(&path)
            .status()
            .unwrap();
        assert!(status.success());
        let clip = decode_clip(&path, 1000, 1500).unwrap();
        assert_eq!(clip.len(), 8000);
        let beyond = decode_clip(&path, 2500, 9000).unwrap();
        assert_eq!(beyond.len(), 8000);
    }
}
