//! How likely Whisper finds given texts for a take: each text is read to
//! the decoder token by token (teacher forcing) and the log-probabilities
//! of its tokens are summed. Two readings of a sentence that differ in one
//! word say how sure Whisper is of one word against the other, which its
//! free transcript (one best guess) does not.

use super::mel::{CHUNK_FRAMES, LogMel, MelBuffer};
use super::{EncodedTake, MEDIAN_FILTER_WIDTH, WhisperModel, encoder_width, engine_error};
use crate::error::{Result, SpeechError};

impl WhisperModel {
    /// Whether the model directory has the tokenizer that
    /// [`WhisperModel::text_log_probs`] needs.
    pub fn can_score_texts(&self) -> bool {
        self.tokenizer.is_some()
    }

    /// Encodes a take (16 kHz mono, at most one 30-second window; more is
    /// cut) as the transcription encodes it: `padding` frames of silence
    /// after it, `None` for the full window.
    pub fn encode_take(&self, take: &[f32], padding: Option<usize>) -> Result<EncodedTake> {
        let mut front_end = LogMel::new(self.n_mels);
        let mut frames = MelBuffer::new(self.n_mels);
        front_end.push(take, &mut |f, level| frames.push(f, level));
        front_end.finish(&mut |f, level| frames.push(f, level));
        let len = frames.end().min(CHUNK_FRAMES);
        let width = match padding {
            Some(pad) => encoder_width(len, pad, self.n_mels),
            None => CHUNK_FRAMES,
        };
        let mut features = frames.window_of(0, len, width);
        Ok(EncodedTake {
            encoded: self.encode(&mut features, width)?,
            frames: len,
        })
    }

    /// The log-probability of each of `texts` as the transcript of an
    /// encoded take in `language`; a text without words scores 0.
    pub fn text_log_probs(
        &self,
        take: &EncodedTake,
        language: &str,
        texts: &[String],
    ) -> Result<Vec<f32>> {
        let tokenizer = self.tokenizer.as_ref().ok_or_else(|| {
            SpeechError::Model(format!(
                "{}: no tokenizer.json to read texts with",
                self.name
            ))
        })?;
        let mut start = self.sot_sequence(language)?;
        start.push(self.vocab.no_timestamps);
        texts
            .iter()
            .map(|text| {
                // Nothing to read: nothing to score.
                if text.trim().is_empty() {
                    return Ok(0.0);
                }
                // Whisper's transcripts start with a space before the first
                // word, and so do its tokens.
                let encoding = tokenizer
                    .encode(format!(" {}", text.trim()), false)
                    .map_err(|e| SpeechError::Transcription(format!("tokenizer: {e}")))?;
                let tokens: Vec<usize> = encoding.get_ids().iter().map(|&t| t as usize).collect();
                let results = self
                    .model
                    .align(
                        &take.encoded,
                        &start,
                        &[tokens],
                        &[take.frames],
                        MEDIAN_FILTER_WIDTH,
                    )
                    .map_err(engine_error)?;
                let probs = results
                    .into_iter()
                    .next()
                    .map(|r| r.text_token_probs)
                    .unwrap_or_default();
                Ok(probs.iter().map(|p| p.max(f32::MIN_POSITIVE).ln()).sum())
            })
            .collect()
    }
}
