//! Extractors whose rejections are problem documents naming what was wrong.

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use serde::de::DeserializeOwned;

use super::error::Error;

/// `axum::Json`, but a bad body answers problem+json: 400 for malformed JSON,
/// 422 naming the field for a wrong shape, 413 too large, 415 wrong type.
pub struct Json<T>(pub T);

impl<S, T> FromRequest<S> for Json<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = Error;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(value)) => Ok(Json(value)),
            Err(rejection) => Err(json_rejection(rejection)),
        }
    }
}

fn json_rejection(rejection: JsonRejection) -> Error {
    match rejection {
        JsonRejection::JsonDataError(error) => {
            // serde's message reads "path: reason"; keep the path as the field.
            let text = error.body_text();
            let detail = text
                .trim_start_matches("Failed to deserialize the JSON body into the target type: ");
            let (field, reason) = match detail.split_once(": ") {
                Some((path, reason)) if !path.contains(' ') => {
                    (path.to_string(), reason.to_string())
                }
                _ => (String::from("body"), detail.to_string()),
            };
            Error::validation(field, reason)
        }
        JsonRejection::JsonSyntaxError(error) => Error::MalformedBody {
            detail: format!("body is not valid JSON: {}", error.body_text()),
        },
        JsonRejection::MissingJsonContentType(_) => Error::UnsupportedMediaType {
            detail: "expected Content-Type: application/json".into(),
        },
        JsonRejection::BytesRejection(error) if error.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            Error::PayloadTooLarge {
                detail: "the JSON body exceeds the server's limit".into(),
            }
        }
        other => Error::MalformedBody {
            detail: other.body_text(),
        },
    }
}
