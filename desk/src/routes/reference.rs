//! Reference data the desk writes and devices only read: clients (with their
//! contract hours and points), sites, knowledge-base articles, checklist
//! templates.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::Json;
use outpost_sync::ids::DocId;
use outpost_sync::model::{
    new_document, BusinessHours, ChecklistTemplate, ChecklistTemplateItem, Client, Coordinates, DocKind, Document,
    Holiday, KbArticle, Points, Site, WeeklyHours,
};
use serde::{Deserialize, Serialize};
use utoipa::openapi::schema::{Array, ArrayBuilder, ArrayItems, KnownFormat, ObjectBuilder, SchemaFormat, Type};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::input::{Body, Params};
use super::Written;
use crate::accounts::new_id;
use crate::error::ApiError;
use crate::store;
use crate::{now, AppState};

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_clients, add_client))
        .routes(routes!(list_sites, add_site))
        .routes(routes!(list_articles, add_article))
        .routes(routes!(list_templates, add_template))
        .routes(routes!(update_client))
        .routes(routes!(update_article))
}

/// Changes a reference record through `change`, as the desk.
async fn write_change(
    state: &AppState,
    headers: &HeaderMap,
    id: &str,
    change: impl FnOnce(&mut Document) -> Result<(), ApiError>,
) -> Result<Json<Written>, ApiError> {
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
    Ok(Json(Written { id }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct ClientUpdate {
    #[schema(min_length = 1, max_length = 200)]
    name: Option<String>,
    contract: Option<String>,
    /// Hundredths of a point: the balance after a top-up or a correction.
    points_balance: Option<u64>,
    /// The language of the client's papers (the service report): `ru` or `en`.
    language: Option<String>,
}

/// Changes a client's name, contract or points balance (admin, dispatcher).
#[utoipa::path(patch, path = "/v1/clients/{id}", tag = "reference",
    params(("id" = DocId, Path, description = "The client's id.")),
    request_body = ClientUpdate, responses((status = 200, body = Written)))]
async fn update_client(
    State(state): State<AppState>,
    headers: HeaderMap,
    axum::extract::Path(id): axum::extract::Path<String>,
    Body(update): Body<ClientUpdate>,
) -> Result<Json<Written>, ApiError> {
    let name = update.name.as_deref().map(|n| text(n, "name", 200)).transpose()?;
    let language = update.language.as_deref().map(language).transpose()?;
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
        if let Some(language) = language {
            client.language = Some(language);
        }
        Ok(())
    })
    .await
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct ArticleUpdate {
    #[schema(min_length = 1, max_length = 300)]
    title: Option<String>,
    /// The whole new text, merged as an edit; at most 64 KiB.
    #[schema(max_length = 65536)]
    body: Option<String>,
    tags: Option<Vec<String>>,
}

/// Changes an article's title, body or tags (admin, dispatcher).
#[utoipa::path(patch, path = "/v1/kb-articles/{id}", tag = "reference",
    params(("id" = DocId, Path, description = "The article's id.")),
    request_body = ArticleUpdate, responses((status = 200, body = Written)))]
async fn update_article(
    State(state): State<AppState>,
    headers: HeaderMap,
    axum::extract::Path(id): axum::extract::Path<String>,
    Body(update): Body<ArticleUpdate>,
) -> Result<Json<Written>, ApiError> {
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

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    /// At most this many; 500 if not given.
    #[param(minimum = 1, maximum = 5000)]
    limit: Option<u32>,
}

/// Every record of a kind, as its document reads, in id order (the desk's
/// people); `typed` picks the kind's record out of each document.
async fn list<T>(
    state: &AppState,
    headers: &HeaderMap,
    query: ListQuery,
    kind: DocKind,
    typed: fn(Document) -> Option<T>,
) -> Result<Json<Vec<T>>, ApiError> {
    super::desk_caller(state, headers, |role| role.reads_everything()).await?;
    let limit = super::input::page_size(query.limit, 500, 5_000)?;
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
        if let Some(record) = store::read(&mut tx, id, kind).await?.and_then(typed) {
            records.push(record);
        }
    }
    Ok(Json(records))
}

/// A client, with the flag a dispatcher acts on: prepaid points running out.
#[derive(Serialize, ToSchema)]
struct ClientRecord {
    #[serde(flatten)]
    client: Client,
    low_points_balance: bool,
}

/// Clients with their contract hours and points balance.
#[utoipa::path(get, path = "/v1/clients", tag = "reference", params(ListQuery),
    responses((status = 200, body = Vec<ClientRecord>)))]
async fn list_clients(
    State(state): State<AppState>,
    headers: HeaderMap,
    Params(query): Params<ListQuery>,
) -> Result<Json<Vec<ClientRecord>>, ApiError> {
    list(&state, &headers, query, DocKind::Client, |document| match document {
        Document::Client(client) => Some(ClientRecord {
            low_points_balance: client.points_balance.is_some_and(|left| left < crate::reactions::LOW_BALANCE),
            client,
        }),
        _ => None,
    })
    .await
}

/// Clients' sites: address, region, time zone, coordinates.
#[utoipa::path(get, path = "/v1/sites", tag = "reference", params(ListQuery),
    responses((status = 200, body = Vec<Site>)))]
async fn list_sites(
    State(state): State<AppState>,
    headers: HeaderMap,
    Params(query): Params<ListQuery>,
) -> Result<Json<Vec<Site>>, ApiError> {
    list(&state, &headers, query, DocKind::Site, |document| match document {
        Document::Site(site) => Some(site),
        _ => None,
    })
    .await
}

/// Knowledge-base articles, which devices keep for offline reading.
#[utoipa::path(get, path = "/v1/kb-articles", tag = "reference", params(ListQuery),
    responses((status = 200, body = Vec<KbArticle>)))]
async fn list_articles(
    State(state): State<AppState>,
    headers: HeaderMap,
    Params(query): Params<ListQuery>,
) -> Result<Json<Vec<KbArticle>>, ApiError> {
    list(&state, &headers, query, DocKind::KbArticle, |document| match document {
        Document::KbArticle(article) => Some(article),
        _ => None,
    })
    .await
}

/// Checklist templates tickets name.
#[utoipa::path(get, path = "/v1/checklist-templates", tag = "reference", params(ListQuery),
    responses((status = 200, body = Vec<ChecklistTemplate>)))]
async fn list_templates(
    State(state): State<AppState>,
    headers: HeaderMap,
    Params(query): Params<ListQuery>,
) -> Result<Json<Vec<ChecklistTemplate>>, ApiError> {
    list(&state, &headers, query, DocKind::ChecklistTemplate, |document| match document {
        Document::ChecklistTemplate(template) => Some(template),
        _ => None,
    })
    .await
}

async fn write_new(state: &AppState, headers: &HeaderMap, document: Document) -> Result<Json<Written>, ApiError> {
    super::desk_caller(state, headers, |role| role.is_desk()).await?;
    document.validate(&state.sync.fields).map_err(|e| ApiError::BadRequest(e.to_string()))?;
    let mut doc =
        new_document(&document, state.sync.desk_actor.clone()).map_err(|e| ApiError::Internal(e.to_string()))?;
    let mut tx = state.db.begin_write().await.map_err(|e| ApiError::Internal(e.to_string()))?;
    store::insert_new(&mut tx, &document, &mut doc, now()).await?;
    tx.commit().await.map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok(Json(Written { id: document.id() }))
}

/// `[[weekday 1 (Monday) … 7, opens, closes], …]`, minutes after local midnight.
fn weekly_windows() -> Array {
    let whole = |min: i64, max: i64| {
        ObjectBuilder::new().schema_type(Type::Integer).minimum(Some(min)).maximum(Some(max)).build()
    };
    let window = ArrayBuilder::new()
        .prefix_items([whole(1, 7), whole(0, 1439), whole(1, 1440)])
        .items(ArrayItems::False)
        .min_items(Some(3))
        .max_items(Some(3))
        .description(Some("[weekday 1 (Monday) … 7, opens, closes], minutes after local midnight; opens < closes"));
    ArrayBuilder::new().items(window).build()
}

/// Days as `YYYY-MM-DD`.
fn dates() -> Array {
    let day = ObjectBuilder::new().schema_type(Type::String).format(Some(SchemaFormat::KnownFormat(KnownFormat::Date)));
    ArrayBuilder::new().items(day).build()
}

/// `[[key, label], …]`: 1 to 200 items, keys distinct and not empty.
fn template_items() -> Array {
    let text = |min: usize| ObjectBuilder::new().schema_type(Type::String).min_length(Some(min)).build();
    let item = ArrayBuilder::new()
        .prefix_items([text(1), text(0)])
        .items(ArrayItems::False)
        .min_items(Some(2))
        .max_items(Some(2));
    ArrayBuilder::new().items(item).min_items(Some(1)).max_items(Some(200)).build()
}

fn text(value: &str, field: &str, max: usize) -> Result<String, ApiError> {
    let value = value.trim();
    if value.is_empty() || value.len() > max {
        return Err(ApiError::BadRequest(format!("{field} must be 1 to {max} characters")));
    }
    Ok(value.to_owned())
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct NewClient {
    #[schema(min_length = 1, max_length = 200)]
    name: String,
    contract: Option<String>,
    /// Round the clock; otherwise `weekly` windows count.
    #[serde(default)]
    always: bool,
    /// (weekday 1 = Monday … 7, opens, closes) in minutes after local midnight.
    #[serde(default)]
    #[schema(schema_with = weekly_windows)]
    weekly: Vec<(u64, u64, u64)>,
    #[serde(default)]
    #[schema(schema_with = dates)]
    holidays: Vec<String>,
    /// Hundredths of a point.
    points_balance: Option<u64>,
    /// The language of the client's papers (the service report): `ru` or `en`.
    language: Option<String>,
}

/// Adds a client with its contract hours (round the clock, or weekly
/// windows and holidays) and prepaid points (admin, dispatcher).
#[utoipa::path(post, path = "/v1/clients", tag = "reference", request_body = NewClient,
    responses((status = 200, body = Written)))]
async fn add_client(
    State(state): State<AppState>,
    headers: HeaderMap,
    Body(new): Body<NewClient>,
) -> Result<Json<Written>, ApiError> {
    let name = text(&new.name, "name", 200)?;
    let language = new.language.as_deref().map(language).transpose()?;
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
        language,
    };
    write_new(&state, &headers, Document::Client(client)).await
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct NewSite {
    client: DocId,
    #[schema(min_length = 1, max_length = 200)]
    name: String,
    #[schema(min_length = 1, max_length = 500)]
    address: String,
    #[schema(min_length = 1, max_length = 100)]
    region: String,
    /// An IANA zone, e.g. Europe/Moscow.
    #[schema(min_length = 1)]
    time_zone: String,
    /// Both or neither.
    #[schema(minimum = -90, maximum = 90)]
    lat: Option<f64>,
    #[schema(minimum = -180, maximum = 180)]
    lon: Option<f64>,
}

/// Adds a site of a client, in its time zone (admin, dispatcher).
#[utoipa::path(post, path = "/v1/sites", tag = "reference", request_body = NewSite,
    responses((status = 200, body = Written)))]
async fn add_site(
    State(state): State<AppState>,
    headers: HeaderMap,
    Body(new): Body<NewSite>,
) -> Result<Json<Written>, ApiError> {
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

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct NewArticle {
    #[schema(min_length = 1, max_length = 300)]
    title: String,
    #[schema(max_length = 65536)]
    body: String,
    #[serde(default)]
    #[schema(max_items = 50)]
    tags: Vec<String>,
    /// e.g. ru or en.
    #[schema(min_length = 1, max_length = 10)]
    language: String,
}

/// Adds a knowledge-base article; devices receive it for offline reading
/// (admin, dispatcher).
#[utoipa::path(post, path = "/v1/kb-articles", tag = "reference", request_body = NewArticle,
    responses((status = 200, body = Written)))]
async fn add_article(
    State(state): State<AppState>,
    headers: HeaderMap,
    Body(new): Body<NewArticle>,
) -> Result<Json<Written>, ApiError> {
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

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct NewTemplate {
    #[schema(min_length = 1, max_length = 200)]
    name: String,
    /// (key, label); keys distinct.
    #[schema(schema_with = template_items)]
    items: Vec<(String, String)>,
}

/// Adds a checklist template (admin, dispatcher).
#[utoipa::path(post, path = "/v1/checklist-templates", tag = "reference", request_body = NewTemplate,
    responses((status = 200, body = Written)))]
async fn add_template(
    State(state): State<AppState>,
    headers: HeaderMap,
    Body(new): Body<NewTemplate>,
) -> Result<Json<Written>, ApiError> {
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

/// A language of a client's papers, one spelling with the report's.
fn language(code: &str) -> Result<String, ApiError> {
    outpost_report::Lang::parse(code)
        .map(|lang| lang.code().to_owned())
        .ok_or_else(|| ApiError::BadRequest(format!("language {code:?} is not ru or en")))
}
