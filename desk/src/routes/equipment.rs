//! Equipment for the desk's people: look up, create one, import many from CSV
//! with a report of every row that could not be taken.

use std::collections::BTreeSet;

use axum::extract::{DefaultBodyLimit, State};
use axum::http::{header, HeaderMap};
use axum::Json;
use chrono::NaiveDate;
use outpost_sync::ids::{DocId, Timestamp};
use outpost_sync::model::{new_document, DocKind, Document, Equipment};
use serde::{Deserialize, Serialize};
use sqlx::{Any, Transaction};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouterExt};
use utoipa_axum::routes;

use super::input::{Body, Params};
use super::Written;
use crate::accounts::new_id;
use crate::error::ApiError;
use crate::store;
use crate::{now, AppState};

/// Largest CSV import, in bytes (about 100,000 rows).
const MAX_IMPORT: usize = 16 * 1024 * 1024;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(update))
        .routes(routes!(import).layer(DefaultBodyLimit::max(MAX_IMPORT)))
}

/// One equipment record as the API and the CSV columns describe it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct NewEquipment {
    /// Unique.
    #[schema(min_length = 1, max_length = 100)]
    serial: String,
    #[schema(min_length = 1)]
    model: String,
    #[serde(default)]
    vendor: String,
    #[serde(default)]
    class: String,
    /// The client's id.
    #[schema(value_type = DocId)]
    client: String,
    /// The site's id, if any.
    #[serde(default)]
    site: String,
    #[serde(default)]
    location_note: String,
    /// `YYYY-MM-DD`
    #[serde(default)]
    installed_on: String,
    /// `YYYY-MM-DD`
    #[serde(default)]
    covered_until: String,
}

fn date(text: &str, field: &str) -> Result<Option<Timestamp>, String> {
    if text.trim().is_empty() {
        return Ok(None);
    }
    let day = NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
        .map_err(|_| format!("{field} {text:?} is not YYYY-MM-DD"))?;
    Ok(day.and_hms_opt(0, 0, 0).map(|t| Timestamp::from_datetime(t.and_utc())))
}

async fn kind_of(tx: &mut Transaction<'_, Any>, id: DocId) -> Result<Option<DocKind>, ApiError> {
    Ok(store::load(tx, id).await?.map(|d| d.kind))
}

/// Checks a record and builds its document; `Err` is the reason, in words.
async fn build(
    tx: &mut Transaction<'_, Any>,
    new: NewEquipment,
    seen: &mut BTreeSet<String>,
) -> Result<Result<Equipment, String>, ApiError> {
    let serial = new.serial.trim().to_owned();
    if serial.is_empty() || serial.len() > 100 {
        return Ok(Err("serial must be 1 to 100 characters".into()));
    }
    if new.model.trim().is_empty() {
        return Ok(Err("model is required".into()));
    }
    let Ok(client) = new.client.trim().parse::<DocId>() else {
        return Ok(Err(format!("client {:?} is not an id", new.client)));
    };
    if kind_of(tx, client).await? != Some(DocKind::Client) {
        return Ok(Err(format!("no client {client}")));
    }
    let site = if new.site.trim().is_empty() {
        None
    } else {
        let Ok(site) = new.site.trim().parse::<DocId>() else {
            return Ok(Err(format!("site {:?} is not an id", new.site)));
        };
        if kind_of(tx, site).await? != Some(DocKind::Site) {
            return Ok(Err(format!("no site {site}")));
        }
        Some(site)
    };
    let (installed_on, covered_until) =
        match (date(&new.installed_on, "installed_on"), date(&new.covered_until, "covered_until")) {
            (Ok(a), Ok(b)) => (a, b),
            (Err(e), _) | (_, Err(e)) => return Ok(Err(e)),
        };
    let taken: Option<(String,)> = sqlx::query_as("SELECT id FROM equipment WHERE serial = $1")
        .bind(&serial)
        .fetch_optional(&mut **tx)
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    if taken.is_some() || !seen.insert(serial.clone()) {
        return Ok(Err(format!("serial {serial} is already registered")));
    }
    let mut equipment = Equipment::new(DocId(new_id()), serial, new.model.trim().to_owned(), client);
    equipment.vendor = new.vendor.trim().to_owned();
    equipment.class = new.class.trim().to_owned();
    equipment.site = site;
    equipment.location_note = new.location_note;
    equipment.installed_on = installed_on;
    equipment.covered_until = covered_until;
    Ok(Ok(equipment))
}

async fn insert(
    state: &AppState,
    tx: &mut Transaction<'_, Any>,
    equipment: Equipment,
    at: Timestamp,
) -> Result<Result<DocId, String>, ApiError> {
    let document = Document::Equipment(equipment);
    if let Err(err) = document.validate(&state.sync.fields) {
        return Ok(Err(err.to_string()));
    }
    let mut doc =
        new_document(&document, state.sync.desk_actor.clone()).map_err(|e| ApiError::Internal(e.to_string()))?;
    store::insert_new(tx, &document, &mut doc, at).await?;
    Ok(Ok(document.id()))
}

/// Registers one equipment record (admin, dispatcher).
#[utoipa::path(post, path = "/v1/equipment", tag = "equipment", request_body = NewEquipment,
    responses((status = 200, body = Written)))]
#[tracing::instrument(skip_all)]
async fn create(
    State(state): State<AppState>,
    headers: HeaderMap,
    Body(new): Body<NewEquipment>,
) -> Result<Json<Written>, ApiError> {
    super::desk_caller(&state, &headers, |role| role.is_desk()).await?;
    let mut tx = state.db.begin_write().await.map_err(|e| ApiError::Internal(e.to_string()))?;
    let equipment = build(&mut tx, new, &mut BTreeSet::new()).await?.map_err(ApiError::BadRequest)?;
    let id = insert(&state, &mut tx, equipment, now()).await?.map_err(ApiError::BadRequest)?;
    tx.commit().await.map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok(Json(Written { id }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct EquipmentUpdate {
    model: Option<String>,
    vendor: Option<String>,
    class: Option<String>,
    site: Option<DocId>,
    location_note: Option<String>,
    /// `YYYY-MM-DD`
    covered_until: Option<String>,
    /// Free attributes to set; an empty value removes one.
    #[serde(default)]
    attributes: std::collections::BTreeMap<String, String>,
}

/// Changes an equipment record's desk-side fields: model, vendor, class,
/// site, location, coverage, attributes (admin, dispatcher).
#[utoipa::path(patch, path = "/v1/equipment/{id}", tag = "equipment",
    params(("id" = DocId, Path, description = "The equipment record's id.")),
    request_body = EquipmentUpdate, responses((status = 200, body = Written)))]
#[tracing::instrument(skip_all)]
async fn update(
    State(state): State<AppState>,
    headers: HeaderMap,
    axum::extract::Path(id): axum::extract::Path<String>,
    Body(update): Body<EquipmentUpdate>,
) -> Result<Json<Written>, ApiError> {
    let caller = super::desk_caller(&state, &headers, |role| role.is_desk()).await?;
    let id: DocId = id.parse().map_err(|_| ApiError::BadRequest(format!("{id:?} is not an equipment id")))?;
    let covered_until = match update.covered_until.as_deref() {
        Some(day) => Some(date(day, "covered_until").map_err(ApiError::BadRequest)?),
        None => None,
    };
    let at = now();
    let fields = state.sync.fields.clone();
    let mut tx = state.db.begin_write().await.map_err(|e| ApiError::Internal(e.to_string()))?;
    if let Some(site) = update.site {
        if kind_of(&mut tx, site).await? != Some(DocKind::Site) {
            return Err(ApiError::BadRequest(format!("no site {site}")));
        }
    }
    let written = store::write_as_desk(&mut tx, id, &caller.actor, &state.sync.desk_actor, at, |document| {
        let Document::Equipment(e) = document else { return Err(ApiError::NotFound("no such equipment".into())) };
        if let Some(model) = update.model {
            e.model = model;
        }
        if let Some(vendor) = update.vendor {
            e.vendor = vendor;
        }
        if let Some(class) = update.class {
            e.class = class;
        }
        if update.site.is_some() {
            e.site = update.site;
        }
        if let Some(note) = update.location_note {
            e.location_note = note;
        }
        if let Some(until) = covered_until {
            e.covered_until = until;
        }
        for (key, value) in update.attributes {
            if value.is_empty() {
                e.attributes.remove(&key);
            } else {
                e.attributes.insert(key, value);
            }
        }
        document.validate(&fields).map_err(|err| ApiError::BadRequest(err.to_string()))
    })
    .await?;
    if written.is_none() {
        return Err(ApiError::NotFound("no such equipment".into()));
    }
    tx.commit().await.map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok(Json(Written { id }))
}

#[derive(Serialize, ToSchema)]
struct RowError {
    line: u64,
    message: String,
}

#[derive(Serialize, ToSchema)]
struct ImportReport {
    imported: usize,
    errors: Vec<RowError>,
}

/// Imports a CSV with a header row naming the fields of `NewEquipment`.
/// Good rows go in, each bad row is reported with its line and reason
/// (admin, dispatcher).
#[utoipa::path(post, path = "/v1/equipment/import", tag = "equipment",
    request_body(content = String, content_type = "text/csv",
        description = "A header row naming serial, model and client, and any other field of NewEquipment."),
    responses((status = 200, body = ImportReport)))]
#[tracing::instrument(skip_all, fields(bytes = body.len()))]
async fn import(
    State(state): State<AppState>,
    headers: HeaderMap,
    super::input::RawBody(body): super::input::RawBody,
) -> Result<Json<ImportReport>, ApiError> {
    super::desk_caller(&state, &headers, |role| role.is_desk()).await?;
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    if !content_type.starts_with("text/csv") {
        return Err(ApiError::UnsupportedMediaType(format!("equipment imports are text/csv, not {content_type:?}")));
    }
    let mut reader = csv::ReaderBuilder::new().trim(csv::Trim::Headers).from_reader(body.as_ref());
    let columns =
        reader.headers().map_err(|e| ApiError::BadRequest(format!("the header row does not read: {e}")))?.clone();
    for required in ["serial", "model", "client"] {
        if !columns.iter().any(|c| c == required) {
            return Err(ApiError::BadRequest(format!("the header row lacks the {required} column")));
        }
    }
    let at = now();
    let mut tx = state.db.begin_write().await.map_err(|e| ApiError::Internal(e.to_string()))?;
    let mut report = ImportReport { imported: 0, errors: Vec::new() };
    let mut seen = BTreeSet::new();
    for record in reader.records() {
        let (line, parsed) = match record {
            Ok(record) => {
                let line = record.position().map_or(0, csv::Position::line);
                (line, record.deserialize::<NewEquipment>(Some(&columns)).map_err(|e| e.to_string()))
            }
            Err(err) => (err.position().map_or(0, csv::Position::line), Err(err.to_string())),
        };
        let outcome = match parsed {
            Ok(new) => match build(&mut tx, new, &mut seen).await? {
                Ok(equipment) => insert(&state, &mut tx, equipment, at).await?.map(|_| ()),
                Err(reason) => Err(reason),
            },
            Err(reason) => Err(reason),
        };
        match outcome {
            Ok(()) => report.imported += 1,
            Err(message) => report.errors.push(RowError { line, message }),
        }
    }
    tx.commit().await.map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok(Json(report))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    /// The exact serial.
    serial: Option<String>,
    client: Option<DocId>,
    /// At most this many; 100 if not given.
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<u32>,
}

#[derive(Serialize, ToSchema)]
struct EquipmentRow {
    id: String,
    serial: String,
    model: String,
    vendor: String,
    class: String,
    client_id: String,
    site_id: Option<String>,
    covered_until: Option<i64>,
}

/// The equipment registry, by serial.
#[utoipa::path(get, path = "/v1/equipment", tag = "equipment", params(ListQuery),
    responses((status = 200, body = Vec<EquipmentRow>)))]
async fn list(
    State(state): State<AppState>,
    headers: HeaderMap,
    Params(query): Params<ListQuery>,
) -> Result<Json<Vec<EquipmentRow>>, ApiError> {
    super::desk_caller(&state, &headers, |role| role.reads_everything()).await?;
    let limit = super::input::page_size(query.limit, 100, 1_000)?;
    type Row = (String, String, String, String, String, String, Option<String>, Option<i64>);
    let rows: Vec<Row> = sqlx::query_as(&format!(
        "SELECT id, serial, model, vendor, class, client_id, site_id, covered_until FROM equipment
         WHERE ($1 = '' OR serial = $1) AND ($2 = '' OR client_id = $2) ORDER BY serial LIMIT {limit}"
    ))
    .bind(query.serial.unwrap_or_default())
    .bind(query.client.map(|c| c.to_string()).unwrap_or_default())
    .fetch_all(&state.db.pool)
    .await
    .map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok(Json(
        rows.into_iter()
            .map(|r| EquipmentRow {
                id: r.0,
                serial: r.1,
                model: r.2,
                vendor: r.3,
                class: r.4,
                client_id: r.5,
                site_id: r.6,
                covered_until: r.7,
            })
            .collect(),
    ))
}
