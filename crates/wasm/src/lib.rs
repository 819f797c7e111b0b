//! Browser bindings of `echoloop-core`. Each export is a thin conversion
//! layer: the logic itself lives in the core crate, once.

use wasm_bindgen::prelude::*;

/// Formats a media time in milliseconds as `H:MM:SS.mmm`.
#[wasm_bindgen(js_name = formatClock)]
pub fn format_clock(ms: f64) -> Result<String, JsError> {
    if !ms.is_finite() || !(0.0..=9.0e15).contains(&ms) {
        return Err(JsError::new(
            "time must be a finite, non-negative number of milliseconds",
        ));
    }
    Ok(echoloop_core::time::Millis::new(ms as u64).to_clock())
}

/// The stable id of a segment: the same the server computes for the same
/// material, times and text (`echoloop_core::segment_id`).
#[wasm_bindgen(js_name = stableSegmentId)]
pub fn stable_segment_id(
    material_id: &str,
    start_ms: f64,
    end_ms: f64,
    text: &str,
) -> Result<String, JsError> {
    let material = uuid::Uuid::parse_str(material_id)
        .map_err(|error| JsError::new(&format!("material id: {error}")))?;
    let millis = |value: f64, name: &str| {
        if value.is_finite() && value.fract() == 0.0 && (0.0..=9.0e15).contains(&value) {
            Ok(value as u64)
        } else {
            Err(JsError::new(&format!(
                "{name} must be a whole, non-negative number of milliseconds"
            )))
        }
    };
    let (start, end) = (millis(start_ms, "start")?, millis(end_ms, "end")?);
    Ok(echoloop_core::segment_id::stable_segment_id(material, start, end, text).to_string())
}

/// Why `text` cannot be a segment's text (`{kind: "blank"}` or
/// `{kind: "tooLong", chars, max}`), or `null` when it can: the rule the
/// server applies to every segment.
#[wasm_bindgen(js_name = segmentTextProblem)]
pub fn segment_text_problem(text: &str) -> Result<JsValue, JsError> {
    use serde::Serialize;
    match echoloop_core::text::segment_text::check_segment_text(text) {
        Ok(()) => Ok(JsValue::NULL),
        Err(problem) => problem
            .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
            .map_err(|error| JsError::new(&error.to_string())),
    }
}

/// The version of the core logic compiled into this module.
#[wasm_bindgen(js_name = coreVersion)]
pub fn core_version() -> String {
    env!("CARGO_PKG_VERSION").to_owned()
}

mod subtitles {
    //! Subtitle import, translation pairing and tokenising for the browser.
    //! The JS-facing shapes are those of the core's serde types, so the
    //! browser and the server see identical JSON for the same file.

    use echoloop_core::subtitles::{self, ImportOptions};
    use echoloop_core::text::tokens;
    use serde::Serialize;
    use wasm_bindgen::prelude::*;

    fn to_js<T: Serialize>(value: &T) -> Result<JsValue, JsError> {
        value
            .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
            .map_err(|error| JsError::new(&error.to_string()))
    }

    fn options_from_js(options: JsValue) -> Result<ImportOptions, JsError> {
        if options.is_undefined() || options.is_null() {
            return Ok(ImportOptions::default());
        }
        serde_wasm_bindgen::from_value(options)
            .map_err(|error| JsError::new(&format!("invalid options: {error}")))
    }

    /// Imports a subtitle file (SRT, WebVTT, ASS/SSA, TTML/DFXP, YouTube
    /// json3/srv3, LRC; any text encoding).
    ///
    /// `options` (all optional): `{maxChars: 120, maxDurationMs: 10000,
    /// pauseMs: 1200, language: "en", keepCues: false}`.
    ///
    /// Returns
    /// `{format: "srt"|"vtt"|"ass"|"ttml"|"json3"|"srv3"|"lrc", encoding: "UTF-8"|"GBK"|…,
    ///   segments: [{startTime, endTime, text, words?: [{text, startTime, endTime}]}],
    ///   skipped: [{line, column?, reason}]}`, times in integer milliseconds.
    /// Throws an `Error` whose message says what is wrong (and where) when
    /// the file is unusable.
    #[wasm_bindgen(js_name = importSubtitles)]
    pub fn import_subtitles(
        bytes: &[u8],
        file_name: Option<String>,
        options: JsValue,
    ) -> Result<JsValue, JsError> {
        let options = options_from_js(options)?;
        let imported = subtitles::import(bytes, file_name.as_deref(), &options)?;
        to_js(&imported)
    }

    /// [`import_subtitles`] as a JSON string, byte-identical to the native
    /// `echoloop_core::subtitles::import_to_json`.
    #[wasm_bindgen(js_name = importSubtitlesJson)]
    pub fn import_subtitles_json(
        bytes: &[u8],
        file_name: Option<String>,
        options: JsValue,
    ) -> Result<String, JsError> {
        let options = options_from_js(options)?;
        Ok(subtitles::import_to_json(
            bytes,
            file_name.as_deref(),
            &options,
        )?)
    }

    /// Takes segments as a JSON string (`[{startTime, endTime, text, …}]`, as
    /// `importSubtitles` returns them) and a translation file's bytes; returns
    /// the segments as a JSON string, each with `translation?: string`.
    #[wasm_bindgen(js_name = pairTranslations)]
    pub fn pair_translations(
        segments_json: &str,
        translation_bytes: &[u8],
        file_name: Option<String>,
    ) -> Result<String, JsError> {
        Ok(subtitles::pair_translations_json(
            segments_json,
            translation_bytes,
            file_name.as_deref(),
        )?)
    }

    /// Splits text into clickable tokens:
    /// `[{text, kind: "word"|"punctuation", byteStart, byteEnd, charStart,
    /// charEnd, utf16Start, utf16End, key?}]`. Use `utf16Start/utf16End` with
    /// `String.prototype.slice`; `key` is the dictionary lookup key (words only).
    #[wasm_bindgen]
    pub fn tokenize(text: &str, language: Option<String>) -> Result<JsValue, JsError> {
        to_js(&tokens::tokenize(text, language.as_deref()))
    }
}

mod shadowing {
    //! The shadowing comparison for the browser, which holds both the take
    //! and the original media (the server usually has neither the media nor
    //! the clip), the same computation the native assessor runs.

    use echoloop_core::audio::{SAMPLE_RATE, resample};
    use echoloop_core::shadowing::{MAX_CLIP_MS, MIN_CLIP_MS, TakeWord, compare_clips};
    use serde::{Deserialize, Serialize};
    use wasm_bindgen::prelude::*;

    /// `samples` (mono, `sample_rate` Hz, 8–384 kHz) at the 16 kHz the
    /// comparison works at, with rubato's resampler (the one the server's
    /// decoder uses). Throws an `Error` for a rate outside that range.
    #[wasm_bindgen(js_name = toSpeechRate)]
    pub fn to_speech_rate(samples: &[f32], sample_rate: u32) -> Result<Vec<f32>, JsError> {
        Ok(resample::resample(samples, sample_rate, SAMPLE_RATE)?)
    }

    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct ClipLimits {
        min_ms: u64,
        max_ms: u64,
        sample_rate: u32,
    }

    /// `{minMs, maxMs, sampleRate}`: the clips `compareShadowing` accepts,
    /// so callers check before decoding minutes of a long segment.
    #[wasm_bindgen(js_name = shadowingClipLimits)]
    pub fn shadowing_clip_limits() -> Result<JsValue, JsError> {
        let limits = ClipLimits {
            min_ms: MIN_CLIP_MS,
            max_ms: MAX_CLIP_MS,
            sample_rate: SAMPLE_RATE,
        };
        limits
            .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
            .map_err(|error| JsError::new(&error.to_string()))
    }

    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase", deny_unknown_fields)]
    struct WordSpan {
        word: String,
        start_ms: u64,
        end_ms: u64,
    }

    /// Compares a take with the clip it shadows. Both are 16 kHz mono
    /// samples, 0.1–30 s; `words`: `[{word, startMs, endMs}]`, the take's
    /// spoken words (from its assessment). Returns `{lagMs, rhythm,
    /// pitchCorrelation (null when either side has too little voice),
    /// words: [{word, lagMs, durationRatio}]}`; a positive lag is late.
    /// Throws an `Error` saying what is wrong with the input.
    #[wasm_bindgen(js_name = compareShadowing)]
    pub fn compare_shadowing(
        take: &[f32],
        original: &[f32],
        words: JsValue,
    ) -> Result<JsValue, JsError> {
        let spans: Vec<WordSpan> = serde_wasm_bindgen::from_value(words)
            .map_err(|error| JsError::new(&format!("words: {error}")))?;
        let words: Vec<TakeWord<'_>> = spans
            .iter()
            .map(|span| TakeWord {
                word: &span.word,
                start_ms: span.start_ms,
                end_ms: span.end_ms,
            })
            .collect();
        let result = compare_clips(take, original, &words)?;
        result
            .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
            .map_err(|error| JsError::new(&error.to_string()))
    }
}

mod review {
    //! Spaced repetition for the browser: the same schedule the server
    //! derives from a word's review log (`echoloop_core::review`).

    use echoloop_core::review::{self, Review};
    use serde::Serialize;
    use wasm_bindgen::prelude::*;

    fn log_from_js(log: JsValue, name: &str) -> Result<Vec<Review>, JsError> {
        serde_wasm_bindgen::from_value(log)
            .map_err(|error| JsError::new(&format!("{name}: {error}")))
    }

    fn to_js<T: Serialize>(value: &T) -> Result<JsValue, JsError> {
        value
            .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
            .map_err(|error| JsError::new(&error.to_string()))
    }

    /// A word's schedule from its review log (`[{id, reviewed_at_ms,
    /// rating: 1|2|3|4}]`, any order, duplicate ids counted once). Returns
    /// `{status: "new"|"learning"|"mastered", due_at_ms, stability_days,
    /// difficulty, reviews, lapses, last_reviewed_at_ms}` (`null` where a
    /// word was never reviewed). Throws when an entry is malformed.
    #[wasm_bindgen(js_name = scheduleFromLog)]
    pub fn schedule_from_log(log: JsValue) -> Result<JsValue, JsError> {
        to_js(&review::schedule(&log_from_js(log, "log")?))
    }

    /// When the word would be due after Again, Hard, Good or Easy at
    /// `now_ms`: `[again, hard, good, easy]` in milliseconds.
    #[wasm_bindgen(js_name = previewReviews)]
    pub fn preview_reviews(log: JsValue, now_ms: f64) -> Result<Vec<f64>, JsError> {
        if !now_ms.is_finite() {
            return Err(JsError::new("now_ms must be a number of milliseconds"));
        }
        let due = review::preview(&log_from_js(log, "log")?, now_ms as i64);
        Ok(due.iter().map(|&ms| ms as f64).collect())
    }

    /// Two logs of one word as one (union by id, in time order).
    #[wasm_bindgen(js_name = mergeReviewLogs)]
    pub fn merge_review_logs(a: JsValue, b: JsValue) -> Result<JsValue, JsError> {
        to_js(&review::merge_logs(
            &log_from_js(a, "first log")?,
            &log_from_js(b, "second log")?,
        ))
    }
}

mod sync {
    //! Sync merge rules for the browser (`echoloop_core::sync`): the device's
    //! hybrid logical clock and the verdicts the server gives a push, so a
    //! pulled row is merged exactly as the server would merge it.

    use echoloop_core::sync::{self, Clock, Hlc, NodeId, ProgressState, RowClock, Write};
    use serde::Serialize;
    use wasm_bindgen::prelude::*;

    fn parse_hlc(input: &str, name: &str) -> Result<Hlc, JsError> {
        input
            .parse()
            .map_err(|error| JsError::new(&format!("{name}: {error}")))
    }

    fn clock(last: Option<String>, node: &str) -> Result<Clock, JsError> {
        let node: NodeId = node
            .parse()
            .map_err(|error| JsError::new(&format!("node: {error}")))?;
        let last = last.as_deref().map(|l| parse_hlc(l, "last")).transpose()?;
        Ok(Clock::new(node, last))
    }

    fn wall(wall_ms: f64) -> Result<u64, JsError> {
        if wall_ms.is_finite() && wall_ms >= 0.0 {
            Ok(wall_ms as u64)
        } else {
            Err(JsError::new(
                "wall_ms must be a non-negative number of milliseconds",
            ))
        }
    }

    fn to_js<T: Serialize>(value: &T) -> Result<JsValue, JsError> {
        value
            .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
            .map_err(|error| JsError::new(&error.to_string()))
    }

    /// How far ahead of the server's wall clock a pushed clock may be
    /// (`MAX_AHEAD_MS`), in milliseconds.
    #[wasm_bindgen(js_name = maxClockAheadMs)]
    pub fn max_clock_ahead_ms() -> f64 {
        sync::MAX_AHEAD_MS as f64
    }

    /// The clock of a local write: later than `last` (the device's last
    /// clock, `undefined` on its first write) and than the wall time.
    /// `node` is the device's 16-hex-digit id.
    #[wasm_bindgen(js_name = hlcNow)]
    pub fn hlc_now(last: Option<String>, wall_ms: f64, node: &str) -> Result<String, JsError> {
        Ok(clock(last, node)?.now(wall(wall_ms)?).to_string())
    }

    /// The device's clock after seeing `remote` (a pulled row's clock).
    #[wasm_bindgen(js_name = hlcObserve)]
    pub fn hlc_observe(
        last: Option<String>,
        remote: &str,
        wall_ms: f64,
        node: &str,
    ) -> Result<String, JsError> {
        let remote = parse_hlc(remote, "remote")?;
        Ok(clock(last, node)?
            .observe(remote, wall(wall_ms)?)
            .to_string())
    }

    /// Whether a write with clock `incoming` wins over a row that holds
    /// `stored` (`{hlc: string | null, deleted: boolean}`, or `null` when
    /// there is no row): `"apply"`, `"already_applied"` or `"superseded"`.
    /// `write` is `"upsert"` (an edit), `"create"` (a row the server has
    /// not confirmed yet, made from scratch) or `"delete"`.
    #[wasm_bindgen(js_name = syncDecide)]
    pub fn sync_decide(stored: JsValue, write: &str, incoming: &str) -> Result<JsValue, JsError> {
        let stored: Option<RowClock> = serde_wasm_bindgen::from_value(stored)
            .map_err(|error| JsError::new(&format!("stored: {error}")))?;
        let write = match write {
            "upsert" => Write::Upsert,
            "create" => Write::Create,
            "delete" => Write::Delete,
            _ => {
                return Err(JsError::new(
                    "write must be \"upsert\", \"create\" or \"delete\"",
                ));
            }
        };
        to_js(&sync::decide(
            stored,
            write,
            parse_hlc(incoming, "incoming")?,
        ))
    }

    /// Progress merged as the server merges it: `stored` and `incoming` are
    /// `{last_segment_index, completed, hlc}` (`stored` may be `null`);
    /// returns `{value, verdict, changed}`.
    #[wasm_bindgen(js_name = mergeProgress)]
    pub fn merge_progress(stored: JsValue, incoming: JsValue) -> Result<JsValue, JsError> {
        let stored: Option<ProgressState> = serde_wasm_bindgen::from_value(stored)
            .map_err(|error| JsError::new(&format!("stored: {error}")))?;
        let incoming: ProgressState = serde_wasm_bindgen::from_value(incoming)
            .map_err(|error| JsError::new(&format!("incoming: {error}")))?;
        to_js(&sync::merge_progress(stored, incoming))
    }
}
