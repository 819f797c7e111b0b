//! The built-in pronunciation assessor: reference phones (espeak-ng) →
//! phone posteriors (hama) and, beside them, Whisper's transcript → forced
//! alignment with skip and garbage paths, biased by the transcript →
//! goodness of pronunciation per phone → word verdicts from both listeners
//! (`fusion.rs`), fluency, prosody, and optionally the shadowing comparison
//! against the original clip.

use std::path::Path;
use std::sync::Arc;

use echoloop_core::assessment::{Assessment, ErrorType, PhoneResult, Scores, WordResult};

use crate::acoustic::{AcousticModel, FRAME_MS, Posteriors, default_model_dir};
use crate::align::{
    AlignCosts, CostBias, FrameScores, PhoneSpan, WordAlignment, align, align_biased,
};
use crate::audio::{AudioStream, SAMPLE_RATE, decode_file};
use crate::error::{Result, SpeechError};
use crate::fluency::{self, WordTiming};
pub use crate::fusion::MISPRONOUNCED_BELOW;
use crate::fusion::{PRIOR_NATS, PhoneView, Transcribed, Verdict, spoken_word};
use crate::gop::{Calibration, FLOOR_NATS, ScoredFrame, log_sum_exp, score_phone};
use crate::phones::accepted_tokens;
use crate::prosody;
use crate::reference::{ReferenceWord, espeak_voice, reference_words};
use crate::renditions::{ExpectedGop, Rendition, Renditions, speak};
use crate::take_quality;
use crate::transcript_check::{
    CrossCheck, Heard, Listening, TranscriptModels, listen, said_though_unfound, weigh_near_misses,
};
use crate::whisper::{EncodedTake, WhisperModel};
use echoloop_core::audio::pitch;
use echoloop_core::shadowing::{self, TakeWord};

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

/// The engine, with its models loaded once.
pub struct Assessor {
    model: AcousticModel,
    pub costs: AlignCosts,
    pub calibration: Calibration,
    /// Whisper for the transcript cross-check; `None`: acoustic evidence only.
    transcript: Option<TranscriptModels>,
    /// Judge each phone also against how the phone recogniser hears it in
    /// espeak-ng's rendition of the same sentence ([`ExpectedGop`]).
    pub expected_gop: bool,
    /// espeak-ng voice variants (`m1`, `f1`, …) whose renditions join the
    /// language's own voice in the expected GOP: a phone is expected to be
    /// heard no better than in the rendition that hears it worst.
    pub rendition_variants: Vec<String>,
    /// Also compare a take much faster or slower than the rendition with a
    /// rendition at its own pace.
    pub pace_matched: bool,
    /// Renditions per (sentence, language, voice, pace), computed once.
    renditions: Renditions,
}

/// espeak-ng's default pace, words per minute.
const DEFAULT_WPM: u32 = 175;

/// The variants [`Assessor::rendition_variants`] starts with: two male
/// and two female voices, among the calibration's and none of the
/// evaluation's (eval/README.md).
const RENDITION_VARIANTS: &[&str] = &["m1", "f1", "m2", "f3"];

/// A take whose speech lasts outside this share of the rendition's (or
/// its inverse) is also compared with a rendition at its own pace.
const PACE_MATCHED: f32 = 0.85;

/// A reference word prepared for alignment.
struct Prepared {
    word: ReferenceWord,
    /// Phones the model can score, with their class index.
    phones: Vec<(String, usize)>,
    /// For each of the word's phones, its place in `phones` (`None`: the
    /// model has no token for it).
    scored: Vec<Option<usize>>,
}

/// Speech the alignment put in a gap between words, with what the phone
/// recogniser heard there.
/// Whisper's part of an assessment, from the thread it ran in.
struct Listened<'a> {
    model: &'a WhisperModel,
    /// The transcript and its match to the reference, if it passed its checks.
    heard: Option<(Heard, CrossCheck)>,
    encoded: Option<EncodedTake>,
}

struct Garbage {
    start: usize,
    end: usize,
    phones: Vec<String>,
}

impl Assessor {
    /// The acoustic model from `model_dir`, without the transcript
    /// cross-check (add it with [`Assessor::with_transcript`]).
    pub fn load(model_dir: &Path) -> Result<Self> {
        Ok(Self {
            model: AcousticModel::load(model_dir)?,
            costs: AlignCosts::default(),
            calibration: Calibration::builtin(),
            transcript: None,
            expected_gop: true,
            rendition_variants: RENDITION_VARIANTS.iter().map(|&v| v.to_owned()).collect(),
            pace_matched: true,
            renditions: Renditions::new(&model_dir.join(crate::acoustic::WEIGHTS))?,
        })
    }

    /// Loads the acoustic model from `ECHOLOOP_MODELS_DIR` or the nearest
    /// `models/`, and cross-checks with whichever Whisper models are
    /// installed there (each loaded on first use).
    pub fn load_default() -> Result<Self> {
        let dir = default_model_dir()
            .ok_or_else(|| SpeechError::Model("models/hama not found".into()))?;
        Ok(Self::load(&dir)?.with_transcript(Some(TranscriptModels::installed())))
    }

    /// Sets (or, with `None`, removes) the Whisper models of the transcript
    /// cross-check.
    pub fn with_transcript(mut self, models: Option<TranscriptModels>) -> Self {
        self.transcript = models;
        self
    }

    /// Assesses a 16 kHz mono take against `text`; with `original`, also
    /// compares it with the clip being shadowed. `engine` in the result
    /// names the evidence used: `builtin-hama`, or
    /// `builtin-hama+whisper-tiny.en` when Whisper's transcript was cross-checked
    /// or its reading of the sentence settled a word.
    pub fn assess_samples(
        &self,
        take: &[f32],
        text: &str,
        lang: &str,
        original: Option<&[f32]>,
    ) -> Result<Assessment> {
        let (prepared, classes) = self.prepare(reference_words(text, lang)?);
        let whisper = match &self.transcript {
            Some(models) => models
                .for_language(lang)?
                .map(|model| (model, models.encoder_padding())),
            None => None,
        };
        let reference: Vec<ReferenceWord> = prepared.iter().map(|p| p.word.clone()).collect();
        // Whisper and the phone recogniser are independent: run them side
        // by side.
        let (posteriors, listened, expected) = std::thread::scope(|scope| {
            let reference = &reference;
            let listening = whisper.map(|(model, padding)| {
                scope.spawn(move || -> Result<Option<Listened>> {
                    let Some(Listening { heard, encoded }) = listen(model, take, lang, padding)?
                    else {
                        return Ok(None);
                    };
                    let heard = match (heard, &encoded) {
                        (Some(heard), Some(encoded)) => {
                            let mut check = heard.cross_check(reference);
                            weigh_near_misses(model, encoded, lang, reference, &heard, &mut check)?;
                            Some((heard, check))
                        }
                        (Some(heard), None) => {
                            let check = heard.cross_check(reference);
                            Some((heard, check))
                        }
                        (None, _) => None,
                    };
                    Ok(Some(Listened {
                        model,
                        heard,
                        encoded,
                    }))
                })
            });
            let posteriors = self.model.posteriors(take);
            let expected = if self.expected_gop {
                self.expected_gop(text, lang, &prepared, &classes)
            } else {
                Ok(None)
            };
            let listened = listening
                .map(|h| {
                    h.join()
                        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
                })
                .transpose();
            (posteriors, listened, expected)
        });
        let (posteriors, listened, expected) = (posteriors?, listened?.flatten(), expected?);
        let (heard, check) = listened.as_ref().and_then(|l| l.heard.clone()).unzip();
        let transcribed: Vec<Transcribed> = match &check {
            Some(c) => c.words.clone(),
            None => vec![Transcribed::Unavailable; prepared.len()],
        };

        let skip = [self.model.blank, self.model.word_boundary];
        let frame_scores = frame_scores(&posteriors, &classes, &skip);
        let scored = scored_frames(&posteriors, &frame_scores);

        let alignable: Vec<usize> = (0..prepared.len())
            .filter(|&i| !prepared[i].phones.is_empty())
            .collect();
        // The alignment's gap j lies before alignable word j.
        let gap_before =
            |reference_index: usize| alignable.partition_point(|&i| i < reference_index);
        let word_classes: Vec<Vec<usize>> = alignable
            .iter()
            .map(|&i| prepared[i].phones.iter().map(|(_, c)| *c).collect())
            .collect();
        let mut bias = CostBias {
            skip: alignable
                .iter()
                .map(|&i| transcribed[i].skip_bias())
                .collect(),
            garbage_entry: vec![0.0; alignable.len() + 1],
        };
        if let Some(c) = &check {
            for &(_, before) in &c.extra {
                bias.garbage_entry[gap_before(before)] = -PRIOR_NATS;
            }
        }
        let reduced: Vec<FrameScores> = frame_scores.into_iter().map(|f| f.reduced).collect();
        let alignment = align_biased(&reduced, &word_classes, &self.costs, &bias);
        let garbage: Vec<Option<Garbage>> = (0..=alignable.len())
            .map(|gap| self.garbage_in(&alignment.garbage, gap, &posteriors))
            .collect();
        let mut consumed = vec![false; garbage.len()];

        // One spoken word judged against one expected GOP (`None`: the
        // native baseline alone).
        let judge_spoken = |prep: &Prepared,
                            phones: &[PhoneSpan],
                            in_rendition: Option<&[f32]>,
                            heard: &Transcribed|
         -> (WordResult, WordTiming) {
            let mut phone_results: Vec<PhoneResult> = prep
                .phones
                .iter()
                .zip(phones)
                .enumerate()
                .map(|(k, ((symbol, class), span))| {
                    // The lower of the native baseline and what
                    // the model made of this phone in the rendition.
                    let offset = match in_rendition.and_then(|r| r.get(k)) {
                        Some(&r) => self.calibration.offset(symbol).min(r.max(-FLOOR_NATS)),
                        None => self.calibration.offset(symbol),
                    };
                    let s = score_phone(
                        &scored,
                        *span,
                        &classes[*class],
                        &self.model.vocab,
                        &skip,
                        offset,
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
            let views: Vec<Option<PhoneView<'_>>> = prep
                .scored
                .iter()
                .map(|at| {
                    at.and_then(|k| phone_results.get(k)).map(|p| PhoneView {
                        accuracy: p.accuracy,
                        best: p.alternatives.first().map(|a| a.phone.as_str()),
                    })
                })
                .collect();
            let Verdict {
                error,
                accuracy,
                agreed_phones,
            } = spoken_word(word_accuracy(&phone_results), &views, heard);
            // Phones both listeners heard as another sound score
            // as errors.
            for k in agreed_phones.iter().filter_map(|&p| prep.scored[p]) {
                if let Some(p) = phone_results.get_mut(k) {
                    p.accuracy = p.accuracy.min(MISPRONOUNCED_BELOW - 1.0);
                }
            }
            let start = phones.first().map_or(0, |p| p.start);
            let end = phones.last().map_or(start, |p| p.end);
            let timing = WordTiming {
                start_ms: frames_to_ms(start),
                end_ms: frames_to_ms(end),
                phones: phone_results.len(),
                break_after: prep.word.break_after,
            };
            let result = WordResult {
                word: prep.word.text.clone(),
                accuracy,
                error,
                prosody_errors: Vec::new(),
                offset_ms: Some(frames_to_ms(start)),
                duration_ms: Some(frames_to_ms(end - start)),
                phones: phone_results,
            };
            (result, timing)
        };
        let mut wider: Option<Option<ExpectedGop>> = None;

        // Verdicts on the reference words the model can score.
        let mut judged: Vec<Option<(WordResult, Option<WordTiming>)>> = Vec::new();
        for (j, (&index, word_alignment)) in alignable.iter().zip(&alignment.words).enumerate() {
            let prep = &prepared[index];
            let result = match word_alignment {
                WordAlignment::Skipped => {
                    // Whisper heard a word here and the phone recogniser
                    // heard speech beside it that fits no reference word:
                    // something else was said in its place.
                    let said = !matches!(
                        transcribed[index],
                        Transcribed::Unavailable | Transcribed::NotHeard
                    );
                    let beside = [j, j + 1]
                        .into_iter()
                        .find(|&g| garbage[g].is_some() && !consumed[g]);
                    match (said, beside) {
                        (true, Some(g)) => {
                            // When Whisper also heard a word of its own in
                            // that gap, the speech holds both words ("be
                            // placed into" for "be into"): it stays free
                            // to be reported as that insertion too.
                            let extra_heard = check.as_ref().is_some_and(|c| {
                                c.extra.iter().any(|&(_, before)| gap_before(before) == g)
                            });
                            consumed[g] = !extra_heard;
                            garbage[g]
                                .as_ref()
                                .map(|speech| said_instead(prep, speech, &transcribed[index]))
                                .unwrap_or_else(|| (omitted(&prep.word.text), None))
                        }
                        _ => (omitted(&prep.word.text), None),
                    }
                }
                WordAlignment::Spoken { phones } => {
                    let row = |e: &ExpectedGop| e.get(j).cloned().flatten();
                    let usual = expected.as_ref().and_then(|e| row(&e.expected));
                    let (mut result, mut timing) =
                        judge_spoken(prep, phones, usual.as_deref(), &transcribed[index]);
                    // A word the usual rendition would call mispronounced
                    // is judged again against the wider set of renditions
                    // (other voices, the take's pace), computed once per
                    // take and only when needed: most takes never pay.
                    if result.error == ErrorType::Mispronunciation
                        && let Some(usual_rendition) = &expected
                    {
                        if wider.is_none() {
                            wider = Some(self.wider_expected(
                                text,
                                lang,
                                usual_rendition,
                                speech_span(&posteriors, self.model.blank),
                                &prepared,
                                &classes,
                            )?);
                        }
                        if let Some(Some(w)) = &wider {
                            (result, timing) =
                                judge_spoken(prep, phones, row(w).as_deref(), &transcribed[index]);
                        }
                    }
                    (result, Some(timing))
                }
            };
            judged.push(Some(result));
        }

        // Words the alignment left out that Whisper, read the sentence
        // with and without them, says were said: the listeners disagree.
        // Whisper's reading counts as evidence used even where its
        // transcript was rejected.
        let mut read_by_whisper = false;
        if let Some(Listened {
            model,
            encoded: Some(encoded),
            ..
        }) = &listened
        {
            // A word Whisper heard as another word is not weighed: its own
            // transcript has something else in that place, and reading the
            // sentence with the word would only ask which is better English
            // (a take with several errors lost two real omissions so).
            let missing: Vec<usize> = judged
                .iter()
                .zip(&alignable)
                .filter(|(r, _)| matches!(r, Some((w, _)) if w.error == ErrorType::Omission))
                .map(|(_, &index)| index)
                .filter(|&index| !matches!(transcribed[index], Transcribed::Other { .. }))
                .collect();
            for index in said_though_unfound(model, encoded, lang, &reference, &missing)? {
                if let Ok(j) = alignable.binary_search(&index) {
                    judged[j] = Some((unfound(&prepared[index]), None));
                    read_by_whisper = true;
                }
            }
        }

        // The result in reference order, with insertions at their gaps.
        let mut words: Vec<WordResult> = Vec::new();
        let mut timings: Vec<(usize, WordTiming)> = Vec::new();
        let mut insertions = 0;
        let mut insert = |gap: usize, words: &mut Vec<WordResult>| {
            let found = garbage[gap]
                .as_ref()
                .filter(|_| !consumed[gap])
                .and_then(|speech| {
                    let label = match (&check, &heard) {
                        (Some(c), Some(h)) => {
                            transcript_insertion(c, h, &alignable, &transcribed, gap, &gap_before)?
                        }
                        _ => format!("[{}]", speech.phones.join("")),
                    };
                    Some(inserted(label, speech))
                });
            if let Some(w) = found {
                words.push(w);
                insertions += 1;
            }
        };
        for (index, prep) in prepared.iter().enumerate() {
            let Ok(j) = alignable.binary_search(&index) else {
                // No phone the model knows: nothing to judge.
                words.push(unjudged(&prep.word.text));
                continue;
            };
            insert(j, &mut words);
            if let Some((result, timing)) = judged[j].take() {
                if let Some(t) = timing {
                    timings.push((words.len(), t));
                }
                words.push(result);
            }
        }
        insert(alignable.len(), &mut words);

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
        let take_issues = take_quality::issues(take, &posteriors, self.model.blank, &words);
        Ok(Assessment {
            engine: match (&heard, &listened) {
                (Some(h), _) => format!("builtin-hama+whisper-{}", h.model),
                (None, Some(l)) if read_by_whisper => {
                    format!("builtin-hama+whisper-{}", l.model.name())
                }
                _ => "builtin-hama".to_owned(),
            },
            scores,
            words,
            shadowing,
            take_issues,
        })
    }

    /// The expected GOP of `text` in the language's own voice at the usual
    /// pace; `None` when espeak-ng cannot speak it, in which case phones
    /// are judged by the baseline alone.
    fn expected_gop(
        &self,
        text: &str,
        lang: &str,
        prepared: &[Prepared],
        classes: &[Vec<usize>],
    ) -> Result<Option<Arc<Rendition>>> {
        self.rendition(
            text,
            lang,
            &espeak_voice(lang),
            DEFAULT_WPM,
            prepared,
            classes,
        )
    }

    /// The language's voice variants at the usual pace.
    fn variant_voices(&self, lang: &str) -> Vec<(String, u32)> {
        let voice = espeak_voice(lang);
        self.rendition_variants
            .iter()
            .map(|variant| (format!("{voice}+{variant}"), DEFAULT_WPM))
            .collect()
    }

    /// The usual rendition's expected GOP made lenient by the other
    /// voices' renditions and, when the take is much faster or slower, by
    /// one at the take's pace (`take_span`: frames of the take's speech).
    fn wider_expected(
        &self,
        text: &str,
        lang: &str,
        usual: &Rendition,
        take_span: usize,
        prepared: &[Prepared],
        classes: &[Vec<usize>],
    ) -> Result<Option<ExpectedGop>> {
        let mut others = self.variant_voices(lang);
        if self.pace_matched
            && let Some(wpm) = matched_pace(usual.speech_frames, take_span)
        {
            others.push((espeak_voice(lang), wpm));
        }
        if others.is_empty() {
            return Ok(None);
        }
        let mut gop = usual.expected.clone();
        for other in self.renditions_side_by_side(text, lang, &others, prepared, classes) {
            if let Some(other) = other? {
                gop = lenient(gop, &other.expected);
            }
        }
        Ok(Some(gop))
    }

    /// The renditions of `text` in `voices`, spoken and heard side by side,
    /// as many at a time as the phone recogniser hears at once (a long
    /// text's alignment holds a byte per frame and state for each).
    fn renditions_side_by_side(
        &self,
        text: &str,
        lang: &str,
        voices: &[(String, u32)],
        prepared: &[Prepared],
        classes: &[Vec<usize>],
    ) -> Vec<Result<Option<Arc<Rendition>>>> {
        let mut heard = Vec::with_capacity(voices.len());
        for batch in voices.chunks(self.model.at_once().max(1)) {
            std::thread::scope(|scope| {
                let running: Vec<_> = batch
                    .iter()
                    .map(|(voice, wpm)| {
                        scope.spawn(move || {
                            self.rendition(text, lang, voice, *wpm, prepared, classes)
                        })
                    })
                    .collect();
                heard.extend(running.into_iter().map(|h| {
                    h.join()
                        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
                }));
            });
        }
        heard
    }

    /// espeak-ng's rendition of `text` by `voice` at `wpm`, as the phone
    /// recogniser hears it (cached).
    fn rendition(
        &self,
        text: &str,
        lang: &str,
        voice: &str,
        wpm: u32,
        prepared: &[Prepared],
        classes: &[Vec<usize>],
    ) -> Result<Option<Arc<Rendition>>> {
        if let Some(found) = self.renditions.get(text, lang, voice, wpm) {
            return Ok(Some(found));
        }
        let Some(samples) = speak(text, voice, wpm)? else {
            return Ok(None);
        };
        let posteriors = self.model.posteriors(&samples)?;
        let rendition = Rendition {
            voice: voice.to_owned(),
            wpm,
            expected: self.rendition_gop(&posteriors, prepared, classes),
            speech_frames: speech_span(&posteriors, self.model.blank),
        };
        Ok(Some(self.renditions.insert(text, lang, rendition, true)))
    }

    /// Renders `text` in every voice a take of it may be judged against at
    /// the usual pace (the language's own voice and its variants; a take's
    /// own pace only its take tells), so that its first take is judged
    /// without waiting for them: a server prepares the sentence a learner
    /// is about to say. Returns how many were spoken (0: all known).
    pub fn prepare_renditions(&self, text: &str, lang: &str) -> Result<usize> {
        self.prepare_renditions_in(text, lang, &self.rendition_voices(lang))
    }

    /// [`Assessor::prepare_renditions`] for some of the voices (a caller
    /// that stops between batches of [`Assessor::renditions_at_once`]).
    pub fn prepare_renditions_in(
        &self,
        text: &str,
        lang: &str,
        voices: &[(String, u32)],
    ) -> Result<usize> {
        let (prepared, classes) = self.prepare(reference_words(text, lang)?);
        let before = self.renditions.spoken();
        for rendition in self.renditions_side_by_side(text, lang, voices, &prepared, &classes) {
            rendition?;
        }
        Ok((self.renditions.spoken() - before) as usize)
    }

    /// The voices and paces a sentence is prepared in: the language's own
    /// voice and its variants, at the usual pace.
    pub fn rendition_voices(&self, lang: &str) -> Vec<(String, u32)> {
        let mut voices = vec![(espeak_voice(lang), DEFAULT_WPM)];
        voices.extend(self.variant_voices(lang));
        voices
    }

    /// How many renditions a caller that prepares them in batches should
    /// ask for at once ([`AcousticModel::at_once`]).
    pub fn renditions_at_once(&self) -> usize {
        self.model.at_once()
    }

    /// The renditions of `text` this assessor holds, for a store that
    /// outlives it.
    pub fn renditions_of(&self, text: &str, lang: &str) -> Vec<Rendition> {
        self.renditions.of(text, lang)
    }

    /// Takes renditions of `text` from a store, made by an engine with the
    /// same [`Assessor::rendition_engine`]. One whose shape does not fit
    /// the sentence's words and phones, or whose numbers are not finite,
    /// is left out (and rendered again when needed). Returns how many
    /// were taken.
    pub fn adopt_renditions(
        &self,
        text: &str,
        lang: &str,
        renditions: Vec<Rendition>,
    ) -> Result<usize> {
        let (prepared, _) = self.prepare(reference_words(text, lang)?);
        let shape: Vec<usize> = prepared
            .iter()
            .filter(|p| !p.phones.is_empty())
            .map(|p| p.phones.len())
            .collect();
        let mut taken = 0;
        for rendition in renditions {
            let fits = rendition.expected.len() == shape.len()
                && rendition
                    .expected
                    .iter()
                    .zip(&shape)
                    .all(|(word, &phones)| {
                        word.as_ref().is_none_or(|ratios| {
                            ratios.len() == phones && ratios.iter().all(|r| r.is_finite())
                        })
                    });
            if fits {
                self.renditions.insert(text, lang, rendition, false);
                taken += 1;
            }
        }
        Ok(taken)
    }

    /// What makes renditions comparable: the phone recogniser's weights,
    /// espeak-ng's version and this crate's. A store keys renditions by it.
    pub fn rendition_engine(&self) -> &str {
        self.renditions.engine()
    }

    /// How many renditions this assessor has spoken rather than found.
    pub fn renditions_spoken(&self) -> u64 {
        self.renditions.spoken()
    }

    /// Per alignable word and scorable phone, the raw ratio the phone
    /// recogniser gives the phone in `rendition`.
    fn rendition_gop(
        &self,
        posteriors: &Posteriors,
        prepared: &[Prepared],
        classes: &[Vec<usize>],
    ) -> ExpectedGop {
        let skip = [self.model.blank, self.model.word_boundary];
        let infos = frame_scores(posteriors, classes, &skip);
        let scored = scored_frames(posteriors, &infos);
        let words: Vec<&Prepared> = prepared.iter().filter(|p| !p.phones.is_empty()).collect();
        let word_classes: Vec<Vec<usize>> = words
            .iter()
            .map(|p| p.phones.iter().map(|(_, c)| *c).collect())
            .collect();
        let reduced: Vec<FrameScores> = infos.into_iter().map(|f| f.reduced).collect();
        let alignment = align(&reduced, &word_classes, &self.costs);
        words
            .iter()
            .zip(&alignment.words)
            .map(|(prep, aligned)| match aligned {
                WordAlignment::Skipped => None,
                WordAlignment::Spoken { phones } => Some(
                    prep.phones
                        .iter()
                        .zip(phones)
                        .map(|((_, class), span)| {
                            score_phone(&scored, *span, &classes[*class], &[], &skip, 0.0).ratio
                        })
                        .collect(),
                ),
            })
            .collect()
    }

    /// Forgets the renditions of every sentence (timing the first take of
    /// a sentence).
    pub fn forget_renditions(&self) {
        self.renditions.clear();
    }

    /// Maps every reference phone to a class of model tokens; phones the
    /// model has no token for are left out of scoring.
    fn prepare(&self, words: Vec<ReferenceWord>) -> (Vec<Prepared>, Vec<Vec<usize>>) {
        let mut class_names: Vec<String> = Vec::new();
        let mut classes: Vec<Vec<usize>> = Vec::new();
        let prepared = words
            .into_iter()
            .map(|word| {
                let mut phones = Vec::new();
                let mut scored = Vec::with_capacity(word.phones.len());
                for symbol in &word.phones {
                    let class = match class_names.iter().position(|n| n == symbol) {
                        Some(i) => Some(i),
                        None => {
                            let tokens: Vec<usize> = accepted_tokens(symbol)
                                .into_iter()
                                .filter_map(|t| self.model.token_id(t))
                                .collect();
                            (!tokens.is_empty()).then(|| {
                                class_names.push(symbol.clone());
                                classes.push(tokens);
                                classes.len() - 1
                            })
                        }
                    };
                    scored.push(class.map(|_| phones.len()));
                    if let Some(class) = class {
                        phones.push((symbol.clone(), class));
                    }
                }
                Prepared {
                    word,
                    phones,
                    scored,
                }
            })
            .collect();
        (prepared, classes)
    }

    /// The garbage in gap `gap`, if it sounds like a word. Runs in one gap
    /// are merged (blank frames split a spoken word into several runs), so a
    /// gap holds at most one inserted word.
    fn garbage_in(
        &self,
        garbage: &[(usize, usize, usize)],
        gap: usize,
        posteriors: &Posteriors,
    ) -> Option<Garbage> {
        let runs: Vec<(usize, usize)> = garbage
            .iter()
            .filter(|(g, _, _)| *g == gap)
            .map(|&(_, s, e)| (s, e))
            .collect();
        let start = runs.iter().map(|r| r.0).min()?;
        let end = runs.iter().map(|r| r.1).max()?;
        let phones: Vec<String> = runs
            .iter()
            .flat_map(|&(s, e)| self.greedy_phones(&posteriors.frames[s..e]))
            .collect();
        (phones.len() >= INSERTION_MIN_PHONES).then_some(Garbage { start, end, phones })
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

/// Whisper's word for speech the alignment left between reference words:
/// a transcript word in that gap that stands for no reference word, or the
/// word heard for a neighbouring reference word when it sounds nothing like
/// it (the neighbour was then said too, and the transcript paired the two).
/// `None`: the transcript heard no word there, and the speech is not
/// reported.
fn transcript_insertion(
    check: &CrossCheck,
    heard: &Heard,
    alignable: &[usize],
    transcribed: &[Transcribed],
    gap: usize,
    gap_before: &dyn Fn(usize) -> usize,
) -> Option<String> {
    let extra = check
        .extra
        .iter()
        .find(|&&(_, before)| gap_before(before) == gap)
        .map(|&(word, _)| word);
    let neighbour = || {
        [gap.checked_sub(1), Some(gap)]
            .into_iter()
            .flatten()
            .filter_map(|j| alignable.get(j).copied())
            .find(|&index| transcribed[index].is_distant())
            .and_then(|index| check.heard_as[index].as_ref().map(|r| r.start))
    };
    extra.or_else(neighbour).map(|word| heard.text(word))
}

/// A reference word the alignment could not find where the phone
/// recogniser heard other speech and Whisper heard a word, timed by that
/// speech. Whisper heard another word: a Mispronunciation whose phones all
/// score 0. Whisper heard this word: not an error (the listeners disagree),
/// scored at the threshold as [`spoken_word`] scores such a word.
fn said_instead(
    prep: &Prepared,
    speech: &Garbage,
    transcribed: &Transcribed,
) -> (WordResult, Option<WordTiming>) {
    let (start_ms, end_ms) = (frames_to_ms(speech.start), frames_to_ms(speech.end));
    let (error, accuracy) = match transcribed {
        Transcribed::Same => (ErrorType::None, MISPRONOUNCED_BELOW),
        _ => (ErrorType::Mispronunciation, 0.0),
    };
    let result = WordResult {
        word: prep.word.text.clone(),
        accuracy,
        error,
        prosody_errors: Vec::new(),
        offset_ms: Some(start_ms),
        duration_ms: Some(end_ms - start_ms),
        phones: untimed_phones(prep, accuracy),
    };
    let timing = WordTiming {
        start_ms,
        end_ms,
        phones: prep.phones.len(),
        break_after: prep.word.break_after,
    };
    (result, Some(timing))
}

fn inserted(word: String, speech: &Garbage) -> WordResult {
    WordResult {
        word,
        accuracy: 0.0,
        error: ErrorType::Insertion,
        prosody_errors: Vec::new(),
        offset_ms: Some(frames_to_ms(speech.start)),
        duration_ms: Some(frames_to_ms(speech.end - speech.start)),
        phones: Vec::new(),
    }
}

/// Frames from the first to the last frame where a phone outweighs the
/// blank (0 when there is none).
fn speech_span(posteriors: &Posteriors, blank: usize) -> usize {
    take_quality::speech_bounds(posteriors, blank).map_or(0, |(first, last)| last + 1 - first)
}

/// Per phone the lower ratio of two renditions' (a phone is expected to be
/// heard no better than in the rendition that hears it worst).
fn lenient(a: ExpectedGop, b: &ExpectedGop) -> ExpectedGop {
    a.into_iter()
        .zip(b)
        .map(|(a, b)| match (a, b) {
            (Some(a), Some(b)) => Some(a.into_iter().zip(b).map(|(x, y)| x.min(*y)).collect()),
            (a, b) => a.or_else(|| b.clone()),
        })
        .collect()
}

/// The pace (words per minute, in steps of 25) of a take whose speech
/// lasts `take_span` frames against the usual rendition's `usual_span`;
/// `None` when it is near the usual pace.
fn matched_pace(usual_span: usize, take_span: usize) -> Option<u32> {
    if take_span == 0 || usual_span == 0 {
        return None;
    }
    let pace = usual_span as f32 / take_span as f32;
    if (PACE_MATCHED..=1.0 / PACE_MATCHED).contains(&pace) {
        return None;
    }
    let steps = (DEFAULT_WPM as f32 * pace / 25.0).round() as u32;
    Some((steps * 25).clamp(80, 450))
}

struct FrameInfo {
    reduced: FrameScores,
    phone_mass: f32,
}

/// Each frame's log-probabilities with its phone mass, for GOP.
fn scored_frames<'a>(posteriors: &'a Posteriors, infos: &[FrameInfo]) -> Vec<ScoredFrame<'a>> {
    posteriors
        .frames
        .iter()
        .zip(infos)
        .map(|(lp, fs)| ScoredFrame {
            log_probs: lp,
            phone_mass: fs.phone_mass,
        })
        .collect()
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

/// A reference word the alignment could not find but Whisper says was
/// said: not an error (the listeners disagree), scored at the threshold as
/// [`said_instead`] scores such a word, without timing.
fn unfound(prep: &Prepared) -> WordResult {
    WordResult {
        word: prep.word.text.clone(),
        accuracy: MISPRONOUNCED_BELOW,
        error: ErrorType::None,
        prosody_errors: Vec::new(),
        offset_ms: None,
        duration_ms: None,
        phones: untimed_phones(prep, MISPRONOUNCED_BELOW),
    }
}

/// A word's reference phones, each at `accuracy`, with no place in the
/// take: the phone recogniser found none of them.
fn untimed_phones(prep: &Prepared, accuracy: f32) -> Vec<PhoneResult> {
    prep.phones
        .iter()
        .map(|(symbol, _)| PhoneResult {
            expected: symbol.clone(),
            accuracy,
            offset_ms: None,
            duration_ms: None,
            alternatives: Vec::new(),
        })
        .collect()
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
/// shadowed: (file, from_ms, to_ms); `transcript`: cross-check with Whisper
/// when a model for the language is installed. Loads the models on each
/// call; servers should keep an [`Assessor`].
pub fn assess(
    take_path: &Path,
    text: &str,
    lang: &str,
    original: Option<(&Path, u64, u64)>,
    transcript: bool,
) -> Result<Assessment> {
    let mut assessor = Assessor::load_default()?;
    if !transcript {
        assessor = assessor.with_transcript(None);
    }
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

    #[test]
    fn a_take_near_the_usual_pace_needs_no_rendition_of_its_own() {
        assert_eq!(matched_pace(100, 100), None);
        assert_eq!(matched_pace(100, 90), None);
        assert_eq!(matched_pace(100, 115), None);
        assert_eq!(matched_pace(0, 100), None);
        assert_eq!(matched_pace(100, 0), None);
    }

    #[test]
    fn a_fast_or_slow_take_gets_a_rendition_at_its_pace() {
        // 1.5× faster: 175 × 1.5 = 262.5 → 275 in steps of 25.
        assert_eq!(matched_pace(150, 100), Some(275));
        // 0.7×: 122.5 → 125.
        assert_eq!(matched_pace(70, 100), Some(125));
        // Paces espeak-ng cannot make are clamped.
        assert_eq!(matched_pace(1000, 100), Some(450));
        assert_eq!(matched_pace(10, 100), Some(80));
    }

    #[test]
    fn the_lenient_expectation_is_the_worse_heard_rendition_per_phone() {
        let a: ExpectedGop = vec![Some(vec![-0.5, -2.0]), None, Some(vec![-1.0])];
        let b: ExpectedGop = vec![Some(vec![-1.5, -0.1]), Some(vec![-3.0]), None];
        assert_eq!(
            lenient(a, &b),
            vec![Some(vec![-1.5, -2.0]), Some(vec![-3.0]), Some(vec![-1.0])]
        );
    }

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
