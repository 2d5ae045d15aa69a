//! Companies and people, for admins: list and add.

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::Json;
use outpost_sync::ids::{OrgId, UserId};
use outpost_sync::model::Role;
use outpost_sync::policy::{DevicePolicy, MAX_CONTACT_WINDOW_DAYS};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::input::Body;
use crate::accounts::{self, parse_role};
use crate::error::ApiError;
use crate::{now, AppState};

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_orgs, add_org))
        .routes(routes!(device_policy, set_device_policy))
        .routes(routes!(list_users, add_user))
        .routes(routes!(revoke_person))
        .routes(routes!(list_teams, add_team))
}

fn admin(role: Role) -> bool {
    role == Role::Admin
}

#[derive(Serialize, ToSchema)]
struct OrgRow {
    id: String,
    name: String,
    /// The service company itself; every other company is a service partner.
    is_service: bool,
}

/// Companies: the service company and its partners (admin, dispatcher).
#[utoipa::path(get, path = "/v1/orgs", tag = "people", responses((status = 200, body = Vec<OrgRow>)))]
async fn list_orgs(State(state): State<AppState>, headers: HeaderMap) -> Result<Json<Vec<OrgRow>>, ApiError> {
    super::desk_caller(&state, &headers, |role| role.is_desk()).await?;
    let rows: Vec<(String, String, i64)> = sqlx::query_as("SELECT id, name, is_service FROM orgs ORDER BY name")
        .fetch_all(&state.db.pool)
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok(Json(rows.into_iter().map(|(id, name, service)| OrgRow { id, name, is_service: service != 0 }).collect()))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct NewOrg {
    /// Not taken by another company.
    #[schema(min_length = 1, max_length = 200)]
    name: String,
}

#[derive(Serialize, ToSchema)]
struct OrgAdded {
    id: OrgId,
}

/// Adds a service partner (the service company exists from the start) (admin).
#[utoipa::path(post, path = "/v1/orgs", tag = "people", request_body = NewOrg, responses((status = 200, body = OrgAdded)))]
async fn add_org(
    State(state): State<AppState>,
    headers: HeaderMap,
    Body(new): Body<NewOrg>,
) -> Result<Json<OrgAdded>, ApiError> {
    super::desk_caller(&state, &headers, admin).await?;
    let name = new.name.trim();
    if name.is_empty() || name.len() > 200 {
        return Err(ApiError::BadRequest("a company name is 1 to 200 characters".into()));
    }
    if accounts::org_by_name(&state.db.pool, name).await?.is_some() {
        return Err(ApiError::Conflict(format!("a company named {name:?} exists")));
    }
    let id = accounts::create_org(&state.db.pool, name, false).await?;
    crate::directory::publish(&state.db, id, &state.sync.desk_actor, now()).await?;
    Ok(Json(OrgAdded { id }))
}

fn org_id(text: &str) -> Result<OrgId, ApiError> {
    text.parse().map(OrgId).map_err(|_| ApiError::BadRequest(format!("{text:?} is not a company id")))
}

/// What a company asks of its devices out of reach (admin, dispatcher).
#[utoipa::path(get, path = "/v1/orgs/{id}/device-policy", tag = "people",
    params(("id" = uuid::Uuid, Path, description = "The company id.")),
    responses((status = 200, body = DevicePolicy), (status = 404, description = "No such company.")))]
async fn device_policy(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(org): Path<String>,
) -> Result<Json<DevicePolicy>, ApiError> {
    super::desk_caller(&state, &headers, |role| role.is_desk()).await?;
    let org = org_id(&org)?;
    if !accounts::org_exists(&state.db.pool, org).await? {
        return Err(ApiError::NotFound("no such company".into()));
    }
    Ok(Json(accounts::device_policy(&state.db.pool, org).await?))
}

/// Sets what a company asks of its devices out of reach: the days a device
/// may go without reaching the desk before it locks its data (1 to 365, or
/// null for no limit). Devices get it with their next sync reply (admin).
#[utoipa::path(put, path = "/v1/orgs/{id}/device-policy", tag = "people",
    params(("id" = uuid::Uuid, Path, description = "The company id.")),
    request_body = DevicePolicy,
    responses((status = 200, body = DevicePolicy), (status = 404, description = "No such company.")))]
async fn set_device_policy(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(org): Path<String>,
    Body(policy): Body<DevicePolicy>,
) -> Result<Json<DevicePolicy>, ApiError> {
    super::desk_caller(&state, &headers, admin).await?;
    let org = org_id(&org)?;
    if !policy.is_valid() {
        return Err(ApiError::BadRequest(format!(
            "a contact window is 1 to {MAX_CONTACT_WINDOW_DAYS} days, or null for none"
        )));
    }
    if !accounts::org_exists(&state.db.pool, org).await? {
        return Err(ApiError::NotFound("no such company".into()));
    }
    accounts::set_device_policy(&state.db.pool, org, &policy, now()).await?;
    Ok(Json(policy))
}

#[derive(Serialize, ToSchema)]
struct UserRow {
    id: String,
    org_id: String,
    name: String,
    role: Role,
}

/// People of every company (admin, dispatcher).
#[utoipa::path(get, path = "/v1/users", tag = "people", responses((status = 200, body = Vec<UserRow>)))]
async fn list_users(State(state): State<AppState>, headers: HeaderMap) -> Result<Json<Vec<UserRow>>, ApiError> {
    super::desk_caller(&state, &headers, |role| role.is_desk()).await?;
    let rows: Vec<(String, String, String, String)> =
        sqlx::query_as("SELECT id, org_id, name, role FROM users ORDER BY name")
            .fetch_all(&state.db.pool)
            .await
            .map_err(|e| ApiError::Internal(e.to_string()))?;
    rows.into_iter()
        .map(|(id, org_id, name, role)| {
            let role = parse_role(&role).ok_or_else(|| ApiError::Internal(format!("stored role {role:?}")))?;
            Ok(UserRow { id, org_id, name, role })
        })
        .collect::<Result<_, _>>()
        .map(Json)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct NewUser {
    org: OrgId,
    #[schema(min_length = 1, max_length = 200)]
    name: String,
    /// admin, dispatcher, parts_desk, engineer, partner_engineer or partner_dispatcher.
    #[schema(value_type = Role)]
    role: String,
}

#[derive(Serialize, ToSchema)]
struct UserAdded {
    id: UserId,
    role: Role,
    /// A field user's one-time code to pair their first device.
    #[serde(skip_serializing_if = "Option::is_none")]
    pairing_code: Option<String>,
    /// A desk user's API token.
    #[serde(skip_serializing_if = "Option::is_none")]
    api_token: Option<String>,
}

/// Adds a person; answers with their API token (desk roles) or a pairing
/// code (field roles), once (admin).
#[utoipa::path(post, path = "/v1/users", tag = "people", request_body = NewUser, responses((status = 200, body = UserAdded)))]
async fn add_user(
    State(state): State<AppState>,
    headers: HeaderMap,
    Body(new): Body<NewUser>,
) -> Result<Json<UserAdded>, ApiError> {
    super::desk_caller(&state, &headers, admin).await?;
    let role = parse_role(&new.role).ok_or_else(|| ApiError::BadRequest(format!("unknown role {:?}", new.role)))?;
    let name = new.name.trim();
    if name.is_empty() || name.len() > 200 {
        return Err(ApiError::BadRequest("a name is 1 to 200 characters".into()));
    }
    let org: Option<(i64,)> = sqlx::query_as("SELECT is_service FROM orgs WHERE id = $1")
        .bind(new.org.to_string())
        .fetch_optional(&state.db.pool)
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    let Some((is_service,)) = org else { return Err(ApiError::BadRequest(format!("no company {}", new.org))) };
    // Partners' people are partner engineers and dispatchers; the service company's anything else.
    if (is_service != 0) == role.is_partner() {
        return Err(ApiError::BadRequest(format!("a {} cannot belong to that company", role.as_str())));
    }
    let at = now();
    let user = accounts::create_user(&state.db.pool, new.org, name, role, at).await?;
    crate::directory::publish(&state.db, new.org, &state.sync.desk_actor, at).await?;
    let mut reply = UserAdded { id: user, role, pairing_code: None, api_token: None };
    if role.is_field() {
        reply.pairing_code = Some(accounts::issue_pairing_code(&state.db.pool, user, at, state.pairing_ttl_ms).await?);
    } else {
        reply.api_token = Some(accounts::issue_api_token(&state.db.pool, user, "api", at, None).await?);
    }
    Ok(Json(reply))
}

/// Revokes everything a person holds (a lost laptop, a leaver): API
/// tokens, devices (told to wipe at their next contact) and unused pairing
/// codes. Their next request, sync or pairing is refused (admin; not
/// oneself).
#[utoipa::path(post, path = "/v1/users/{id}/revoke", tag = "people",
    params(("id" = UserId, Path, description = "The person's user id.")),
    responses((status = 200, body = accounts::Revoked)))]
async fn revoke_person(
    State(state): State<AppState>,
    headers: HeaderMap,
    axum::extract::Path(id): axum::extract::Path<String>,
) -> Result<Json<accounts::Revoked>, ApiError> {
    let caller = super::desk_caller(&state, &headers, admin).await?;
    let user: UserId = id.parse().map_err(|_| ApiError::BadRequest(format!("{id:?} is not a user id")))?;
    if user == caller.actor.user {
        // The last admin would lock everyone out; another admin can do it.
        return Err(ApiError::Conflict("you cannot revoke yourself; another admin can".into()));
    }
    if accounts::user_actor(&state.db.pool, user).await?.is_none() {
        return Err(ApiError::NotFound("no such user".into()));
    }
    let revoked = accounts::revoke_person(&state.db.pool, user, now()).await?;
    state.live.poke_user(user);
    Ok(Json(revoked))
}

#[derive(Serialize, ToSchema)]
struct Team {
    name: String,
    description: String,
}

/// Product teams, the first dimension of the queues.
#[utoipa::path(get, path = "/v1/teams", tag = "people", responses((status = 200, body = Vec<Team>)))]
async fn list_teams(State(state): State<AppState>, headers: HeaderMap) -> Result<Json<Vec<Team>>, ApiError> {
    super::desk_caller(&state, &headers, |role| role.reads_everything()).await?;
    let rows: Vec<(String, String)> = sqlx::query_as("SELECT name, description FROM teams ORDER BY name")
        .fetch_all(&state.db.pool)
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok(Json(rows.into_iter().map(|(name, description)| Team { name, description }).collect()))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct NewTeam {
    /// Not taken by another team.
    #[schema(min_length = 1, max_length = 100)]
    name: String,
    #[serde(default)]
    #[schema(max_length = 1000)]
    description: String,
}

#[derive(Serialize, ToSchema)]
struct TeamAdded {
    name: String,
}

/// Adds a product team (admin, dispatcher).
#[utoipa::path(post, path = "/v1/teams", tag = "people", request_body = NewTeam, responses((status = 200, body = TeamAdded)))]
async fn add_team(
    State(state): State<AppState>,
    headers: HeaderMap,
    Body(new): Body<NewTeam>,
) -> Result<Json<TeamAdded>, ApiError> {
    super::desk_caller(&state, &headers, |role| role.is_desk()).await?;
    let name = new.name.trim();
    if name.is_empty() || name.len() > 100 || new.description.len() > 1_000 {
        return Err(ApiError::BadRequest("a team name is 1 to 100 characters, its description at most 1,000".into()));
    }
    let added = sqlx::query("INSERT INTO teams (name, description) VALUES ($1, $2) ON CONFLICT DO NOTHING")
        .bind(name)
        .bind(&new.description)
        .execute(&state.db.pool)
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    if added.rows_affected() == 0 {
        return Err(ApiError::Conflict(format!("team {name:?} exists")));
    }
    Ok(Json(TeamAdded { name: name.to_owned() }))
}
