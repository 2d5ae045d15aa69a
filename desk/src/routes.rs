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
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;

use crate::accounts::AuthError;
use crate::AppState;

/// Every route, and the OpenAPI document built from the same attributes.
pub(crate) fn router_and_document() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    let (router, mut document) = OpenApiRouter::with_openapi(crate::openapi::Desk::openapi())
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
        .split_for_parts();
    crate::openapi::Shared.modify(&mut document);
    (router, document)
}

/// What a route takes as its caller's credential, by its path: the one
/// rule the authentication below and the OpenAPI document follow.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Credential {
    None,
    PairingCode,
    DeviceToken,
    DeviceOrApiToken,
    ApiToken,
}

impl Credential {
    pub(crate) fn of(path: &str) -> Self {
        if !path.starts_with("/v1/") {
            Self::None
        } else if path == "/v1/devices/pair" {
            Self::PairingCode
        } else if path == "/v1/sync" || path == "/v1/sync/live" {
            Self::DeviceToken
        } else if path.starts_with("/v1/blobs/") {
            Self::DeviceOrApiToken
        } else {
            Self::ApiToken
        }
    }
}

pub(crate) fn router(state: AppState) -> Router<AppState> {
    router_and_document()
        .0
        .fallback(|| async { crate::ApiError::NotFound("no such route".into()) })
        .method_not_allowed_fallback(|| async {
            crate::ApiError::MethodNotAllowed("this route does not take that method".into())
        })
        .layer(axum::middleware::from_fn_with_state(state.clone(), authenticate))
        .layer(axum::middleware::from_fn_with_state(state, wake_live))
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
    if !matches!(Credential::of(request.uri().path()), Credential::ApiToken | Credential::DeviceOrApiToken) {
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

/// After a request that may have written, the live follower looks at the
/// feed at once (it finds nothing new when nothing was written).
async fn wake_live(
    axum::extract::State(state): axum::extract::State<AppState>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let reads_only = matches!(*request.method(), axum::http::Method::GET | axum::http::Method::HEAD);
    let response = next.run(request).await;
    if !reads_only {
        state.live.wake();
    }
    response
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

/// The answer to a write that made or changed one document.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub(crate) struct Written {
    pub id: outpost_sync::ids::DocId,
}
