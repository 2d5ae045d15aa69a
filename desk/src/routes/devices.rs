//! Pairing devices, issuing pairing codes, revoking devices.

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::routing::post;
use axum::{Json, Router};
use outpost_sync::ids::UserId;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::input::{Body, Params};
use crate::accounts::{self, caller_by_api_token, role_name};
use crate::error::ApiError;
use crate::{now, AppState};

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/devices/pair", post(pair))
        .route("/v1/users/{id}/pairing-codes", post(issue_code))
        .route("/v1/devices/{id}/revoke", post(revoke))
        .route("/v1/devices", axum::routing::get(list))
        .route("/v1/audit", axum::routing::get(audit))
}

#[derive(Serialize)]
struct DeviceRow {
    id: String,
    user_id: String,
    name: String,
    created_at: i64,
    last_seen_at: Option<i64>,
    revoked_at: Option<i64>,
}

async fn list(State(state): State<AppState>, headers: HeaderMap) -> Result<Json<Vec<DeviceRow>>, ApiError> {
    super::desk_caller(&state, &headers, |role| role.is_desk()).await?;
    type Row = (String, String, String, i64, Option<i64>, Option<i64>);
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT id, user_id, name, created_at, last_seen_at, revoked_at FROM devices ORDER BY created_at LIMIT 10000",
    )
    .fetch_all(&state.db.pool)
    .await
    .map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok(Json(
        rows.into_iter()
            .map(|r| DeviceRow {
                id: r.0,
                user_id: r.1,
                name: r.2,
                created_at: r.3,
                last_seen_at: r.4,
                revoked_at: r.5,
            })
            .collect(),
    ))
}

#[derive(Serialize)]
struct AuditRow {
    at: i64,
    user_id: Option<String>,
    device_id: Option<String>,
    doc_id: Option<String>,
    action: String,
    detail: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AuditQuery {
    limit: Option<u32>,
}

/// The newest audit entries first: refused changes and what the desk did about them.
async fn audit(
    State(state): State<AppState>,
    headers: HeaderMap,
    Params(query): Params<AuditQuery>,
) -> Result<Json<Vec<AuditRow>>, ApiError> {
    super::desk_caller(&state, &headers, |role| role.is_desk()).await?;
    let limit = i64::from(query.limit.unwrap_or(100).clamp(1, 1_000));
    type Row = (i64, Option<String>, Option<String>, Option<String>, String, String);
    let rows: Vec<Row> = sqlx::query_as(&format!(
        "SELECT at, user_id, device_id, doc_id, action, detail FROM audit_log ORDER BY id DESC LIMIT {limit}"
    ))
    .fetch_all(&state.db.pool)
    .await
    .map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok(Json(
        rows.into_iter()
            .map(|r| AuditRow { at: r.0, user_id: r.1, device_id: r.2, doc_id: r.3, action: r.4, detail: r.5 })
            .collect(),
    ))
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
async fn pair(
    State(state): State<AppState>,
    peer: Option<axum::Extension<axum::extract::ConnectInfo<std::net::SocketAddr>>>,
    Body(request): Body<PairRequest>,
) -> Result<Json<Paired>, ApiError> {
    let name = request.device_name.trim();
    if name.is_empty() || name.len() > 200 {
        return Err(ApiError::BadRequest("device_name must be 1 to 200 characters".into()));
    }
    // Served without peer addresses (a router driven in-process), all
    // attempts count as one address.
    let address = peer.map_or_else(|| "unknown".to_owned(), |p| p.0 .0.ip().to_string());
    let at = now();
    accounts::check_pairing_throttle(&state.db.pool, &address, at).await?;
    let paired = match accounts::pair_device(&state.db.pool, &request.code, name, at).await {
        Err(accounts::AuthError::BadPairingCode) => {
            accounts::record_pairing_failure(&state.db.pool, &address, at).await?;
            return Err(accounts::AuthError::BadPairingCode.into());
        }
        other => other?,
    };
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
