//! Reference data the desk writes and devices only read: clients (with their
//! contract hours and points), sites, knowledge-base articles, checklist
//! templates.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::routing::get;
use axum::{Json, Router};
use outpost_sync::ids::DocId;
use outpost_sync::model::{
    new_document, BusinessHours, ChecklistTemplate, ChecklistTemplateItem, Client, Coordinates, DocKind, Document,
    Holiday, KbArticle, Points, Site, WeeklyHours,
};
use serde::Deserialize;

use super::input::{Body, Params};
use crate::accounts::new_id;
use crate::error::ApiError;
use crate::store;
use crate::{now, AppState};

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/clients", get(|s, h, q| list(s, h, q, DocKind::Client)).post(add_client))
        .route("/v1/sites", get(|s, h, q| list(s, h, q, DocKind::Site)).post(add_site))
        .route("/v1/kb-articles", get(|s, h, q| list(s, h, q, DocKind::KbArticle)).post(add_article))
        .route("/v1/checklist-templates", get(|s, h, q| list(s, h, q, DocKind::ChecklistTemplate)).post(add_template))
        .route("/v1/clients/{id}", axum::routing::patch(update_client))
        .route("/v1/kb-articles/{id}", axum::routing::patch(update_article))
}

/// Changes a reference record through `change`, as the desk.
async fn write_change(
    state: &AppState,
    headers: &HeaderMap,
    id: &str,
    change: impl FnOnce(&mut Document) -> Result<(), ApiError>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let caller = super::desk_caller(state, headers, |role| role.is_desk()).await?;
    let id: DocId = id.parse().map_err(|_| ApiError::BadRequest(format!("{id:?} is not an id")))?;
    let fields = state.sync.fields.clone();
    let mut tx = state.db.begin_write().await.map_err(|e| ApiError::Internal(e.to_string()))?;
    let written = store::write_as_desk(&mut tx, id, &caller.actor, &state.sync.desk_actor, now(), |document| {
        change(document)?;
        document.validate(&fields).map_err(|e| ApiError::BadRequest(e.to_string()))
    })
    .await?;
    if written.is_none() {
        return Err(ApiError::NotFound("no such record".into()));
    }
    tx.commit().await.map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok(Json(serde_json::json!({ "id": id })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ClientUpdate {
    name: Option<String>,
    contract: Option<String>,
    /// Hundredths of a point: the balance after a top-up or a correction.
    points_balance: Option<u64>,
}

async fn update_client(
    State(state): State<AppState>,
    headers: HeaderMap,
    axum::extract::Path(id): axum::extract::Path<String>,
    Body(update): Body<ClientUpdate>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let name = update.name.as_deref().map(|n| text(n, "name", 200)).transpose()?;
    write_change(&state, &headers, &id, |document| {
        let Document::Client(client) = document else { return Err(ApiError::NotFound("no such client".into())) };
        if let Some(name) = name {
            client.name = name;
        }
        if let Some(contract) = update.contract {
            client.contract = Some(contract);
        }
        if let Some(balance) = update.points_balance {
            client.points_balance = Some(Points { hundredths: balance });
        }
        Ok(())
    })
    .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ArticleUpdate {
    title: Option<String>,
    body: Option<String>,
    tags: Option<Vec<String>>,
}

async fn update_article(
    State(state): State<AppState>,
    headers: HeaderMap,
    axum::extract::Path(id): axum::extract::Path<String>,
    Body(update): Body<ArticleUpdate>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let title = update.title.as_deref().map(|t| text(t, "title", 300)).transpose()?;
    write_change(&state, &headers, &id, |document| {
        let Document::KbArticle(article) = document else { return Err(ApiError::NotFound("no such article".into())) };
        if let Some(title) = title {
            article.title = title;
        }
        if let Some(body) = update.body {
            if body.len() > 64 * 1024 {
                return Err(ApiError::BadRequest("an article body is at most 64 KiB".into()));
            }
            // A text diff, so edits merge with anything concurrent.
            article.body.update(body);
        }
        if let Some(tags) = update.tags {
            article.tags = tags;
        }
        Ok(())
    })
    .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    limit: Option<u32>,
}

/// Every record of a kind, as its document reads, oldest first.
async fn list(
    State(state): State<AppState>,
    headers: HeaderMap,
    Params(query): Params<ListQuery>,
    kind: DocKind,
) -> Result<Json<Vec<serde_json::Value>>, ApiError> {
    super::desk_caller(&state, &headers, |role| role.reads_everything()).await?;
    let limit = i64::from(query.limit.unwrap_or(500).clamp(1, 5_000));
    let ids: Vec<(String,)> =
        sqlx::query_as(&format!("SELECT id FROM documents WHERE kind = $1 ORDER BY id LIMIT {limit}"))
            .bind(kind.as_str())
            .fetch_all(&state.db.pool)
            .await
            .map_err(|e| ApiError::Internal(e.to_string()))?;
    let mut tx = state.db.pool.begin().await.map_err(|e| ApiError::Internal(e.to_string()))?;
    let mut records = Vec::with_capacity(ids.len());
    for (id,) in ids {
        let id: DocId = id.parse().map_err(|_| ApiError::Internal(format!("bad stored id {id}")))?;
        if let Some(document) = store::read(&mut tx, id, kind).await? {
            let mut record = serde_json::to_value(&document).map_err(|e| ApiError::Internal(e.to_string()))?;
            if let Document::Client(client) = &document {
                // The flag a dispatcher acts on: prepaid points running out.
                record["low_points_balance"] =
                    client.points_balance.is_some_and(|left| left < crate::reactions::LOW_BALANCE).into();
            }
            records.push(record);
        }
    }
    Ok(Json(records))
}

async fn write_new(
    state: &AppState,
    headers: &HeaderMap,
    document: Document,
) -> Result<Json<serde_json::Value>, ApiError> {
    super::desk_caller(state, headers, |role| role.is_desk()).await?;
    document.validate(&state.sync.fields).map_err(|e| ApiError::BadRequest(e.to_string()))?;
    let mut doc =
        new_document(&document, state.sync.desk_actor.clone()).map_err(|e| ApiError::Internal(e.to_string()))?;
    let mut tx = state.db.begin_write().await.map_err(|e| ApiError::Internal(e.to_string()))?;
    store::insert_new(&mut tx, &document, &mut doc, now()).await?;
    tx.commit().await.map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok(Json(serde_json::json!({ "id": document.id() })))
}

fn text(value: &str, field: &str, max: usize) -> Result<String, ApiError> {
    let value = value.trim();
    if value.is_empty() || value.len() > max {
        return Err(ApiError::BadRequest(format!("{field} must be 1 to {max} characters")));
    }
    Ok(value.to_owned())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewClient {
    name: String,
    contract: Option<String>,
    /// Round the clock; otherwise `weekly` windows count.
    #[serde(default)]
    always: bool,
    /// (weekday 1 = Monday … 7, opens, closes) in minutes after local midnight.
    #[serde(default)]
    weekly: Vec<(u64, u64, u64)>,
    /// `YYYY-MM-DD`
    #[serde(default)]
    holidays: Vec<String>,
    /// Hundredths of a point.
    points_balance: Option<u64>,
}

async fn add_client(
    State(state): State<AppState>,
    headers: HeaderMap,
    Body(new): Body<NewClient>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let name = text(&new.name, "name", 200)?;
    if new.weekly.iter().any(|(day, opens, closes)| !(1..=7).contains(day) || opens >= closes || *closes > 1440) {
        return Err(ApiError::BadRequest(
            "weekly windows are (weekday 1-7, opens, closes) with opens < closes <= 1440".into(),
        ));
    }
    if !new.always && new.weekly.is_empty() {
        return Err(ApiError::BadRequest("a contract is round the clock (always) or has weekly windows".into()));
    }
    for day in &new.holidays {
        chrono::NaiveDate::parse_from_str(day, "%Y-%m-%d")
            .map_err(|_| ApiError::BadRequest(format!("holiday {day:?} is not YYYY-MM-DD")))?;
    }
    let client = Client {
        id: DocId(new_id()),
        name,
        contract: new.contract,
        business_hours: BusinessHours {
            always: new.always,
            weekly: new
                .weekly
                .into_iter()
                .map(|(weekday, opens, closes)| WeeklyHours { weekday, opens, closes })
                .collect(),
            holidays: new.holidays.into_iter().map(|date| Holiday { date, name: String::new() }).collect(),
        },
        points_balance: new.points_balance.map(|hundredths| Points { hundredths }),
    };
    write_new(&state, &headers, Document::Client(client)).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewSite {
    client: DocId,
    name: String,
    address: String,
    region: String,
    time_zone: String,
    lat: Option<f64>,
    lon: Option<f64>,
}

async fn add_site(
    State(state): State<AppState>,
    headers: HeaderMap,
    Body(new): Body<NewSite>,
) -> Result<Json<serde_json::Value>, ApiError> {
    if new.time_zone.parse::<chrono_tz::Tz>().is_err() {
        return Err(ApiError::BadRequest(format!("unknown time zone {:?}", new.time_zone)));
    }
    let coordinates = match (new.lat, new.lon) {
        (Some(lat), Some(lon)) => Some(Coordinates { lat, lon }).filter(Coordinates::is_valid),
        (None, None) => None,
        _ => return Err(ApiError::BadRequest("give both lat and lon, or neither".into())),
    };
    if new.lat.is_some() && coordinates.is_none() {
        return Err(ApiError::BadRequest("lat and lon are not on Earth".into()));
    }
    let mut tx = state.db.pool.begin().await.map_err(|e| ApiError::Internal(e.to_string()))?;
    if store::load(&mut tx, new.client).await?.map(|d| d.kind) != Some(DocKind::Client) {
        return Err(ApiError::BadRequest(format!("no client {}", new.client)));
    }
    drop(tx);
    let site = Site {
        id: DocId(new_id()),
        client: new.client,
        name: text(&new.name, "name", 200)?,
        address: text(&new.address, "address", 500)?,
        region: text(&new.region, "region", 100)?,
        time_zone: new.time_zone,
        coordinates,
    };
    write_new(&state, &headers, Document::Site(site)).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewArticle {
    title: String,
    body: String,
    #[serde(default)]
    tags: Vec<String>,
    language: String,
}

async fn add_article(
    State(state): State<AppState>,
    headers: HeaderMap,
    Body(new): Body<NewArticle>,
) -> Result<Json<serde_json::Value>, ApiError> {
    if new.body.len() > 64 * 1024 || new.tags.len() > 50 {
        return Err(ApiError::BadRequest("an article body is at most 64 KiB and 50 tags".into()));
    }
    let article = KbArticle {
        id: DocId(new_id()),
        title: text(&new.title, "title", 300)?,
        body: autosurgeon::Text::with_value(new.body),
        tags: new.tags,
        language: text(&new.language, "language", 10)?,
        attributes: Default::default(),
    };
    write_new(&state, &headers, Document::KbArticle(article)).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewTemplate {
    name: String,
    /// (key, label)
    items: Vec<(String, String)>,
}

async fn add_template(
    State(state): State<AppState>,
    headers: HeaderMap,
    Body(new): Body<NewTemplate>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let mut keys = std::collections::BTreeSet::new();
    if new.items.is_empty()
        || new.items.len() > 200
        || !new.items.iter().all(|(key, _)| !key.is_empty() && keys.insert(key.clone()))
    {
        return Err(ApiError::BadRequest("a template has 1 to 200 items with distinct, non-empty keys".into()));
    }
    let template = ChecklistTemplate {
        id: DocId(new_id()),
        name: text(&new.name, "name", 200)?,
        items: new.items.into_iter().map(|(key, label)| ChecklistTemplateItem { key, label }).collect(),
    };
    write_new(&state, &headers, Document::ChecklistTemplate(template)).await
}
