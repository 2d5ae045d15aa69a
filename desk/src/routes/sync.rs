//! `POST /v1/sync`: one sync round, binary in and out.

use axum::extract::{DefaultBodyLimit, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use outpost_sync::session::error_reply;
use outpost_sync::wire::ErrorCode;
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouterExt};
use utoipa_axum::routes;

use crate::accounts::device_by_token;
use outpost_sync::policy::POLICY_HEADER;
use outpost_sync::reactions::DeviceClock;
use outpost_sync::wire::{DESK_CLOCK_HEADER, DEVICE_CLOCK_HEADER};

use crate::error::ApiError;
use crate::metrics::SyncCount;
use crate::sync::{run_round, RoundOutcome};
use crate::{now, AppState};

pub use outpost_sync::wire::SYNC_CONTENT_TYPE;

pub(super) fn router() -> OpenApiRouter<AppState> {
    // The wire limit plus room for HTTP framing; larger bodies get 413 before any work.
    let limit = outpost_sync::limits::WireLimits::default().max_message;
    OpenApiRouter::new().routes(routes!(sync).layer(DefaultBodyLimit::max(limit))).routes(routes!(live))
}

/// A poke on the live channel: the feed moved to `seq` for something this
/// device may read (or, first on every channel, where the feed is now).
#[derive(serde::Serialize, utoipa::ToSchema)]
pub(super) struct Poke {
    seq: u64,
}

/// The live channel (server-sent events): each `poke` event says the feed
/// moved for something this device may read, so it should run a round;
/// the first event says where the feed is. A `round` event asks for a
/// round whatever the device's cursor (the desk has word for it outside
/// the feed, such as its revocation). Comments keep the connection
/// alive. The device polls as before when the channel is down.
#[utoipa::path(get, path = "/v1/sync/live", tag = "sync",
    responses(
        (status = 200, description = "An event stream of `poke` events.", body = Poke, content_type = "text/event-stream"),
        (status = 401, description = "An unknown or expired device token, or none.", body = crate::error::ErrorBody),
        (status = 429, description = "The device holds too many live channels already.", body = crate::error::ErrorBody),
    ))]
async fn live(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, ApiError> {
    use crate::live::Signal;
    use axum::response::sse::{Event, KeepAlive, Sse};
    let token = super::bearer(&headers)?;
    let device = device_by_token(&state.db.pool, token, now()).await?;
    let device_id = device.caller.device.map(|d| d.to_string()).unwrap_or_default();
    let subscription =
        state.live.subscribe(&device_id, &device.caller.actor).map_err(|err| ApiError::TooManyRequests {
            message: err.to_string(),
            retry_after_s: crate::live::FALLBACK_POLL.as_secs() as i64,
        })?;
    state.live.follow(&state.db).await.map_err(crate::store::StoreError::from)?;
    let first = crate::live::Live::latest(&state.db).await.map_err(crate::store::StoreError::from)?;
    let event = |seq: u64| Event::default().event("poke").json_data(Poke { seq }).map_err(axum::Error::new);
    let live = std::sync::Arc::clone(&state.live);
    let pokes = futures_util::stream::unfold(subscription, move |subscription| {
        let live = std::sync::Arc::clone(&live);
        async move {
            let event = match live.next_signal(&subscription.channel).await? {
                Signal::Moved(seq) => event(seq),
                Signal::Round => Ok(Event::default().event("round").data("{}")),
            };
            Some((event, subscription))
        }
    });
    let stream = futures_util::StreamExt::chain(futures_util::stream::once(async move { event(first) }), pokes);
    Ok(Sse::new(stream).keep_alive(KeepAlive::new().interval(KEEP_ALIVE)).into_response())
}

/// How often an idle live channel sends a comment: under the idle timeouts
/// of common proxies, and how soon a device notices a dead desk.
pub(super) const KEEP_ALIVE: std::time::Duration = std::time::Duration::from_secs(20);

/// Bytes of the outpost-sync wire format (see `outpost_sync::wire`).
#[derive(utoipa::ToSchema)]
#[schema(value_type = String, format = Binary)]
#[allow(dead_code)] // a schema only: the handler reads the bytes whole
pub(super) struct SyncMessage(Vec<u8>);

/// How far the desk's clock runs ahead of the device's, from the header in
/// which the device says what its clock read (none without it).
fn device_clock(headers: &HeaderMap, at: outpost_sync::ids::Timestamp) -> Result<DeviceClock, ApiError> {
    let Some(value) = headers.get(DEVICE_CLOCK_HEADER) else { return Ok(DeviceClock::default()) };
    let read: i64 = value.to_str().ok().and_then(|v| v.trim().parse().ok()).ok_or_else(|| {
        ApiError::BadRequest(format!("{DEVICE_CLOCK_HEADER} must be the device's clock in ms since the epoch"))
    })?;
    Ok(DeviceClock { desk_ahead_ms: Some(at.0.saturating_sub(read)) })
}

/// One sync round: the device's request (its changes and what it has) in,
/// the desk's answer (acknowledgements, refusals, what the device lacks)
/// out. A refused round answers in the same format, with an error code.
#[utoipa::path(post, path = "/v1/sync", tag = "sync",
    request_body(content((SyncMessage = "application/x-outpost-sync"), (SyncMessage = "application/octet-stream"))),
    params(("x-outpost-device-clock" = Option<i64>, Header,
        description = "What the device's clock read as it sent the round, ms since the epoch: the desk takes the times entered offline corrected by the difference.")),
    responses(
        (status = 200, description = "The round's answer.", body = SyncMessage, content_type = "application/x-outpost-sync"),
        (status = 400, description = "A malformed or refused round, in words, in the wire format; a malformed clock header, in JSON.",
            content((SyncMessage = "application/x-outpost-sync"), (crate::error::ErrorBody = "application/json"))),
        (status = 401, description = "An unknown or expired device token (wire format), or none at all (JSON).",
            content((SyncMessage = "application/x-outpost-sync"), (crate::error::ErrorBody = "application/json"))),
    ))]
#[tracing::instrument(skip_all, fields(bytes = body.len()))]
async fn sync(
    State(state): State<AppState>,
    headers: HeaderMap,
    super::input::RawBody(body): super::input::RawBody,
) -> Result<Response, ApiError> {
    // Who asks first: a caller without a token learns nothing else.
    let token = super::bearer(&headers).map_err(ApiError::from)?;
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    if content_type != SYNC_CONTENT_TYPE && content_type != "application/octet-stream" {
        return Err(ApiError::UnsupportedMediaType(format!(
            "sync messages are {SYNC_CONTENT_TYPE}, not {content_type:?}"
        )));
    }
    let at = now();
    let mut device = match device_by_token(&state.db.pool, token, at).await {
        Ok(device) => device,
        Err(err) => {
            let reply = error_reply(ErrorCode::Unauthorized, err.to_string());
            return Ok(binary(StatusCode::UNAUTHORIZED, reply));
        }
    };
    device.clock = device_clock(&headers, at)?;
    let policy = device.policy;
    crate::accounts::record_clock(&state.db, &device, at).await?;
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
        RoundOutcome::Synced { refused_edits, merged_again } => {
            (StatusCode::OK, SyncCount::Round { refused_edits, merged_again })
        }
        RoundOutcome::Wiped => (StatusCode::OK, SyncCount::Wipe),
        RoundOutcome::BadRequest => (StatusCode::BAD_REQUEST, SyncCount::BadRequest),
    };
    state.metrics.record_sync(count, body.len(), reply.len(), started.elapsed());
    tracing::debug!(?outcome, reply = reply.len(), "sync round");
    let mut response = binary(status, reply);
    // The company's policy rides on every answer: the device enforces the last it got.
    if let Ok(value) = header::HeaderValue::from_str(&policy.to_header()) {
        response.headers_mut().insert(POLICY_HEADER, value);
    }
    Ok(response)
}

/// A reply in the wire format, with what the desk's clock reads as it answers.
fn binary(status: StatusCode, bytes: Vec<u8>) -> Response {
    let clock = now().0.to_string();
    let mut response = (status, [(header::CONTENT_TYPE, SYNC_CONTENT_TYPE)], bytes).into_response();
    if let Ok(value) = header::HeaderValue::from_str(&clock) {
        response.headers_mut().insert(DESK_CLOCK_HEADER, value);
    }
    response
}
