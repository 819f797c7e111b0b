//! The API's one error type. Every failure a handler can meet becomes an
//! RFC 9457 `application/problem+json` response with a stable `code`, here
//! and nowhere else. Internal details are logged, never sent.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

pub const PROBLEM_JSON: &str = "application/problem+json";

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Input that does not parse or breaks a rule; `field` names where.
    #[error("{field}: {detail}")]
    Validation { field: String, detail: String },
    #[error("authentication required")]
    Unauthorized,
    /// Wrong email or password; never says which.
    #[error("the email or password is incorrect")]
    InvalidCredentials,
    #[error("too many attempts; try again in {retry_after_secs} seconds")]
    TooManyRequests { retry_after_secs: u64 },
    /// A request that is well-formed JSON but refused as a whole (e.g. a
    /// webhook whose signature does not verify).
    #[error("{detail}")]
    BadRequest { code: &'static str, detail: String },
    #[error("billing is not configured on this server")]
    BillingDisabled,
    /// The payment provider refused or failed; `detail` is safe to show.
    #[error("{detail}")]
    PaymentProvider { detail: String },
    /// Also what a user gets for another user's ids: existence never leaks.
    #[error("not found")]
    NotFound,
    #[error("{detail}")]
    Conflict { code: &'static str, detail: String },
    /// 409: what was to be created exists already under another id, which
    /// the problem names (`existing_id`), e.g. `word_already_saved`.
    #[error("{detail}")]
    AlreadyExists {
        code: &'static str,
        detail: String,
        existing_id: uuid::Uuid,
    },
    #[error("request body too large: {detail}")]
    PayloadTooLarge { detail: String },
    #[error("unsupported media type: {detail}")]
    UnsupportedMediaType { detail: String },
    #[error("{detail}")]
    MalformedBody { detail: String },
    #[error("service unavailable: {0}")]
    Unavailable(String),
    /// A refusal with a status and code of its own (uploads, ranges, plan
    /// limits), e.g. 413 `storage_quota_exceeded`, 416 `range_not_satisfiable`.
    #[error("{detail}")]
    Refused {
        status: StatusCode,
        code: &'static str,
        detail: String,
    },
    /// A plan's allowance for a period is used up (429 with `Retry-After`
    /// at the start of the next period), e.g. `assessment_limit_reached`.
    #[error("{detail}")]
    LimitReached {
        code: &'static str,
        detail: String,
        retry_after_secs: u64,
    },
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl Error {
    pub fn refused(status: StatusCode, code: &'static str, detail: impl Into<String>) -> Self {
        Error::Refused {
            status,
            code,
            detail: detail.into(),
        }
    }

    pub fn validation(field: impl Into<String>, detail: impl Into<String>) -> Self {
        Error::Validation {
            field: field.into(),
            detail: detail.into(),
        }
    }

    fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            Error::Validation { .. } => (StatusCode::UNPROCESSABLE_ENTITY, "validation_failed"),
            Error::Unauthorized => (StatusCode::UNAUTHORIZED, "unauthorized"),
            Error::InvalidCredentials => (StatusCode::UNAUTHORIZED, "invalid_credentials"),
            Error::TooManyRequests { .. } => (StatusCode::TOO_MANY_REQUESTS, "rate_limited"),
            Error::BadRequest { code, .. } => (StatusCode::BAD_REQUEST, code),
            Error::BillingDisabled => (StatusCode::SERVICE_UNAVAILABLE, "billing_disabled"),
            Error::PaymentProvider { .. } => (StatusCode::BAD_GATEWAY, "payment_provider_error"),
            Error::NotFound => (StatusCode::NOT_FOUND, "not_found"),
            Error::Conflict { code, .. } | Error::AlreadyExists { code, .. } => {
                (StatusCode::CONFLICT, code)
            }
            Error::PayloadTooLarge { .. } => (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large"),
            Error::UnsupportedMediaType { .. } => {
                (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type")
            }
            Error::MalformedBody { .. } => (StatusCode::BAD_REQUEST, "malformed_body"),
            Error::Unavailable(_) => (StatusCode::SERVICE_UNAVAILABLE, "unavailable"),
            Error::Refused { status, code, .. } => (*status, code),
            Error::LimitReached { code, .. } => (StatusCode::TOO_MANY_REQUESTS, code),
            Error::Database(error) if is_unavailable(error) => {
                (StatusCode::SERVICE_UNAVAILABLE, "database_unavailable")
            }
            Error::Database(_) | Error::Internal(_) => {
                (StatusCode::INTERNAL_SERVER_ERROR, "internal")
            }
        }
    }
}

fn is_unavailable(error: &sqlx::Error) -> bool {
    matches!(
        error,
        sqlx::Error::PoolTimedOut | sqlx::Error::Io(_) | sqlx::Error::PoolClosed
    )
}

/// The problem document (RFC 9457) with our extension members.
#[derive(Debug, Clone, Serialize)]
pub struct Problem {
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// Stable, machine-readable; clients branch on this, never on `detail`.
    pub code: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// The id that exists already (`AlreadyExists`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub existing_id: Option<uuid::Uuid>,
}

impl Problem {
    pub fn new(status: StatusCode, code: &str, detail: impl Into<String>) -> Self {
        Problem {
            kind: "about:blank".into(),
            title: status.canonical_reason().unwrap_or("Error").into(),
            status: status.as_u16(),
            detail: detail.into(),
            code: code.into(),
            field: None,
            existing_id: None,
        }
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = serde_json::to_vec(&self).unwrap_or_default();
        let mut response = (status, body).into_response();
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        response
    }
}

impl Error {
    /// The problem document this error answers with. Internal details are
    /// never in it (they are logged when the error becomes a response).
    pub fn problem(&self) -> Problem {
        let (status, code) = self.status_and_code();
        let detail = match self {
            Error::Database(_) if status == StatusCode::SERVICE_UNAVAILABLE => {
                "the database is unavailable; try again shortly".to_string()
            }
            Error::Database(_) | Error::Internal(_) => "an internal error occurred".to_string(),
            other => other.to_string(),
        };
        let mut problem = Problem::new(status, code, detail);
        if let Error::Validation { field, .. } = self {
            problem.field = Some(field.clone());
        }
        if let Error::AlreadyExists { existing_id, .. } = self {
            problem.existing_id = Some(*existing_id);
        }
        problem
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        match &self {
            Error::Database(error) => tracing::error!(error = %error, "database error"),
            Error::Internal(error) => tracing::error!(error = ?error, "internal error"),
            _ => {}
        }
        let mut response = self.problem().into_response();
        match self {
            Error::Unauthorized => {
                response.headers_mut().insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Bearer realm=\"echoloop\""),
                );
            }
            Error::TooManyRequests { retry_after_secs }
            | Error::LimitReached {
                retry_after_secs, ..
            } => {
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
            }
            _ => {}
        }
        response
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Turns a named database constraint violation into a client error, so the
/// database stays the authority on integrity (realworld's `on_constraint`).
pub trait ResultExt<T> {
    fn on_constraint(
        self,
        name: &str,
        map: impl FnOnce(Box<dyn sqlx::error::DatabaseError>) -> Error,
    ) -> Result<T>;
}

impl<T, E: Into<Error>> ResultExt<T> for std::result::Result<T, E> {
    fn on_constraint(
        self,
        name: &str,
        map: impl FnOnce(Box<dyn sqlx::error::DatabaseError>) -> Error,
    ) -> Result<T> {
        self.map_err(|error| match error.into() {
            Error::Database(sqlx::Error::Database(db)) if db.constraint() == Some(name) => map(db),
            other => other,
        })
    }
}
