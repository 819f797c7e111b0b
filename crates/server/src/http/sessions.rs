//! Logging in and out, and the list of one's sessions.
//!
//! - `POST   /api/v1/sessions`          log in → a bearer token
//! - `GET    /api/v1/sessions`          my live sessions
//! - `DELETE /api/v1/sessions`          revoke all my sessions (this one too)
//! - `DELETE /api/v1/sessions/current`  log out
//! - `DELETE /api/v1/sessions/{id}`     revoke one of my sessions

use std::time::Duration;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{delete, post};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::PgConnection;
use uuid::Uuid;

use super::ApiContext;
use super::auth::{AuthUser, ClientIp, UserAgent};
use super::error::{Error, Result};
use super::extract::Json;
use crate::db::users::User;
use crate::domain::Email;
use crate::{accounts, credentials, db, rate_limit};

pub fn router() -> Router<ApiContext> {
    Router::new()
        .route("/sessions", post(login).get(list).delete(revoke_all))
        .route("/sessions/current", delete(logout))
        .route("/sessions/{id}", delete(revoke))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SessionView {
    pub id: Uuid,
    pub user_agent: Option<String>,
    pub created_at: DateTime<Utc>,
    pub last_used_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    /// Whether this is the session making the request.
    pub current: bool,
}

impl SessionView {
    fn new(session: db::sessions::Session, current: Option<Uuid>) -> Self {
        SessionView {
            current: current == Some(session.id),
            id: session.id,
            user_agent: session.user_agent,
            created_at: session.created_at,
            last_used_at: session.last_used_at,
            expires_at: session.expires_at,
        }
    }
}

/// What register and login answer: the token (shown once, never stored)
/// and who it belongs to.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SessionCreated {
    pub token: String,
    pub token_type: &'static str,
    pub session: SessionView,
    pub user: User,
}

/// Opens a session in the caller's transaction.
pub(super) async fn open(
    conn: &mut PgConnection,
    user: User,
    user_agent: Option<&str>,
    ttl: Duration,
) -> Result<SessionCreated> {
    let token = credentials::new_session_token()?;
    let session = db::sessions::insert(
        conn,
        user.id,
        &credentials::token_hash(&token),
        user_agent,
        ttl,
    )
    .await?;
    Ok(SessionCreated {
        token,
        token_type: "Bearer",
        session: SessionView::new(session, None),
        user,
    })
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct LoginRequest {
    email: String,
    password: String,
}

/// Log in: a new bearer session.
#[utoipa::path(post, operation_id = "login", path = "/api/v1/sessions", tag = "sessions", request_body = LoginRequest,
    responses((status = 201, body = SessionCreated), (status = 401, description = "invalid_credentials"),
              (status = 429, description = "rate_limited")))]
pub async fn login(
    State(ctx): State<ApiContext>,
    ClientIp(ip): ClientIp,
    UserAgent(user_agent): UserAgent,
    Json(request): Json<LoginRequest>,
) -> Result<(StatusCode, axum::Json<SessionCreated>)> {
    let limits = &ctx.settings.rate_limits;
    rate_limit::hit(
        &ctx.db,
        &format!("login:ip:{ip}"),
        limits.login_per_ip,
        limits.window,
    )
    .await?;
    let email =
        Email::parse(&request.email).map_err(|detail| Error::validation("email", detail))?;
    rate_limit::hit(
        &ctx.db,
        &format!("login:account:{email}"),
        limits.login_per_account,
        limits.window,
    )
    .await?;
    if request.password.chars().count() > crate::domain::password::MAX_CHARS {
        return Err(Error::InvalidCredentials);
    }
    let user_id = accounts::check_credentials(&ctx.db, Some(&email), &request.password).await?;
    let user = db::users::find(&ctx.db, user_id)
        .await?
        .ok_or(Error::InvalidCredentials)?;
    let mut tx = ctx.db.begin().await?;
    let created = open(
        &mut tx,
        user,
        user_agent.as_deref(),
        ctx.settings.session_ttl,
    )
    .await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, axum::Json(created)))
}

/// My live sessions, most recently used first.
#[utoipa::path(get, operation_id = "list_sessions", path = "/api/v1/sessions", tag = "sessions", responses((status = 200, body = [SessionView])), security(("bearer" = [])))]
pub async fn list(
    user: AuthUser,
    State(ctx): State<ApiContext>,
) -> Result<axum::Json<Vec<SessionView>>> {
    let sessions = db::sessions::list(&ctx.db, user.user_id).await?;
    Ok(axum::Json(
        sessions
            .into_iter()
            .map(|session| SessionView::new(session, Some(user.session_id)))
            .collect(),
    ))
}

/// Log out (revoke this session).
#[utoipa::path(delete, operation_id = "logout", path = "/api/v1/sessions/current", tag = "sessions", responses((status = 204)), security(("bearer" = [])))]
pub async fn logout(user: AuthUser, State(ctx): State<ApiContext>) -> Result<StatusCode> {
    db::sessions::delete(&ctx.db, user.user_id, user.session_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Revoke one of my sessions.
#[utoipa::path(delete, operation_id = "revoke_session", path = "/api/v1/sessions/{id}", tag = "sessions", params(("id" = uuid::Uuid, Path)),
    responses((status = 204), (status = 404)), security(("bearer" = [])))]
pub async fn revoke(
    user: AuthUser,
    State(ctx): State<ApiContext>,
    Path(id): Path<String>,
) -> Result<StatusCode> {
    // A malformed id names no session of this user: 404 like any other.
    let id: Uuid = id.parse().map_err(|_| Error::NotFound)?;
    if db::sessions::delete(&ctx.db, user.user_id, id).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(Error::NotFound)
    }
}

/// Revoke every session of mine, this one too.
#[utoipa::path(delete, operation_id = "revoke_all_sessions", path = "/api/v1/sessions", tag = "sessions", responses((status = 204)), security(("bearer" = [])))]
pub async fn revoke_all(user: AuthUser, State(ctx): State<ApiContext>) -> Result<StatusCode> {
    let mut conn = ctx.db.acquire().await?;
    db::sessions::delete_all(&mut conn, user.user_id, None).await?;
    Ok(StatusCode::NO_CONTENT)
}
