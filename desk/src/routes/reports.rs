//! Reports for the desk's people: SLA compliance, labour and utilisation,
//! points, per period and dimension, as JSON or CSV; and one ticket's
//! timeline (where its time went, with whom, and how its deadlines went).
//! The rules are in `crate::reports`; here the rows are read and the
//! answers shaped.

use std::collections::{BTreeMap, BTreeSet};

use axum::extract::{Path, State};
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use axum::Json;
use outpost_sync::ids::{DocId, Timestamp};
use outpost_sync::model::{DocKind, Document, TicketStatus};
use outpost_sync::workflow::ticket_timeline;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::input::Params;
use crate::error::ApiError;
use crate::reports::{self, Columns, LabourEntry, LabourRow, Period, PointsRow, SlaRow, SlaTicket};
use crate::{now, store, AppState};

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(sla)).routes(routes!(labour)).routes(routes!(points)).routes(routes!(timeline))
}

/// The longest period one report covers.
const MAX_DAYS: i64 = 366;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct ReportQuery {
    /// Milliseconds since the epoch, UTC; the period is `[from, to)`, at most 366 days.
    from: i64,
    to: i64,
    /// What the rows are per; the points report is per client only.
    #[param(inline)]
    by: Option<By>,
    /// json if not given.
    #[param(inline)]
    format: Option<Format>,
    /// For labour: an engineer's working hours per weekday (8 if not given).
    hours_per_day: Option<f64>,
}

/// What a report's rows are per.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
enum By {
    Client,
    Team,
    Region,
    Partner,
    Engineer,
}

/// How a report answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
enum Format {
    Json,
    Csv,
}

impl ReportQuery {
    fn period(&self) -> Result<Period, ApiError> {
        if self.from >= self.to {
            return Err(ApiError::BadRequest("a period runs from `from` to a later `to`".into()));
        }
        if self.to.saturating_sub(self.from) > MAX_DAYS * 86_400_000 {
            return Err(ApiError::BadRequest(format!("a report covers at most {MAX_DAYS} days")));
        }
        Ok(Period { from: Timestamp(self.from), to: Timestamp(self.to) })
    }

    fn by(&self, default: By) -> By {
        self.by.unwrap_or(default)
    }

    fn csv(&self) -> bool {
        self.format == Some(Format::Csv)
    }
}

/// The rows as JSON, or as a CSV download named `name`.
fn answer<T: Columns>(rows: Vec<T>, csv: bool, name: &str) -> Response {
    if csv {
        let disposition = format!("attachment; filename=\"{name}.csv\"");
        (
            [(header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()), (header::CONTENT_DISPOSITION, disposition)],
            reports::csv(&rows),
        )
            .into_response()
    } else {
        Json(rows).into_response()
    }
}

async fn reader(state: &AppState, headers: &HeaderMap) -> Result<(), ApiError> {
    super::desk_caller(state, headers, |role| role.is_desk()).await.map(|_| ())
}

/// Readable names of the groups: people and companies by name, clients by
/// their name; teams and regions are their own names.
async fn names(state: &AppState, by: By, groups: &BTreeSet<String>) -> Result<BTreeMap<String, String>, ApiError> {
    let mut names = BTreeMap::new();
    let mut tx = state.db.pool.begin().await?;
    for group in groups.iter().filter(|g| !g.is_empty()) {
        let name: Option<String> = match by {
            By::Team | By::Region => Some(group.clone()),
            By::Engineer => sqlx::query_as::<_, (String,)>("SELECT name FROM users WHERE id = $1")
                .bind(group)
                .fetch_optional(&state.db.pool)
                .await?
                .map(|r| r.0),
            By::Partner => sqlx::query_as::<_, (String,)>("SELECT name FROM orgs WHERE id = $1")
                .bind(group)
                .fetch_optional(&state.db.pool)
                .await?
                .map(|r| r.0),
            By::Client => match group.parse::<DocId>() {
                Ok(id) => match store::read(&mut tx, id, DocKind::Client).await? {
                    Some(Document::Client(client)) => Some(client.name),
                    _ => None,
                },
                Err(_) => None,
            },
        };
        if let Some(name) = name {
            names.insert(group.clone(), name);
        }
    }
    Ok(names)
}

/// SLA compliance of the tickets opened in the period, per client (the
/// default), team, region, partner or engineer (admin, dispatcher).
#[utoipa::path(get, path = "/v1/reports/sla", tag = "reports", params(ReportQuery),
    responses((status = 200, description = "The rows as JSON, or as a CSV download with format=csv.",
        content((Vec<SlaRow> = "application/json"), (String = "text/csv")))))]
#[tracing::instrument(skip_all)]
async fn sla(
    State(state): State<AppState>,
    headers: HeaderMap,
    Params(query): Params<ReportQuery>,
) -> Result<Response, ApiError> {
    reader(&state, &headers).await?;
    let (period, by, csv) = (query.period()?, query.by(By::Client), query.csv());
    if query.hours_per_day.is_some() {
        return Err(ApiError::BadRequest("hours_per_day is for the labour report".into()));
    }
    let group = match by {
        By::Client => "client_id",
        By::Team => "product_team",
        By::Region => "region",
        By::Partner => "COALESCE(partner_org, '')",
        By::Engineer => "COALESCE(assignee_user, '')",
    };
    type Row = (String, i64, Option<i64>, Option<i64>, Option<i64>, Option<i64>);
    let rows: Vec<Row> = sqlx::query_as(&format!(
        "SELECT {group}, created_at, reaction_due, first_response_at, resolution_due, resolved_at
         FROM tickets WHERE created_at >= $1 AND created_at < $2"
    ))
    .bind(period.from.0)
    .bind(period.to.0)
    .fetch_all(&state.db.pool)
    .await?;
    let at = |t: Option<i64>| t.map(Timestamp);
    let tickets: Vec<SlaTicket> = rows
        .into_iter()
        .map(|r| SlaTicket {
            group: r.0,
            created_at: Timestamp(r.1),
            reaction_due: at(r.2),
            first_response_at: at(r.3),
            resolution_due: at(r.4),
            resolved_at: at(r.5),
        })
        .collect();
    let mut rows = reports::sla(&tickets, period, now());
    let names = names(&state, by, &rows.iter().map(|r| r.group.clone()).collect()).await?;
    for row in &mut rows {
        row.name = names.get(&row.group).cloned().unwrap_or_default();
    }
    Ok(answer(rows, csv, "sla"))
}

/// Hours of travel and work recorded in the period, per group; for
/// engineers (the default), their utilisation over `hours_per_day` on
/// weekdays (admin, dispatcher).
#[utoipa::path(get, path = "/v1/reports/labour", tag = "reports", params(ReportQuery),
    responses((status = 200, description = "The rows as JSON, or as a CSV download with format=csv.",
        content((Vec<LabourRow> = "application/json"), (String = "text/csv")))))]
#[tracing::instrument(skip_all)]
async fn labour(
    State(state): State<AppState>,
    headers: HeaderMap,
    Params(query): Params<ReportQuery>,
) -> Result<Response, ApiError> {
    reader(&state, &headers).await?;
    let (period, by, csv) = (query.period()?, query.by(By::Engineer), query.csv());
    let hours_per_day = query.hours_per_day.unwrap_or(8.0);
    if !(hours_per_day > 0.0 && hours_per_day <= 24.0) {
        return Err(ApiError::BadRequest("hours_per_day is more than 0 and at most 24".into()));
    }
    let group = match by {
        By::Engineer => "w.user_id",
        By::Partner => "w.org_id",
        By::Client => "t.client_id",
        By::Team => "t.product_team",
        By::Region => "t.region",
    };
    let rows: Vec<(String, String, i64, i64)> = sqlx::query_as(&format!(
        "SELECT {group}, w.kind, w.started_at, w.ended_at FROM ticket_time w JOIN tickets t ON t.id = w.ticket_id
         WHERE w.started_at < $2 AND w.ended_at > $1"
    ))
    .bind(period.from.0)
    .bind(period.to.0)
    .fetch_all(&state.db.pool)
    .await?;
    let entries: Vec<LabourEntry> = rows
        .into_iter()
        .map(|r| LabourEntry { group: r.0, work: r.1 == "work", start: Timestamp(r.2), end: Timestamp(r.3) })
        .collect();
    let available = f64::from(period.weekdays()) * hours_per_day;
    let mut rows = reports::labour(&entries, period, |_| (by == By::Engineer).then_some(available));
    let names = names(&state, by, &rows.iter().map(|r| r.group.clone()).collect()).await?;
    for row in &mut rows {
        row.name = names.get(&row.group).cloned().unwrap_or_default();
    }
    Ok(answer(rows, csv, "labour"))
}

/// Per client: points charged by tickets resolved in the period, the
/// balance now, low balances flagged (admin, dispatcher).
#[utoipa::path(get, path = "/v1/reports/points", tag = "reports", params(ReportQuery),
    responses((status = 200, description = "The rows as JSON, or as a CSV download with format=csv.",
        content((Vec<PointsRow> = "application/json"), (String = "text/csv")))))]
#[tracing::instrument(skip_all)]
async fn points(
    State(state): State<AppState>,
    headers: HeaderMap,
    Params(query): Params<ReportQuery>,
) -> Result<Response, ApiError> {
    reader(&state, &headers).await?;
    let (period, csv) = (query.period()?, query.csv());
    if query.by.is_some_and(|by| by != By::Client) || query.hours_per_day.is_some() {
        return Err(ApiError::BadRequest("the points report is per client, with no other parameters".into()));
    }
    let charged: Vec<(String, i64, i64)> = sqlx::query_as(
        "SELECT client_id, CAST(SUM(points_charged) AS BIGINT), COUNT(*) FROM tickets
         WHERE points_charged IS NOT NULL AND resolved_at >= $1 AND resolved_at < $2 GROUP BY client_id",
    )
    .bind(period.from.0)
    .bind(period.to.0)
    .fetch_all(&state.db.pool)
    .await?;
    let mut rows: BTreeMap<String, PointsRow> = charged
        .into_iter()
        .map(|(client, sum, count)| {
            let row = PointsRow {
                client: client.clone(),
                charged: u64::try_from(sum).unwrap_or(0),
                tickets_charged: u64::try_from(count).unwrap_or(0),
                ..PointsRow::default()
            };
            (client, row)
        })
        .collect();
    let clients: Vec<(String,)> =
        sqlx::query_as("SELECT id FROM documents WHERE kind = 'client'").fetch_all(&state.db.pool).await?;
    let mut tx = state.db.pool.begin().await?;
    for (id,) in clients {
        let Ok(doc) = id.parse::<DocId>() else { continue };
        let Some(Document::Client(client)) = store::read(&mut tx, doc, DocKind::Client).await? else { continue };
        if client.points_balance.is_none() && !rows.contains_key(&id) {
            continue;
        }
        let row = rows.entry(id.clone()).or_insert_with(|| PointsRow { client: id.clone(), ..PointsRow::default() });
        row.name = client.name;
        row.balance = client.points_balance.map(|p| p.hundredths);
        row.low_balance = client.points_balance.is_some_and(|p| p < crate::reactions::LOW_BALANCE);
    }
    Ok(answer(rows.into_values().collect(), csv, "points"))
}

#[derive(Serialize, ToSchema)]
struct StretchView {
    status: TicketStatus,
    engineer: Option<String>,
    partner_org: Option<String>,
    from: i64,
    until: Option<i64>,
    hours: f64,
}

#[derive(Serialize, ToSchema)]
struct DeadlineView {
    due: Option<i64>,
    /// When it was answered (the first response, the resolution).
    at: Option<i64>,
    /// `None` with no deadline.
    verdict: Option<reports::Verdict>,
}

#[derive(Serialize, ToSchema)]
struct Timeline {
    id: DocId,
    number: String,
    stretches: Vec<StretchView>,
    /// Hours in each status, in total, by status.
    hours_by_status: BTreeMap<&'static str, f64>,
    reaction: DeadlineView,
    resolution: DeadlineView,
}

fn deadline(due: Option<Timestamp>, at: Option<Timestamp>, now: Timestamp) -> DeadlineView {
    DeadlineView { due: due.map(|t| t.0), at: at.map(|t| t.0), verdict: reports::verdict(due, at, now) }
}

/// Where a ticket's time went, with whom, and how its deadlines went: why
/// one was missed, in figures.
#[utoipa::path(get, path = "/v1/tickets/{id}/timeline", tag = "tickets",
    params(("id" = DocId, Path, description = "The ticket's id.")),
    responses((status = 200, body = Timeline)))]
#[tracing::instrument(skip_all)]
async fn timeline(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<Timeline>, ApiError> {
    let caller = super::desk_caller(&state, &headers, |role| {
        role.reads_everything() || role == outpost_sync::model::Role::PartnerDispatcher
    })
    .await?;
    let id: DocId = id.parse().map_err(|_| ApiError::BadRequest(format!("{id:?} is not a ticket id")))?;
    let mut tx = state.db.pool.begin().await?;
    let Some(Document::Ticket(ticket)) = store::read(&mut tx, id, DocKind::Ticket).await? else {
        return Err(ApiError::NotFound("no such ticket".into()));
    };
    super::tickets::in_scope(&caller, &ticket)?;
    let at = now();
    let mut hours_by_status: BTreeMap<&'static str, f64> = BTreeMap::new();
    let stretches = ticket_timeline(&ticket)
        .into_iter()
        .map(|s| {
            let hours = s.millis(at) as f64 / 3_600_000.0;
            *hours_by_status.entry(s.status.code()).or_default() += hours;
            StretchView {
                status: s.status,
                engineer: s.assignee.and_then(|a| a.engineer).map(|u| u.to_string()),
                partner_org: s.assignee.and_then(|a| a.partner_org).map(|o| o.to_string()),
                from: s.from.0,
                until: s.until.map(|t| t.0),
                hours,
            }
        })
        .collect();
    Ok(Json(Timeline {
        id,
        number: ticket.number.clone(),
        stretches,
        hours_by_status,
        reaction: deadline(ticket.sla.reaction_due, ticket.sla.first_response_at, at),
        resolution: deadline(ticket.sla.resolution_due, ticket.sla.resolved_at, at),
    }))
}
