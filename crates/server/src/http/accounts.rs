//! Registration.
//!
//! - `POST /api/v1/accounts`  create an account (free plan) and a session

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use serde::Deserialize;

use super::ApiContext;
use super::auth::{ClientIp, UserAgent};
use super::error::{Error, Result};
use super::extract::Json;
use super::sessions::{self, SessionCreated};
use crate::accounts::{self, NewAccount};
use crate::domain::{Email, LanguageTag, Password};
use crate::rate_limit;

pub fn router() -> Router<ApiContext> {
    Router::new().route("/accounts", post(register))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct RegisterRequest {
    email: String,
    password: String,
    native_language: String,
    #[serde(default)]
    learning_language: Option<String>,
}

/// Create an account on the free plan and sign in.
#[utoipa::path(post, operation_id = "register", path = "/api/v1/accounts", tag = "accounts", request_body = RegisterRequest,
    responses((status = 201, body = SessionCreated), (status = 409, description = "email_taken"),
              (status = 422, description = "validation_failed (field)"), (status = 429, description = "rate_limited")))]
pub async fn register(
    State(ctx): State<ApiContext>,
    ClientIp(ip): ClientIp,
    UserAgent(user_agent): UserAgent,
    Json(request): Json<RegisterRequest>,
) -> Result<(StatusCode, axum::Json<SessionCreated>)> {
    let limits = &ctx.settings.rate_limits;
    rate_limit::hit(
        &ctx.db,
        &format!("register:ip:{ip}"),
        limits.register_per_ip,
        limits.window,
    )
    .await?;
    let email =
        Email::parse(&request.email).map_err(|detail| Error::validation("email", detail))?;
    rate_limit::hit(
        &ctx.db,
        &format!("register:account:{email}"),
        limits.register_per_account,
        limits.window,
    )
    .await?;
    let account = NewAccount {
        email,
        password: Password::parse(&request.password)
            .map_err(|detail| Error::validation("password", detail))?,
        native_language: LanguageTag::parse(&request.native_language)
            .map_err(|detail| Error::validation("native_language", detail))?,
        learning_language: request
            .learning_language
            .as_deref()
            .map(LanguageTag::parse)
            .transpose()
            .map_err(|detail| Error::validation("learning_language", detail))?,
    };
    let (user, mut tx) = accounts::create(&ctx.db, account).await?;
    let created = sessions::open(
        &mut tx,
        user,
        user_agent.as_deref(),
        ctx.settings.session_ttl,
    )
    .await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, axum::Json(created)))
}
