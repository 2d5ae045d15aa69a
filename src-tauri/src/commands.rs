//! The commands the window calls: one or two lines each over the core.

use outpost_core::outpost_report::ServiceReport;
use outpost_core::work::{PartAction, TicketAction};
use outpost_core::{
    report_lang, Article, ArticleRow, AttachedPhoto, AttachedReport, CoreError, DeviceStatus, EquipmentDetail,
    EquipmentRow, ErrorKind, NewTicketInput, Notice, PairingInfo, PartRequestRow, Readiness, ReadyScope, TicketDetail,
    TicketFilter, TicketRow,
};
use serde::Serialize;
use tauri::ipc::{InvokeBody, Request, Response};
use tauri::State;

use crate::AppState;

/// The one error the UI switches on: `{ "type": "refused", "message": "…" }`.
#[derive(Debug, Serialize)]
pub(crate) struct UiError {
    #[serde(rename = "type")]
    kind: ErrorKind,
    message: String,
}

impl From<CoreError> for UiError {
    fn from(err: CoreError) -> Self {
        Self { kind: err.kind(), message: err.to_string() }
    }
}

type Reply<T> = Result<T, UiError>;

pub(crate) fn handler<R: tauri::Runtime>() -> impl Fn(tauri::ipc::Invoke<R>) -> bool + Send + Sync + 'static {
    tauri::generate_handler![
        pairing,
        pair,
        sign_out,
        status,
        tickets,
        ticket,
        act,
        act_on_part_request,
        request_part,
        create_ticket,
        attach_photo,
        sign,
        blob,
        my_part_requests,
        equipment_by_serial,
        search_equipment,
        equipment,
        articles,
        article,
        notices,
        readiness,
        fetch_missing,
        report_preview,
        attach_report,
        sync_now,
        network_up,
    ]
}

#[tauri::command]
async fn pairing(state: State<'_, AppState>) -> Reply<Option<PairingInfo>> {
    Ok(state.device.pairing_info().await?)
}

#[tauri::command]
async fn pair(state: State<'_, AppState>, desk_url: String, code: String, device_name: String) -> Reply<PairingInfo> {
    let paired = state.device.pair(&desk_url, &code, &device_name).await?;
    state.sync.sync_now();
    Ok(paired)
}

#[tauri::command]
async fn sign_out(state: State<'_, AppState>, discard_unsynced: bool) -> Reply<()> {
    Ok(state.device.sign_out(discard_unsynced).await?)
}

#[tauri::command]
async fn status(state: State<'_, AppState>) -> Reply<DeviceStatus> {
    Ok(state.device.status().await?)
}

#[tauri::command]
async fn tickets(state: State<'_, AppState>, filter: TicketFilter) -> Reply<Vec<TicketRow>> {
    Ok(state.device.tickets(&filter).await?)
}

#[tauri::command]
async fn ticket(state: State<'_, AppState>, id: String) -> Reply<TicketDetail> {
    Ok(state.device.ticket(&id).await?)
}

#[tauri::command]
async fn act(state: State<'_, AppState>, id: String, action: TicketAction) -> Reply<()> {
    Ok(state.device.act(&id, action).await?)
}

#[tauri::command]
async fn act_on_part_request(state: State<'_, AppState>, id: String, action: PartAction) -> Reply<()> {
    Ok(state.device.act_on_part_request(&id, action).await?)
}

#[tauri::command]
async fn request_part(
    state: State<'_, AppState>,
    ticket: String,
    part_number: String,
    description: String,
    quantity: u64,
) -> Reply<String> {
    Ok(state.device.request_part(&ticket, &part_number, &description, quantity).await?)
}

#[tauri::command]
async fn create_ticket(state: State<'_, AppState>, ticket: NewTicketInput) -> Reply<(String, String)> {
    Ok(state.device.create_ticket(ticket).await?)
}

fn header<'a>(request: &'a Request<'_>, name: &str) -> Result<&'a str, UiError> {
    request
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| CoreError::Invalid(format!("the {name} header is missing")).into())
}

fn raw_body<'a>(request: &'a Request<'_>) -> Result<&'a [u8], UiError> {
    match request.body() {
        InvokeBody::Raw(bytes) => Ok(bytes),
        InvokeBody::Json(_) => Err(CoreError::Invalid("send the file's bytes as the raw body".into()).into()),
    }
}

/// The photo's bytes come as the raw body; the ticket and file name (URI-encoded) as headers.
#[tauri::command]
async fn attach_photo(state: State<'_, AppState>, request: Request<'_>) -> Reply<AttachedPhoto> {
    let ticket = header(&request, "x-ticket")?;
    let name = decode_uri_component(header(&request, "x-name")?)?;
    let keep_location = header(&request, "x-keep-location").is_ok_and(|v| v == "true");
    Ok(state.device.attach_photo(ticket, raw_body(&request)?, &name, keep_location).await?)
}

/// The signature PNG comes as the raw body; the ticket and signer as headers (signer URI-encoded).
#[tauri::command]
async fn sign(state: State<'_, AppState>, request: Request<'_>) -> Reply<String> {
    let ticket = header(&request, "x-ticket")?;
    let signer = decode_uri_component(header(&request, "x-signer")?)?;
    Ok(state.device.sign(ticket, raw_body(&request)?, &signer).await?)
}

#[tauri::command]
async fn blob(state: State<'_, AppState>, hash: String) -> Reply<Response> {
    Ok(Response::new(state.device.blob(&hash).await?))
}

#[tauri::command]
async fn my_part_requests(state: State<'_, AppState>) -> Reply<Vec<PartRequestRow>> {
    Ok(state.device.my_part_requests().await?)
}

#[tauri::command]
async fn equipment_by_serial(state: State<'_, AppState>, serial: String) -> Reply<Vec<EquipmentRow>> {
    Ok(state.device.equipment_by_serial(&serial).await?)
}

#[tauri::command]
async fn search_equipment(state: State<'_, AppState>, text: String) -> Reply<Vec<EquipmentRow>> {
    Ok(state.device.search_equipment(&text).await?)
}

#[tauri::command]
async fn equipment(state: State<'_, AppState>, id: String) -> Reply<EquipmentDetail> {
    Ok(state.device.equipment(&id).await?)
}

#[tauri::command]
async fn articles(state: State<'_, AppState>, search: String) -> Reply<Vec<ArticleRow>> {
    Ok(state.device.articles(&search).await?)
}

#[tauri::command]
async fn article(state: State<'_, AppState>, id: String) -> Reply<Article> {
    Ok(state.device.article(&id).await?)
}

#[tauri::command]
async fn notices(state: State<'_, AppState>) -> Reply<Vec<Notice>> {
    Ok(state.device.notices().await?)
}

/// Whether the open tickets' visits have what they need here; `day`
/// ([start, end) of the window's today, ms) narrows to today's.
#[tauri::command]
async fn readiness(state: State<'_, AppState>, day: Option<(i64, i64)>) -> Reply<Readiness> {
    Ok(state.device.readiness(ReadyScope { day, max_age_hours: None }).await?)
}

/// Fetches what the readiness check finds missing, then checks again.
#[tauri::command]
async fn fetch_missing(state: State<'_, AppState>, day: Option<(i64, i64)>) -> Reply<Readiness> {
    Ok(state.device.fetch_missing(ReadyScope { day, max_age_hours: None }).await?)
}

/// What the ticket's service report shows now, to show the customer before they sign
/// (`lang`: none for the client's language).
#[tauri::command]
async fn report_preview(state: State<'_, AppState>, ticket: String, lang: Option<String>) -> Reply<ServiceReport> {
    let lang = lang.as_deref().map(report_lang).transpose()?;
    Ok(state.device.report_data(&ticket, lang).await?)
}

/// Makes the signed ticket's report and attaches it, with its data, to go to the desk.
#[tauri::command]
async fn attach_report(state: State<'_, AppState>, ticket: String, lang: Option<String>) -> Reply<AttachedReport> {
    let lang = lang.as_deref().map(report_lang).transpose()?;
    Ok(state.device.attach_service_report(&ticket, lang).await?.0)
}

/// Asks the background loop to sync now; progress arrives as events.
#[tauri::command]
fn sync_now(state: State<'_, AppState>) {
    state.sync.sync_now();
}

/// The window saw the network come back.
#[tauri::command]
fn network_up(state: State<'_, AppState>) {
    state.sync.network_up();
}

/// `%XX` escapes back to UTF-8 (header values are ASCII; names are not).
fn decode_uri_component(text: &str) -> Result<String, UiError> {
    let bad = || UiError::from(CoreError::Invalid("a header is not valid URI encoding".into()));
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = text.get(i + 1..i + 3).ok_or_else(bad)?;
            out.push(u8::from_str_radix(hex, 16).map_err(|_| bad())?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| bad())
}

#[cfg(test)]
mod tests {
    use super::decode_uri_component;

    #[test]
    fn signer_names_come_back_from_uri_encoding() {
        assert_eq!(decode_uri_component("%D0%90%D0%BD%D0%BD%D0%B0%20P.").unwrap(), "Анна P.");
        for bad in ["%", "%G1", "%FF"] {
            assert!(decode_uri_component(bad).is_err(), "{bad:?}");
        }
    }
}
