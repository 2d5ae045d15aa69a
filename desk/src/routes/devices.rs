//! Pairing devices, issuing pairing codes, revoking devices.

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::Json;
use outpost_sync::ids::UserId;
use outpost_sync::model::Role;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::input::{Body, Params};
use crate::accounts::{self, caller_by_api_token};
use crate::error::ApiError;
use crate::{now, AppState};

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(pair))
        .routes(routes!(exchange_keys))
        .routes(routes!(issue_code))
        .routes(routes!(revoke))
        .routes(routes!(list))
        .routes(routes!(audit))
}

#[derive(Serialize, ToSchema)]
struct DeviceRow {
    id: String,
    user_id: String,
    name: String,
    created_at: i64,
    last_seen_at: Option<i64>,
    revoked_at: Option<i64>,
    /// How far the desk's clock ran ahead of the device's at its last round (ms).
    clock_offset_ms: Option<i64>,
}

/// Paired devices with when they last synced (admin, dispatcher).
#[utoipa::path(get, path = "/v1/devices", tag = "devices", responses((status = 200, body = Vec<DeviceRow>)))]
async fn list(State(state): State<AppState>, headers: HeaderMap) -> Result<Json<Vec<DeviceRow>>, ApiError> {
    super::desk_caller(&state, &headers, |role| role.is_desk()).await?;
    type Row = (String, String, String, i64, Option<i64>, Option<i64>, Option<i64>);
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT id, user_id, name, created_at, last_seen_at, revoked_at, clock_offset_ms
         FROM devices ORDER BY created_at LIMIT 10000",
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
                clock_offset_ms: r.6,
            })
            .collect(),
    ))
}

#[derive(Serialize, ToSchema)]
struct AuditRow {
    at: i64,
    user_id: Option<String>,
    device_id: Option<String>,
    doc_id: Option<String>,
    action: String,
    detail: String,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct AuditQuery {
    /// At most this many entries; 100 if not given.
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<u32>,
}

/// The newest audit entries first: refused changes and what the desk did
/// about them (admin, dispatcher).
#[utoipa::path(get, path = "/v1/audit", tag = "devices", params(AuditQuery),
    responses((status = 200, body = Vec<AuditRow>)))]
async fn audit(
    State(state): State<AppState>,
    headers: HeaderMap,
    Params(query): Params<AuditQuery>,
) -> Result<Json<Vec<AuditRow>>, ApiError> {
    super::desk_caller(&state, &headers, |role| role.is_desk()).await?;
    let limit = super::input::page_size(query.limit, 100, 1_000)?;
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

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct PairRequest {
    /// The one-time code the desk issued for the engineer.
    code: String,
    /// What the engineer calls this device.
    #[schema(min_length = 1, max_length = 200)]
    device_name: String,
    /// The public half of the Ed25519 key the device made for itself (hex):
    /// its hand-off files must be signed with the private half.
    #[serde(default)]
    public_key: Option<String>,
}

#[derive(Serialize, ToSchema)]
struct Paired {
    device_id: Uuid,
    /// The device's token for sync rounds and blobs; shown once.
    token: String,
    user_id: UserId,
    org_id: outpost_sync::ids::OrgId,
    role: Role,
    /// The desk's public key (hex): files the desk writes for the device are signed with it.
    desk_key: String,
}

/// Spends a one-time pairing code on a new device and answers with the
/// device's token. Failed attempts are throttled per address.
#[utoipa::path(post, path = "/v1/devices/pair", tag = "devices", request_body = PairRequest,
    responses((status = 200, body = Paired)))]
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
    let public_key = request.public_key.as_deref().map(public_key).transpose()?;
    accounts::check_pairing_throttle(&state.db.pool, &address, at).await?;
    let paired = match accounts::pair_device(&state.db.pool, &request.code, name, public_key.as_deref(), at).await {
        Err(accounts::AuthError::BadPairingCode) => {
            accounts::record_pairing_failure(&state.db.pool, &address, at).await?;
            return Err(accounts::AuthError::BadPairingCode.into());
        }
        other => other?,
    };
    Ok(Json(Paired {
        device_id: paired.id,
        token: paired.token,
        user_id: paired.actor.user,
        org_id: paired.actor.org,
        role: paired.actor.role,
        desk_key: crate::handoff::desk_public_key(&state.db, at).await?,
    }))
}

/// A public key as the desk keeps it, or a refusal saying what is wrong with it.
fn public_key(hex: &str) -> Result<String, ApiError> {
    outpost_sync::handoff::parse_public_key(hex)
        .map(|key| hex::encode(key.as_bytes()))
        .map_err(|err| ApiError::BadRequest(format!("public_key: {err}")))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct DeviceKey {
    /// The public half of the device's Ed25519 key, hex.
    public_key: String,
}

#[derive(Serialize, ToSchema)]
struct DeskKey {
    /// The desk's public key, hex.
    desk_key: String,
}

/// Exchanges keys for a device paired before hand-off files: the device
/// gives the public half of the key it made, once (another key later is
/// refused), and learns the desk's. Called with the device's own token.
#[utoipa::path(post, path = "/v1/devices/key", tag = "devices", request_body = DeviceKey,
    responses((status = 200, body = DeskKey), (status = 409, description = "The device has another key already.")))]
#[tracing::instrument(skip_all)]
async fn exchange_keys(
    State(state): State<AppState>,
    headers: HeaderMap,
    Body(request): Body<DeviceKey>,
) -> Result<Json<DeskKey>, ApiError> {
    let at = now();
    let device = accounts::device_by_token(&state.db.pool, super::bearer(&headers)?, at).await?;
    let Some(id) = device.caller.device.filter(|_| !device.revoked) else {
        return Err(accounts::AuthError::BadToken.into());
    };
    accounts::register_device_key(&state.db.pool, id, &public_key(&request.public_key)?).await?;
    Ok(Json(DeskKey { desk_key: crate::handoff::desk_public_key(&state.db, at).await? }))
}

#[derive(Serialize, ToSchema)]
struct PairingCode {
    code: String,
    /// Milliseconds since the epoch, UTC.
    expires_at: i64,
}

/// Issues a one-time pairing code for a field user's new device (admin,
/// dispatcher).
#[utoipa::path(post, path = "/v1/users/{id}/pairing-codes", tag = "devices",
    params(("id" = UserId, Path, description = "The engineer's user id.")),
    responses((status = 200, body = PairingCode)))]
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

#[derive(Serialize, ToSchema)]
struct DeviceRevoked {
    revoked: Uuid,
}

/// Revokes a device; its next contact is told to wipe (admin, dispatcher).
#[utoipa::path(post, path = "/v1/devices/{id}/revoke", tag = "devices",
    params(("id" = Uuid, Path, description = "The device id.")),
    responses((status = 200, body = DeviceRevoked)))]
#[tracing::instrument(skip_all)]
async fn revoke(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(device): Path<String>,
) -> Result<Json<DeviceRevoked>, ApiError> {
    let at = now();
    let caller = caller_by_api_token(&state.db.pool, super::bearer(&headers)?, at).await?;
    if !caller.actor.role.is_desk() {
        return Err(ApiError::Forbidden("only admins and dispatchers revoke devices".into()));
    }
    let device: Uuid = device.parse().map_err(|_| ApiError::BadRequest(format!("{device:?} is not a device id")))?;
    if !accounts::revoke_device(&state.db.pool, device, at).await? {
        return Err(ApiError::NotFound("no such device, or already revoked".into()));
    }
    // An online device hears of it now and wipes, rather than at its next tick.
    state.live.poke_device(&device.to_string());
    Ok(Json(DeviceRevoked { revoked: device }))
}
