//! Pronunciation assessments of a recording, in SPEC section 6's shape.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::ApiContext;
use super::auth::AuthUser;
use super::error::{Error, Result};
use super::extract::{Json, PathId};
use crate::db::assessments::{Assessment, NewAssessment};
use crate::domain::assessment::check_words;
use crate::domain::{Score, WordResult};
use crate::jobs::assess_recording;
use crate::{db, entitlements};

pub fn router() -> Router<ApiContext> {
    Router::new()
        .route(
            "/recordings/{id}/assessments",
            get(list_assessments).post(create_assessment),
        )
        .route("/assessments/{id}", get(get_assessment))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateAssessment {
    /// Client-chosen id (retries are idempotent).
    pub id: Uuid,
    pub overall_score: Score,
    pub accuracy_score: Option<Score>,
    pub fluency_score: Option<Score>,
    pub completeness_score: Option<Score>,
    pub prosody_score: Option<Score>,
    pub word_results: Vec<WordResult>,
    /// Which engine scored it (default `builtin`).
    pub engine: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AssessmentList {
    pub items: Vec<Assessment>,
    /// Where the server's own scoring of the recording stands.
    pub scoring: ScoringStatus,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ScoringState {
    /// Queued or running (or waiting for the next day's allowance).
    Pending,
    /// Stored among `items`.
    Done,
    /// Given up; `code` and `detail` say why.
    Failed,
    /// Never queued (the server does not score, or the recording predates it).
    None,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ScoringStatus {
    pub state: ScoringState,
    /// `assessment_limit_reached` (pending); `scoring_unavailable`,
    /// `unreadable_audio`, `no_text`, `language_unsupported`, `take_too_long`,
    /// `scoring_failed` (failed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// When a waiting job runs next (set with `assessment_limit_reached`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_at: Option<chrono::DateTime<chrono::Utc>>,
}

impl ScoringStatus {
    /// `unscored_language`: why a recording with no job was not queued
    /// (its language is not scored here), if that is why.
    fn from_job(
        job: Option<db::jobs::JobState>,
        stored: bool,
        unscored_language: Option<String>,
    ) -> Self {
        let status =
            |state, code: Option<String>, detail: Option<String>, retry_at| ScoringStatus {
                state,
                code,
                detail,
                retry_at,
            };
        match job {
            Some(job) if job.failed_at.is_some() => match job.last_error_code {
                Some(code) => status(ScoringState::Failed, Some(code), job.last_error, None),
                // Retries used up on an internal error: its text stays in the log.
                None => status(
                    ScoringState::Failed,
                    Some("scoring_failed".into()),
                    Some("the server could not score this recording".into()),
                    None,
                ),
            },
            Some(job) => match job.last_error_code {
                Some(code) => status(
                    ScoringState::Pending,
                    Some(code),
                    job.last_error,
                    Some(job.run_at),
                ),
                None => status(ScoringState::Pending, None, None, None),
            },
            None if stored => status(ScoringState::Done, None, None, None),
            None => match unscored_language {
                Some(detail) => status(
                    ScoringState::Failed,
                    Some("language_unsupported".into()),
                    Some(detail),
                    None,
                ),
                None => status(ScoringState::None, None, None, None),
            },
        }
    }
}

/// Store an assessment of one of my recordings. 201 created; 200 when this
/// id exists already.
#[utoipa::path(post, path = "/api/v1/recordings/{id}/assessments", tag = "assessments", request_body = CreateAssessment,
    params(("id" = Uuid, Path)), responses((status = 201, body = Assessment), (status = 200, body = Assessment),
    (status = 404), (status = 422), (status = 429, description = "assessment_limit_reached: the plan's assessments for today are used; Retry-After says when the day ends (UTC)")), security(("bearer" = [])))]
pub async fn create_assessment(
    user: AuthUser,
    State(ctx): State<ApiContext>,
    PathId(recording_id): PathId,
    Json(body): Json<CreateAssessment>,
) -> Result<impl IntoResponse> {
    db::recordings::get(&ctx.db, user.user_id, recording_id)
        .await?
        .ok_or(Error::NotFound)?;
    check_words(&body.word_results).map_err(|(field, reason)| Error::validation(field, reason))?;
    let engine = body.engine.as_deref().unwrap_or("builtin");
    if engine.is_empty()
        || engine.len() > 64
        || !engine
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.:".contains(c))
    {
        return Err(Error::validation(
            "engine",
            "must be 1 to 64 letters, digits, - _ . or :",
        ));
    }
    let word_results =
        serde_json::to_value(&body.word_results).map_err(|error| Error::Internal(error.into()))?;
    let new = NewAssessment {
        id: body.id,
        recording_id,
        overall: body.overall_score.get(),
        accuracy: body.accuracy_score.map(Score::get),
        fluency: body.fluency_score.map(Score::get),
        completeness: body.completeness_score.map(Score::get),
        prosody: body.prosody_score.map(Score::get),
        word_results,
        engine,
        reference_text: None,
        take_issues: Vec::new(),
    };
    // The day's allowance is checked under the plan lock, in the
    // transaction that stores the assessment; a retried id that is already
    // stored is answered below without counting again.
    let mut tx = db::sync::begin_write(&ctx.db, user.user_id).await?;
    let (plan, limits) =
        entitlements::lock_limits(&mut tx, &ctx.settings.entitlements, user.user_id).await?;
    let already_stored = db::assessments::get(&mut *tx, user.user_id, body.id)
        .await?
        .is_some();
    if !already_stored {
        let today = entitlements::assessments_today(&mut *tx, user.user_id).await?;
        if today >= limits.assessments_per_day {
            return Err(Error::LimitReached {
                code: "assessment_limit_reached",
                detail: format!(
                    "the {plan} plan includes {} pronunciation assessments a day; all are used, more tomorrow (UTC)",
                    limits.assessments_per_day
                ),
                retry_after_secs: entitlements::seconds_until_next_day(chrono::Utc::now()),
            });
        }
    }
    let inserted = db::assessments::insert(&mut *tx, user.user_id, new).await?;
    tx.commit().await?;
    match inserted {
        Some(created) => Ok((StatusCode::CREATED, axum::Json(created))),
        None => {
            let existing = db::assessments::get(&ctx.db, user.user_id, body.id)
                .await?
                .filter(|existing| existing.recording_id == recording_id)
                .ok_or_else(|| Error::Conflict {
                    code: "id_in_use",
                    detail: "id: an assessment with this id exists for another recording".into(),
                })?;
            Ok((StatusCode::OK, axum::Json(existing)))
        }
    }
}

#[utoipa::path(get, path = "/api/v1/recordings/{id}/assessments", tag = "assessments", params(("id" = Uuid, Path)),
    responses((status = 200, body = AssessmentList), (status = 404)), security(("bearer" = [])))]
pub async fn list_assessments(
    user: AuthUser,
    State(ctx): State<ApiContext>,
    PathId(recording_id): PathId,
) -> Result<axum::Json<AssessmentList>> {
    db::recordings::get(&ctx.db, user.user_id, recording_id)
        .await?
        .ok_or(Error::NotFound)?;
    // The job first: it is deleted in the transaction that stores its
    // assessment, so a job gone by now means the items read next include
    // that assessment. Read the other way round, a job finishing between
    // the two reads answered "none" for a take just scored.
    let job = db::jobs::recording_assessment(&ctx.db, user.user_id, recording_id).await?;
    let items = db::assessments::for_recording(&ctx.db, user.user_id, recording_id).await?;
    let server_id = assess_recording::assessment_id(recording_id);
    let stored = items.iter().any(|item| item.id == server_id);
    let mut unscored_language = None;
    if let (None, false, Some(scoring)) = (&job, stored, &ctx.scoring) {
        let target = db::assessments::scoring_target(&ctx.db, user.user_id, recording_id).await?;
        let language = target.and_then(|target| target.language);
        if !scoring.scores(language.as_deref()) {
            unscored_language = Some(scoring.unsupported_language(language.as_deref()));
        }
    }
    Ok(axum::Json(AssessmentList {
        items,
        scoring: ScoringStatus::from_job(job, stored, unscored_language),
    }))
}

#[utoipa::path(get, path = "/api/v1/assessments/{id}", tag = "assessments", params(("id" = Uuid, Path)),
    responses((status = 200, body = Assessment), (status = 404)), security(("bearer" = [])))]
pub async fn get_assessment(
    user: AuthUser,
    State(ctx): State<ApiContext>,
    PathId(id): PathId,
) -> Result<axum::Json<Assessment>> {
    let assessment = db::assessments::get(&ctx.db, user.user_id, id)
        .await?
        .ok_or(Error::NotFound)?;
    Ok(axum::Json(assessment))
}
