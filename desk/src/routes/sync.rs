//! `POST /v1/sync`: one sync round, binary in and out.

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use outpost_sync::session::error_reply;
use outpost_sync::wire::ErrorCode;

use crate::accounts::device_by_token;
use crate::error::ApiError;
use crate::metrics::SyncCount;
use crate::sync::{run_round, RoundOutcome};
use crate::{now, AppState};

pub const SYNC_CONTENT_TYPE: &str = "application/x-outpost-sync";

pub(super) fn router() -> Router<AppState> {
    // The wire limit plus room for HTTP framing; larger bodies get 413 before any work.
    let limit = outpost_sync::limits::WireLimits::default().max_message;
    Router::new().route("/v1/sync", post(sync).layer(DefaultBodyLimit::max(limit)))
}

#[tracing::instrument(skip_all, fields(bytes = body.len()))]
async fn sync(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Result<Response, ApiError> {
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    if content_type != SYNC_CONTENT_TYPE && content_type != "application/octet-stream" {
        return Err(ApiError::UnsupportedMediaType(format!(
            "sync messages are {SYNC_CONTENT_TYPE}, not {content_type:?}"
        )));
    }
    let token = super::bearer(&headers).map_err(ApiError::from)?;
    let at = now();
    let device = match device_by_token(&state.db.pool, token, at).await {
        Ok(device) => device,
        Err(err) => {
            let reply = error_reply(ErrorCode::Unauthorized, err.to_string());
            return Ok(binary(StatusCode::UNAUTHORIZED, reply));
        }
    };
    let started = std::time::Instant::now();
    // The round runs in a task of its own so that a panic anywhere in it
    // (its transaction rolls back when the task unwinds) refuses this round
    // in words and leaves a trace in the audit log, instead of a 500 the
    // device would retry for ever.
    let round = {
        let (db, config, body) = (state.db.clone(), state.sync.clone(), body.clone());
        tokio::spawn(async move { run_round(&db, &config, &device, &body, at).await })
    };
    let (reply, outcome) = match round.await {
        Ok(result) => result?,
        Err(err) => {
            tracing::error!(%err, "a sync round panicked");
            crate::sync::record_failed_round(&state.db, &device, at).await?;
            let reply = error_reply(ErrorCode::BadRequest, "the desk could not process this round; it was refused");
            (reply, RoundOutcome::BadRequest)
        }
    };
    let (status, count) = match outcome {
        RoundOutcome::Synced { refused_edits } => (StatusCode::OK, SyncCount::Round { refused_edits }),
        RoundOutcome::Wiped => (StatusCode::OK, SyncCount::Wipe),
        RoundOutcome::BadRequest => (StatusCode::BAD_REQUEST, SyncCount::BadRequest),
    };
    state.metrics.record_sync(count, body.len(), reply.len(), started.elapsed());
    tracing::debug!(?outcome, reply = reply.len(), "sync round");
    Ok(binary(status, reply))
}

fn binary(status: StatusCode, bytes: Vec<u8>) -> Response {
    (status, [(header::CONTENT_TYPE, SYNC_CONTENT_TYPE)], bytes).into_response()
}
