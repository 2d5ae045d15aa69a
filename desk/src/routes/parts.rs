//! Part requests for the parts desk: list, and move them through the
//! warehouse (approve, reject, pick, ship with a tracking number, cancel,
//! receive a return). Delivery, installation and sending back are the
//! engineer's, from the device: no step belongs to both.

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::Json;
use outpost_sync::ids::{DocId, EntryId};
use outpost_sync::model::{Document, PartStatus, PartTransition, Role};
use outpost_sync::workflow::{fold_part_request, part_move_refusal};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::input::{OptionalBody, Params};
use crate::accounts::new_id;
use crate::error::ApiError;
use crate::store;
use crate::{now, AppState};

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list)).routes(routes!(act))
}

fn warehouse_role(role: Role) -> bool {
    matches!(role, Role::Admin | Role::Dispatcher | Role::PartsDesk)
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    #[param(value_type = Option<PartStatus>)]
    status: Option<String>,
    ticket: Option<DocId>,
    /// At most this many; 200 if not given.
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<u32>,
}

#[derive(Serialize, ToSchema)]
struct PartRow {
    id: String,
    ticket_id: String,
    org_id: String,
    part_number: String,
    description: String,
    quantity: i64,
    #[schema(value_type = PartStatus)]
    status: String,
    warehouse: Option<String>,
    tracking_number: Option<String>,
    requested_at: i64,
}

const STATUSES: [PartStatus; 10] = [
    PartStatus::Requested,
    PartStatus::Approved,
    PartStatus::Picked,
    PartStatus::Shipped,
    PartStatus::Delivered,
    PartStatus::Installed,
    PartStatus::Rejected,
    PartStatus::Cancelled,
    PartStatus::ReturnSent,
    PartStatus::Returned,
];

/// Part requests, oldest first: the parts desk's board (admin, dispatcher, parts desk).
#[utoipa::path(get, path = "/v1/part-requests", tag = "parts", params(ListQuery),
    responses((status = 200, body = Vec<PartRow>)))]
async fn list(
    State(state): State<AppState>,
    headers: HeaderMap,
    Params(query): Params<ListQuery>,
) -> Result<Json<Vec<PartRow>>, ApiError> {
    super::desk_caller(&state, &headers, warehouse_role).await?;
    if let Some(status) = &query.status {
        if !STATUSES.iter().any(|s| s.as_str() == status) {
            return Err(ApiError::BadRequest(format!("unknown status {status:?}")));
        }
    }
    let limit = super::input::page_size(query.limit, 200, 1_000)?;
    type Row = (String, String, String, String, String, i64, String, Option<String>, Option<String>, i64);
    let rows: Vec<Row> = sqlx::query_as(&format!(
        "SELECT id, ticket_id, org_id, part_number, description, quantity, status, warehouse, tracking_number, requested_at
         FROM part_requests WHERE ($1 = '' OR status = $1) AND ($2 = '' OR ticket_id = $2)
         ORDER BY requested_at LIMIT {limit}"
    ))
    .bind(query.status.unwrap_or_default())
    .bind(query.ticket.map(|t| t.to_string()).unwrap_or_default())
    .fetch_all(&state.db.pool)
    .await
    .map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok(Json(
        rows.into_iter()
            .map(|r| PartRow {
                id: r.0,
                ticket_id: r.1,
                org_id: r.2,
                part_number: r.3,
                description: r.4,
                quantity: r.5,
                status: r.6,
                warehouse: r.7,
                tracking_number: r.8,
                requested_at: r.9,
            })
            .collect(),
    ))
}

/// What a warehouse step says, all of it optional; at most 200 characters each.
#[derive(Deserialize, Default, ToSchema)]
#[serde(deny_unknown_fields)]
struct Action {
    #[schema(max_length = 200)]
    reason: Option<String>,
    #[schema(max_length = 200)]
    warehouse: Option<String>,
    /// Required to ship.
    #[schema(max_length = 200)]
    tracking_number: Option<String>,
}

/// The warehouse's steps, by name in the path.
#[derive(ToSchema)]
#[allow(dead_code)] // the schema of the path's `action`, read by name in `target`
enum PartActionName {
    #[schema(rename = "approve")]
    Approve,
    #[schema(rename = "reject")]
    Reject,
    #[schema(rename = "pick")]
    Pick,
    #[schema(rename = "ship")]
    Ship,
    #[schema(rename = "cancel")]
    Cancel,
    #[schema(rename = "receive-return")]
    ReceiveReturn,
}

fn target(action: &str) -> Result<PartStatus, ApiError> {
    Ok(match action {
        "approve" => PartStatus::Approved,
        "reject" => PartStatus::Rejected,
        "pick" => PartStatus::Picked,
        "ship" => PartStatus::Shipped,
        "receive-return" => PartStatus::Returned,
        "cancel" => PartStatus::Cancelled,
        other => {
            return Err(ApiError::NotFound(format!(
                "no action {other:?}; approve, reject, pick, ship, cancel or receive-return (the engineer confirms delivery)"
            )))
        }
    })
}

#[derive(Serialize, ToSchema)]
struct PartMoved {
    id: DocId,
    status: PartStatus,
}

/// Moves a part request one warehouse step: approve, reject, pick, ship
/// (with a tracking number), cancel, or receive a return. Delivery,
/// installation and sending back are the engineer's, from the device.
#[utoipa::path(post, path = "/v1/part-requests/{id}/{action}", tag = "parts",
    params(("id" = DocId, Path, description = "The part request's id."),
           ("action" = inline(PartActionName), Path, description = "The step.")),
    request_body(content = Option<Action>, description = "A step with nothing to say may come without a body."),
    responses((status = 200, body = PartMoved)))]
#[tracing::instrument(skip_all)]
async fn act(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((id, action)): Path<(String, String)>,
    OptionalBody(details): OptionalBody<Action>,
) -> Result<Json<PartMoved>, ApiError> {
    let caller = super::desk_caller(&state, &headers, warehouse_role).await?;
    let to = target(&action)?;
    let id: DocId = id.parse().map_err(|_| ApiError::BadRequest(format!("{id:?} is not a part request id")))?;
    // A step with nothing to say may come without a body.
    let details = details.unwrap_or_default();
    let too_long = [&details.reason, &details.warehouse, &details.tracking_number]
        .iter()
        .any(|v| v.as_ref().is_some_and(|s| s.len() > 200));
    if too_long {
        return Err(ApiError::BadRequest("reason, warehouse and tracking_number are at most 200 characters".into()));
    }
    if to == PartStatus::Shipped && details.tracking_number.as_deref().is_none_or(|t| t.trim().is_empty()) {
        return Err(ApiError::BadRequest("shipping needs a tracking_number".into()));
    }
    let at = now();
    let mut tx = state.db.begin_write().await.map_err(|e| ApiError::Internal(e.to_string()))?;
    let written = store::write_as_desk(&mut tx, id, &caller.actor, &state.sync.desk_actor, at, |document| {
        let Document::PartRequest(request) = document else {
            return Err(ApiError::NotFound("no such part request".into()));
        };
        let from = fold_part_request(request).status;
        if let Some(why) = part_move_refusal(&caller.actor, request.org, from, to) {
            return Err(ApiError::Conflict(format!("cannot {action} a {} request: {why}", from.as_str())));
        }
        request.transitions.push(PartTransition {
            id: EntryId(new_id()),
            from,
            to,
            at,
            by: caller.actor,
            reason: details.reason,
        });
        if let Some(warehouse) = details.warehouse {
            request.warehouse = Some(warehouse);
        }
        if let Some(tracking) = details.tracking_number {
            request.tracking_number = Some(tracking);
        }
        Ok(())
    })
    .await?;
    let Some(Document::PartRequest(request)) = written else {
        return Err(ApiError::NotFound("no such part request".into()));
    };
    tx.commit().await.map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok(Json(PartMoved { id, status: fold_part_request(&request).status }))
}
