//! Typed extractors for what a client sends in a query string or a JSON
//! body. Both refuse, with one clear 4xx, text no database stores the same
//! (a NUL character: PostgreSQL refuses it outright) and query values longer
//! than any real filter, before any handler or query sees them.

use axum::extract::{FromRequest, FromRequestParts, Query, Request};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::de::DeserializeOwned;

use crate::ApiError;

/// The longest query value: filters and search words, never documents.
pub(super) const MAX_QUERY_VALUE: usize = 1_000;

/// A list's page size: `default` if not given, else 1 to `max`, as the
/// route's OpenAPI parameter says.
pub(super) fn page_size(given: Option<u32>, default: u32, max: u32) -> Result<i64, ApiError> {
    match given.unwrap_or(default) {
        size if (1..=max).contains(&size) => Ok(i64::from(size)),
        size => Err(ApiError::BadRequest(format!("limit {size} is not from 1 to {max}"))),
    }
}

/// Refuses text the desk could not store as given.
pub(super) fn plain_text(what: &str, text: &str) -> Result<(), ApiError> {
    if text.contains('\0') {
        return Err(ApiError::BadRequest(format!("{what} holds a NUL character")));
    }
    Ok(())
}

/// Query parameters, deserialized into `T` once every value is checked.
pub(super) struct Params<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Params<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        let bad = |err: axum::extract::rejection::QueryRejection| ApiError::BadRequest(err.body_text());
        let Query(pairs) = Query::<Vec<(String, String)>>::try_from_uri(&parts.uri).map_err(bad)?;
        for (name, value) in &pairs {
            plain_text("a query parameter's name", name)?;
            plain_text(&format!("query parameter {name:?}"), value)?;
            if value.len() > MAX_QUERY_VALUE {
                return Err(ApiError::BadRequest(format!(
                    "query parameter {name:?} is {} bytes, at most {MAX_QUERY_VALUE}",
                    value.len()
                )));
            }
        }
        Ok(Self(Query::<T>::try_from_uri(&parts.uri).map_err(bad)?.0))
    }
}

/// A JSON body, deserialized into `T` once every string in it is checked.
/// Malformed JSON is a 400, a wrong content type 415, a body of the wrong
/// shape 422, as with axum's own `Json`.
pub(super) struct Body<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Body<T> {
    type Rejection = Response;

    async fn from_request(request: Request, state: &S) -> Result<Self, Response> {
        let Json(value) = Json::<serde_json::Value>::from_request(request, state)
            .await
            .map_err(|rejection| ApiError::from(rejection).into_response())?;
        check_strings(&value).map_err(IntoResponse::into_response)?;
        serde_json::from_value(value)
            .map(Self)
            .map_err(|err| ApiError::Unprocessable(format!("the body does not fit: {err}")).into_response())
    }
}

/// A JSON body that may be left out: a request with no body and no content
/// type reads as `None`; anything sent is read as [`Body`] reads it.
pub(super) struct OptionalBody<T>(pub Option<T>);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for OptionalBody<T> {
    type Rejection = Response;

    async fn from_request(request: Request, state: &S) -> Result<Self, Response> {
        let untyped = !request.headers().contains_key(axum::http::header::CONTENT_TYPE);
        let empty =
            request.headers().get(axum::http::header::CONTENT_LENGTH).is_none_or(|length| length.as_bytes() == b"0");
        if untyped && empty {
            return Ok(Self(None));
        }
        // `null` says "nothing", as no body does.
        Body::<Option<T>>::from_request(request, state).await.map(|Body(value)| Self(value))
    }
}

/// A body read whole as bytes (sync rounds, blob chunks, CSV): a body over
/// the route's limit or cut short is refused in the one JSON error shape.
pub(super) struct RawBody(pub axum::body::Bytes);

impl<S: Send + Sync> FromRequest<S> for RawBody {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        Ok(Self(axum::body::Bytes::from_request(request, state).await?))
    }
}

fn check_strings(value: &serde_json::Value) -> Result<(), ApiError> {
    match value {
        serde_json::Value::String(text) => plain_text("a text in the body", text),
        serde_json::Value::Array(items) => items.iter().try_for_each(check_strings),
        serde_json::Value::Object(fields) => fields.iter().try_for_each(|(name, value)| {
            plain_text("a field name in the body", name)?;
            check_strings(value)
        }),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_size_is_taken_in_range_and_refused_outside_it() {
        assert_eq!(page_size(None, 100, 1_000).unwrap(), 100);
        assert_eq!(page_size(Some(1), 100, 1_000).unwrap(), 1);
        assert_eq!(page_size(Some(1_000), 100, 1_000).unwrap(), 1_000);
        assert!(page_size(Some(0), 100, 1_000).is_err());
        assert!(page_size(Some(1_001), 100, 1_000).is_err());
    }

    #[test]
    fn nul_characters_are_refused_at_any_depth() {
        let deep = serde_json::json!({ "a": [{ "b": "fine" }, { "c": "not\u{0}fine" }] });
        assert!(check_strings(&deep).is_err());
        assert!(check_strings(&serde_json::json!({ "k\u{0}": 1 })).is_err());
        assert!(check_strings(&serde_json::json!({ "a": ["Привет\n\tмир"] })).is_ok());
    }
}
