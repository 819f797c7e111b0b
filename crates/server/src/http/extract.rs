//! Extractors whose rejections are problem documents naming what was wrong.

use axum::body::Bytes;
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, OptionalFromRequest, Request};
use axum::http::{HeaderMap, StatusCode, header};
use serde::de::DeserializeOwned;

use super::error::Error;

/// `axum::Json`, but a bad body answers problem+json: 400 for malformed JSON,
/// 422 naming the field for a wrong shape, 413 too large, 415 wrong type.
///
/// A body is read once with plain `serde_json`; only a body that fails is
/// read again with the field path tracked (`axum::Json`), to name where. The
/// path costs an allocation per object key, which on a 20,000-segment list
/// was most of the time spent reading the request.
pub struct Json<T>(pub T);

impl<S, T> FromRequest<S> for Json<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = Error;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        if !json_content_type(req.headers()) {
            return Err(json_rejection(JsonRejection::MissingJsonContentType(
                Default::default(),
            )));
        }
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|rejection| json_rejection(JsonRejection::BytesRejection(rejection)))?;
        if let Ok(value) = serde_json::from_slice(&bytes) {
            return Ok(Json(value));
        }
        match axum::Json::<T>::from_bytes(&bytes) {
            Ok(axum::Json(value)) => Ok(Json(value)),
            Err(rejection) => Err(json_rejection(rejection)),
        }
    }
}

/// An optional body: `None` when the request has neither a body nor a
/// content type; anything sent is read as [`Json`] reads it.
impl<S, T> OptionalFromRequest<S> for Json<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = Error;

    async fn from_request(req: Request, state: &S) -> Result<Option<Self>, Self::Rejection> {
        if req.headers().contains_key(header::CONTENT_TYPE) {
            return <Self as FromRequest<S>>::from_request(req, state)
                .await
                .map(Some);
        }
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|rejection| json_rejection(JsonRejection::BytesRejection(rejection)))?;
        if bytes.is_empty() {
            return Ok(None);
        }
        Err(json_rejection(JsonRejection::MissingJsonContentType(
            Default::default(),
        )))
    }
}

/// `application/json` or any `application/*+json`, as `axum::Json` accepts.
fn json_content_type(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<mime::Mime>().ok())
        .is_some_and(|mime| {
            mime.type_() == mime::APPLICATION
                && (mime.subtype() == mime::JSON || mime.suffix() == Some(mime::JSON))
        })
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

/// `axum::extract::Query`, but a bad query string answers 422 naming the
/// parameter.
pub struct Query<T>(pub T);

impl<S, T> axum::extract::FromRequestParts<S> for Query<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = Error;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _: &S,
    ) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or_default();
        let deserializer =
            serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
        serde_path_to_error::deserialize(deserializer)
            .map(Query)
            .map_err(|error| {
                let path = error.path().to_string();
                let field = if path == "." {
                    String::from("query")
                } else {
                    path
                };
                Error::validation(field, error.into_inner().to_string())
            })
    }
}

/// A UUID path parameter; anything that is not one is simply not found.
pub struct PathId(pub uuid::Uuid);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for PathId {
    type Rejection = Error;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, Self::Rejection> {
        let axum::extract::Path(raw) =
            axum::extract::Path::<String>::from_request_parts(parts, state)
                .await
                .map_err(|_| Error::NotFound)?;
        raw.parse().map(PathId).map_err(|_| Error::NotFound)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_type(value: &'static str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::CONTENT_TYPE,
            axum::http::HeaderValue::from_static(value),
        );
        headers
    }

    #[test]
    fn json_and_json_suffixed_types_are_json() {
        for value in [
            "application/json",
            "application/json; charset=utf-8",
            "application/json;charset=utf-8",
            "application/problem+json",
        ] {
            assert!(json_content_type(&with_type(value)), "{value}");
        }
    }

    #[test]
    fn other_or_missing_types_are_not_json() {
        for value in ["text/json", "application/x-www-form-urlencoded", "json", ""] {
            assert!(!json_content_type(&with_type(value)), "{value}");
        }
        assert!(!json_content_type(&HeaderMap::new()));
    }
}
