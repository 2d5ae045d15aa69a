//! The HTTP routes, one module per group, merged here.

mod blobs;
mod devices;
mod health;
mod sync;
mod tickets;

pub use sync::SYNC_CONTENT_TYPE;

use axum::http::HeaderMap;
use axum::Router;

use crate::accounts::AuthError;
use crate::AppState;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .merge(health::router())
        .merge(sync::router())
        .merge(devices::router())
        .merge(tickets::router())
        .merge(blobs::router())
}

/// The bearer token of a request.
pub(crate) fn bearer(headers: &HeaderMap) -> Result<&str, AuthError> {
    headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or(AuthError::MissingToken)
}
