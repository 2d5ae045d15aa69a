//! Blobs: status (to resume), chunked upload, download.

use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouterExt};
use utoipa_axum::routes;

use super::input::Params;
use crate::accounts::{self, Caller};
use crate::blobs::{self, BlobError, BlobStatus, MAX_CHUNK};
use crate::error::ApiError;
use crate::{now, AppState};

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(download, upload).layer(DefaultBodyLimit::max(MAX_CHUNK)))
        .routes(routes!(status))
}

/// A blob's bytes, or a chunk of them.
#[derive(utoipa::ToSchema)]
#[schema(value_type = String, format = Binary)]
#[allow(dead_code)] // a schema only: the handler reads the bytes whole
struct BlobBytes(Vec<u8>);

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

/// How much of a blob the desk holds, to resume an upload.
#[utoipa::path(get, path = "/v1/blobs/{hash}/status", tag = "blobs",
    params(("hash" = outpost_sync::ids::ContentHash, Path, description = "SHA-256 of the blob, 64 lowercase hex digits.")),
    responses((status = 200, body = BlobStatus)))]
async fn status(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(hash): Path<String>,
) -> Result<Json<BlobStatus>, ApiError> {
    let caller = caller(&state, &headers).await?;
    let hash = blobs::parse_hash(&hash)?;
    Ok(Json(blobs::status(&state.db, &caller.actor, &hash).await?))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct Chunk {
    /// Where this chunk starts: the `received` of the blob's status.
    offset: i64,
    /// The final chunk: the desk checks the whole blob's hash.
    #[serde(default)]
    last: bool,
}

/// Uploads one chunk of a blob a readable document names; the last one
/// completes it once its hash checks out.
#[utoipa::path(put, path = "/v1/blobs/{hash}", tag = "blobs",
    params(("hash" = outpost_sync::ids::ContentHash, Path, description = "SHA-256 of the blob, 64 lowercase hex digits."), Chunk),
    request_body(content = BlobBytes, content_type = "application/octet-stream"),
    responses((status = 200, body = BlobStatus)))]
#[tracing::instrument(skip_all, fields(bytes = body.len()))]
async fn upload(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(hash): Path<String>,
    Params(chunk): Params<Chunk>,
    super::input::RawBody(body): super::input::RawBody,
) -> Result<Json<BlobStatus>, ApiError> {
    let caller = caller(&state, &headers).await?;
    let hash = blobs::parse_hash(&hash)?;
    Ok(Json(blobs::upload(&state.db, &caller.actor, &hash, chunk.offset, &body, chunk.last, now()).await?))
}

/// Downloads a complete blob reachable through a document the caller may read.
#[utoipa::path(get, path = "/v1/blobs/{hash}", tag = "blobs",
    params(("hash" = outpost_sync::ids::ContentHash, Path, description = "SHA-256 of the blob, 64 lowercase hex digits.")),
    responses((status = 200, body = BlobBytes, content_type = "application/octet-stream")))]
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
