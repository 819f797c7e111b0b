//! `material.transcribe`: the server transcribes a material's stored media
//! (or sound uploaded for transcription only) with Whisper and stores the sentences as its segments (origin
//! `asr_cloud`), counting the media's minutes against the month. Queued by
//! `POST /materials/{id}/transcription`.

use anyhow::Context;
use serde_json::{Value, json};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use super::{JobContext, JobError, fetch_object, payload_id};
use crate::db;
use crate::db::transcriptions::NewTranscription;
use crate::domain::segment::{SegmentOrigin, parse_list, without_overlaps};
use crate::entitlements::{self, AsrRefusal};
use crate::transcription::{Transcribed, TranscriptionError};

pub const KIND: &str = "material.transcribe";

/// `language`: the primary subtag to transcribe in; `None`: the
/// material's, else detected.
pub fn payload(user_id: Uuid, material_id: Uuid, language: Option<&str>) -> Value {
    json!({ "user_id": user_id, "material_id": material_id, "language": language })
}

/// Queues the transcription of a material in the caller's transaction. A
/// job that gave up before is replaced (the learner asked again); a
/// pending one is kept. Returns whether a job was queued.
pub async fn schedule(
    conn: &mut PgConnection,
    user_id: Uuid,
    material_id: Uuid,
    language: Option<&str>,
) -> Result<bool, sqlx::Error> {
    let key = json!({ "user_id": user_id, "material_id": material_id });
    db::jobs::drop_failed(&mut *conn, KIND, &key).await?;
    db::jobs::enqueue(conn, KIND, &payload(user_id, material_id, language)).await
}

/// How often a running transcription says how far it has got.
const PROGRESS_EVERY: std::time::Duration = std::time::Duration::from_secs(2);

/// `pool`: for the progress, written outside the job's transaction.
/// Sound uploaded for this transcription only is forgotten when it ends,
/// done or given up. Done: its row goes in the job's transaction and `Ok`
/// returns its object's key, to delete once that transaction has
/// committed. Given up: the job's transaction is rolled back, so its row
/// goes outside it, and its key is put in `forgotten`, to delete once that
/// transaction has ended. Either way the object is deleted after the job's
/// transaction, which may hold the learner's change counter (`store`): no
/// call to the store waits under it.
pub async fn run(
    conn: &mut PgConnection,
    pool: &PgPool,
    payload: &Value,
    context: &JobContext,
    forgotten: &mut Vec<String>,
) -> Result<Option<String>, JobError> {
    let failed = |detail: String| JobError::GiveUp {
        code: "transcription_failed",
        detail,
    };
    let user_id = payload_id(payload, "user_id").map_err(failed)?;
    let material_id = payload_id(payload, "material_id").map_err(failed)?;
    match transcribe(conn, pool, payload, context, user_id, material_id).await {
        Ok(()) => Ok(db::transcription_sources::delete(&mut *conn, user_id, material_id).await?),
        Err(error @ JobError::GiveUp { .. }) => {
            // The job's transaction is rolled back: forget the sound outside
            // it (the job holds no lock on the row), and its object after it.
            match db::transcription_sources::delete(pool, user_id, material_id).await {
                Ok(key) => forgotten.extend(key),
                Err(error) => tracing::warn!(%error, "forgetting the transcription's sound failed"),
            }
            Err(error)
        }
        Err(error) => Err(error),
    }
}

async fn transcribe(
    conn: &mut PgConnection,
    pool: &PgPool,
    payload: &Value,
    context: &JobContext,
    user_id: Uuid,
    material_id: Uuid,
) -> Result<(), JobError> {
    let requested = payload.get("language").and_then(Value::as_str);
    let Some(transcription) = &context.transcription else {
        return Err(JobError::GiveUp {
            code: "transcription_unavailable",
            detail: "this server does not transcribe media".into(),
        });
    };
    let Some(target) = db::transcriptions::target(&mut *conn, user_id, material_id).await? else {
        // Deleted meanwhile: nothing left to transcribe.
        return Ok(());
    };
    let Some(media_key) = target.media_key else {
        return Err(JobError::GiveUp {
            code: "media_not_stored",
            detail: "neither the material's media nor its sound is on the server any more".into(),
        });
    };
    has_no_segments(&mut *conn, user_id, material_id).await?;
    // A cheap look first, so a used-up month costs no transcription; the
    // minutes are checked again under the plan lock before storing.
    month_allowance(conn, context, user_id, target.duration, false).await?;

    let media = tempfile::NamedTempFile::new().context("creating a file for the media")?;
    fetch_object(context, &media_key, media.path()).await?;
    let language = requested
        .map(str::to_owned)
        .or_else(|| target.language.as_deref().map(primary_subtag));
    let started = std::time::Instant::now();
    let (heard, progress) = tokio::sync::watch::channel(0);
    let reporter = tokio::spawn(report_progress(
        pool.clone(),
        user_id,
        material_id,
        target.duration,
        progress,
    ));
    let transcribed = transcription
        .transcribe(media.path().to_owned(), language, heard)
        .await;
    // The sender is gone with the transcription: the reporter ends.
    if let Err(error) = reporter.await {
        tracing::warn!(%error, "the progress reporter stopped");
    }
    if let Err(error) = db::transcriptions::clear_progress(pool, user_id, material_id).await {
        tracing::warn!(%error, "clearing the transcription's progress failed");
    }
    let transcribed = transcribed.map_err(give_up_or_retry)?;
    crate::metrics::media_transcribed(transcribed.media_ms);
    tracing::info!(
        transcribe_ms = started.elapsed().as_millis() as u64,
        media_ms = transcribed.media_ms,
        model = transcribed.model,
        segments = transcribed.segments.len(),
        "material transcribed"
    );
    if transcribed.segments.is_empty() {
        return Err(JobError::GiveUp {
            code: "no_speech",
            detail: "no speech was heard in the media".into(),
        });
    }
    store(conn, context, user_id, material_id, &transcribed).await
}

/// Keeps `transcription_progress` up to date (every `PROGRESS_EVERY` at
/// most) until the transcription drops its end of `heard`. A failed write
/// only costs the learner a stale percentage.
async fn report_progress(
    pool: PgPool,
    user_id: Uuid,
    material_id: Uuid,
    total_ms: Option<i64>,
    mut heard: tokio::sync::watch::Receiver<u64>,
) {
    let write = |done_ms: u64| {
        let pool = pool.clone();
        let progress = db::transcriptions::Progress {
            done_ms: i64::try_from(done_ms).unwrap_or(i64::MAX),
            total_ms,
        };
        async move {
            if let Err(error) =
                db::transcriptions::set_progress(&pool, user_id, material_id, progress).await
            {
                tracing::warn!(%error, "recording the transcription's progress failed");
            }
        }
    };
    write(0).await;
    // Throttled by skipping, not sleeping: the job waits for this task, and
    // it must end as soon as the transcription does.
    let mut next_write = tokio::time::Instant::now();
    while heard.changed().await.is_ok() {
        let done_ms = *heard.borrow_and_update();
        if tokio::time::Instant::now() >= next_write {
            write(done_ms).await;
            next_write = tokio::time::Instant::now() + PROGRESS_EVERY;
        }
    }
}

/// Writes the segments, the usage row and a heard language, under the
/// learner's change counter (first, as every write of theirs), the plan's
/// and the material's locks.
async fn store(
    conn: &mut PgConnection,
    context: &JobContext,
    user_id: Uuid,
    material_id: Uuid,
    transcribed: &Transcribed,
) -> Result<(), JobError> {
    let media_ms = i64::try_from(transcribed.media_ms).unwrap_or(i64::MAX);
    // Only now, not while Whisper ran: the learner's writes wait for it.
    db::sync::lock_change_counter(&mut *conn, user_id).await?;
    month_allowance(conn, context, user_id, Some(media_ms), true).await?;
    let Some(duration) = db::materials::lock(&mut *conn, user_id, material_id).await? else {
        return Ok(());
    };
    // Learners may have added segments while the media was transcribed:
    // theirs win.
    has_no_segments(&mut *conn, user_id, material_id).await?;
    // Whisper may time a window's first word before the previous window's
    // last one ends, and a last word a few ms past the media.
    let (inputs, _) = without_overlaps(&transcribed.segments, SegmentOrigin::AsrCloud, duration);
    let parsed = parse_list(&inputs, duration).map_err(|error| JobError::GiveUp {
        code: "transcription_failed",
        detail: format!(
            "the transcript is not a valid segment list ({}: {})",
            error.field, error.reason
        ),
    })?;
    let mut tx = sqlx::Connection::begin(&mut *conn)
        .await
        .context("starting the segment write")?;
    // Each write is stamped later than the rows it replaces (tombstones of
    // an earlier list, the material), whoever stamped them.
    db::segments::replace(&mut tx, user_id, material_id, &parsed, &context.clock)
        .await
        .map_err(|error| JobError::Retry(anyhow::anyhow!("storing the segments: {error:?}")))?;
    if let Some(language) = &transcribed.language {
        let stored = db::materials::lock_stored(&mut *tx, user_id, material_id).await?;
        let stored = stored.as_ref().and_then(|stored| stored.hlc.as_deref());
        let hlc = context.clock.now_after(stored)?.to_string();
        db::transcriptions::set_language_if_unknown(&mut *tx, user_id, material_id, language, &hlc)
            .await?;
    }
    db::transcriptions::insert(
        &mut *tx,
        user_id,
        NewTranscription {
            material_id,
            language: transcribed.language.as_deref(),
            model: transcribed.model,
            media_ms,
            segments: i32::try_from(parsed.len()).unwrap_or(i32::MAX),
        },
    )
    .await?;
    tx.commit().await.context("committing the segment write")?;
    Ok(())
}

async fn has_no_segments(
    conn: &mut PgConnection,
    user_id: Uuid,
    material_id: Uuid,
) -> Result<(), JobError> {
    if db::segments::count(&mut *conn, user_id, material_id).await? > 0 {
        return Err(JobError::GiveUp {
            code: "material_has_segments",
            detail: "the material has sentences already; transcription only fills an empty one"
                .into(),
        });
    }
    Ok(())
}

/// Gives up when the media can never fit the plan's month; defers to the
/// next month when this one's minutes are used. With `lock`, holds the
/// plan lock until the job's transaction ends.
async fn month_allowance(
    conn: &mut PgConnection,
    context: &JobContext,
    user_id: Uuid,
    media_ms: Option<i64>,
    lock: bool,
) -> Result<(), JobError> {
    let (plan, limits) = if lock {
        entitlements::lock_limits(&mut *conn, &context.entitlements, user_id).await?
    } else {
        entitlements::plan_limits(&mut *conn, &context.entitlements, user_id).await?
    };
    let used = db::transcriptions::media_ms_this_month(&mut *conn, user_id).await?;
    match entitlements::check_asr_minutes(&limits, &plan, used, media_ms) {
        Ok(()) => Ok(()),
        Err(AsrRefusal::NeverFits { detail }) => Err(JobError::GiveUp {
            code: "asr_limit_reached",
            detail,
        }),
        Err(AsrRefusal::NotThisMonth { detail }) => Err(JobError::Defer {
            at: entitlements::next_month_start(chrono::Utc::now()),
            code: "asr_limit_reached",
            detail,
        }),
    }
}

/// `en-GB` → `en`: Whisper knows languages, not regions.
fn primary_subtag(tag: &str) -> String {
    tag.split('-').next().unwrap_or(tag).to_ascii_lowercase()
}

fn give_up_or_retry(error: TranscriptionError) -> JobError {
    let give_up = |code, detail: String| JobError::GiveUp { code, detail };
    match error {
        TranscriptionError::Speech(error) if error.is_missing_model() => give_up(
            "transcription_unavailable",
            "this server has no transcription model for this language installed".into(),
        ),
        TranscriptionError::Speech(error) if error.is_unreadable_audio() => give_up(
            "unreadable_audio",
            "the material's media has no audio that can be decoded".into(),
        ),
        other => JobError::Retry(anyhow::Error::new(other)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use echoloop_core::subtitles::Segment;
    use echoloop_core::time::Millis;
    use echoloop_speech::SpeechError;

    fn sentence(start: u64, end: u64, text: &str) -> Segment {
        Segment {
            start_time: Millis::new(start),
            end_time: Millis::new(end),
            text: text.into(),
            words: None,
            translation: None,
        }
    }

    #[test]
    fn sentences_are_kept_within_the_media_and_apart() {
        let (inputs, dropped) = without_overlaps(
            &[
                sentence(0, 900, "One."),
                sentence(850, 1500, "Two, timed into one."),
                sentence(1000, 1400, "Inside two."),
                sentence(1600, 2050, "Past the end."),
            ],
            SegmentOrigin::AsrCloud,
            Some(2000),
        );
        let spans: Vec<(i64, i64, &str)> = inputs
            .iter()
            .map(|i| (i.start_time, i.end_time, i.text.as_str()))
            .collect();
        assert_eq!(
            spans,
            [
                (0, 900, "One."),
                (900, 1500, "Two, timed into one."),
                (1600, 2000, "Past the end.")
            ]
        );
        assert_eq!(dropped, [2]);
        assert!(inputs.iter().all(|i| i.origin == SegmentOrigin::AsrCloud));
        assert!(parse_list(&inputs, Some(2000)).is_ok());
    }

    #[test]
    fn a_missing_model_or_unreadable_media_is_final_but_a_failing_tool_is_retried() {
        let code = |error: SpeechError| match give_up_or_retry(error.into()) {
            JobError::GiveUp { code, .. } => code,
            JobError::Retry(_) => "retry",
            JobError::Defer { code, .. } => code,
        };
        assert_eq!(
            code(SpeechError::Model("gone".into())),
            "transcription_unavailable"
        );
        assert_eq!(
            code(SpeechError::EmptyAudio("x".into())),
            "unreadable_audio"
        );
        assert_eq!(
            code(SpeechError::Tool {
                program: "ffmpeg",
                detail: "killed".into()
            }),
            "retry"
        );
    }

    #[test]
    fn whisper_is_asked_for_the_language_not_the_region() {
        assert_eq!(primary_subtag("en-GB"), "en");
        assert_eq!(primary_subtag("FR"), "fr");
    }
}
