//! The synced data model: one automerge document per entity.
//!
//! Each document's root holds `schema` (the version of this layout), `kind`
//! and `id`, then the entity's fields. The CRDT type of each field follows
//! what users mean by it:
//! - text people write (descriptions, notes): automerge Text;
//! - logs (work log, time, visits, photos, escalations, transitions):
//!   lists of entries with their own ids, only ever appended to;
//! - checklists: a map from item id to its state;
//! - workflow status: never stored, always folded from the transitions log
//!   (see [`crate::workflow`]).
//!
//! Every container is created with the document, so two devices never race
//! to create the same list (which would make one of them win and drop the
//! other's entries).

/// Gives an enum its one spelling in data, `code` (the same as its JSON),
/// and reads it back with `parse`, from that spelling or from the variant's
/// name, the spelling used before.
macro_rules! spelled {
    ($name:ident { $($variant:ident => $code:literal),+ $(,)? }) => {
        impl $name {
            pub const ALL: &'static [Self] = &[$(Self::$variant),+];

            pub fn code(self) -> &'static str {
                match self {
                    $(Self::$variant => $code),+
                }
            }

            pub fn parse(text: &str) -> Option<Self> {
                match text {
                    $($code | stringify!($variant) => Some(Self::$variant),)+
                    _ => None,
                }
            }

            /// Every spelling `parse` reads, for error messages.
            pub fn codes() -> String {
                [$($code),+].join(", ")
            }
        }
    };
}
pub(crate) use spelled;

mod common;
mod equipment;
mod one_pass;
mod part_request;
mod reference;
mod ticket;

use automerge::AutoCommit;
use autosurgeon::{hydrate, reconcile, Hydrate, Reconcile};
use serde::{Deserialize, Serialize};

pub use common::{Actor, Coordinates, Role};
pub use equipment::{Equipment, InstalledPart, ReplacedPart, ServiceRecord};
pub use part_request::{PartRequest, PartStatus, PartTransition};
pub use reference::{
    BusinessHours, ChecklistTemplate, ChecklistTemplateItem, Client, Directory, Holiday, KbArticle, Person, Site,
    WeeklyHours,
};
pub use ticket::{
    Assignee, Attachment, Billing, BillingClass, ChecklistItemState, Contact, DeadlineChange, Entitlement,
    EntitlementKind, Escalation, Points, Priority, Resolution, Signature, SiteRef, Sla, SupportLevel, Ticket,
    TicketStatus, TimeEntry, TimeKind, Transition, Visit, WorkLogEntry,
};

use crate::ids::{DocId, Timestamp};
use crate::limits::FieldLimits;

/// The layout version written into every document's `schema` field.
/// A device refuses documents with a newer schema than it knows.
pub const SCHEMA_VERSION: u64 = 1;

/// What an automerge document holds.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, Reconcile, Hydrate)]
#[serde(rename_all = "snake_case")]
pub enum DocKind {
    #[serde(alias = "Ticket")]
    Ticket,
    #[serde(alias = "Equipment")]
    Equipment,
    #[serde(alias = "PartRequest")]
    PartRequest,
    #[serde(alias = "Client")]
    Client,
    #[serde(alias = "Site")]
    Site,
    #[serde(alias = "ChecklistTemplate")]
    ChecklistTemplate,
    #[serde(alias = "KbArticle")]
    KbArticle,
    #[serde(alias = "Directory")]
    Directory,
}

impl DocKind {
    pub const ALL: [Self; 8] = [
        Self::Ticket,
        Self::Equipment,
        Self::PartRequest,
        Self::Client,
        Self::Site,
        Self::ChecklistTemplate,
        Self::KbArticle,
        Self::Directory,
    ];

    /// Reference data is written by the desk alone and only read on devices.
    pub fn is_reference(self) -> bool {
        matches!(self, Self::Client | Self::Site | Self::ChecklistTemplate | Self::KbArticle | Self::Directory)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ticket => "ticket",
            Self::Equipment => "equipment",
            Self::PartRequest => "part_request",
            Self::Client => "client",
            Self::Site => "site",
            Self::ChecklistTemplate => "checklist_template",
            Self::KbArticle => "kb_article",
            Self::Directory => "directory",
        }
    }
}

/// Any synced entity, typed.
// A ticket is much larger than reference records, but documents are handled
// one at a time, never held in bulk, so boxing would buy nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq)]
pub enum Document {
    Ticket(Ticket),
    Equipment(Equipment),
    PartRequest(PartRequest),
    Client(Client),
    Site(Site),
    ChecklistTemplate(ChecklistTemplate),
    KbArticle(KbArticle),
    Directory(Directory),
}

/// Why a document could not be read as the schema says.
#[derive(Debug, thiserror::Error)]
pub enum SchemaError {
    #[error("document does not match the schema: {0}")]
    Shape(Box<autosurgeon::HydrateError>),
    #[error("document schema version {found} is newer than this build knows ({known})")]
    NewerSchema { found: u64, known: u64 },
    #[error("document is a {found:?}, expected a {expected:?}")]
    WrongKind { found: DocKind, expected: DocKind },
    #[error("document says its id is {found}, expected {expected}")]
    WrongId { found: DocId, expected: DocId },
    #[error("field {field} is invalid: {reason}")]
    InvalidField { field: &'static str, reason: String },
    #[error("could not write the document: {0}")]
    Reconcile(Box<autosurgeon::ReconcileError>),
}

impl From<autosurgeon::HydrateError> for SchemaError {
    fn from(err: autosurgeon::HydrateError) -> Self {
        Self::Shape(Box::new(err))
    }
}

impl From<autosurgeon::ReconcileError> for SchemaError {
    fn from(err: autosurgeon::ReconcileError) -> Self {
        Self::Reconcile(Box::new(err))
    }
}

/// The fields every document's root carries before its own.
#[derive(Clone, Debug, PartialEq, Reconcile, Hydrate)]
struct Header {
    schema: u64,
    kind: DocKind,
    id: DocId,
}

impl Document {
    pub fn kind(&self) -> DocKind {
        match self {
            Self::Ticket(_) => DocKind::Ticket,
            Self::Equipment(_) => DocKind::Equipment,
            Self::PartRequest(_) => DocKind::PartRequest,
            Self::Client(_) => DocKind::Client,
            Self::Site(_) => DocKind::Site,
            Self::ChecklistTemplate(_) => DocKind::ChecklistTemplate,
            Self::KbArticle(_) => DocKind::KbArticle,
            Self::Directory(_) => DocKind::Directory,
        }
    }

    pub fn id(&self) -> DocId {
        match self {
            Self::Ticket(t) => t.id,
            Self::Equipment(e) => e.id,
            Self::PartRequest(p) => p.id,
            Self::Client(c) => c.id,
            Self::Site(s) => s.id,
            Self::ChecklistTemplate(t) => t.id,
            Self::KbArticle(a) => a.id,
            Self::Directory(d) => d.id,
        }
    }

    /// Reads a document as its declared kind, checking version, kind and id.
    pub fn hydrate(doc: &AutoCommit, expected: DocId) -> Result<Self, SchemaError> {
        let doc = &one_pass::OnePass::new(doc);
        let header: Header = hydrate(doc)?;
        if header.schema > SCHEMA_VERSION {
            return Err(SchemaError::NewerSchema { found: header.schema, known: SCHEMA_VERSION });
        }
        if header.id != expected {
            return Err(SchemaError::WrongId { found: header.id, expected });
        }
        let document = match header.kind {
            DocKind::Ticket => Self::Ticket(hydrate(doc)?),
            DocKind::Equipment => Self::Equipment(hydrate(doc)?),
            DocKind::PartRequest => Self::PartRequest(hydrate(doc)?),
            DocKind::Client => Self::Client(hydrate(doc)?),
            DocKind::Site => Self::Site(hydrate(doc)?),
            DocKind::ChecklistTemplate => Self::ChecklistTemplate(hydrate(doc)?),
            DocKind::KbArticle => Self::KbArticle(hydrate(doc)?),
            DocKind::Directory => Self::Directory(hydrate(doc)?),
        };
        Ok(document)
    }

    /// Reads a document that must be of `kind`.
    pub fn hydrate_as(doc: &AutoCommit, expected: DocId, kind: DocKind) -> Result<Self, SchemaError> {
        let document = Self::hydrate(doc, expected)?;
        if document.kind() != kind {
            return Err(SchemaError::WrongKind { found: document.kind(), expected: kind });
        }
        Ok(document)
    }

    /// Writes this value into `doc`, as the smallest set of automerge operations.
    pub fn reconcile_into(&self, doc: &mut AutoCommit) -> Result<(), SchemaError> {
        let header = Header { schema: SCHEMA_VERSION, kind: self.kind(), id: self.id() };
        reconcile(doc, &header)?;
        match self {
            Self::Ticket(t) => reconcile(doc, t)?,
            Self::Equipment(e) => reconcile(doc, e)?,
            Self::PartRequest(p) => reconcile(doc, p)?,
            Self::Client(c) => reconcile(doc, c)?,
            Self::Site(s) => reconcile(doc, s)?,
            Self::ChecklistTemplate(t) => reconcile(doc, t)?,
            Self::KbArticle(a) => reconcile(doc, a)?,
            Self::Directory(d) => reconcile(doc, d)?,
        }
        Ok(())
    }

    /// Checks what the type system cannot: sizes, counts and formats.
    pub fn validate(&self, limits: &FieldLimits) -> Result<(), SchemaError> {
        match self {
            Self::Ticket(t) => t.validate(limits),
            Self::Equipment(e) => e.validate(limits),
            Self::PartRequest(p) => p.validate(limits),
            Self::Directory(d) => {
                let too_long = d.org_name.len() > limits.short_text
                    || d.people.iter().any(|(id, p)| id.len() > limits.short_text || p.name.len() > limits.short_text);
                if too_long || d.people.len() > limits.log_entries {
                    return Err(SchemaError::InvalidField { field: "directory", reason: "too long".into() });
                }
                Ok(())
            }
            Self::Client(_) | Self::Site(_) | Self::ChecklistTemplate(_) | Self::KbArticle(_) => Ok(()),
        }
    }
}

impl Document {
    /// Checks every time a person entered (moves, notes, time entries,
    /// visits, ticks, photos, the signature, escalations) against the
    /// desk's clock `now`: none more than `max_clock_behind_ms` before it,
    /// none more than `max_clock_ahead_ms` after it, and no timed entry
    /// that ends before it starts or runs longer than `max_duration_ms`.
    /// The desk's own times (deadlines, coverage) are not a device's and are
    /// not checked here.
    pub fn check_times(&self, now: Timestamp, limits: &FieldLimits) -> Result<(), SchemaError> {
        let earliest = now.0.saturating_sub(limits.max_clock_behind_ms);
        let latest = now.0.saturating_add(limits.max_clock_ahead_ms);
        let in_range = |field: &'static str, at: Timestamp| {
            if (earliest..=latest).contains(&at.0) {
                Ok(())
            } else {
                Err(SchemaError::InvalidField {
                    field,
                    reason: format!("{} ms is not within {earliest} … {latest} ms, the desk's clock's bounds", at.0),
                })
            }
        };
        let span = |field: &'static str, start: Timestamp, end: Option<Timestamp>| {
            in_range(field, start)?;
            let Some(end) = end else { return Ok(()) };
            in_range(field, end)?;
            let length = end.0.checked_sub(start.0).unwrap_or(-1);
            if (0..=limits.max_duration_ms).contains(&length) {
                Ok(())
            } else {
                Err(SchemaError::InvalidField {
                    field,
                    reason: format!("runs {length} ms; an entry runs 0 … {} ms", limits.max_duration_ms),
                })
            }
        };
        match self {
            Self::Ticket(t) => {
                in_range("created_at", t.created_at)?;
                t.transitions.iter().try_for_each(|e| in_range("transitions.at", e.at))?;
                t.work_log.iter().try_for_each(|e| in_range("work_log.at", e.at))?;
                t.time_entries.iter().try_for_each(|e| span("time_entries", e.start, e.end))?;
                t.visits.iter().try_for_each(|e| span("visits", e.arrived, e.left))?;
                t.checklist.values().try_for_each(|e| in_range("checklist.at", e.at))?;
                t.attachments.iter().try_for_each(|e| in_range("attachments.at", e.at))?;
                t.signature.iter().try_for_each(|e| in_range("signature.at", e.at))?;
                t.escalations.iter().try_for_each(|e| in_range("escalations.at", e.at))
            }
            Self::PartRequest(p) => {
                in_range("requested_at", p.requested_at)?;
                p.transitions.iter().try_for_each(|e| in_range("transitions.at", e.at))
            }
            Self::Equipment(_)
            | Self::Client(_)
            | Self::Site(_)
            | Self::ChecklistTemplate(_)
            | Self::KbArticle(_)
            | Self::Directory(_) => Ok(()),
        }
    }
}

/// A document in JSON as it reads, typed: ids as strings, text as text,
/// with its `kind` beside its fields.
impl Serialize for Document {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let value = match self {
            Self::Ticket(t) => serde_json::to_value(t),
            Self::Equipment(e) => serde_json::to_value(e),
            Self::PartRequest(p) => serde_json::to_value(p),
            Self::Client(c) => serde_json::to_value(c),
            Self::Site(s) => serde_json::to_value(s),
            Self::ChecklistTemplate(t) => serde_json::to_value(t),
            Self::KbArticle(a) => serde_json::to_value(a),
            Self::Directory(d) => serde_json::to_value(d),
        };
        let mut value = value.map_err(serde::ser::Error::custom)?;
        if let serde_json::Value::Object(fields) = &mut value {
            fields.insert("kind".into(), self.kind().as_str().into());
        }
        value.serialize(serializer)
    }
}

/// Text people write, in JSON as the plain string it reads.
fn text_as_str<S: serde::Serializer>(text: &autosurgeon::Text, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(text.as_str())
}

/// Creates the automerge document for a new entity, with `actor` as its author.
pub fn new_document(document: &Document, actor: automerge::ActorId) -> Result<AutoCommit, SchemaError> {
    let mut doc = AutoCommit::new().with_actor(actor);
    document.reconcile_into(&mut doc)?;
    Ok(doc)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_enum_has_one_spelling_in_json_and_reads_the_old_one() {
        fn check<T: Copy + std::fmt::Debug + PartialEq + Serialize>(
            all: &[T],
            code: fn(T) -> &'static str,
            parse: fn(&str) -> Option<T>,
        ) {
            for value in all {
                assert_eq!(serde_json::to_value(value).unwrap(), code(*value), "{value:?}: JSON says its code");
                assert_eq!(parse(code(*value)), Some(*value));
                assert_eq!(parse(&format!("{value:?}")), Some(*value), "the old spelling still reads");
            }
        }
        check(Priority::ALL, Priority::code, Priority::parse);
        check(SupportLevel::ALL, SupportLevel::code, SupportLevel::parse);
        check(BillingClass::ALL, BillingClass::code, BillingClass::parse);
        check(EntitlementKind::ALL, EntitlementKind::code, EntitlementKind::parse);
        assert_eq!(Priority::parse("P9"), None);
    }
    use crate::ids::{ContentHash, Timestamp};

    fn ticket() -> Ticket {
        let id = DocId::new_v7(Timestamp(1_700_000_000_000), [1; 10]);
        Ticket::new(
            id,
            crate::sample::Cast::default().dispatcher,
            Timestamp(0),
            "T-1".into(),
            "Array degraded".into(),
            DocId::from_u128(7),
        )
    }

    #[test]
    fn a_ticket_survives_a_round_trip_through_automerge() {
        let ticket = ticket();
        let doc = new_document(&Document::Ticket(ticket.clone()), automerge::ActorId::from([1u8; 16])).unwrap();
        let bytes = doc.clone().save();
        let loaded = AutoCommit::load(&bytes).unwrap();
        assert_eq!(Document::hydrate(&loaded, ticket.id).unwrap(), Document::Ticket(ticket));
    }

    #[test]
    fn attachments_with_and_without_a_thumbnail_both_read_back() {
        use automerge::{transaction::Transactable, ReadDoc, ROOT};
        let mut ticket = ticket();
        let attachment = |n: u128, thumbnail: Option<ContentHash>| Attachment {
            id: crate::ids::EntryId::from_u128(n),
            hash: ContentHash("a".repeat(64)),
            thumbnail,
            name: "p.jpg".into(),
            mime: "image/jpeg".into(),
            size: 1,
            at: Timestamp(0),
            by: ticket.created_by,
        };
        ticket.attachments = vec![attachment(1, Some(ContentHash("b".repeat(64)))), attachment(2, None)];
        let mut doc = new_document(&Document::Ticket(ticket.clone()), automerge::ActorId::from([1u8; 16])).unwrap();
        assert_eq!(Document::hydrate(&doc, ticket.id).unwrap(), Document::Ticket(ticket.clone()));
        // A document written before thumbnails existed has no such field at all.
        let (_, list) = doc.get(ROOT, "attachments").unwrap().unwrap();
        let (_, first) = doc.get(&list, 0).unwrap().unwrap();
        doc.delete(&first, "thumbnail").unwrap();
        let Document::Ticket(read) = Document::hydrate(&doc, ticket.id).unwrap() else { panic!("a ticket") };
        assert_eq!(read.attachments[0].thumbnail, None);
    }

    #[test]
    fn a_document_of_another_id_is_refused() {
        let ticket = ticket();
        let doc = new_document(&Document::Ticket(ticket), automerge::ActorId::from([1u8; 16])).unwrap();
        let err = Document::hydrate(&doc, DocId::from_u128(1)).unwrap_err();
        assert!(matches!(err, SchemaError::WrongId { .. }), "a document must be read under its own id: {err}");
    }

    #[test]
    fn a_document_from_a_newer_schema_is_refused() {
        let ticket = ticket();
        let mut doc = new_document(&Document::Ticket(ticket.clone()), automerge::ActorId::from([1u8; 16])).unwrap();
        autosurgeon::reconcile_prop(&mut doc, automerge::ROOT, "schema", SCHEMA_VERSION + 1).unwrap();
        let err = Document::hydrate(&doc, ticket.id).unwrap_err();
        assert!(matches!(err, SchemaError::NewerSchema { .. }), "{err}");
    }

    #[test]
    fn a_ticket_with_a_malformed_attachment_hash_fails_validation() {
        let mut ticket = ticket();
        ticket.attachments.push(Attachment {
            id: crate::ids::EntryId::from_u128(1),
            hash: crate::ids::ContentHash("not-a-hash".into()),
            thumbnail: None,
            name: "photo.jpg".into(),
            mime: "image/jpeg".into(),
            size: 10,
            at: Timestamp(0),
            by: Actor {
                user: crate::ids::UserId::from_u128(1),
                org: crate::ids::OrgId::from_u128(1),
                role: Role::Engineer,
            },
        });
        let err = Document::Ticket(ticket).validate(&FieldLimits::default()).unwrap_err();
        assert!(matches!(err, SchemaError::InvalidField { field: "attachments.hash", .. }), "{err}");
    }
}

#[cfg(test)]
mod text_tests {
    use autosurgeon::{hydrate, reconcile, Hydrate, Reconcile, Text};

    #[derive(Debug, Reconcile, Hydrate)]
    struct Note {
        text: Text,
    }

    #[test]
    fn concurrent_edits_to_cyrillic_text_land_where_they_were_made() {
        let mut doc = automerge::AutoCommit::new();
        reconcile(&mut doc, &Note { text: Text::with_value("Заменил диск") }).unwrap();
        let mut other = doc.fork();
        let mut mine: Note = hydrate(&doc).unwrap();
        let end = mine.text.as_str().len();
        mine.text.splice(end, 0, " в полке 2");
        reconcile(&mut doc, &mine).unwrap();
        let mut theirs: Note = hydrate(&other).unwrap();
        theirs.text.splice(0, 0, "Вчера: ");
        reconcile(&mut other, &theirs).unwrap();
        doc.merge(&mut other).unwrap();
        let merged: Note = hydrate(&doc).unwrap();
        assert_eq!(merged.text.as_str(), "Вчера: Заменил диск в полке 2");
    }
}
