//! Companies and people, for admins: list and add.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::routing::get;
use axum::{Json, Router};
use outpost_sync::ids::OrgId;
use outpost_sync::model::Role;
use serde::{Deserialize, Serialize};

use super::input::Body;
use crate::accounts::{self, parse_role, role_name};
use crate::error::ApiError;
use crate::{now, AppState};

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/orgs", get(list_orgs).post(add_org))
        .route("/v1/users", get(list_users).post(add_user))
        .route("/v1/users/{id}/revoke", axum::routing::post(revoke_person))
        .route("/v1/teams", get(list_teams).post(add_team))
}

fn admin(role: Role) -> bool {
    role == Role::Admin
}

#[derive(Serialize)]
struct OrgRow {
    id: String,
    name: String,
    is_service: bool,
}

async fn list_orgs(State(state): State<AppState>, headers: HeaderMap) -> Result<Json<Vec<OrgRow>>, ApiError> {
    super::desk_caller(&state, &headers, |role| role.is_desk()).await?;
    let rows: Vec<(String, String, i64)> = sqlx::query_as("SELECT id, name, is_service FROM orgs ORDER BY name")
        .fetch_all(&state.db.pool)
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok(Json(rows.into_iter().map(|(id, name, service)| OrgRow { id, name, is_service: service != 0 }).collect()))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewOrg {
    name: String,
}

/// Adds a service partner (the service company exists from the start).
async fn add_org(
    State(state): State<AppState>,
    headers: HeaderMap,
    Body(new): Body<NewOrg>,
) -> Result<Json<serde_json::Value>, ApiError> {
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
    Ok(Json(serde_json::json!({ "id": id })))
}

#[derive(Serialize)]
struct UserRow {
    id: String,
    org_id: String,
    name: String,
    role: String,
}

async fn list_users(State(state): State<AppState>, headers: HeaderMap) -> Result<Json<Vec<UserRow>>, ApiError> {
    super::desk_caller(&state, &headers, |role| role.is_desk()).await?;
    let rows: Vec<(String, String, String, String)> =
        sqlx::query_as("SELECT id, org_id, name, role FROM users ORDER BY name")
            .fetch_all(&state.db.pool)
            .await
            .map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok(Json(rows.into_iter().map(|(id, org_id, name, role)| UserRow { id, org_id, name, role }).collect()))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewUser {
    org: OrgId,
    name: String,
    /// admin, dispatcher, parts_desk, engineer, partner_engineer or partner_dispatcher.
    role: String,
}

/// Adds a person; answers with their API token (desk roles) or a pairing code (field roles), once.
async fn add_user(
    State(state): State<AppState>,
    headers: HeaderMap,
    Body(new): Body<NewUser>,
) -> Result<Json<serde_json::Value>, ApiError> {
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
    let mut reply = serde_json::json!({ "id": user, "role": role_name(role) });
    if role.is_field() {
        reply["pairing_code"] =
            accounts::issue_pairing_code(&state.db.pool, user, at, state.pairing_ttl_ms).await?.into();
    } else {
        reply["api_token"] = accounts::issue_api_token(&state.db.pool, user, "api", at, None).await?.into();
    }
    Ok(Json(reply))
}

/// Revokes everything a person holds (a lost laptop, a leaver): API
/// tokens, devices (told to wipe at their next contact) and unused pairing
/// codes. Their next request, sync or pairing is refused.
async fn revoke_person(
    State(state): State<AppState>,
    headers: HeaderMap,
    axum::extract::Path(id): axum::extract::Path<String>,
) -> Result<Json<accounts::Revoked>, ApiError> {
    super::desk_caller(&state, &headers, admin).await?;
    let user: outpost_sync::ids::UserId =
        id.parse().map_err(|_| ApiError::BadRequest(format!("{id:?} is not a user id")))?;
    if accounts::user_actor(&state.db.pool, user).await?.is_none() {
        return Err(ApiError::NotFound("no such user".into()));
    }
    Ok(Json(accounts::revoke_person(&state.db.pool, user, now()).await?))
}

#[derive(Serialize)]
struct Team {
    name: String,
    description: String,
}

async fn list_teams(State(state): State<AppState>, headers: HeaderMap) -> Result<Json<Vec<Team>>, ApiError> {
    super::desk_caller(&state, &headers, |role| role.reads_everything()).await?;
    let rows: Vec<(String, String)> = sqlx::query_as("SELECT name, description FROM teams ORDER BY name")
        .fetch_all(&state.db.pool)
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok(Json(rows.into_iter().map(|(name, description)| Team { name, description }).collect()))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewTeam {
    name: String,
    #[serde(default)]
    description: String,
}

async fn add_team(
    State(state): State<AppState>,
    headers: HeaderMap,
    Body(new): Body<NewTeam>,
) -> Result<Json<serde_json::Value>, ApiError> {
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
    Ok(Json(serde_json::json!({ "name": name })))
}
