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
/// completes it once its hash checks out. What arrives is kept as it
/// arrives, a piece at a time: a link that breaks in the middle of a chunk
/// loses nothing that got through, and the device resumes from the byte
/// the status says.
#[utoipa::path(put, path = "/v1/blobs/{hash}", tag = "blobs",
    params(("hash" = outpost_sync::ids::ContentHash, Path, description = "SHA-256 of the blob, 64 lowercase hex digits."), Chunk),
    request_body(content = BlobBytes, content_type = "application/octet-stream"),
    responses((status = 200, body = BlobStatus)))]
#[tracing::instrument(skip_all)]
async fn upload(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(hash): Path<String>,
    Params(chunk): Params<Chunk>,
    body: axum::body::Body,
) -> Result<Json<BlobStatus>, ApiError> {
    use futures_util::StreamExt;
    let caller = caller(&state, &headers).await?;
    let hash = blobs::parse_hash(&hash)?;
    let too_large = || ApiError::PayloadTooLarge(format!("a chunk is at most {MAX_CHUNK} bytes"));
    let announced =
        headers.get(axum::http::header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<usize>().ok());
    if announced.is_some_and(|length| length > MAX_CHUNK) {
        return Err(too_large());
    }
    let (db, actor) = (&state.db, &caller.actor);
    let (mut offset, mut piece, mut total) = (chunk.offset, Vec::new(), 0usize);
    let mut stream = body.into_data_stream();
    while let Some(frame) = stream.next().await {
        let Ok(bytes) = frame else {
            // The link broke: keep what got through.
            if !piece.is_empty() {
                blobs::upload(db, actor, &hash, offset, &piece, false, now()).await?;
            }
            return Err(ApiError::BadRequest(
                "the chunk was cut short; ask the blob's status and go on from there".into(),
            ));
        };
        total += bytes.len();
        if total > MAX_CHUNK {
            return Err(too_large());
        }
        piece.extend_from_slice(&bytes);
        if piece.len() >= KEPT_PIECE {
            offset = blobs::upload(db, actor, &hash, offset, &piece, false, now()).await?.received;
            piece.clear();
        }
    }
    Ok(Json(blobs::upload(db, actor, &hash, offset, &piece, chunk.last, now()).await?))
}

/// What arrives of a chunk is stored every this many bytes (a piece is one
/// write transaction; 32 KiB is a quarter of a second at 1 Mbit/s).
const KEPT_PIECE: usize = 32 * 1024;

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
