//! Reference data: written by the desk, read on devices.

use std::collections::BTreeMap;

use autosurgeon::{Hydrate, Reconcile, Text};
use serde::Serialize;

use super::common::{Coordinates, Role};
use super::ticket::Points;
use crate::ids::{DocId, OrgId, UserId};

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Reconcile, Hydrate, Serialize)]
pub struct Client {
    pub id: DocId,
    pub name: String,
    pub contract: Option<String>,
    pub business_hours: BusinessHours,
    /// Prepaid points left; `None` when the contract holds no points.
    pub points_balance: Option<Points>,
    /// The language the client's papers are written in (`ru`, `en`), the
    /// service report among them. Added after the first release: clients
    /// written before lack it.
    #[autosurgeon(missing = "Default::default")]
    pub language: Option<String>,
}

/// When the contract's clock runs, in the site's time zone.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Reconcile, Hydrate, Serialize)]
pub struct BusinessHours {
    pub always: bool,
    /// Weekly windows, Monday = 1 … Sunday = 7.
    pub weekly: Vec<WeeklyHours>,
    pub holidays: Vec<Holiday>,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Reconcile, Hydrate, Serialize)]
pub struct WeeklyHours {
    pub weekday: u64,
    /// Minutes after local midnight.
    pub opens: u64,
    pub closes: u64,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Reconcile, Hydrate, Serialize)]
pub struct Holiday {
    /// Local date, `YYYY-MM-DD`.
    pub date: String,
    pub name: String,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Reconcile, Hydrate, Serialize)]
pub struct Site {
    pub id: DocId,
    pub client: DocId,
    pub name: String,
    pub address: String,
    pub region: String,
    pub time_zone: String,
    pub coordinates: Option<Coordinates>,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Reconcile, Hydrate, Serialize)]
pub struct ChecklistTemplate {
    pub id: DocId,
    pub name: String,
    pub items: Vec<ChecklistTemplateItem>,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Reconcile, Hydrate, Serialize)]
pub struct ChecklistTemplateItem {
    /// Stable id, the key of the ticket's checklist map.
    #[key]
    pub key: String,
    pub label: String,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Reconcile, Hydrate, Serialize)]
pub struct KbArticle {
    pub id: DocId,
    pub title: String,
    #[serde(serialize_with = "super::text_as_str")]
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub body: Text,
    pub tags: Vec<String>,
    pub language: String,
    pub attributes: BTreeMap<String, String>,
}

/// One company's people by name, so a device shows who did what by name,
/// never by id. The desk keeps one per company, under [`Directory::id_for`].
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Reconcile, Hydrate, Serialize)]
pub struct Directory {
    pub id: DocId,
    pub org: OrgId,
    pub org_name: String,
    /// Readable by every field user: the service company's own people,
    /// who dispatch, supply and work the tickets partners see too.
    pub everyone: bool,
    /// By user id.
    pub people: BTreeMap<String, Person>,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Reconcile, Hydrate, Serialize)]
pub struct Person {
    pub name: String,
    pub role: Role,
}

impl Directory {
    /// The directory's document id: the company's id, marked as a custom
    /// (version 8) UUID so it never equals another document's.
    pub fn id_for(org: OrgId) -> DocId {
        DocId(uuid::Builder::from_custom_bytes(*org.0.as_bytes()).into_uuid())
    }

    /// The name of `user`, if this directory lists them.
    pub fn name_of(&self, user: UserId) -> Option<&str> {
        self.people.get(&user.to_string()).map(|p| p.name.as_str())
    }
}
