//! Blobs: status (to resume), chunked upload, download.

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;

use super::input::Params;
use crate::accounts::{self, Caller};
use crate::blobs::{self, BlobError, BlobStatus, MAX_CHUNK};
use crate::error::ApiError;
use crate::{now, AppState};

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/blobs/{hash}", get(download).put(upload).layer(DefaultBodyLimit::max(MAX_CHUNK)))
        .route("/v1/blobs/{hash}/status", get(status))
}

impl From<BlobError> for ApiError {
    fn from(err: BlobError) -> Self {
        match err {
            BlobError::BadHash(_) | BlobError::HashMismatch { .. } | BlobError::TooLarge => {
                Self::BadRequest(err.to_string())
            }
            BlobError::NotFound => Self::NotFound(err.to_string()),
            BlobError::WrongOffset { .. } | BlobError::Incomplete => Self::Conflict(err.to_string()),
            BlobError::Sql(e) => Self::Internal(e.to_string()),
        }
    }
}

/// A device (not revoked) or a desk user.
async fn caller(state: &AppState, headers: &HeaderMap) -> Result<Caller, ApiError> {
    let token = super::bearer(headers)?;
    let at = now();
    if let Ok(device) = accounts::device_by_token(&state.db.pool, token, at).await {
        if device.revoked {
            return Err(ApiError::Unauthorized("this device was revoked".into()));
        }
        return Ok(device.caller);
    }
    Ok(accounts::caller_by_api_token(&state.db.pool, token, at).await?)
}

async fn status(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(hash): Path<String>,
) -> Result<Json<BlobStatus>, ApiError> {
    let caller = caller(&state, &headers).await?;
    let hash = blobs::parse_hash(&hash)?;
    Ok(Json(blobs::status(&state.db, &caller.actor, &hash).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Chunk {
    offset: i64,
    #[serde(default)]
    last: bool,
}

#[tracing::instrument(skip_all, fields(bytes = body.len()))]
async fn upload(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(hash): Path<String>,
    Params(chunk): Params<Chunk>,
    body: Bytes,
) -> Result<Json<BlobStatus>, ApiError> {
    let caller = caller(&state, &headers).await?;
    let hash = blobs::parse_hash(&hash)?;
    Ok(Json(blobs::upload(&state.db, &caller.actor, &hash, chunk.offset, &body, chunk.last, now()).await?))
}

async fn download(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(hash): Path<String>,
) -> Result<Response, ApiError> {
    let caller = caller(&state, &headers).await?;
    let hash = blobs::parse_hash(&hash)?;
    let bytes = blobs::download(&state.db.pool, &caller.actor, &hash).await?;
    Ok(([(header::CONTENT_TYPE, "application/octet-stream")], bytes).into_response())
}
