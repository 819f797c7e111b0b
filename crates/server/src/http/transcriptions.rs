//! Transcribing a material's stored media into its segments (job
//! `material.transcribe`), and where that stands.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::PgConnection;
use uuid::Uuid;

use super::ApiContext;
use super::auth::AuthUser;
use super::error::{Error, Result};
use super::extract::{Json, PathId};
use crate::domain::LanguageTag;
use crate::entitlements::{self, AsrRefusal};
use crate::jobs::transcribe_material;
use crate::{db, scoring};

pub fn router() -> Router<ApiContext> {
    Router::new().route(
        "/materials/{id}/transcription",
        get(show_transcription).post(start_transcription),
    )
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TranscriptionRequest {
    /// BCP 47 tag of the speech; omitted: the material's language, else
    /// detected (with the multilingual model).
    pub language: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TranscriptionState {
    /// Queued or running (or waiting for next month's minutes).
    Pending,
    /// The segments are stored (`GET /materials/{id}/segments`).
    Done,
    /// Given up; `code` and `detail` say why.
    Failed,
    /// Never asked for.
    None,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TranscriptionStatus {
    pub state: TranscriptionState,
    /// `asr_limit_reached` (pending, until `retry_at`); `transcription_unavailable`,
    /// `unreadable_audio`, `no_speech`, `media_not_stored`, `material_has_segments`,
    /// `asr_limit_reached`, `transcription_failed` (failed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_at: Option<DateTime<Utc>>,
    /// Done: the language heard (ISO 639-1).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    /// Done: the Whisper model used.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// Done: milliseconds of media transcribed (counted against the month).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub media_ms: Option<i64>,
    /// Done: how many segments were stored.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub segments: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<DateTime<Utc>>,
    /// Pending, while running: how far it has got.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub progress: Option<TranscriptionProgress>,
}

#[derive(Debug, Clone, Copy, Serialize, utoipa::ToSchema)]
pub struct TranscriptionProgress {
    /// Milliseconds of the media transcribed so far.
    pub done_ms: i64,
    /// The media's length, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total_ms: Option<i64>,
}

impl TranscriptionStatus {
    fn of(state: TranscriptionState) -> Self {
        TranscriptionStatus {
            state,
            code: None,
            detail: None,
            retry_at: None,
            language: None,
            model: None,
            media_ms: None,
            segments: None,
            finished_at: None,
            progress: None,
        }
    }

    fn from_job(
        job: Option<db::jobs::JobState>,
        finished: Option<db::transcriptions::Transcription>,
    ) -> Self {
        match (job, finished) {
            (Some(job), _) if job.failed_at.is_some() => TranscriptionStatus {
                // Retries used up on an internal error: its text stays in the log.
                code: Some(
                    job.last_error_code
                        .clone()
                        .unwrap_or_else(|| "transcription_failed".into()),
                ),
                detail: Some(match job.last_error_code {
                    Some(_) => job.last_error.unwrap_or_default(),
                    None => "the server could not transcribe this material".into(),
                }),
                ..Self::of(TranscriptionState::Failed)
            },
            (Some(job), _) => match job.last_error_code {
                Some(code) => TranscriptionStatus {
                    code: Some(code),
                    detail: job.last_error,
                    retry_at: Some(job.run_at),
                    ..Self::of(TranscriptionState::Pending)
                },
                None => Self::of(TranscriptionState::Pending),
            },
            (None, Some(done)) => TranscriptionStatus {
                language: done.language,
                model: Some(done.model),
                media_ms: Some(done.media_ms),
                segments: Some(done.segments),
                finished_at: Some(done.created_at),
                ..Self::of(TranscriptionState::Done)
            },
            (None, None) => Self::of(TranscriptionState::None),
        }
    }
}

/// Transcribe the material's stored media, or the sound uploaded for
/// transcription only, into its segments (origin `asr_cloud`), in the
/// background. Asking again while it runs answers the
/// same; asking after a failure starts again.
#[utoipa::path(post, path = "/api/v1/materials/{id}/transcription", tag = "materials",
    request_body(content = Option<TranscriptionRequest>, description = "optional"), params(("id" = Uuid, Path)),
    responses((status = 202, body = TranscriptionStatus), (status = 404),
              (status = 409, description = "media_not_stored: neither the media nor sound uploaded for transcription is on the server (plans without `large_media_backup` keep media on the device: upload the sound with tus target `transcription`); material_has_segments"),
              (status = 403, description = "asr_limit_reached: the month's transcription minutes do not cover the media"),
              (status = 422, description = "validation_failed (`language`)"),
              (status = 503, description = "transcription_unavailable: transcription is off or no model is installed")),
    security(("bearer" = [])))]
pub async fn start_transcription(
    user: AuthUser,
    State(ctx): State<ApiContext>,
    PathId(material_id): PathId,
    body: Option<Json<TranscriptionRequest>>,
) -> Result<impl IntoResponse> {
    let request = body.map(|Json(body)| body).unwrap_or_default();
    let requested = request
        .language
        .as_deref()
        .map(|tag| {
            LanguageTag::parse(tag.trim()).map_err(|reason| Error::validation("language", reason))
        })
        .transpose()?
        .map(|tag| scoring::language_of(Some(tag.as_ref())));
    let mut tx = db::sync::begin_write(&ctx.db, user.user_id).await?;
    db::materials::lock(&mut *tx, user.user_id, material_id)
        .await?
        .ok_or(Error::NotFound)?;
    let target = db::transcriptions::target(&mut *tx, user.user_id, material_id)
        .await?
        .ok_or(Error::NotFound)?;
    if let Some(job) = db::jobs::material_transcription(&mut *tx, user.user_id, material_id).await?
        && job.failed_at.is_none()
    {
        return Ok((
            StatusCode::ACCEPTED,
            axum::Json(TranscriptionStatus::from_job(Some(job), None)),
        ));
    }
    let Some(transcription) = &ctx.transcription else {
        return Err(unavailable("this server does not transcribe media".into()));
    };
    let language = requested.clone().or_else(|| {
        target
            .language
            .as_deref()
            .map(|tag| scoring::language_of(Some(tag)))
    });
    transcription
        .model_for(language.as_deref())
        .map_err(|error| unavailable(error.to_string()))?;
    if target.media_key.is_none() {
        return Err(Error::Conflict {
            code: "media_not_stored",
            detail: "neither the material's media nor its sound is on the server (your plan keeps media on your device, or its upload has not finished); upload the sound for transcription first (tus target \"transcription\")".into(),
        });
    }
    check_transcribable(&mut tx, &ctx, user.user_id, material_id, target.duration).await?;
    transcribe_material::schedule(&mut tx, user.user_id, material_id, requested.as_deref()).await?;
    let job = db::jobs::material_transcription(&mut *tx, user.user_id, material_id).await?;
    tx.commit().await?;
    Ok((
        StatusCode::ACCEPTED,
        axum::Json(TranscriptionStatus::from_job(job, None)),
    ))
}

/// What sending sound for a transcription (`POST /uploads` with target
/// `transcription`) is refused for before a byte is sent: transcription
/// off, one already under way, or what `check_transcribable` refuses for
/// the material's known duration. Locks the material and the plan for the
/// rest of `tx`.
pub(super) async fn check_sound_upload(
    tx: &mut PgConnection,
    ctx: &ApiContext,
    user_id: Uuid,
    material_id: Uuid,
) -> Result<()> {
    if ctx.transcription.is_none() {
        return Err(unavailable("this server does not transcribe media".into()));
    }
    let duration = db::materials::lock(&mut *tx, user_id, material_id)
        .await?
        .ok_or(Error::NotFound)?;
    if db::jobs::material_transcription(&mut *tx, user_id, material_id)
        .await?
        .is_some_and(|job| job.failed_at.is_none())
    {
        return Err(Error::Conflict {
            code: "transcription_pending",
            detail: "the material is being transcribed; its sound cannot be replaced meanwhile"
                .into(),
        });
    }
    check_transcribable(tx, ctx, user_id, material_id, duration).await
}

/// Refusals a transcription request and an upload of sound for one share:
/// the material has sentences already, or the month's minutes do not cover
/// `duration_ms` (when known). Takes the plan lock for the rest of `tx`.
async fn check_transcribable(
    tx: &mut PgConnection,
    ctx: &ApiContext,
    user_id: Uuid,
    material_id: Uuid,
    duration_ms: Option<i64>,
) -> Result<()> {
    if db::segments::count(&mut *tx, user_id, material_id).await? > 0 {
        return Err(Error::Conflict {
            code: "material_has_segments",
            detail:
                "the material has sentences already; delete them to transcribe its speech instead"
                    .into(),
        });
    }
    let (plan, limits) = entitlements::lock_limits(tx, &ctx.settings.entitlements, user_id).await?;
    let used = db::transcriptions::media_ms_this_month(&mut *tx, user_id).await?;
    match entitlements::check_asr_minutes(&limits, &plan, used, duration_ms) {
        Ok(()) => Ok(()),
        Err(AsrRefusal::NeverFits { detail } | AsrRefusal::NotThisMonth { detail }) => Err(
            Error::refused(StatusCode::FORBIDDEN, "asr_limit_reached", detail),
        ),
    }
}

fn unavailable(detail: String) -> Error {
    Error::refused(
        StatusCode::SERVICE_UNAVAILABLE,
        "transcription_unavailable",
        detail,
    )
}

#[utoipa::path(get, path = "/api/v1/materials/{id}/transcription", tag = "materials", params(("id" = Uuid, Path)),
    responses((status = 200, body = TranscriptionStatus), (status = 404)), security(("bearer" = [])))]
pub async fn show_transcription(
    user: AuthUser,
    State(ctx): State<ApiContext>,
    PathId(material_id): PathId,
) -> Result<axum::Json<TranscriptionStatus>> {
    db::transcriptions::target(&ctx.db, user.user_id, material_id)
        .await?
        .ok_or(Error::NotFound)?;
    let job = db::jobs::material_transcription(&ctx.db, user.user_id, material_id).await?;
    let (finished, progress) = match &job {
        Some(job) if job.failed_at.is_none() => (
            None,
            db::transcriptions::progress(&ctx.db, user.user_id, material_id).await?,
        ),
        Some(_) => (None, None),
        None => (
            db::transcriptions::latest(&ctx.db, user.user_id, material_id).await?,
            None,
        ),
    };
    let mut status = TranscriptionStatus::from_job(job, finished);
    status.progress = progress.map(|progress| TranscriptionProgress {
        done_ms: progress.done_ms,
        total_ms: progress.total_ms,
    });
    Ok(axum::Json(status))
}
