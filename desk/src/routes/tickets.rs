//! Tickets for the desk's people: list with filters and search, read,
//! create, assign. Field users work through sync, not here.

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::Json;
use outpost_sync::ids::{DocId, EntryId, OrgId, Timestamp, UserId};
use outpost_sync::model::{
    Assignee, BillingClass, Client, Contact, DeadlineChange, DocKind, Document, Entitlement, EntitlementKind,
    Equipment, Escalation, Points, Priority, Role, Site, SiteRef, SupportLevel, Ticket, TicketStatus, Transition,
    WorkLogEntry,
};
use outpost_sync::workflow::{fold_ticket, ticket_move_refusal};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::input::{Body, Params};
use super::Written;
use crate::accounts::{self, new_id, Caller};
use crate::error::ApiError;
use crate::store;
use crate::{now, AppState};

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(show, update))
        .routes(routes!(service_report))
        .routes(routes!(assign))
        .routes(routes!(add_note))
        .routes(routes!(move_status))
}

/// What a route does to tickets, for who may call it.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Access {
    /// The desk's people read every ticket; a partner's dispatcher its company's.
    Read,
    /// Assign and add notes: the desk; a partner's dispatcher within its company.
    Route,
    /// Everything else the desk changes: admins and dispatchers.
    Write,
}

async fn desk_caller(state: &AppState, headers: &HeaderMap, access: Access) -> Result<Caller, ApiError> {
    super::desk_caller(state, headers, |role| match access {
        Access::Read => role.reads_everything() || role == Role::PartnerDispatcher,
        Access::Route => role.is_desk() || role == Role::PartnerDispatcher,
        Access::Write => role.is_desk(),
    })
    .await
}

/// A partner's dispatcher sees a ticket only while it is assigned to their
/// company; to them any other ticket does not exist.
pub(super) fn in_scope(caller: &Caller, ticket: &Ticket) -> Result<(), ApiError> {
    if caller.actor.role.reads_everything() {
        return Ok(());
    }
    let own = fold_ticket(ticket).assignee.is_some_and(|a| a.partner_org == Some(caller.actor.org));
    if own {
        Ok(())
    } else {
        Err(ApiError::NotFound("no such ticket".into()))
    }
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    #[param(value_type = Option<TicketStatus>)]
    status: Option<String>,
    /// The product team.
    team: Option<String>,
    #[param(value_type = Option<SupportLevel>)]
    support_level: Option<String>,
    region: Option<String>,
    assignee: Option<UserId>,
    partner_org: Option<OrgId>,
    /// Only tickets past their resolution deadline and not yet resolved.
    breached: Option<bool>,
    /// Only open tickets whose resolution falls due within this many hours.
    #[param(maximum = 8784)]
    due_within_hours: Option<u32>,
    /// Words that must all appear in the ticket's text (at most 200 characters).
    q: Option<String>,
    /// At most this many, soonest due first; 100 if not given.
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<u32>,
    #[param(maximum = 1000000)]
    offset: Option<u32>,
}

/// The deepest page of a queue anyone reads.
const MAX_OFFSET: i64 = 1_000_000;
/// The furthest ahead "due within" looks: a leap year, in hours.
const MAX_DUE_WITHIN_HOURS: u32 = 8_784;

#[derive(Debug, Serialize, ToSchema)]
struct TicketRow {
    id: String,
    number: String,
    title: String,
    #[schema(value_type = TicketStatus)]
    status: String,
    #[schema(value_type = Priority)]
    priority: String,
    #[schema(value_type = SupportLevel)]
    support_level: String,
    product_team: String,
    region: String,
    client_id: String,
    assignee_user: Option<String>,
    partner_org: Option<String>,
    /// Milliseconds since the epoch, UTC, as every time here.
    reaction_due: Option<i64>,
    resolution_due: Option<i64>,
    resolved_at: Option<i64>,
    updated_at: i64,
    /// Open past its resolution deadline, by the desk's clock.
    breached: bool,
}

const STATUSES: &[&str] =
    &["new", "assigned", "accepted", "en_route", "on_site", "waiting_parts", "resolved", "closed", "cancelled"];
const OPEN: &str = "status NOT IN ('resolved', 'closed', 'cancelled')";

enum Param {
    Text(String),
    Int(i64),
}

/// The queues: tickets filtered by status, team, support level, region,
/// assignee, partner and urgency, or found by words; soonest due first.
/// A partner's dispatcher sees their company's tickets only.
#[utoipa::path(get, path = "/v1/tickets", tag = "tickets", params(ListQuery),
    responses((status = 200, body = Vec<TicketRow>)))]
#[tracing::instrument(skip_all)]
async fn list(
    State(state): State<AppState>,
    headers: HeaderMap,
    Params(query): Params<ListQuery>,
) -> Result<Json<Vec<TicketRow>>, ApiError> {
    let caller = desk_caller(&state, &headers, Access::Read).await?;
    let mut clauses: Vec<String> = Vec::new();
    let mut params: Vec<Param> = Vec::new();
    let mut push = |clause: &str, param: Param| {
        params.push(param);
        clauses.push(clause.replace('?', &format!("${}", params.len())));
    };
    if let Some(status) = query.status {
        if !STATUSES.contains(&status.as_str()) {
            return Err(ApiError::BadRequest(format!("unknown status {status:?}; one of {}", STATUSES.join(", "))));
        }
        push("status = ?", Param::Text(status));
    }
    if let Some(team) = query.team {
        push("product_team = ?", Param::Text(team));
    }
    if let Some(level) = query.support_level.as_deref() {
        push("support_level = ?", Param::Text(parse_level(level)?.code().to_owned()));
    }
    if let Some(region) = query.region {
        push("region = ?", Param::Text(region));
    }
    if let Some(user) = query.assignee {
        push("assignee_user = ?", Param::Text(user.to_string()));
    }
    if let Some(org) = query.partner_org {
        push("partner_org = ?", Param::Text(org.to_string()));
    }
    if !caller.actor.role.reads_everything() {
        // A partner's dispatcher: their company's tickets only.
        push("partner_org = ?", Param::Text(caller.actor.org.to_string()));
    }
    let at = now().0;
    if query.breached == Some(true) {
        push(&format!("{OPEN} AND resolution_due < ?"), Param::Int(at));
    }
    if let Some(hours) = query.due_within_hours {
        if hours > MAX_DUE_WITHIN_HOURS {
            return Err(ApiError::BadRequest(format!("due_within_hours is at most {MAX_DUE_WITHIN_HOURS}")));
        }
        push(&format!("{OPEN} AND resolution_due >= ?"), Param::Int(at));
        push("resolution_due <= ?", Param::Int(at + i64::from(hours) * 3_600_000));
    }
    if let Some(q) = query.q.as_deref() {
        let words: Vec<&str> = q.split_whitespace().take(8).collect();
        if q.len() > 200 {
            return Err(ApiError::BadRequest("a search is at most 200 characters".into()));
        }
        // Whole words, all of them, through each backend's full-text index.
        let words: Vec<String> = words.iter().map(|w| w.to_lowercase()).collect();
        if !words.is_empty() {
            match state.db.backend {
                crate::Backend::Sqlite => {
                    let quoted: Vec<String> = words.iter().map(|w| format!("\"{}\"", w.replace('"', "\"\""))).collect();
                    push("id IN (SELECT id FROM tickets_fts WHERE tickets_fts MATCH ?)", Param::Text(quoted.join(" ")));
                }
                crate::Backend::Postgres => {
                    push("search_vector @@ plainto_tsquery('simple', ?)", Param::Text(words.join(" ")));
                }
            }
        }
    }
    let limit = super::input::page_size(query.limit, 100, 1_000)?;
    let offset = i64::from(query.offset.unwrap_or(0));
    if offset > MAX_OFFSET {
        return Err(ApiError::BadRequest(format!("offset is at most {MAX_OFFSET}")));
    }
    let filter = if clauses.is_empty() { String::new() } else { format!("WHERE {}", clauses.join(" AND ")) };
    let sql = format!(
        "SELECT id, number, title, status, priority, support_level, product_team, region, client_id, assignee_user,
                partner_org, reaction_due, resolution_due, resolved_at, updated_at
         FROM tickets {filter} ORDER BY resolution_due IS NULL, resolution_due, number LIMIT {limit} OFFSET {offset}"
    );
    type Row = (
        String,
        String,
        String,
        String,
        String,
        String,
        String,
        String,
        String,
        Option<String>,
        Option<String>,
        Option<i64>,
        Option<i64>,
        Option<i64>,
        i64,
    );
    let mut select = sqlx::query_as::<_, Row>(&sql);
    for param in params {
        select = match param {
            Param::Text(text) => select.bind(text),
            Param::Int(n) => select.bind(n),
        };
    }
    let rows = select.fetch_all(&state.db.pool).await.map_err(|e| ApiError::Internal(e.to_string()))?;
    let rows = rows
        .into_iter()
        .map(|r| TicketRow {
            breached: r.12.is_some_and(|due| due < at) && !matches!(r.3.as_str(), "resolved" | "closed" | "cancelled"),
            id: r.0,
            number: r.1,
            title: r.2,
            status: r.3,
            priority: r.4,
            support_level: r.5,
            product_team: r.6,
            region: r.7,
            client_id: r.8,
            assignee_user: r.9,
            partner_org: r.10,
            reaction_due: r.11,
            resolution_due: r.12,
            resolved_at: r.13,
            updated_at: r.14,
        })
        .collect();
    Ok(Json(rows))
}

fn parse_doc_id(id: &str) -> Result<DocId, ApiError> {
    id.parse().map_err(|_| ApiError::BadRequest(format!("{id:?} is not a ticket id")))
}

/// Who holds a ticket now, as its transitions fold.
#[derive(Serialize, ToSchema)]
struct AssigneeView {
    engineer: Option<UserId>,
    partner_org: Option<OrgId>,
}

#[derive(Serialize, ToSchema)]
struct TicketView {
    id: DocId,
    status: TicketStatus,
    assignee: Option<AssigneeView>,
    /// Concurrent moves the fold resolved, in words.
    conflicts: Vec<String>,
    /// The ticket's document as engineers' devices hold it.
    #[schema(value_type = Ticket)]
    document: Document,
}

/// A ticket: its document, its folded status and assignee, and the
/// conflicts the fold resolved, in words.
#[utoipa::path(get, path = "/v1/tickets/{id}", tag = "tickets",
    params(("id" = DocId, Path, description = "The ticket's id.")),
    responses((status = 200, body = TicketView)))]
#[tracing::instrument(skip_all)]
async fn show(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<TicketView>, ApiError> {
    let caller = desk_caller(&state, &headers, Access::Read).await?;
    let id = parse_doc_id(&id)?;
    let mut tx = state.db.pool.begin().await?;
    let Some(Document::Ticket(ticket)) = store::read(&mut tx, id, DocKind::Ticket).await? else {
        return Err(ApiError::NotFound("no such ticket".into()));
    };
    in_scope(&caller, &ticket)?;
    let state_of = fold_ticket(&ticket);
    let conflicts: Vec<String> = state_of.conflicts.iter().map(outpost_sync::workflow::Conflict::explain).collect();
    Ok(Json(TicketView {
        id,
        status: state_of.status,
        assignee: state_of.assignee.map(|a| AssigneeView { engineer: a.engineer, partner_org: a.partner_org }),
        conflicts,
        document: Document::Ticket(ticket),
    }))
}

/// The ticket's latest signed service report (акт), checked against the
/// ticket as it stands now: whether it still makes exactly the report the
/// customer signed, and if not, what changed. The PDF is a blob.
#[utoipa::path(get, path = "/v1/tickets/{id}/report", tag = "tickets",
    params(("id" = DocId, Path, description = "The ticket's id.")),
    responses((status = 200, body = crate::service_report::ReportCheck),
        (status = 404, description = "No such ticket, or no report attached to it yet.", body = crate::error::ErrorBody)))]
#[tracing::instrument(skip_all)]
async fn service_report(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<crate::service_report::ReportCheck>, ApiError> {
    let caller = desk_caller(&state, &headers, Access::Read).await?;
    let id = parse_doc_id(&id)?;
    let mut tx = state.db.pool.begin().await?;
    let Some(Document::Ticket(ticket)) = store::read(&mut tx, id, DocKind::Ticket).await? else {
        return Err(ApiError::NotFound("no such ticket".into()));
    };
    tx.rollback().await?;
    in_scope(&caller, &ticket)?;
    match crate::service_report::check(&state.db, &caller.actor, &ticket).await {
        Ok(Some(check)) => Ok(Json(check)),
        Ok(None) => Err(ApiError::NotFound("no service report is attached to this ticket yet".into())),
        Err(crate::service_report::ReportError::Blob(err)) => Err(err.into()),
        Err(crate::service_report::ReportError::Store(err)) => Err(err.into()),
    }
}

/// A new ticket and everything it is tied to. Each reference must name a
/// document of its kind: the site and equipment the client's own.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct NewTicket {
    #[schema(min_length = 1)]
    title: String,
    #[serde(default)]
    description: String,
    client: DocId,
    /// The client's site: its address, region, time zone and coordinates
    /// become the ticket's unless given below.
    site: Option<DocId>,
    /// The client's equipment the work is on.
    #[serde(default)]
    #[schema(max_items = 50)]
    equipment: Vec<DocId>,
    checklist_template: Option<DocId>,
    /// p3 if not given.
    #[serde(default)]
    #[schema(value_type = Option<Priority>)]
    priority: Option<String>,
    #[serde(default)]
    category: String,
    #[serde(default)]
    product_team: String,
    /// l1_field if not given.
    #[schema(value_type = Option<SupportLevel>)]
    support_level: Option<String>,
    /// incident if not given.
    #[schema(value_type = Option<BillingClass>)]
    billing_class: Option<String>,
    /// The points estimate the client accepted before work, in hundredths.
    points_estimate: Option<u64>,
    #[serde(default)]
    estimate_accepted: bool,
    #[serde(default)]
    address: String,
    #[serde(default)]
    region: String,
    /// An IANA zone; the site's if not given.
    #[serde(default)]
    time_zone: String,
    #[serde(default)]
    contact_name: String,
    #[serde(default)]
    contact_phone: String,
    #[serde(default)]
    contact_email: String,
}

#[derive(Debug, Serialize, ToSchema)]
struct Created {
    id: DocId,
    number: String,
    /// What pays for the work.
    entitlement: EntitlementKind,
}

fn parse_priority(text: Option<&str>) -> Result<Priority, ApiError> {
    let Some(text) = text else { return Ok(Priority::P3) };
    Priority::parse(text)
        .ok_or_else(|| ApiError::BadRequest(format!("priority {text:?} is not one of {}", Priority::codes())))
}

/// Most equipment records one ticket names.
const MAX_EQUIPMENT: usize = 50;

/// What a new ticket points to, read and checked in one snapshot.
struct Links {
    client: Client,
    site: Option<Site>,
    equipment: Vec<Equipment>,
}

async fn read_links(state: &AppState, new: &NewTicket) -> Result<Links, ApiError> {
    let mut tx = state.db.pool.begin().await?;
    let Some(Document::Client(client)) = store::read(&mut tx, new.client, DocKind::Client).await? else {
        return Err(ApiError::BadRequest(format!("no client {}", new.client)));
    };
    let site = match new.site {
        None => None,
        Some(id) => match store::read(&mut tx, id, DocKind::Site).await? {
            Some(Document::Site(site)) if site.client == client.id => Some(site),
            Some(Document::Site(_)) => return Err(ApiError::BadRequest(format!("site {id} is another client's"))),
            _ => return Err(ApiError::BadRequest(format!("no site {id}"))),
        },
    };
    let equipment = client_equipment(&mut tx, client.id, &new.equipment).await?;
    if let Some(id) = new.checklist_template {
        checklist_template(&mut tx, id).await?;
    }
    Ok(Links { client, site, equipment })
}

/// The equipment records `ids` name, each once, in order: all of them the
/// client's own.
async fn client_equipment(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    client: DocId,
    ids: &[DocId],
) -> Result<Vec<Equipment>, ApiError> {
    if ids.len() > MAX_EQUIPMENT {
        return Err(ApiError::BadRequest(format!("a ticket names at most {MAX_EQUIPMENT} equipment records")));
    }
    let mut equipment: Vec<Equipment> = Vec::new();
    for id in ids {
        match store::read(tx, *id, DocKind::Equipment).await? {
            Some(Document::Equipment(e)) if e.client == client => {
                if !equipment.iter().any(|known| known.id == e.id) {
                    equipment.push(e);
                }
            }
            Some(Document::Equipment(_)) => {
                return Err(ApiError::BadRequest(format!("equipment {id} is another client's")))
            }
            _ => return Err(ApiError::BadRequest(format!("no equipment {id}"))),
        }
    }
    Ok(equipment)
}

async fn checklist_template(tx: &mut sqlx::Transaction<'_, sqlx::Any>, id: DocId) -> Result<(), ApiError> {
    match store::read(tx, id, DocKind::ChecklistTemplate).await? {
        Some(_) => Ok(()),
        None => Err(ApiError::BadRequest(format!("no checklist template {id}"))),
    }
}

/// Opens a ticket with everything it is tied to: deadlines from the
/// priority and the client's contract hours in the site's time zone, and
/// the entitlement decided from the contract, the equipment's warranty and
/// the client's points.
#[utoipa::path(post, path = "/v1/tickets", tag = "tickets", request_body = NewTicket,
    responses((status = 200, body = Created)))]
#[tracing::instrument(skip_all)]
async fn create(
    State(state): State<AppState>,
    headers: HeaderMap,
    Body(new): Body<NewTicket>,
) -> Result<Json<Created>, ApiError> {
    let caller = desk_caller(&state, &headers, Access::Write).await?;
    let title = new.title.trim().to_owned();
    if title.is_empty() {
        return Err(ApiError::BadRequest("a ticket needs a title".into()));
    }
    let at = now();
    let priority = parse_priority(new.priority.as_deref())?;
    let level = new.support_level.as_deref().map(parse_level).transpose()?;
    let billing = new.billing_class.as_deref().map(parse_billing).transpose()?;
    let Links { client, site, equipment } = read_links(&state, &new).await?;
    let or_site = |given: String, from_site: fn(&Site) -> &String| match (&site, given.is_empty()) {
        (Some(site), true) => from_site(site).clone(),
        _ => given,
    };
    let place = SiteRef {
        site: site.as_ref().map(|s| s.id),
        address: or_site(new.address, |s| &s.address),
        region: or_site(new.region, |s| &s.region),
        time_zone: or_site(new.time_zone, |s| &s.time_zone),
        coordinates: site.as_ref().and_then(|s| s.coordinates),
    };
    let calendar = crate::sla::Calendar::new(&client.business_hours, &place.time_zone)
        .map_err(|e| ApiError::BadRequest(e.to_string()))?;
    let sla = crate::sla::deadlines(priority, &calendar, at);

    let id = DocId(new_id());
    let (count,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM tickets").fetch_one(&state.db.pool).await?;
    let number = format!("T-{}-{:06}-{}", chrono::Utc::now().format("%Y"), count + 1, &id.0.simple().to_string()[28..]);
    let mut ticket = Ticket::new(id, caller.actor, at, number.clone(), title, client.id);
    ticket.description = autosurgeon::Text::with_value(new.description);
    ticket.priority = priority;
    ticket.sla = sla;
    ticket.category = new.category;
    ticket.product_team = new.product_team;
    ticket.support_level = level.unwrap_or(SupportLevel::L1Field);
    ticket.site = place;
    ticket.contact = Contact { name: new.contact_name, phone: new.contact_phone, email: new.contact_email };
    ticket.equipment = equipment.iter().map(|e| e.id).collect();
    ticket.checklist_template = new.checklist_template;
    ticket.entitlement = Entitlement::decide(&client, &equipment, at);
    if let Some(class) = billing {
        ticket.billing.class = class;
    }
    ticket.billing.points_estimate = new.points_estimate.map(|hundredths| Points { hundredths });
    ticket.billing.estimate_accepted = new.estimate_accepted;
    let entitlement = ticket.entitlement.kind;
    let document = Document::Ticket(ticket.clone());
    document.validate(&state.sync.fields).map_err(|e| ApiError::BadRequest(e.to_string()))?;
    let mut doc = outpost_sync::model::new_document(&document, state.sync.desk_actor.clone())
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    let mut tx = state.db.begin_write().await?;
    store::insert_new(&mut tx, &document, &mut doc, at).await?;
    crate::reactions::record_service(&mut tx, &ticket, &state.sync.desk_actor, at).await?;
    tx.commit().await?;
    Ok(Json(Created { id, number, entitlement }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct TicketUpdate {
    #[schema(min_length = 1)]
    title: Option<String>,
    /// The whole new text; it is merged as an edit, so what an engineer
    /// writes meanwhile stays.
    description: Option<String>,
    /// A new priority counts the deadlines again.
    #[schema(value_type = Option<Priority>)]
    priority: Option<String>,
    category: Option<String>,
    product_team: Option<String>,
    /// Recorded as an escalation by the desk.
    #[schema(value_type = Option<SupportLevel>)]
    support_level: Option<String>,
    /// Milliseconds since the epoch, UTC.
    reaction_due: Option<i64>,
    resolution_due: Option<i64>,
    #[schema(value_type = Option<BillingClass>)]
    billing_class: Option<String>,
    /// Hundredths of a point.
    points_estimate: Option<u64>,
    estimate_accepted: Option<bool>,
    /// A per-call ticket the client has paid for: it may now be assigned.
    paid: Option<bool>,
    /// The client's equipment the work is on, the whole list: a machine
    /// linked afterwards reaches the engineer's device and lists the ticket
    /// in its service history.
    equipment: Option<Vec<DocId>>,
    checklist_template: Option<DocId>,
    /// Why, for the deadline history and the escalations log.
    #[schema(max_length = 500)]
    reason: Option<String>,
}

fn parse_level(text: &str) -> Result<SupportLevel, ApiError> {
    SupportLevel::parse(text)
        .ok_or_else(|| ApiError::BadRequest(format!("support_level {text:?} is not one of {}", SupportLevel::codes())))
}

fn parse_billing(text: &str) -> Result<BillingClass, ApiError> {
    BillingClass::parse(text)
        .ok_or_else(|| ApiError::BadRequest(format!("billing_class {text:?} is not one of {}", BillingClass::codes())))
}

/// Changes what a ticket is about, its deadlines and its billing (the
/// desk's fields). A new priority counts the deadlines again from when the
/// ticket was opened, in the client's contract hours in the site's time
/// zone; deadlines set by hand replace them. Either way the deadlines they
/// replace go to the ticket's deadline history, with who and why.
#[utoipa::path(patch, path = "/v1/tickets/{id}", tag = "tickets",
    params(("id" = DocId, Path, description = "The ticket's id.")),
    request_body = TicketUpdate, responses((status = 200, body = Written)))]
#[tracing::instrument(skip_all)]
async fn update(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Body(update): Body<TicketUpdate>,
) -> Result<Json<Written>, ApiError> {
    let caller = desk_caller(&state, &headers, Access::Write).await?;
    let id = parse_doc_id(&id)?;
    let priority = update.priority.as_deref().map(|p| parse_priority(Some(p))).transpose()?;
    let level = update.support_level.as_deref().map(parse_level).transpose()?;
    let billing = update.billing_class.as_deref().map(parse_billing).transpose()?;
    if update.title.as_deref().is_some_and(|t| t.trim().is_empty()) {
        return Err(ApiError::BadRequest("a ticket needs a title".into()));
    }
    let reason = update.reason.clone().unwrap_or_default();
    if reason.len() > 500 {
        return Err(ApiError::BadRequest("a reason is at most 500 characters".into()));
    }
    let at = now();
    let fields = state.sync.fields.clone();
    let mut tx = state.db.begin_write().await?;
    let Some(Document::Ticket(current)) = store::read(&mut tx, id, DocKind::Ticket).await? else {
        return Err(ApiError::NotFound("no such ticket".into()));
    };
    let equipment = match &update.equipment {
        Some(ids) => Some(client_equipment(&mut tx, current.client, ids).await?),
        None => None,
    };
    if let Some(id) = update.checklist_template {
        checklist_template(&mut tx, id).await?;
    }
    // Deadlines counted again for a new priority, from the client's calendar.
    let recounted = match priority.filter(|p| *p != current.priority) {
        None => None,
        Some(priority) => {
            let Some(Document::Client(client)) = store::read(&mut tx, current.client, DocKind::Client).await? else {
                return Err(ApiError::Conflict("the ticket's client is gone; set the deadlines by hand".into()));
            };
            let calendar = crate::sla::Calendar::new(&client.business_hours, &current.site.time_zone)
                .map_err(|e| ApiError::Conflict(format!("the deadlines cannot be counted: {e}")))?;
            Some(crate::sla::deadlines(priority, &calendar, current.created_at))
        }
    };
    let written = store::write_as_desk(&mut tx, id, &caller.actor, &state.sync.desk_actor, at, |document| {
        let Document::Ticket(t) = document else { return Err(ApiError::NotFound("no such ticket".into())) };
        let before = (t.priority, t.sla.reaction_due, t.sla.resolution_due);
        if let Some(title) = update.title {
            t.title = title.trim().to_owned();
        }
        if let Some(text) = &update.description {
            t.description.update(text);
        }
        if let Some(priority) = priority {
            t.priority = priority;
        }
        if let Some(sla) = &recounted {
            t.sla.reaction_due = sla.reaction_due;
            t.sla.resolution_due = sla.resolution_due;
        }
        if let Some(due) = update.reaction_due {
            t.sla.reaction_due = Some(Timestamp(due));
        }
        if let Some(due) = update.resolution_due {
            t.sla.resolution_due = Some(Timestamp(due));
        }
        if (t.priority, t.sla.reaction_due, t.sla.resolution_due) != before {
            t.sla.history.push(DeadlineChange {
                id: EntryId(new_id()),
                at,
                by: caller.actor,
                priority: before.0,
                reaction_due: before.1,
                resolution_due: before.2,
                reason: reason.clone(),
            });
        }
        if let Some(category) = update.category {
            t.category = category;
        }
        if let Some(team) = update.product_team {
            t.product_team = team;
        }
        if let Some(level) = level.filter(|l| *l != t.support_level) {
            // The escalations log says what level a ticket is at; the desk writes to it too.
            t.escalations.push(Escalation {
                id: EntryId(new_id()),
                from: t.support_level,
                to: level,
                reason: reason.clone(),
                at,
                by: caller.actor,
            });
            t.support_level = level;
        }
        if let Some(class) = billing {
            t.billing.class = class;
        }
        if let Some(estimate) = update.points_estimate {
            t.billing.points_estimate = Some(Points { hundredths: estimate });
        }
        if let Some(accepted) = update.estimate_accepted {
            t.billing.estimate_accepted = accepted;
        }
        if let Some(paid) = update.paid {
            t.entitlement.paid = paid;
        }
        if let Some(equipment) = &equipment {
            t.equipment = equipment.iter().map(|e| e.id).collect();
        }
        if let Some(template) = update.checklist_template {
            t.checklist_template = Some(template);
        }
        document.validate(&fields).map_err(|e| ApiError::BadRequest(e.to_string()))
    })
    .await?;
    if let Some(Document::Ticket(ticket)) = &written {
        crate::reactions::record_service(&mut tx, ticket, &state.sync.desk_actor, at).await?;
    }
    tx.commit().await?;
    Ok(Json(Written { id }))
}

/// A note from the desk in the ticket's work log, beside the engineer's.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct NewNote {
    #[schema(min_length = 1)]
    text: String,
}

#[derive(Serialize, ToSchema)]
struct NoteAdded {
    id: DocId,
    /// The note's entry in the work log.
    note: EntryId,
}

/// Adds the desk's note to the ticket's work log, beside the engineer's,
/// under the caller's name.
#[utoipa::path(post, path = "/v1/tickets/{id}/notes", tag = "tickets",
    params(("id" = DocId, Path, description = "The ticket's id.")),
    request_body = NewNote, responses((status = 200, body = NoteAdded)))]
#[tracing::instrument(skip_all)]
async fn add_note(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Body(note): Body<NewNote>,
) -> Result<Json<NoteAdded>, ApiError> {
    let caller = desk_caller(&state, &headers, Access::Route).await?;
    let id = parse_doc_id(&id)?;
    let text = note.text.trim().to_owned();
    if text.is_empty() {
        return Err(ApiError::BadRequest("a note needs some text".into()));
    }
    let at = now();
    let entry = EntryId(new_id());
    let fields = state.sync.fields.clone();
    let mut tx = state.db.begin_write().await?;
    let written = store::write_as_desk(&mut tx, id, &caller.actor, &state.sync.desk_actor, at, |document| {
        let Document::Ticket(t) = document else { return Err(ApiError::NotFound("no such ticket".into())) };
        in_scope(&caller, t)?;
        t.work_log.push(WorkLogEntry { id: entry, at, by: caller.actor, text });
        document.validate(&fields).map_err(|e| ApiError::BadRequest(e.to_string()))
    })
    .await?;
    if written.is_none() {
        return Err(ApiError::NotFound("no such ticket".into()));
    }
    tx.commit().await?;
    Ok(Json(NoteAdded { id, note: entry }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct StatusMove {
    to: DeskMove,
    #[schema(max_length = 500)]
    reason: Option<String>,
}

/// The moves the desk makes besides assigning.
#[derive(Clone, Copy, Debug, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
enum DeskMove {
    Cancelled,
    Closed,
    /// Take the ticket back from its assignee.
    New,
}

#[derive(Serialize, ToSchema)]
struct StatusMoved {
    id: DocId,
    status: TicketStatus,
}

/// The desk's status moves other than assignment: cancel, close, take back.
#[utoipa::path(post, path = "/v1/tickets/{id}/status", tag = "tickets",
    params(("id" = DocId, Path, description = "The ticket's id.")),
    request_body = StatusMove, responses((status = 200, body = StatusMoved)))]
#[tracing::instrument(skip_all)]
async fn move_status(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Body(request): Body<StatusMove>,
) -> Result<Json<StatusMoved>, ApiError> {
    let caller = desk_caller(&state, &headers, Access::Write).await?;
    let id = parse_doc_id(&id)?;
    let to = match request.to {
        DeskMove::Cancelled => TicketStatus::Cancelled,
        DeskMove::Closed => TicketStatus::Closed,
        DeskMove::New => TicketStatus::New,
    };
    if request.reason.as_deref().is_some_and(|r| r.len() > 500) {
        return Err(ApiError::BadRequest("a reason is at most 500 characters".into()));
    }
    let at = now();
    let mut tx = state.db.begin_write().await.map_err(|e| ApiError::Internal(e.to_string()))?;
    let written = store::write_as_desk(&mut tx, id, &caller.actor, &state.sync.desk_actor, at, |document| {
        let Document::Ticket(ticket) = document else { return Err(ApiError::NotFound("no such ticket".into())) };
        let status = fold_ticket(ticket);
        if let Some(why) = ticket_move_refusal(&caller.actor, status.status, status.assignee.as_ref(), to, None) {
            return Err(ApiError::Conflict(format!(
                "cannot move a {} ticket to {}: {why}",
                status.status.as_str(),
                to.as_str()
            )));
        }
        ticket.transitions.push(Transition {
            id: EntryId(new_id()),
            from: status.status,
            to,
            at,
            by: caller.actor,
            assignee: None,
            reason: request.reason,
        });
        Ok(())
    })
    .await?;
    let Some(Document::Ticket(ticket)) = written else { return Err(ApiError::NotFound("no such ticket".into())) };
    crate::reactions::record_service(&mut tx, &ticket, &state.sync.desk_actor, at).await?;
    tx.commit().await?;
    Ok(Json(StatusMoved { id, status: fold_ticket(&ticket).status }))
}

/// Who gets the ticket: an engineer (a partner's engineer brings their
/// company along), or a partner company alone, whose people then see it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct Assignment {
    engineer: Option<UserId>,
    partner_org: Option<OrgId>,
    #[schema(max_length = 500)]
    reason: Option<String>,
}

/// The assignee an assignment names, checked: a real field user, the
/// partner company following from a partner's engineer, a real partner.
async fn assignee_of(state: &AppState, assignment: &Assignment) -> Result<Assignee, ApiError> {
    let partner_org = match assignment.engineer {
        Some(engineer) => {
            let actor = accounts::user_actor(&state.db.pool, engineer)
                .await?
                .ok_or_else(|| ApiError::BadRequest(format!("no user {engineer}")))?;
            match actor.role {
                Role::Engineer if assignment.partner_org.is_some() => {
                    return Err(ApiError::BadRequest(
                        "the engineer works for the service company, not a partner".into(),
                    ))
                }
                Role::Engineer => None,
                Role::PartnerEngineer if assignment.partner_org.is_some_and(|org| org != actor.org) => {
                    return Err(ApiError::BadRequest("the engineer does not work for that partner".into()))
                }
                Role::PartnerEngineer => Some(actor.org),
                _ => return Err(ApiError::BadRequest("tickets are assigned to engineers or partner engineers".into())),
            }
        }
        None => match assignment.partner_org {
            Some(org) if accounts::is_partner(&state.db.pool, org).await? => Some(org),
            Some(org) => return Err(ApiError::BadRequest(format!("{org} is not a service partner"))),
            None => return Err(ApiError::BadRequest("an assignment names an engineer, a partner, or both".into())),
        },
    };
    Ok(Assignee { engineer: assignment.engineer, partner_org })
}

#[derive(Serialize, ToSchema)]
struct Assigned {
    id: DocId,
    status: TicketStatus,
    engineer: Option<UserId>,
    partner_org: Option<OrgId>,
}

/// Assigns a ticket to an engineer (a partner's engineer brings their
/// company) or to a partner company alone; a partner's dispatcher assigns
/// their own engineers. A per-call ticket must be marked paid first.
#[utoipa::path(post, path = "/v1/tickets/{id}/assign", tag = "tickets",
    params(("id" = DocId, Path, description = "The ticket's id.")),
    request_body = Assignment, responses((status = 200, body = Assigned)))]
#[tracing::instrument(skip_all)]
async fn assign(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Body(assignment): Body<Assignment>,
) -> Result<Json<Assigned>, ApiError> {
    let caller = desk_caller(&state, &headers, Access::Route).await?;
    let id = parse_doc_id(&id)?;
    if assignment.reason.as_deref().is_some_and(|r| r.len() > 500) {
        return Err(ApiError::BadRequest("a reason is at most 500 characters".into()));
    }
    let assignee = assignee_of(&state, &assignment).await?;
    if caller.actor.role == Role::PartnerDispatcher
        && (assignee.engineer.is_none() || assignee.partner_org != Some(caller.actor.org))
    {
        return Err(ApiError::BadRequest("a partner's dispatcher assigns their own company's engineers".into()));
    }
    let at = now();
    let mut tx = state.db.begin_write().await?;
    let written = store::write_as_desk(&mut tx, id, &caller.actor, &state.sync.desk_actor, at, |document| {
        let Document::Ticket(ticket) = document else { return Err(ApiError::NotFound("no such ticket".into())) };
        in_scope(&caller, ticket)?;
        if !ticket.entitlement.is_cleared() {
            return Err(ApiError::Conflict(
                "nothing covers this work and it is not marked paid: mark it paid (PATCH paid) before assigning".into(),
            ));
        }
        let status = fold_ticket(ticket);
        if let Some(why) = ticket_move_refusal(
            &caller.actor,
            status.status,
            status.assignee.as_ref(),
            TicketStatus::Assigned,
            Some(&assignee),
        ) {
            return Err(ApiError::BadRequest(format!("cannot assign: {why}")));
        }
        // Routing is not a response: the reaction clock runs until someone
        // working the ticket answers (see `outpost_sync::reactions`).
        ticket.transitions.push(Transition {
            id: EntryId(new_id()),
            from: status.status,
            to: TicketStatus::Assigned,
            at,
            by: caller.actor,
            assignee: Some(assignee),
            reason: assignment.reason,
        });
        Ok(())
    })
    .await?;
    let Some(Document::Ticket(ticket)) = written else { return Err(ApiError::NotFound("no such ticket".into())) };
    crate::reactions::record_service(&mut tx, &ticket, &state.sync.desk_actor, at).await?;
    tx.commit().await?;
    Ok(Json(Assigned {
        id,
        status: TicketStatus::Assigned,
        engineer: assignee.engineer,
        partner_org: assignee.partner_org,
    }))
}
