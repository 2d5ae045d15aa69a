//! A request for a spare part, from the engineer through the warehouse and back.

use autosurgeon::{Hydrate, Reconcile};
use serde::{Deserialize, Serialize};

use super::common::Actor;
use super::SchemaError;
use crate::ids::{DocId, EntryId, OrgId, Timestamp};
use crate::limits::FieldLimits;

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Reconcile, Hydrate, Serialize)]
pub struct PartRequest {
    pub id: DocId,
    pub ticket: DocId,
    /// The company of the engineer who asked for it.
    pub org: OrgId,
    pub part_number: String,
    pub description: String,
    pub quantity: u64,
    pub requested_by: Actor,
    pub requested_at: Timestamp,
    /// Status is folded from this log; see [`crate::workflow`].
    pub transitions: Vec<PartTransition>,
    pub warehouse: Option<String>,
    pub tracking_number: Option<String>,
    pub installed_serial: Option<String>,
    pub removed_serial: Option<String>,
    /// The equipment the part goes into, one of its ticket's: the serials
    /// installed and removed are recorded on it. Added after the first
    /// release, like `return_tracking`: documents written before lack them.
    #[autosurgeon(missing = "Default::default")]
    pub equipment: Option<DocId>,
    /// The carrier's number of the part on its way back to the warehouse.
    #[autosurgeon(missing = "Default::default")]
    pub return_tracking: Option<String>,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, Reconcile, Hydrate)]
#[serde(rename_all = "snake_case")]
pub enum PartStatus {
    #[serde(alias = "Requested")]
    Requested,
    #[serde(alias = "Approved")]
    Approved,
    #[serde(alias = "Picked")]
    Picked,
    #[serde(alias = "Shipped")]
    Shipped,
    #[serde(alias = "Delivered")]
    Delivered,
    #[serde(alias = "Installed")]
    Installed,
    #[serde(alias = "Rejected")]
    Rejected,
    #[serde(alias = "Cancelled")]
    Cancelled,
    /// Received back at the warehouse: a faulty part removed, or one not used.
    #[serde(alias = "Returned")]
    Returned,
    /// On its way back to the warehouse.
    #[serde(alias = "ReturnSent")]
    ReturnSent,
}

impl PartStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Requested => "requested",
            Self::Approved => "approved",
            Self::Picked => "picked",
            Self::Shipped => "shipped",
            Self::Delivered => "delivered",
            Self::Installed => "installed",
            Self::Rejected => "rejected",
            Self::Cancelled => "cancelled",
            Self::Returned => "returned",
            Self::ReturnSent => "return_sent",
        }
    }

    pub fn is_terminal(self) -> bool {
        matches!(self, Self::Rejected | Self::Cancelled | Self::Returned)
    }
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Reconcile, Hydrate, Serialize)]
pub struct PartTransition {
    #[key]
    pub id: EntryId,
    pub from: PartStatus,
    pub to: PartStatus,
    pub at: Timestamp,
    pub by: Actor,
    pub reason: Option<String>,
}

impl PartRequest {
    /// A new request in status `Requested`, made by `by` for their company.
    pub fn new(id: DocId, ticket: DocId, by: Actor, at: Timestamp, part_number: String, quantity: u64) -> Self {
        Self {
            id,
            ticket,
            org: by.org,
            requested_by: by,
            requested_at: at,
            part_number,
            description: String::new(),
            quantity,
            transitions: Vec::new(),
            warehouse: None,
            tracking_number: None,
            installed_serial: None,
            removed_serial: None,
            equipment: None,
            return_tracking: None,
        }
    }

    pub(super) fn validate(&self, limits: &FieldLimits) -> Result<(), SchemaError> {
        let texts = [
            Some(&self.part_number),
            Some(&self.description),
            self.warehouse.as_ref(),
            self.tracking_number.as_ref(),
            self.installed_serial.as_ref(),
            self.removed_serial.as_ref(),
            self.return_tracking.as_ref(),
        ];
        if texts.into_iter().flatten().any(|s| s.len() > limits.short_text) {
            return Err(SchemaError::InvalidField { field: "part_request", reason: "a field is too long".into() });
        }
        if self.quantity == 0 || self.quantity > 10_000 {
            return Err(SchemaError::InvalidField {
                field: "quantity",
                reason: format!("{} is not between 1 and 10000", self.quantity),
            });
        }
        if self.transitions.len() > limits.log_entries {
            return Err(SchemaError::InvalidField { field: "transitions", reason: "too many".into() });
        }
        Ok(())
    }
}
