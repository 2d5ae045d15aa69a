//! The ticket: a piece of work at a customer site, and everything done for it.

use std::collections::BTreeMap;

use autosurgeon::{Hydrate, Reconcile, Text};
use serde::{Deserialize, Serialize};

use super::common::{Actor, Coordinates};
use super::SchemaError;
use crate::ids::{ContentHash, DocId, EntryId, OrgId, Timestamp, UserId};
use crate::limits::FieldLimits;

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Reconcile, Hydrate, Serialize)]
pub struct Ticket {
    pub id: DocId,
    pub created_by: Actor,
    pub created_at: Timestamp,
    /// Human-facing number, e.g. `T-2026-001234`.
    pub number: String,
    pub title: String,
    #[serde(serialize_with = "super::text_as_str")]
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub description: Text,
    pub client: DocId,
    pub contact: Contact,
    pub site: SiteRef,
    pub equipment: Vec<DocId>,
    pub category: String,
    pub priority: Priority,
    pub support_level: SupportLevel,
    pub product_team: String,
    pub sla: Sla,
    pub entitlement: Entitlement,
    pub billing: Billing,
    /// Status and assignment are folded from this log; see [`crate::workflow`].
    pub transitions: Vec<Transition>,
    pub work_log: Vec<WorkLogEntry>,
    pub time_entries: Vec<TimeEntry>,
    pub visits: Vec<Visit>,
    pub checklist_template: Option<DocId>,
    pub checklist: BTreeMap<String, ChecklistItemState>,
    pub attachments: Vec<Attachment>,
    pub signature: Option<Signature>,
    pub resolution: Resolution,
    pub escalations: Vec<Escalation>,
    pub part_requests: Vec<DocId>,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Default, PartialEq, Reconcile, Hydrate, Serialize)]
pub struct Contact {
    pub name: String,
    pub phone: String,
    pub email: String,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Default, PartialEq, Reconcile, Hydrate, Serialize)]
pub struct SiteRef {
    pub site: Option<DocId>,
    pub address: String,
    pub region: String,
    /// IANA time zone of the site, e.g. `Europe/Moscow`.
    pub time_zone: String,
    pub coordinates: Option<Coordinates>,
}

// In JSON each enum here has one spelling, its `code`; the aliases read
// the variant names used before.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Reconcile, Hydrate)]
#[serde(rename_all = "snake_case")]
pub enum Priority {
    #[serde(alias = "P1")]
    P1,
    #[serde(alias = "P2")]
    P2,
    #[serde(alias = "P3")]
    P3,
    #[serde(alias = "P4")]
    P4,
}
super::spelled!(Priority { P1 => "p1", P2 => "p2", P3 => "p3", P4 => "p4" });

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Reconcile, Hydrate)]
#[serde(rename_all = "snake_case")]
pub enum SupportLevel {
    /// On-site field engineers.
    #[serde(alias = "L1Field")]
    L1Field,
    /// Remote support.
    #[serde(alias = "L2Remote")]
    L2Remote,
    /// Product experts.
    #[serde(alias = "L3Expert")]
    L3Expert,
}
super::spelled!(SupportLevel { L1Field => "l1_field", L2Remote => "l2_remote", L3Expert => "l3_expert" });

/// Deadlines and the moments that count against them; the desk's clock.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Default, PartialEq, Reconcile, Hydrate, Serialize)]
pub struct Sla {
    pub reaction_due: Option<Timestamp>,
    pub resolution_due: Option<Timestamp>,
    pub first_response_at: Option<Timestamp>,
    pub resolved_at: Option<Timestamp>,
    /// Deadlines the desk replaced (a new priority, a changed date), oldest
    /// first. Added after the first release: documents written before lack it.
    #[autosurgeon(missing = "Default::default")]
    pub history: Vec<DeadlineChange>,
}

/// Deadlines as they were until the desk changed them, and why.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Reconcile, Hydrate, Serialize)]
pub struct DeadlineChange {
    #[key]
    pub id: EntryId,
    pub at: Timestamp,
    pub by: Actor,
    pub priority: Priority,
    pub reaction_due: Option<Timestamp>,
    pub resolution_due: Option<Timestamp>,
    pub reason: String,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Reconcile, Hydrate)]
#[serde(rename_all = "snake_case")]
pub enum EntitlementKind {
    /// The client's service contract covers the work.
    #[serde(alias = "Contract")]
    Contract,
    /// The equipment's warranty covers it (`Equipment::covered_until`).
    Warranty,
    /// The client's prepaid points pay for it.
    Prepaid,
    /// Nothing covers it: paid per call, worked once a person marks it paid.
    #[serde(alias = "PerCall")]
    PerCall,
}
super::spelled!(EntitlementKind { Contract => "contract", Warranty => "warranty", Prepaid => "prepaid", PerCall => "per_call" });

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Reconcile, Hydrate, Serialize)]
pub struct Entitlement {
    pub kind: EntitlementKind,
    pub contract: Option<String>,
    pub paid: bool,
}

impl Entitlement {
    /// Whether the work is covered, decided when the ticket is opened: the
    /// client's contract first, then a warranty on any of the equipment
    /// still running at `now`, then prepaid points; else per call.
    pub fn decide(client: &super::Client, equipment: &[super::Equipment], now: Timestamp) -> Self {
        let kind = if client.contract.is_some() {
            EntitlementKind::Contract
        } else if equipment.iter().any(|e| e.covered_until.is_some_and(|until| until >= now)) {
            EntitlementKind::Warranty
        } else if client.points_balance.is_some() {
            EntitlementKind::Prepaid
        } else {
            EntitlementKind::PerCall
        };
        Self { kind, contract: client.contract.clone(), paid: false }
    }

    /// Whether engineering may start: covered, or a per-call ticket marked paid.
    pub fn is_cleared(&self) -> bool {
        self.kind != EntitlementKind::PerCall || self.paid
    }

    /// Whether resolving chargeable work takes the client's prepaid points:
    /// under a contract or prepaid, never under warranty or per call.
    pub fn charges_points(&self) -> bool {
        matches!(self.kind, EntitlementKind::Contract | EntitlementKind::Prepaid)
    }
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Reconcile, Hydrate)]
#[serde(rename_all = "snake_case")]
pub enum BillingClass {
    #[serde(alias = "Incident")]
    Incident,
    #[serde(alias = "UserCausedIncident")]
    UserCausedIncident,
    #[serde(alias = "ServiceRequest")]
    ServiceRequest,
}
super::spelled!(BillingClass {
    Incident => "incident",
    UserCausedIncident => "user_caused_incident",
    ServiceRequest => "service_request",
});

/// Prepaid points in hundredths (1 point = 1 person-hour = 100).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, Reconcile, Hydrate)]
pub struct Points {
    pub hundredths: u64,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Reconcile, Hydrate, Serialize)]
pub struct Billing {
    pub class: BillingClass,
    pub points_estimate: Option<Points>,
    pub estimate_accepted: bool,
    pub points_charged: Option<Points>,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Reconcile, Hydrate)]
#[serde(rename_all = "snake_case")]
pub enum TicketStatus {
    #[serde(alias = "New")]
    New,
    #[serde(alias = "Assigned")]
    Assigned,
    #[serde(alias = "Accepted")]
    Accepted,
    #[serde(alias = "EnRoute")]
    EnRoute,
    #[serde(alias = "OnSite")]
    OnSite,
    #[serde(alias = "WaitingParts")]
    WaitingParts,
    #[serde(alias = "Resolved")]
    Resolved,
    #[serde(alias = "Closed")]
    Closed,
    #[serde(alias = "Cancelled")]
    Cancelled,
}

impl TicketStatus {
    pub fn is_terminal(self) -> bool {
        matches!(self, Self::Closed | Self::Cancelled)
    }

    pub const ALL: [Self; 9] = [
        Self::New,
        Self::Assigned,
        Self::Accepted,
        Self::EnRoute,
        Self::OnSite,
        Self::WaitingParts,
        Self::Resolved,
        Self::Closed,
        Self::Cancelled,
    ];

    /// The stable name used in APIs, tables and filters, e.g. `en_route`.
    pub fn code(self) -> &'static str {
        match self {
            Self::New => "new",
            Self::Assigned => "assigned",
            Self::Accepted => "accepted",
            Self::EnRoute => "en_route",
            Self::OnSite => "on_site",
            Self::WaitingParts => "waiting_parts",
            Self::Resolved => "resolved",
            Self::Closed => "closed",
            Self::Cancelled => "cancelled",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.code() == code)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::New => "new",
            Self::Assigned => "assigned",
            Self::Accepted => "accepted",
            Self::EnRoute => "en route",
            Self::OnSite => "on site",
            Self::WaitingParts => "waiting for parts",
            Self::Resolved => "resolved",
            Self::Closed => "closed",
            Self::Cancelled => "cancelled",
        }
    }
}

/// Who a ticket is assigned to: a staff engineer, a partner company, or a
/// partner company's named engineer.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, Reconcile, Hydrate)]
pub struct Assignee {
    pub engineer: Option<UserId>,
    pub partner_org: Option<OrgId>,
}

/// One step of the ticket's workflow as its author saw it.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Reconcile, Hydrate, Serialize)]
pub struct Transition {
    #[key]
    pub id: EntryId,
    /// The status the author saw when they made this move.
    pub from: TicketStatus,
    pub to: TicketStatus,
    pub at: Timestamp,
    pub by: Actor,
    /// Set on moves to `Assigned`: who gets the ticket.
    pub assignee: Option<Assignee>,
    pub reason: Option<String>,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Reconcile, Hydrate, Serialize)]
pub struct WorkLogEntry {
    #[key]
    pub id: EntryId,
    pub at: Timestamp,
    pub by: Actor,
    pub text: String,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Reconcile, Hydrate)]
#[serde(rename_all = "snake_case")]
pub enum TimeKind {
    #[serde(alias = "Travel")]
    Travel,
    #[serde(alias = "Work")]
    Work,
}

/// A running or finished stretch of travel or work; `end` is set once, later.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Reconcile, Hydrate, Serialize)]
pub struct TimeEntry {
    #[key]
    pub id: EntryId,
    pub kind: TimeKind,
    pub start: Timestamp,
    pub end: Option<Timestamp>,
    pub by: Actor,
}

/// An engineer's presence at the site; `left` is set once, later.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Reconcile, Hydrate, Serialize)]
pub struct Visit {
    #[key]
    pub id: EntryId,
    pub arrived: Timestamp,
    pub left: Option<Timestamp>,
    pub coordinates: Option<Coordinates>,
    pub by: Actor,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Reconcile, Hydrate, Serialize)]
pub struct ChecklistItemState {
    pub done: bool,
    pub by: Actor,
    pub at: Timestamp,
}

/// A photo or file; the bytes travel separately, addressed by their hash.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Reconcile, Hydrate, Serialize)]
pub struct Attachment {
    #[key]
    pub id: EntryId,
    pub hash: ContentHash,
    /// A small preview (photos), uploaded before the full image. Added
    /// after the first release: documents written before lack it.
    #[autosurgeon(missing = "Default::default")]
    pub thumbnail: Option<ContentHash>,
    pub name: String,
    pub mime: String,
    pub size: u64,
    pub at: Timestamp,
    pub by: Actor,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Reconcile, Hydrate, Serialize)]
pub struct Signature {
    pub signer_name: String,
    pub at: Timestamp,
    /// The PNG of the signature, one of the ticket's attachments.
    pub attachment: ContentHash,
    pub by: Actor,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Default, PartialEq, Reconcile, Hydrate, Serialize)]
pub struct Resolution {
    pub code: Option<String>,
    #[serde(serialize_with = "super::text_as_str")]
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub notes: Text,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Reconcile, Hydrate, Serialize)]
pub struct Escalation {
    #[key]
    pub id: EntryId,
    pub from: SupportLevel,
    pub to: SupportLevel,
    pub reason: String,
    pub at: Timestamp,
    pub by: Actor,
}

fn check(ok: bool, field: &'static str, reason: impl FnOnce() -> String) -> Result<(), SchemaError> {
    if ok {
        Ok(())
    } else {
        Err(SchemaError::InvalidField { field, reason: reason() })
    }
}

impl Ticket {
    /// A new ticket with every container present and nothing logged yet.
    pub fn new(
        id: DocId,
        created_by: Actor,
        created_at: Timestamp,
        number: String,
        title: String,
        client: DocId,
    ) -> Self {
        Self {
            id,
            created_by,
            created_at,
            number,
            title,
            description: Text::with_value(""),
            client,
            contact: Contact::default(),
            site: SiteRef::default(),
            equipment: Vec::new(),
            category: String::new(),
            priority: Priority::P3,
            support_level: SupportLevel::L1Field,
            product_team: String::new(),
            sla: Sla::default(),
            entitlement: Entitlement { kind: EntitlementKind::Contract, contract: None, paid: false },
            billing: Billing {
                class: BillingClass::Incident,
                points_estimate: None,
                estimate_accepted: false,
                points_charged: None,
            },
            transitions: Vec::new(),
            work_log: Vec::new(),
            time_entries: Vec::new(),
            visits: Vec::new(),
            checklist_template: None,
            checklist: BTreeMap::new(),
            attachments: Vec::new(),
            signature: None,
            resolution: Resolution::default(),
            escalations: Vec::new(),
            part_requests: Vec::new(),
        }
    }

    /// Everyone this ticket was ever assigned to, in log order: the
    /// assignees of moves to `assigned` by the desk (or a partner's
    /// dispatcher). Assignees named in other moves (a crafted field move)
    /// grant nothing.
    pub fn assignments(&self) -> impl Iterator<Item = &Assignee> {
        self.transitions
            .iter()
            .filter(|t| t.to == TicketStatus::Assigned && t.by.role.assigns())
            .filter_map(|t| t.assignee.as_ref())
    }

    /// The blobs this ticket names (attachments, their thumbnails, the
    /// signature), each with the author of the entry naming it.
    pub fn blob_links(&self) -> impl Iterator<Item = (&ContentHash, &Actor)> {
        self.attachments
            .iter()
            .flat_map(|a| std::iter::once(&a.hash).chain(a.thumbnail.as_ref()).map(move |hash| (hash, &a.by)))
            .chain(self.signature.iter().map(|s| (&s.attachment, &s.by)))
    }

    pub(super) fn validate(&self, limits: &FieldLimits) -> Result<(), SchemaError> {
        let short = limits.short_text;
        for (field, value) in [
            ("number", &self.number),
            ("title", &self.title),
            ("category", &self.category),
            ("product_team", &self.product_team),
            ("contact.name", &self.contact.name),
            ("contact.phone", &self.contact.phone),
            ("contact.email", &self.contact.email),
            ("site.address", &self.site.address),
            ("site.region", &self.site.region),
            ("site.time_zone", &self.site.time_zone),
        ] {
            check(value.len() <= short, field, || format!("{} bytes, at most {short}", value.len()))?;
        }
        check(self.description.as_str().len() <= limits.long_text, "description", || {
            format!("longer than {} bytes", limits.long_text)
        })?;
        check(self.resolution.notes.as_str().len() <= limits.long_text, "resolution.notes", || {
            format!("longer than {} bytes", limits.long_text)
        })?;
        let entries = self.transitions.len()
            + self.work_log.len()
            + self.time_entries.len()
            + self.visits.len()
            + self.attachments.len()
            + self.escalations.len()
            + self.checklist.len()
            + self.equipment.len()
            + self.part_requests.len();
        check(entries <= limits.log_entries, "logs", || format!("{entries} entries, at most {}", limits.log_entries))?;
        for note in &self.work_log {
            check(note.text.len() <= limits.long_text, "work_log.text", || "too long".into())?;
        }
        for t in &self.transitions {
            let reason_len = t.reason.as_ref().map_or(0, String::len);
            check(reason_len <= short, "transitions.reason", || "too long".into())?;
        }
        for e in &self.escalations {
            check(e.reason.len() <= short, "escalations.reason", || "too long".into())?;
        }
        for a in &self.attachments {
            check(a.hash.is_well_formed(), "attachments.hash", || {
                format!("{:?} is not a SHA-256 hex digest", a.hash.0)
            })?;
            check(a.thumbnail.as_ref().is_none_or(ContentHash::is_well_formed), "attachments.thumbnail", || {
                "not a SHA-256 hex digest".into()
            })?;
            check(a.name.len() <= short && a.mime.len() <= short, "attachments.name", || "too long".into())?;
        }
        if let Some(signature) = &self.signature {
            check(signature.attachment.is_well_formed(), "signature.attachment", || "not a SHA-256 hex digest".into())?;
            check(signature.signer_name.len() <= short, "signature.signer_name", || "too long".into())?;
        }
        let coordinates = self.visits.iter().filter_map(|v| v.coordinates).chain(self.site.coordinates);
        for c in coordinates {
            check(c.is_valid(), "coordinates", || format!("{c:?} is not on Earth"))?;
        }
        for t in &self.time_entries {
            check(t.end.is_none_or(|end| end >= t.start), "time_entries.end", || "ends before it starts".into())?;
        }
        for v in &self.visits {
            check(v.left.is_none_or(|left| left >= v.arrived), "visits.left", || "leaves before arriving".into())?;
        }
        for key in self.checklist.keys() {
            check(key.len() <= short, "checklist", || "item id too long".into())?;
        }
        Ok(())
    }
}
