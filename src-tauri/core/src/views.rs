//! What the screens and the CLI show: plain, serialisable records built
//! from documents and projections.

use outpost_sync::model::{Ticket, TicketStatus};
use outpost_sync::workflow::{fold_ticket, ticket_move_refusal};
use serde::Serialize;

use outpost_sync::model::Actor;

/// A row of the ticket list.
#[derive(ts_rs::TS, Clone, Debug, PartialEq, Serialize)]
#[ts(export)]
pub struct TicketRow {
    pub id: String,
    pub number: String,
    pub title: String,
    pub status: String,
    pub priority: String,
    pub client: Option<String>,
    pub site: Option<String>,
    pub address: String,
    /// The next deadline that counts (ms since the epoch, UTC); none once done.
    #[ts(type = "number | null")]
    pub due_at: Option<i64>,
    pub timer_running: bool,
    #[ts(type = "number")]
    pub conflicts: i64,
}

/// Everything about one ticket.
#[derive(ts_rs::TS, Clone, Debug, PartialEq, Serialize)]
#[ts(export)]
pub struct TicketDetail {
    pub id: String,
    pub number: String,
    pub title: String,
    pub description: String,
    pub status: String,
    pub priority: String,
    pub support_level: String,
    pub category: String,
    pub client: Reference,
    pub site: SiteView,
    pub contact: ContactView,
    pub equipment: Vec<EquipmentRow>,
    #[ts(type = "number | null")]
    pub reaction_due: Option<i64>,
    #[ts(type = "number | null")]
    pub resolution_due: Option<i64>,
    #[ts(type = "number | null")]
    pub due_at: Option<i64>,
    pub work_log: Vec<NoteView>,
    pub checklist: Vec<ChecklistItemView>,
    pub time_entries: Vec<TimeEntryView>,
    pub visits: Vec<VisitView>,
    pub attachments: Vec<AttachmentView>,
    pub signature: Option<SignatureView>,
    pub resolution_code: Option<String>,
    pub resolution_notes: String,
    pub escalations: Vec<EscalationView>,
    pub part_requests: Vec<PartRequestRow>,
    pub conflicts: Vec<String>,
    /// Status moves this engineer may make now, by status code.
    pub next_moves: Vec<String>,
}

#[derive(ts_rs::TS, Clone, Debug, PartialEq, Serialize)]
#[ts(export)]
pub struct Reference {
    pub id: String,
    /// `None` while the record has not reached this device.
    pub name: Option<String>,
}

#[derive(ts_rs::TS, Clone, Debug, PartialEq, Serialize)]
#[ts(export)]
pub struct SiteView {
    pub id: Option<String>,
    pub name: Option<String>,
    pub address: String,
    pub region: String,
    pub time_zone: String,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
}

#[derive(ts_rs::TS, Clone, Debug, PartialEq, Serialize)]
#[ts(export)]
pub struct ContactView {
    pub name: String,
    pub phone: String,
    pub email: String,
}

#[derive(ts_rs::TS, Clone, Debug, PartialEq, Serialize)]
#[ts(export)]
pub struct NoteView {
    pub id: String,
    #[ts(type = "number")]
    pub at: i64,
    pub by: String,
    pub text: String,
}

#[derive(ts_rs::TS, Clone, Debug, PartialEq, Serialize)]
#[ts(export)]
pub struct ChecklistItemView {
    pub key: String,
    pub label: String,
    pub done: bool,
    #[ts(type = "number | null")]
    pub at: Option<i64>,
}

#[derive(ts_rs::TS, Clone, Debug, PartialEq, Serialize)]
#[ts(export)]
pub struct TimeEntryView {
    pub id: String,
    pub kind: String,
    #[ts(type = "number")]
    pub start: i64,
    #[ts(type = "number | null")]
    pub end: Option<i64>,
    pub by: String,
}

#[derive(ts_rs::TS, Clone, Debug, PartialEq, Serialize)]
#[ts(export)]
pub struct VisitView {
    pub id: String,
    #[ts(type = "number")]
    pub arrived: i64,
    #[ts(type = "number | null")]
    pub left: Option<i64>,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
}

#[derive(ts_rs::TS, Clone, Debug, PartialEq, Serialize)]
#[ts(export)]
pub struct AttachmentView {
    pub id: String,
    pub hash: String,
    pub thumbnail: Option<String>,
    pub name: String,
    pub mime: String,
    #[ts(type = "number")]
    pub size: u64,
    #[ts(type = "number")]
    pub at: i64,
    /// Whether the bytes are on this device (a photo taken elsewhere is not, yet).
    pub local: bool,
}

#[derive(ts_rs::TS, Clone, Debug, PartialEq, Serialize)]
#[ts(export)]
pub struct SignatureView {
    pub signer: String,
    #[ts(type = "number")]
    pub at: i64,
    pub hash: String,
}

#[derive(ts_rs::TS, Clone, Debug, PartialEq, Serialize)]
#[ts(export)]
pub struct EscalationView {
    pub from: String,
    pub to: String,
    pub reason: String,
    #[ts(type = "number")]
    pub at: i64,
}

#[derive(ts_rs::TS, Clone, Debug, PartialEq, Serialize)]
#[ts(export)]
pub struct PartRequestRow {
    pub id: String,
    pub ticket_id: String,
    pub ticket_number: Option<String>,
    pub part_number: String,
    pub description: String,
    #[ts(type = "number")]
    pub quantity: i64,
    pub status: String,
    #[ts(type = "number")]
    pub requested_at: i64,
    pub tracking_number: Option<String>,
    pub installed_serial: Option<String>,
    pub removed_serial: Option<String>,
}

#[derive(ts_rs::TS, Clone, Debug, PartialEq, Serialize)]
#[ts(export)]
pub struct EquipmentRow {
    pub id: String,
    pub serial: Option<String>,
    pub model: Option<String>,
}

#[derive(ts_rs::TS, Clone, Debug, PartialEq, Serialize)]
#[ts(export)]
pub struct EquipmentDetail {
    pub id: String,
    pub serial: String,
    pub model: String,
    pub vendor: String,
    pub class: String,
    pub client: Reference,
    pub site: Option<Reference>,
    pub location_note: String,
    #[ts(type = "number | null")]
    pub covered_until: Option<i64>,
    pub notes: String,
    pub installed_parts: Vec<InstalledPartView>,
    /// Parts taken out of it (faulty ones replaced), newest first.
    pub replaced_parts: Vec<ReplacedPartView>,
    /// Tickets for this equipment, newest first: the desk's history and the tickets on this device.
    pub service_history: Vec<HistoryEntry>,
}

#[derive(ts_rs::TS, Clone, Debug, PartialEq, Serialize)]
#[ts(export)]
pub struct InstalledPartView {
    pub part_number: String,
    pub serial: String,
    #[ts(type = "number")]
    pub installed_at: i64,
}

#[derive(ts_rs::TS, Clone, Debug, PartialEq, Serialize)]
#[ts(export)]
pub struct ReplacedPartView {
    pub part_number: String,
    pub serial: String,
    #[ts(type = "number")]
    pub removed_at: i64,
}

#[derive(ts_rs::TS, Clone, Debug, PartialEq, Serialize)]
#[ts(export)]
pub struct HistoryEntry {
    pub ticket_id: String,
    pub number: Option<String>,
    pub title: Option<String>,
    pub status: Option<String>,
    #[ts(type = "number | null")]
    pub created_at: Option<i64>,
    #[ts(type = "number | null")]
    pub resolved_at: Option<i64>,
    pub resolution_code: Option<String>,
    /// When someone arrived on site for it.
    #[ts(type = "number[]")]
    pub visits: Vec<i64>,
}

#[derive(ts_rs::TS, Clone, Debug, PartialEq, Serialize)]
#[ts(export)]
pub struct ArticleRow {
    pub id: String,
    pub title: String,
    pub tags: String,
}

#[derive(ts_rs::TS, Clone, Debug, PartialEq, Serialize)]
#[ts(export)]
pub struct Article {
    pub id: String,
    pub title: String,
    pub body: String,
    pub tags: Vec<String>,
    pub language: String,
}

/// Something sync or the workflow resolved that a person should see.
#[derive(ts_rs::TS, Clone, Debug, PartialEq, Serialize)]
#[ts(export)]
pub struct Notice {
    pub doc_id: String,
    pub ticket_number: Option<String>,
    #[ts(type = "number")]
    pub at: i64,
    /// `refused_edit`, `refused_document`, `too_large`, `withdrawn` (a ticket
    /// handed to someone else left this device) or `workflow_conflict`.
    pub kind: String,
    pub field: Option<String>,
    pub explanation: String,
}

/// The status moves `actor` may make on `ticket` now, in workflow order.
pub(crate) fn next_moves(ticket: &Ticket, actor: &Actor) -> Vec<String> {
    let state = fold_ticket(ticket);
    TicketStatus::ALL
        .into_iter()
        .filter(|to| *to != state.status)
        .filter(|to| ticket_move_refusal(actor, state.status, state.assignee.as_ref(), *to, None).is_none())
        .map(|to| to.code().to_owned())
        .collect()
}

/// Whether this device holds what the visits ahead need, before the
/// engineer leaves for a site with no signal.
#[derive(ts_rs::TS, Clone, Debug, PartialEq, Serialize)]
#[ts(export)]
pub struct Readiness {
    /// Every ticket has what it needs and the last full sync is recent.
    pub ready: bool,
    pub tickets: Vec<TicketReadiness>,
    /// When a sync last ended with nothing more waiting at the desk.
    #[ts(type = "number | null")]
    pub last_full_sync_at: Option<i64>,
    /// That sync is older than `max_age_hours`, or there was none.
    pub stale: bool,
    #[ts(type = "number")]
    pub max_age_hours: i64,
}

/// One open ticket: what its visit needs that is not on this device.
#[derive(ts_rs::TS, Clone, Debug, PartialEq, Serialize)]
#[ts(export)]
pub struct TicketReadiness {
    pub id: String,
    pub number: String,
    pub title: String,
    pub missing: Vec<MissingRecord>,
    /// Knowledge-base articles here for the ticket's product team or its equipment's models.
    #[ts(type = "number")]
    pub kb_articles: i64,
}

#[derive(ts_rs::TS, Clone, Debug, PartialEq, Serialize)]
#[ts(export)]
pub struct MissingRecord {
    pub what: Needed,
    /// The record's id (a photo's content hash for a thumbnail); none when the ticket names nothing.
    pub id: Option<String>,
    pub reason: MissingReason,
}

/// A record a visit needs.
#[derive(ts_rs::TS, Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[ts(export)]
#[serde(rename_all = "snake_case")]
pub enum Needed {
    Client,
    Site,
    Contact,
    Equipment,
    ChecklistTemplate,
    PartRequest,
    Thumbnail,
}

#[derive(ts_rs::TS, Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[ts(export)]
#[serde(rename_all = "snake_case")]
pub enum MissingReason {
    /// The ticket names it but no sync has brought it (a fetch asks the desk for it).
    NotSynced,
    /// The photo's preview is at the desk only (a fetch downloads it).
    NotDownloaded,
    /// The ticket itself lacks it; the dispatcher must add it.
    NotOnTicket,
}

impl Needed {
    /// In words, for people.
    pub fn describe(self) -> &'static str {
        match self {
            Self::Client => "client",
            Self::Site => "site",
            Self::Contact => "contact",
            Self::Equipment => "equipment",
            Self::ChecklistTemplate => "checklist template",
            Self::PartRequest => "part request",
            Self::Thumbnail => "photo preview",
        }
    }
}

impl MissingReason {
    /// In words, for people.
    pub fn describe(self) -> &'static str {
        match self {
            Self::NotSynced => "not on this device yet: fetch it",
            Self::NotDownloaded => "not downloaded: fetch it",
            Self::NotOnTicket => "the ticket names none: ask the dispatcher",
        }
    }
}
