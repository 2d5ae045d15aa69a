//! Pairing devices, issuing pairing codes, revoking devices.

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::routing::post;
use axum::{Json, Router};
use outpost_sync::ids::UserId;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::accounts::{self, caller_by_api_token, role_name};
use crate::error::ApiError;
use crate::{now, AppState};

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/devices/pair", post(pair))
        .route("/v1/users/{id}/pairing-codes", post(issue_code))
        .route("/v1/devices/{id}/revoke", post(revoke))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PairRequest {
    code: String,
    device_name: String,
}

#[derive(Serialize)]
struct Paired {
    device_id: Uuid,
    token: String,
    user_id: String,
    org_id: String,
    role: &'static str,
}

#[tracing::instrument(skip_all)]
async fn pair(State(state): State<AppState>, Json(request): Json<PairRequest>) -> Result<Json<Paired>, ApiError> {
    let name = request.device_name.trim();
    if name.is_empty() || name.len() > 200 {
        return Err(ApiError::BadRequest("device_name must be 1 to 200 characters".into()));
    }
    let paired = accounts::pair_device(&state.db.pool, &request.code, name, now()).await?;
    Ok(Json(Paired {
        device_id: paired.id,
        token: paired.token,
        user_id: paired.actor.user.to_string(),
        org_id: paired.actor.org.to_string(),
        role: role_name(paired.actor.role),
    }))
}

#[derive(Serialize)]
struct PairingCode {
    code: String,
    expires_at: i64,
}

#[tracing::instrument(skip_all)]
async fn issue_code(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(user): Path<String>,
) -> Result<Json<PairingCode>, ApiError> {
    let at = now();
    let caller = caller_by_api_token(&state.db.pool, super::bearer(&headers)?, at).await?;
    if !caller.actor.role.is_desk() {
        return Err(ApiError::Forbidden("only admins and dispatchers issue pairing codes".into()));
    }
    let user: UserId = user.parse().map_err(|_| ApiError::BadRequest(format!("{user:?} is not a user id")))?;
    let target =
        accounts::user_actor(&state.db.pool, user).await?.ok_or_else(|| ApiError::NotFound("no such user".into()))?;
    if target.org != caller.actor.org && !target.role.is_field() {
        return Err(ApiError::Forbidden("that user is not yours to pair".into()));
    }
    let code = accounts::issue_pairing_code(&state.db.pool, user, at, state.pairing_ttl_ms).await?;
    Ok(Json(PairingCode { code, expires_at: at.0 + state.pairing_ttl_ms }))
}

#[tracing::instrument(skip_all)]
async fn revoke(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(device): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let at = now();
    let caller = caller_by_api_token(&state.db.pool, super::bearer(&headers)?, at).await?;
    if !caller.actor.role.is_desk() {
        return Err(ApiError::Forbidden("only admins and dispatchers revoke devices".into()));
    }
    let device: Uuid = device.parse().map_err(|_| ApiError::BadRequest(format!("{device:?} is not a device id")))?;
    if !accounts::revoke_device(&state.db.pool, device, at).await? {
        return Err(ApiError::NotFound("no such device, or already revoked".into()));
    }
    Ok(Json(serde_json::json!({ "revoked": device })))
}
