//! The signed-in user's own account.
//!
//! - `GET    /api/v1/me`               profile
//! - `PATCH  /api/v1/me`               languages; email (needs `current_password`)
//! - `DELETE /api/v1/me`               close the account (needs `password`); data removed by a job
//! - `POST   /api/v1/me/password`      change password; revokes every other session
//! - `GET    /api/v1/me/export`        all my data as one JSON document
//! - `GET    /api/v1/me/entitlements`  plan limits and current usage

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::{Deserialize, Deserializer, Serialize};

use super::ApiContext;
use super::auth::AuthUser;
use super::error::{Error, Result, ResultExt};
use super::extract::Json;
use crate::db::users::{ProfileChange, User};
use crate::domain::{Email, LanguageTag, Password};
use crate::entitlements::{self, Entitlements};
use crate::jobs::delete_account;
use crate::{accounts, credentials, db};

pub fn router() -> Router<ApiContext> {
    Router::new()
        .route("/me", get(show).patch(update).delete(close))
        .route("/me/password", post(change_password))
        .route("/me/export", get(export))
        .route("/me/entitlements", get(show_entitlements))
}

/// My profile.
#[utoipa::path(get, operation_id = "get_me", path = "/api/v1/me", tag = "me", responses((status = 200, body = User)), security(("bearer" = [])))]
pub async fn show(user: AuthUser, State(ctx): State<ApiContext>) -> Result<axum::Json<User>> {
    let found = db::users::find(&ctx.db, user.user_id)
        .await?
        .ok_or(Error::Unauthorized)?;
    Ok(axum::Json(found))
}

/// Absent → `None` (leave alone); `null` → `Some(None)` (clear).
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    deserializer: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(deserializer).map(Some)
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct UpdateRequest {
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    current_password: Option<String>,
    #[serde(default)]
    native_language: Option<String>,
    /// `null` clears it.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>, nullable)]
    learning_language: Option<Option<String>>,
}

/// Change languages, or the email (with `current_password`).
#[utoipa::path(patch, operation_id = "update_me", path = "/api/v1/me", tag = "me", request_body = UpdateRequest,
    responses((status = 200, body = User), (status = 409, description = "email_taken"), (status = 422)), security(("bearer" = [])))]
pub async fn update(
    user: AuthUser,
    State(ctx): State<ApiContext>,
    Json(request): Json<UpdateRequest>,
) -> Result<axum::Json<User>> {
    let native_language = request
        .native_language
        .as_deref()
        .map(LanguageTag::parse)
        .transpose()
        .map_err(|detail| Error::validation("native_language", detail))?;
    let learning_language = match request.learning_language.as_ref() {
        None => None,
        Some(None) => Some(None),
        Some(Some(tag)) => {
            Some(Some(LanguageTag::parse(tag).map_err(|detail| {
                Error::validation("learning_language", detail)
            })?))
        }
    };
    let email = request
        .email
        .as_deref()
        .map(Email::parse)
        .transpose()
        .map_err(|detail| Error::validation("email", detail))?;
    if email.is_some() {
        let password = request.current_password.as_deref().ok_or_else(|| {
            Error::validation("current_password", "is required to change the email")
        })?;
        accounts::check_current_password(&ctx.db, user.user_id, password).await?;
    }
    let change = ProfileChange {
        email: email.as_ref().map(Email::as_str),
        native_language: native_language.as_ref().map(LanguageTag::as_str),
        learning_language: learning_language
            .as_ref()
            .map(|tag| tag.as_ref().map(LanguageTag::as_str)),
    };
    let mut tx = db::sync::begin_write(&ctx.db, user.user_id).await?;
    let updated = db::users::update_profile(&mut *tx, user.user_id, &change)
        .await
        .on_constraint(db::users::EMAIL_KEY, |_| accounts::email_taken())?
        .ok_or(Error::Unauthorized)?;
    tx.commit().await?;
    Ok(axum::Json(updated))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct ChangePasswordRequest {
    current_password: String,
    new_password: String,
}

/// Change the password; every other session is revoked.
#[utoipa::path(post, operation_id = "change_password", path = "/api/v1/me/password", tag = "me", request_body = ChangePasswordRequest,
    responses((status = 204), (status = 422)), security(("bearer" = [])))]
pub async fn change_password(
    user: AuthUser,
    State(ctx): State<ApiContext>,
    Json(request): Json<ChangePasswordRequest>,
) -> Result<StatusCode> {
    let new_password = Password::parse(&request.new_password)
        .map_err(|detail| Error::validation("new_password", detail))?;
    accounts::check_current_password(&ctx.db, user.user_id, &request.current_password).await?;
    let digest = credentials::hash_password(new_password).await?;
    let mut tx = db::sync::begin_write(&ctx.db, user.user_id).await?;
    if !db::users::set_password_digest(&mut tx, user.user_id, &digest).await? {
        return Err(Error::Unauthorized);
    }
    db::sessions::delete_all(&mut tx, user.user_id, Some(user.session_id)).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct CloseRequest {
    password: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Closed {
    status: &'static str,
}

/// Close the account; a background job removes all its data.
#[utoipa::path(delete, operation_id = "delete_me", path = "/api/v1/me", tag = "me", request_body = CloseRequest,
    responses((status = 202, body = Closed), (status = 422)), security(("bearer" = [])))]
pub async fn close(
    user: AuthUser,
    State(ctx): State<ApiContext>,
    Json(request): Json<CloseRequest>,
) -> Result<(StatusCode, axum::Json<Closed>)> {
    accounts::check_current_password(&ctx.db, user.user_id, &request.password)
        .await
        .map_err(|error| match error {
            Error::Validation { detail, .. } => Error::validation("password", detail),
            other => other,
        })?;
    let mut tx = db::sync::begin_write(&ctx.db, user.user_id).await?;
    delete_account::schedule(&mut tx, user.user_id).await?;
    tx.commit().await?;
    Ok((
        StatusCode::ACCEPTED,
        axum::Json(Closed {
            status: "deletion_scheduled",
        }),
    ))
}

/// All my data as one JSON document.
#[utoipa::path(get, operation_id = "export_my_data", path = "/api/v1/me/export", tag = "me", responses((status = 200, body = Object)), security(("bearer" = [])))]
pub async fn export(user: AuthUser, State(ctx): State<ApiContext>) -> Result<Response> {
    let document = db::export::user_data(&ctx.db, user.user_id)
        .await?
        .ok_or(Error::Unauthorized)?;
    let mut response = axum::Json(document).into_response();
    response.headers_mut().insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static("attachment; filename=\"echoloop-export.json\""),
    );
    Ok(response)
}

/// My plan's limits and my current usage.
#[utoipa::path(get, operation_id = "get_entitlements", path = "/api/v1/me/entitlements", tag = "me", responses((status = 200, body = Entitlements)), security(("bearer" = [])))]
pub async fn show_entitlements(
    user: AuthUser,
    State(ctx): State<ApiContext>,
) -> Result<axum::Json<Entitlements>> {
    let found = entitlements::for_user(&ctx.db, &ctx.settings.entitlements, user.user_id).await?;
    Ok(axum::Json(found))
}
