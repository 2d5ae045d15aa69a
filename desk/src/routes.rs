//! The HTTP routes, one module per group, merged here.

mod blobs;
mod devices;
mod equipment;
mod health;
mod input;
mod parts;
mod people;
mod reference;
mod reports;
mod sync;
mod tickets;

pub use sync::SYNC_CONTENT_TYPE;

use axum::http::HeaderMap;
use axum::response::IntoResponse;
use axum::Router;

use crate::accounts::AuthError;
use crate::AppState;

pub(crate) fn router(state: AppState) -> Router<AppState> {
    Router::new()
        .merge(health::router())
        .merge(sync::router())
        .merge(devices::router())
        .merge(tickets::router())
        .merge(blobs::router())
        .merge(parts::router())
        .merge(equipment::router())
        .merge(people::router())
        .merge(reference::router())
        .merge(reports::router())
        .fallback(|| async { crate::ApiError::NotFound("no such route".into()) })
        .method_not_allowed_fallback(|| async {
            crate::ApiError::MethodNotAllowed("this route does not take that method".into())
        })
        .layer(axum::middleware::from_fn_with_state(state, authenticate))
        .layer(axum::middleware::from_fn(run_to_completion))
}

/// Checks the caller's token before anything reads the body: an unknown,
/// expired or revoked token (a revoked device still gets through, to be told
/// to wipe) is a 401 in the one JSON error shape. Sync rounds answer in
/// their own format and check their token themselves; pairing spends a code.
async fn authenticate(
    axum::extract::State(state): axum::extract::State<AppState>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let path = request.uri().path();
    if !path.starts_with("/v1/") || path == "/v1/devices/pair" || path == "/v1/sync" {
        return next.run(request).await;
    }
    let known = match bearer(request.headers()) {
        Err(err) => Err(err),
        Ok(token) => {
            let at = crate::now();
            match crate::accounts::caller_by_api_token(&state.db.pool, token, at).await {
                Err(AuthError::BadToken) => {
                    crate::accounts::device_by_token(&state.db.pool, token, at).await.map(|_| ())
                }
                other => other.map(|_| ()),
            }
        }
    };
    match known {
        Ok(()) => next.run(request).await,
        Err(err) => crate::ApiError::from(err).into_response(),
    }
}

/// Runs each request in a task of its own, so a client that hangs up cannot
/// cancel a handler half-way. Cancelled while `BEGIN IMMEDIATE` waits for
/// the lock, sqlx loses track of the transaction and returns the connection
/// to the pool still holding SQLite's write lock: every later write then
/// fails with "database is locked" (found by killing devices mid-sync).
async fn run_to_completion(request: axum::extract::Request, next: axum::middleware::Next) -> axum::response::Response {
    match tokio::spawn(next.run(request)).await {
        Ok(response) => response,
        Err(err) => crate::ApiError::Internal(format!("the handler failed: {err}")).into_response(),
    }
}

/// A desk user, by API token, whose role `allowed` accepts.
pub(crate) async fn desk_caller(
    state: &AppState,
    headers: &HeaderMap,
    allowed: impl Fn(outpost_sync::model::Role) -> bool,
) -> Result<crate::accounts::Caller, crate::ApiError> {
    let caller = crate::accounts::caller_by_api_token(&state.db.pool, bearer(headers)?, crate::now()).await?;
    let role = caller.actor.role;
    if !allowed(role) {
        return Err(crate::ApiError::Forbidden(format!("a {} may not do this through the desk's API", role.as_str())));
    }
    Ok(caller)
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
