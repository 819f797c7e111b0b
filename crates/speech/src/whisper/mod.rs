//! Whisper transcription on CTranslate2 (`ct2rs::sys::Whisper`), window by
//! window as faster-whisper does it, in constant memory.
//!
//! Per 30-second window: log-mel features ([`mel`]) → encoder → (language
//! detection on the first window of a multilingual model) → beam search
//! with timestamp tokens, falling back to sampling at rising temperatures
//! when the text is repetitive or improbable → segments cut at the
//! timestamps ([`segments`]) → word times from the cross-attention
//! alignment ([`words`]) → the next window starts where the last complete
//! segment ended. Only the mel frames of the current window and the last
//! 223 tokens (the prompt) are held, however long the input.
//!
//! Beyond faster-whisper: silent windows are not decoded, segments in
//! silence are dropped, and word edges are moved off silence
//! ([`silence`]), which Whisper alone gets wrong.
//!
//! `ct2rs`'s own `generate_segments` is not used: it always sends language
//! and task tokens, which English-only models answer with empty text.

pub mod catalog;
pub mod mel;
pub mod scoring;
pub mod segments;
pub mod silence;
pub mod vocab;
pub mod words;

use std::collections::VecDeque;
use std::io::Write as _;
use std::path::Path;

use ct2rs::sys::{ComputeType, Config, Device, StorageView, WhisperOptions};
use echoloop_core::assessment::{Transcript, TranscriptSegment, TranscriptWord};

use crate::audio::AudioStream;
use crate::error::{Result, SpeechError};
use mel::{CHUNK_FRAMES, LogMel, MelBuffer};
use segments::{FRAMES_PER_SECOND, ensure_progress, seek_after_words, split_by_timestamps};
use vocab::Vocabulary;
use words::{TimedSegment, assign_words, words_from_alignment};

/// Longest token sequence the decoder takes (prompt included).
const MAX_LENGTH: usize = 448;
/// Timestamp steps the first timestamp may be at most (1 s).
const MAX_INITIAL_TIMESTAMP_INDEX: usize = 50;
const MEDIAN_FILTER_WIDTH: i64 = 7;

/// How CTranslate2 runs the model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EngineSettings {
    /// Threads for one transcription (0: CTranslate2's default).
    pub threads: usize,
    pub compute: Compute,
}

impl Default for EngineSettings {
    fn default() -> Self {
        Self {
            threads: std::thread::available_parallelism().map_or(1, |n| n.get().min(8)),
            compute: Compute::Int8,
        }
    }
}

/// Arithmetic of the matrix products. The shipped models store float16
/// weights; on a CPU those run as float32 unless quantised to int8 at load.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compute {
    /// 8-bit weights, float32 activations: about twice as fast.
    Int8,
    Float32,
}

impl Compute {
    fn to_ct2(self) -> ComputeType {
        match self {
            Compute::Int8 => ComputeType::INT8,
            Compute::Float32 => ComputeType::FLOAT32,
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "int8" => Some(Compute::Int8),
            "float32" => Some(Compute::Float32),
            _ => None,
        }
    }
}

/// What to decode and how (faster-whisper's defaults).
#[derive(Debug, Clone, PartialEq)]
pub struct DecodeOptions {
    /// ISO 639-1 code (`en`, `fr`, …); `None`: detected from the first
    /// window (English for English-only models).
    pub language: Option<String>,
    pub beam_size: usize,
    /// Candidates sampled per temperature above 0.
    pub best_of: usize,
    /// Tried in order until the text is neither repetitive nor improbable.
    pub temperatures: Vec<f32>,
    /// gzip compression ratio above which text counts as repetitive.
    pub compression_ratio_threshold: f32,
    /// Mean token log-probability below which text counts as improbable.
    pub log_prob_threshold: f32,
    /// A window whose no-speech probability is above this (and whose text
    /// is improbable) is silence.
    pub no_speech_threshold: f32,
    /// Prompt each window with the previous text (consistent style and
    /// spelling across windows).
    pub condition_on_previous_text: bool,
    pub word_timestamps: bool,
    /// Skip silent windows, drop segments in silence, move word edges off
    /// silence ([`silence`]). Off: faster-whisper's behaviour.
    pub gate_silence: bool,
    /// Frames of padding after the audio when the whole input is shorter
    /// than a window: the encoder then runs on the audio plus this much
    /// (its cost grows with its input) instead of a padded 30-second
    /// window. `None`: always 30 seconds, as Whisper was trained and as
    /// faster-whisper does. For short takes; longer inputs keep full
    /// windows.
    pub short_window_padding: Option<usize>,
}

impl Default for DecodeOptions {
    fn default() -> Self {
        Self {
            language: None,
            beam_size: 5,
            best_of: 5,
            temperatures: vec![0.0, 0.2, 0.4, 0.6, 0.8, 1.0],
            compression_ratio_threshold: 2.4,
            log_prob_threshold: -1.0,
            no_speech_threshold: 0.6,
            condition_on_previous_text: true,
            word_timestamps: true,
            gate_silence: true,
            short_window_padding: None,
        }
    }
}

/// One transcribed segment, as soon as its window is decoded.
#[derive(Debug, Clone, PartialEq)]
pub struct Segment {
    pub start_ms: u64,
    pub end_ms: u64,
    pub text: String,
    pub words: Vec<TranscriptWord>,
    pub avg_logprob: f32,
    pub no_speech_prob: f32,
    pub temperature: f32,
    pub compression_ratio: f32,
}

/// About the whole input, once it has been read.
#[derive(Debug, Clone, PartialEq)]
pub struct TranscriptionInfo {
    /// Given, English for English-only models, else detected; `None` when
    /// a multilingual model heard nothing to detect it from.
    pub language: Option<String>,
    /// 1 when the language was given or the model is English-only.
    pub language_probability: f32,
    pub duration_ms: u64,
}

/// The seed of the sampling fallback's random numbers.
const SAMPLING_SEED: u32 = 20_240_601;

/// A loaded model. Loading takes a fraction of a second to a few seconds;
/// keep one and reuse it (it may be shared between threads).
pub struct WhisperModel {
    model: ct2rs::sys::Whisper,
    vocab: Vocabulary,
    n_mels: usize,
    name: String,
    /// Text to tokens, for scoring given texts ([`scoring`]); `None` when the
    /// model directory has no `tokenizer.json`.
    tokenizer: Option<tokenizers::Tokenizer>,
}

impl std::fmt::Debug for WhisperModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WhisperModel")
            .field("name", &self.name)
            .field("n_mels", &self.n_mels)
            .field("multilingual", &self.is_multilingual())
            .finish()
    }
}

/// A take's encoder output, kept from its transcription to score texts
/// against ([`WhisperModel::text_log_probs`]) without encoding it again.
pub struct EncodedTake {
    encoded: StorageView<'static>,
    /// Mel frames (10 ms) of the take itself, before the padding.
    frames: usize,
}

/// The result of decoding one window.
struct Decoded {
    tokens: Vec<usize>,
    avg_logprob: f32,
    no_speech_prob: f32,
    temperature: f32,
    compression_ratio: f32,
}

impl WhisperModel {
    /// Loads a known model by name (`tiny.en`, `base`) or a model directory.
    pub fn load(name: &str, settings: EngineSettings) -> Result<Self> {
        let dir = catalog::resolve(name)?;
        Self::load_dir(&dir, name, settings)
    }

    pub fn load_dir(dir: &Path, name: &str, settings: EngineSettings) -> Result<Self> {
        // A window whose text fails the checks is sampled again, from
        // CTranslate2's per-thread generators, seeded on their first draw.
        // A fixed seed makes a fresh process (the CLI, the evaluation) give
        // the same text for the same file; a long-running server still
        // draws on from where its earlier jobs left off.
        ct2rs::set_random_seed(SAMPLING_SEED);
        let vocab = Vocabulary::load(&dir.join("vocabulary.txt"))?;
        let config = Config {
            device: Device::CPU,
            compute_type: settings.compute.to_ct2(),
            num_threads_per_replica: settings.threads,
            ..Config::default()
        };
        let model = ct2rs::sys::Whisper::new(dir, config)
            .map_err(|e| SpeechError::Model(format!("{}: {e}", dir.display())))?;
        let n_mels = model.n_mels();
        if model.is_multilingual() != vocab.is_multilingual() {
            return Err(SpeechError::Model(format!(
                "{}: the vocabulary and the model disagree on being multilingual",
                dir.display()
            )));
        }
        let tokenizer_path = dir.join("tokenizer.json");
        let tokenizer = if tokenizer_path.exists() {
            Some(
                tokenizers::Tokenizer::from_file(&tokenizer_path).map_err(|e| {
                    SpeechError::Model(format!("{}: {e}", tokenizer_path.display()))
                })?,
            )
        } else {
            None
        };
        Ok(Self {
            model,
            vocab,
            n_mels,
            name: name.to_owned(),
            tokenizer,
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn is_multilingual(&self) -> bool {
        self.vocab.is_multilingual()
    }

    pub fn vocabulary(&self) -> &Vocabulary {
        &self.vocab
    }

    /// Transcribes a file (any format [`AudioStream`] reads) into a
    /// [`Transcript`]. An empty file is an error; silence is a transcript
    /// without segments.
    pub fn transcribe_file(&self, path: &Path, options: &DecodeOptions) -> Result<Transcript> {
        let stream = AudioStream::open(path)?;
        let mut segments = Vec::new();
        let info = self.transcribe_stream(stream, options, &mut |s| segments.push(s))?;
        Ok(to_transcript(&info, segments))
    }

    /// Transcribes 16 kHz mono chunks, handing out each segment as soon as
    /// its window is decoded. Memory stays constant however long the input.
    pub fn transcribe_stream(
        &self,
        audio: impl IntoIterator<Item = Result<Vec<f32>>>,
        options: &DecodeOptions,
        on_segment: &mut dyn FnMut(Segment),
    ) -> Result<TranscriptionInfo> {
        self.transcribe_keeping(audio, options, on_segment, &mut None)
    }

    /// Transcribes a take (16 kHz mono, at most one window) as
    /// [`WhisperModel::transcribe_stream`] does, and keeps its encoding for
    /// [`WhisperModel::text_log_probs`]. `None`: the take was not encoded
    /// (silence, or longer than one window).
    pub fn transcribe_take(
        &self,
        take: &[f32],
        options: &DecodeOptions,
        on_segment: &mut dyn FnMut(Segment),
    ) -> Result<(TranscriptionInfo, Option<EncodedTake>)> {
        let mut kept = None;
        let info = self.transcribe_keeping(
            std::iter::once(Ok(take.to_vec())),
            options,
            on_segment,
            &mut kept,
        )?;
        Ok((info, kept))
    }

    /// [`WhisperModel::transcribe_stream`], keeping the encoding of an input
    /// that fits one window in `kept`.
    fn transcribe_keeping(
        &self,
        audio: impl IntoIterator<Item = Result<Vec<f32>>>,
        options: &DecodeOptions,
        on_segment: &mut dyn FnMut(Segment),
        kept: &mut Option<EncodedTake>,
    ) -> Result<TranscriptionInfo> {
        let mut audio = audio.into_iter();
        let mut front_end = LogMel::new(self.n_mels);
        let mut frames = MelBuffer::new(self.n_mels);
        let mut ended = false;
        let mut total_samples: u64 = 0;

        let mut language = self.requested_language(options)?;
        let mut language_probability = 1.0f32;
        let mut previous: VecDeque<usize> = VecDeque::new();
        let mut last_speech = 0.0f64;
        let mut seek = 0usize;

        loop {
            while !ended && frames.end() < seek + CHUNK_FRAMES {
                match audio.next() {
                    Some(chunk) => {
                        let chunk = chunk?;
                        total_samples += chunk.len() as u64;
                        front_end.push(&chunk, &mut |f, level| frames.push(f, level));
                    }
                    None => {
                        front_end.finish(&mut |f, level| frames.push(f, level));
                        ended = true;
                    }
                }
            }
            let content_end = frames.end();
            if seek >= content_end {
                break;
            }
            let segment_size = (content_end - seek).min(CHUNK_FRAMES);
            let window_levels = frames.levels(seek, seek + segment_size);
            if options.gate_silence && silence::is_silent(&window_levels) {
                // After half a minute of silence the previous text is no
                // context for what comes next, and a prompt of short
                // phrases ("Thank you.") pulls the decoder into repeating
                // them instead of hearing the next sentence.
                previous.clear();
                seek += segment_size;
                frames.discard_before(seek);
                continue;
            }
            let levels = silence::Levels {
                first: seek,
                levels: &window_levels,
                threshold: silence::speech_threshold(&window_levels),
            };
            // Only an input shorter than one window (a take) is encoded
            // short: the last window of a long file keeps 30 seconds.
            let width = match options.short_window_padding {
                Some(pad) if ended && content_end <= CHUNK_FRAMES => {
                    encoder_width(segment_size, pad, self.n_mels)
                }
                _ => CHUNK_FRAMES,
            };
            let mut features = frames.window_of(seek, segment_size, width);
            let encoded_here;
            let encoded = if seek == 0 && ended && content_end <= CHUNK_FRAMES {
                let take = kept.insert(EncodedTake {
                    encoded: self.encode(&mut features, width)?,
                    frames: segment_size,
                });
                &take.encoded
            } else {
                encoded_here = self.encode(&mut features, width)?;
                &encoded_here
            };

            let language_code = match &language {
                Some(code) => code.clone(),
                None => {
                    let (code, p) = self.detect_language(encoded)?;
                    language_probability = p;
                    language = Some(code.clone());
                    code
                }
            };
            let sot_sequence = self.sot_sequence(&language_code)?;
            let prompt = self.prompt(&previous, &sot_sequence);
            let decoded = self.generate_with_fallback(encoded, &prompt, options)?;

            let silent = decoded.no_speech_prob > options.no_speech_threshold
                && decoded.avg_logprob <= options.log_prob_threshold;
            if silent {
                seek += segment_size;
                frames.discard_before(seek);
                continue;
            }

            let split = split_by_timestamps(
                &decoded.tokens,
                self.vocab.timestamp_begin,
                seek,
                segment_size,
            );
            let mut next_seek = split.next_seek;
            let window_start = seek as f64 / FRAMES_PER_SECOND as f64;
            let mut timed: Vec<TimedSegment> = split
                .segments
                .into_iter()
                .map(|s| TimedSegment {
                    start: s.start_frame as f64 / FRAMES_PER_SECOND as f64,
                    end: s.end_frame as f64 / FRAMES_PER_SECOND as f64,
                    tokens: s.tokens,
                    words: Vec::new(),
                })
                .collect();

            if options.word_timestamps {
                let text_tokens: Vec<usize> = timed
                    .iter()
                    .flat_map(|s| s.tokens.iter().copied())
                    .filter(|&t| t < self.vocab.eot)
                    .collect();
                let aligned = self.align(
                    encoded,
                    &sot_sequence,
                    &text_tokens,
                    segment_size,
                    &language_code,
                )?;
                last_speech = assign_words(
                    &mut timed,
                    aligned,
                    window_start,
                    self.vocab.eot,
                    last_speech,
                );
                if !split.single_timestamp_ending {
                    let end = last_end(&timed)
                        .map(|end| (end * FRAMES_PER_SECOND as f64).round() as usize);
                    next_seek = seek_after_words(seek, split.next_seek, end);
                }
            }

            if options.gate_silence {
                fit_words_to_sound(&mut timed, &levels);
                timed.retain(|segment| levels.has_sound(segment.start, segment.end));
            }

            for segment in timed {
                let text = self.vocab.decode(&segment.tokens);
                if segment.start == segment.end || text.trim().is_empty() {
                    continue;
                }
                previous.extend(segment.tokens.iter().copied());
                on_segment(Segment {
                    start_ms: seconds_to_ms(segment.start),
                    end_ms: seconds_to_ms(segment.end),
                    text,
                    words: segment
                        .words
                        .iter()
                        .map(|w| TranscriptWord {
                            word: w.text.trim().to_owned(),
                            start_ms: seconds_to_ms(w.start),
                            end_ms: seconds_to_ms(w.end),
                            confidence: Some(w.probability),
                        })
                        .collect(),
                    avg_logprob: decoded.avg_logprob,
                    no_speech_prob: decoded.no_speech_prob,
                    temperature: decoded.temperature,
                    compression_ratio: decoded.compression_ratio,
                });
            }
            // Only the prompt's worth of previous tokens is ever used.
            while previous.len() > MAX_LENGTH / 2 - 1 {
                previous.pop_front();
            }
            if !options.condition_on_previous_text || decoded.temperature > 0.5 {
                previous.clear();
            }

            seek = ensure_progress(seek, next_seek, segment_size);
            frames.discard_before(seek);
        }

        Ok(TranscriptionInfo {
            language,
            language_probability,
            duration_ms: total_samples * 1000 / u64::from(crate::audio::SAMPLE_RATE),
        })
    }

    /// The language asked for, checked against the model; `None` when it
    /// is to be detected.
    fn requested_language(&self, options: &DecodeOptions) -> Result<Option<String>> {
        let Some(tag) = options.language.as_deref() else {
            return Ok((!self.is_multilingual()).then(|| "en".to_owned()));
        };
        // A BCP 47 tag's primary subtag: `en-US` → `en`.
        let code = tag
            .split(['-', '_'])
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase();
        if !self.is_multilingual() {
            if code == "en" {
                return Ok(Some(code));
            }
            return Err(SpeechError::UnsupportedLanguage(format!(
                "the Whisper model {} is English-only and cannot transcribe {tag:?}; use --model base",
                self.name
            )));
        }
        if self.vocab.language_token(&code).is_none() {
            return Err(SpeechError::UnsupportedLanguage(format!(
                "Whisper does not know the language {tag:?}"
            )));
        }
        Ok(Some(code))
    }

    /// `<|startoftranscript|>` (English-only models), or followed by the
    /// language and `<|transcribe|>` (multilingual ones).
    fn sot_sequence(&self, language: &str) -> Result<Vec<usize>> {
        if !self.is_multilingual() {
            return Ok(vec![self.vocab.sot]);
        }
        let lang = self.vocab.language_token(language).ok_or_else(|| {
            SpeechError::UnsupportedLanguage(format!("Whisper does not know {language:?}"))
        })?;
        Ok(vec![self.vocab.sot, lang, self.vocab.transcribe])
    }

    fn prompt(&self, previous: &VecDeque<usize>, sot_sequence: &[usize]) -> Vec<usize> {
        let mut prompt = Vec::with_capacity(previous.len() + 4);
        if !previous.is_empty() {
            prompt.push(self.vocab.sot_prev);
            let keep = previous.len().min(MAX_LENGTH / 2 - 1);
            prompt.extend(previous.iter().skip(previous.len() - keep));
        }
        prompt.extend_from_slice(sot_sequence);
        prompt
    }

    fn encode(&self, features: &mut [f32], width: usize) -> Result<StorageView<'static>> {
        let view = StorageView::new(&[1, self.n_mels, width], features, Device::CPU)
            .map_err(engine_error)?;
        self.model.encode(&view, false).map_err(engine_error)
    }

    /// The most probable language of the window (faster-whisper with one
    /// detection segment: the top language, whatever its probability).
    fn detect_language(&self, encoded: &StorageView<'_>) -> Result<(String, f32)> {
        let results = self.model.detect_language(encoded).map_err(engine_error)?;
        let best = results
            .first()
            .and_then(|r| r.first())
            .ok_or_else(|| SpeechError::Transcription("no language detected".to_owned()))?;
        parse_detection(&format!("{best:?}")).ok_or_else(|| {
            SpeechError::Transcription(format!("unexpected language detection result {best:?}"))
        })
    }

    fn generate_with_fallback(
        &self,
        encoded: &StorageView<'_>,
        prompt: &[usize],
        options: &DecodeOptions,
    ) -> Result<Decoded> {
        let prompt_tokens: Vec<&str> = prompt
            .iter()
            .map(|&id| self.vocab.token(id).unwrap_or_default())
            .collect();
        let mut all: Vec<Decoded> = Vec::new();
        let temperatures = if options.temperatures.is_empty() {
            &[0.0][..]
        } else {
            &options.temperatures[..]
        };
        for &temperature in temperatures {
            let mut whisper_options = WhisperOptions {
                max_length: MAX_LENGTH,
                return_scores: true,
                return_no_speech_prob: true,
                max_initial_timestamp_index: MAX_INITIAL_TIMESTAMP_INDEX,
                suppress_blank: true,
                suppress_tokens: vec![-1],
                ..WhisperOptions::default()
            };
            if temperature > 0.0 {
                whisper_options.beam_size = 1;
                whisper_options.num_hypotheses = options.best_of.max(1);
                whisper_options.sampling_topk = 0;
                whisper_options.sampling_temperature = temperature;
            } else {
                whisper_options.beam_size = options.beam_size.max(1);
                whisper_options.patience = 1.0;
            }
            let results = self
                .model
                .generate(
                    encoded,
                    std::slice::from_ref(&prompt_tokens),
                    &whisper_options,
                )
                .map_err(engine_error)?;
            let result = results
                .into_iter()
                .next()
                .ok_or_else(|| SpeechError::Transcription("no result".to_owned()))?;
            let tokens = result.sequences_ids.into_iter().next().unwrap_or_default();
            let score = result.scores.first().copied().unwrap_or(f32::NEG_INFINITY);
            // The score is the sum of log-probabilities over the length
            // (length penalty 1); the reference averages over length + 1.
            let avg_logprob = score * tokens.len() as f32 / (tokens.len() + 1) as f32;
            let compression_ratio = compression_ratio(self.vocab.decode(&tokens).trim());
            let too_repetitive = compression_ratio > options.compression_ratio_threshold;
            let too_improbable = avg_logprob < options.log_prob_threshold;
            let silence = result.no_speech_prob > options.no_speech_threshold && too_improbable;
            let decoded = Decoded {
                tokens,
                avg_logprob,
                no_speech_prob: result.no_speech_prob,
                temperature,
                compression_ratio,
            };
            if silence || !(too_repetitive || too_improbable) {
                return Ok(decoded);
            }
            all.push(decoded);
        }
        // Every temperature failed: the most probable result that is not
        // repetitive, else the most probable, reported at the last
        // temperature (which resets the prompt).
        let last_temperature = temperatures[temperatures.len() - 1];
        let pick = |candidates: Vec<Decoded>| {
            candidates
                .into_iter()
                .max_by(|a, b| a.avg_logprob.total_cmp(&b.avg_logprob))
        };
        let (fine, repetitive): (Vec<Decoded>, Vec<Decoded>) = all
            .into_iter()
            .partition(|d| d.compression_ratio <= options.compression_ratio_threshold);
        let best = if fine.is_empty() {
            pick(repetitive)
        } else {
            pick(fine)
        };
        best.map(|d| Decoded {
            temperature: last_temperature,
            ..d
        })
        .ok_or_else(|| SpeechError::Transcription("nothing decoded".to_owned()))
    }

    fn align(
        &self,
        encoded: &StorageView<'_>,
        sot_sequence: &[usize],
        text_tokens: &[usize],
        num_frames: usize,
        language: &str,
    ) -> Result<Vec<words::Word>> {
        if text_tokens.is_empty() {
            return Ok(Vec::new());
        }
        let results = self
            .model
            .align(
                encoded,
                sot_sequence,
                &[text_tokens.to_vec()],
                &[num_frames],
                MEDIAN_FILTER_WIDTH,
            )
            .map_err(engine_error)?;
        let Some(result) = results.into_iter().next() else {
            return Ok(Vec::new());
        };
        let path: Vec<(i64, i64)> = result
            .alignments
            .iter()
            .map(|a| (a.token_x, a.frame_x))
            .collect();
        Ok(words_from_alignment(
            &self.vocab,
            language,
            text_tokens,
            &path,
            &result.text_token_probs,
        ))
    }
}

/// Moves the window's word edges onto the sound ([`silence::Levels::refine`])
/// and the segments' bounds onto their words.
fn fit_words_to_sound(segments: &mut [TimedSegment], levels: &silence::Levels<'_>) {
    let mut spans: Vec<(f64, f64)> = Vec::new();
    let mut weights: Vec<usize> = Vec::new();
    for w in segments.iter().flat_map(|s| &s.words) {
        spans.push((w.start, w.end));
        weights.push(w.text.trim().chars().count());
    }
    levels.refine(&mut spans, &weights);
    let mut spans = spans.into_iter();
    for segment in segments.iter_mut() {
        for (w, (start, end)) in segment.words.iter_mut().zip(spans.by_ref()) {
            w.start = start;
            w.end = end;
        }
        if let (Some(first), Some(last)) = (segment.words.first(), segment.words.last()) {
            segment.start = first.start;
            segment.end = last.end;
        }
    }
}

/// Encoder input width for `frames` of audio and `padding` frames after
/// them: even (the encoder halves it), at most a window, and never
/// `2 × n_mels`, whose encoding CTranslate2 would take for unencoded
/// features (it tells them apart only by their shape) and encode again.
fn encoder_width(frames: usize, padding: usize, n_mels: usize) -> usize {
    let mut width = (frames + padding).max(2).next_multiple_of(2);
    if width == 2 * n_mels {
        width += 2;
    }
    width.min(CHUNK_FRAMES)
}

/// The end of the last word, else of the last segment.
fn last_end(segments: &[TimedSegment]) -> Option<f64> {
    segments
        .iter()
        .rev()
        .find_map(|s| s.words.last().map(|w| w.end))
        .or_else(|| segments.last().map(|s| s.end))
}

fn seconds_to_ms(seconds: f64) -> u64 {
    (seconds.max(0.0) * 1000.0).round() as u64
}

fn engine_error(e: impl std::fmt::Display) -> SpeechError {
    SpeechError::Transcription(e.to_string())
}

/// Bytes of the text over bytes of its zlib compression: repetitive
/// ("hallucinated") text compresses well.
pub fn compression_ratio(text: &str) -> f32 {
    let mut encoder = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    let compressed = encoder
        .write_all(text.as_bytes())
        .and_then(|()| encoder.finish())
        .map_or(1, |c| c.len().max(1));
    text.len() as f32 / compressed as f32
}

/// `DetectionResult { language: "<|fr|>", probability: 0.93 }` → ("fr", 0.93).
///
/// ct2rs 0.10.3 keeps the fields of its `DetectionResult` private and offers
/// no accessor, so its `Debug` form (a derive, pinned by the exact version
/// in Cargo.toml) is the only way to read it.
fn parse_detection(debug: &str) -> Option<(String, f32)> {
    let after = debug.split("language: \"").nth(1)?;
    let token = after.split('"').next()?;
    let code = token.strip_prefix("<|")?.strip_suffix("|>")?;
    let probability = debug
        .split("probability: ")
        .nth(1)?
        .trim_end_matches(|c: char| c == '}' || c.is_whitespace())
        .parse()
        .ok()?;
    Some((code.to_owned(), probability))
}

/// The collected segments as the engine-independent [`Transcript`].
pub fn to_transcript(info: &TranscriptionInfo, segments: Vec<Segment>) -> Transcript {
    let text = segments
        .iter()
        .map(|s| s.text.trim())
        .filter(|t| !t.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    let mut words = Vec::new();
    let mut out_segments = Vec::with_capacity(segments.len());
    for segment in segments {
        words.extend(segment.words.iter().cloned());
        out_segments.push(TranscriptSegment {
            start_ms: segment.start_ms,
            end_ms: segment.end_ms,
            text: segment.text.trim().to_owned(),
        });
    }
    Transcript {
        text,
        language: info.language.clone(),
        segments: out_segments,
        words,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn language_detection_results_are_read_from_their_debug_form() {
        assert_eq!(
            parse_detection(r#"DetectionResult { language: "<|fr|>", probability: 0.9312 }"#),
            Some(("fr".to_owned(), 0.9312))
        );
        assert_eq!(
            parse_detection(r#"DetectionResult { language: "<|haw|>", probability: 1e-5 }"#),
            Some(("haw".to_owned(), 1e-5))
        );
        assert_eq!(parse_detection("DetectionResult { }"), None);
    }

    #[test]
    fn short_windows_are_even_capped_and_never_look_unencoded() {
        assert_eq!(encoder_width(500, 300, 80), 800);
        assert_eq!(encoder_width(501, 300, 80), 802);
        assert_eq!(encoder_width(2900, 300, 80), CHUNK_FRAMES);
        assert_eq!(encoder_width(0, 0, 80), 2);
        // 160 frames encode to 80 × d_model, the features' own shape.
        assert_eq!(encoder_width(100, 60, 80), 162);
        assert_eq!(encoder_width(100, 60, 128), 160);
    }

    #[test]
    fn repetitive_text_compresses_well() {
        let normal = compression_ratio("The quick brown fox jumps over the lazy dog.");
        let looped = compression_ratio(&"Thank you. ".repeat(30));
        assert!(normal < 1.5, "{normal}");
        assert!(looped > 2.4, "{looped}");
        assert_eq!(compression_ratio(""), 0.0);
    }

    #[test]
    fn the_last_end_is_the_last_words_else_the_last_segments() {
        let seg = |end: f64, word_end: Option<f64>| TimedSegment {
            start: 0.0,
            end,
            tokens: vec![],
            words: word_end
                .map(|e| words::Word {
                    text: "x".into(),
                    tokens: vec![],
                    start: 0.0,
                    end: e,
                    probability: 1.0,
                })
                .into_iter()
                .collect(),
        };
        assert_eq!(last_end(&[seg(2.0, Some(1.5)), seg(3.0, None)]), Some(1.5));
        assert_eq!(last_end(&[seg(3.0, None)]), Some(3.0));
        assert_eq!(last_end(&[]), None);
    }
}
