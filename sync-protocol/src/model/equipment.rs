//! Equipment installed at a customer site and what has been done to it.

use std::collections::BTreeMap;

use autosurgeon::{Hydrate, Reconcile, Text};
use serde::Serialize;

use super::SchemaError;
use crate::ids::{DocId, EntryId, Timestamp};
use crate::limits::FieldLimits;

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Reconcile, Hydrate, Serialize)]
pub struct Equipment {
    pub id: DocId,
    pub serial: String,
    pub model: String,
    pub vendor: String,
    /// Kind of equipment, e.g. `storage array`, `server`, `POS terminal`.
    pub class: String,
    pub client: DocId,
    pub site: Option<DocId>,
    pub location_note: String,
    pub installed_on: Option<Timestamp>,
    /// Warranty or contract coverage ends at this moment.
    pub covered_until: Option<Timestamp>,
    pub installed_parts: Vec<InstalledPart>,
    /// Tickets worked on this equipment, oldest first.
    pub service_history: Vec<DocId>,
    #[serde(serialize_with = "super::text_as_str")]
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub notes: Text,
    pub attributes: BTreeMap<String, String>,
    /// Parts taken out (faulty ones replaced), newest last. Added after the
    /// first release: documents written before lack it.
    #[autosurgeon(missing = "Default::default")]
    pub replaced_parts: Vec<ReplacedPart>,
    /// Each ticket worked on it, as the desk last saw it, so a device shows
    /// the whole history, tickets it does not hold included. Added after
    /// the first release, like `replaced_parts`.
    #[autosurgeon(missing = "Default::default")]
    pub service_records: Vec<ServiceRecord>,
}

/// One ticket in an equipment record's service history. Whoever reads
/// the equipment reads these, so they hold no text anyone wrote (no title,
/// no notes, no people): the machine's history, not another company's work.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Reconcile, Hydrate, Serialize)]
pub struct ServiceRecord {
    /// The ticket's id, as the entry's key.
    #[key]
    pub id: EntryId,
    pub ticket: DocId,
    pub number: String,
    pub status: super::TicketStatus,
    pub opened: Timestamp,
    pub resolved_at: Option<Timestamp>,
    pub resolution_code: Option<String>,
    /// When someone arrived on site for it.
    pub visits: Vec<Timestamp>,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Reconcile, Hydrate, Serialize)]
pub struct InstalledPart {
    #[key]
    pub id: EntryId,
    pub part_number: String,
    pub serial: String,
    pub installed_at: Timestamp,
    /// The part request that brought it, when there was one.
    pub part_request: Option<DocId>,
}

/// A part taken out of the equipment.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Reconcile, Hydrate, Serialize)]
pub struct ReplacedPart {
    #[key]
    pub id: EntryId,
    pub part_number: String,
    pub serial: String,
    pub removed_at: Timestamp,
    /// The part request whose part replaced it.
    pub part_request: Option<DocId>,
}

impl Equipment {
    pub fn new(id: DocId, serial: String, model: String, client: DocId) -> Self {
        Self {
            id,
            serial,
            model,
            vendor: String::new(),
            class: String::new(),
            client,
            site: None,
            location_note: String::new(),
            installed_on: None,
            covered_until: None,
            installed_parts: Vec::new(),
            service_history: Vec::new(),
            notes: Text::with_value(""),
            attributes: BTreeMap::new(),
            replaced_parts: Vec::new(),
            service_records: Vec::new(),
        }
    }

    pub(super) fn validate(&self, limits: &FieldLimits) -> Result<(), SchemaError> {
        let short = [&self.serial, &self.model, &self.vendor, &self.class, &self.location_note];
        let too_long = short.iter().any(|s| s.len() > limits.short_text)
            || self.attributes.iter().any(|(k, v)| k.len() > limits.short_text || v.len() > limits.short_text)
            || self
                .installed_parts
                .iter()
                .any(|p| p.serial.len() > limits.short_text || p.part_number.len() > limits.short_text)
            || self
                .replaced_parts
                .iter()
                .any(|p| p.serial.len() > limits.short_text || p.part_number.len() > limits.short_text);
        if too_long {
            return Err(SchemaError::InvalidField { field: "equipment", reason: "a field is too long".into() });
        }
        if self.notes.as_str().len() > limits.long_text {
            return Err(SchemaError::InvalidField { field: "notes", reason: "too long".into() });
        }
        let count =
            self.installed_parts.len() + self.replaced_parts.len() + self.service_history.len() + self.attributes.len();
        if count > limits.log_entries {
            return Err(SchemaError::InvalidField { field: "equipment", reason: format!("{count} entries") });
        }
        Ok(())
    }
}
