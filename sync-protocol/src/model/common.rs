//! Types shared by several documents.

use autosurgeon::{Hydrate, Reconcile};
use serde::{Deserialize, Serialize};

use crate::ids::{OrgId, UserId};

/// What a person may do, by the job they hold. In JSON, the one spelling
/// [`Role::code`] gives.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, Reconcile, Hydrate)]
#[serde(rename_all = "snake_case")]
// The aliases read what devices stored before the one spelling (a pairing).
pub enum Role {
    #[serde(alias = "Admin")]
    Admin,
    #[serde(alias = "Dispatcher")]
    Dispatcher,
    #[serde(alias = "PartsDesk")]
    PartsDesk,
    #[serde(alias = "Engineer")]
    Engineer,
    #[serde(alias = "PartnerEngineer")]
    PartnerEngineer,
    /// A partner company's dispatcher: routes the tickets assigned to the
    /// company to its own engineers, and sees nothing else.
    PartnerDispatcher,
}

impl Role {
    pub const ALL: [Self; 6] = [
        Self::Admin,
        Self::Dispatcher,
        Self::PartsDesk,
        Self::Engineer,
        Self::PartnerEngineer,
        Self::PartnerDispatcher,
    ];

    /// The desk's people: they outrank devices for cancel, close and reassign.
    pub fn is_desk(self) -> bool {
        matches!(self, Self::Admin | Self::Dispatcher)
    }

    /// People who work at customer sites with the app.
    pub fn is_field(self) -> bool {
        matches!(self, Self::Engineer | Self::PartnerEngineer)
    }

    /// The service company's desk people, who read every company's work.
    /// Everyone else reads only what is granted to them or their company.
    pub fn reads_everything(self) -> bool {
        matches!(self, Self::Admin | Self::Dispatcher | Self::PartsDesk)
    }

    /// Roles whose moves to `assigned` assign: the desk, and a partner's
    /// dispatcher within its own company.
    pub fn assigns(self) -> bool {
        self.is_desk() || self == Self::PartnerDispatcher
    }

    /// Roles that belong to a partner company, not the service company.
    pub fn is_partner(self) -> bool {
        matches!(self, Self::PartnerEngineer | Self::PartnerDispatcher)
    }

    /// The one spelling of the role in data: REST, the CLI's JSON, the database.
    pub fn code(self) -> &'static str {
        match self {
            Self::Admin => "admin",
            Self::Dispatcher => "dispatcher",
            Self::PartsDesk => "parts_desk",
            Self::Engineer => "engineer",
            Self::PartnerEngineer => "partner_engineer",
            Self::PartnerDispatcher => "partner_dispatcher",
        }
    }

    pub fn parse(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|role| role.code() == code)
    }

    /// The role in words, for sentences people read.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Admin => "admin",
            Self::Dispatcher => "dispatcher",
            Self::PartsDesk => "parts desk",
            Self::Engineer => "engineer",
            Self::PartnerEngineer => "partner engineer",
            Self::PartnerDispatcher => "partner dispatcher",
        }
    }
}

/// Who wrote an entry: the person, their company and their role at the time.
///
/// The desk checks that every entry a device appends names the device's own
/// user, so an entry's author cannot be forged.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, Reconcile, Hydrate)]
pub struct Actor {
    pub user: UserId,
    pub org: OrgId,
    pub role: Role,
}

/// A place on Earth, WGS 84 degrees.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_role_has_one_spelling_and_reads_the_old_one() {
        for role in Role::ALL {
            assert_eq!(serde_json::to_value(role).unwrap(), role.code(), "JSON says what the code says");
            assert_eq!(Role::parse(role.code()), Some(role));
        }
        let stored: Role = serde_json::from_str("\"PartnerEngineer\"").unwrap();
        assert_eq!(stored, Role::PartnerEngineer, "a pairing stored before still reads");
    }
}
