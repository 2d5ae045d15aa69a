//! Types shared by several documents.

use autosurgeon::{Hydrate, Reconcile};
use serde::{Deserialize, Serialize};

use crate::ids::{OrgId, UserId};

/// What a person may do, by the job they hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, Reconcile, Hydrate)]
pub enum Role {
    Admin,
    Dispatcher,
    PartsDesk,
    Engineer,
    PartnerEngineer,
}

impl Role {
    /// The desk's people: they outrank devices for cancel, close and reassign.
    pub fn is_desk(self) -> bool {
        matches!(self, Self::Admin | Self::Dispatcher)
    }

    /// People who work at customer sites with the app.
    pub fn is_field(self) -> bool {
        matches!(self, Self::Engineer | Self::PartnerEngineer)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Admin => "admin",
            Self::Dispatcher => "dispatcher",
            Self::PartsDesk => "parts desk",
            Self::Engineer => "engineer",
            Self::PartnerEngineer => "partner engineer",
        }
    }
}

/// Who wrote an entry: the person, their company and their role at the time.
///
/// The desk checks that every entry a device appends names the device's own
/// user, so an entry's author cannot be forged.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, Reconcile, Hydrate)]
pub struct Actor {
    pub user: UserId,
    pub org: OrgId,
    pub role: Role,
}

/// A place on Earth, WGS 84 degrees.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize, Reconcile, Hydrate)]
pub struct Coordinates {
    pub lat: f64,
    pub lon: f64,
}

impl Coordinates {
    pub fn is_valid(&self) -> bool {
        self.lat.is_finite()
            && self.lon.is_finite()
            && (-90.0..=90.0).contains(&self.lat)
            && (-180.0..=180.0).contains(&self.lon)
    }
}
