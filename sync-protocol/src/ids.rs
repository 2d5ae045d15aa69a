//! Identifiers and time as stored in documents and on the wire.
//!
//! Every id is a UUID; ids that the app mints (documents, log entries) are
//! UUIDv7 so they sort by creation time. Nothing here reads a clock or a
//! random source: the caller passes both in.

use std::fmt;

use autosurgeon::{Hydrate, HydrateError, Reconcile, Reconciler};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Defines a UUID newtype that reconciles as the UUID's 16 bytes.
macro_rules! uuid_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(value_type = String, format = Uuid))]
        #[serde(transparent)]
        pub struct $name(pub Uuid);

        impl $name {
            /// A UUIDv7 from a time and ten random bytes supplied by the caller.
            pub fn new_v7(at: Timestamp, random: [u8; 10]) -> Self {
                let millis = u64::try_from(at.0).unwrap_or(0);
                Self(uuid::Builder::from_unix_timestamp_millis(millis, &random).into_uuid())
            }

            pub fn from_u128(value: u128) -> Self {
                Self(Uuid::from_u128(value))
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl std::str::FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map(Self)
            }
        }

        impl Reconcile for $name {
            type Key<'a> = Uuid;
            fn reconcile<R: Reconciler>(&self, reconciler: R) -> Result<(), R::Error> {
                self.0.reconcile(reconciler)
            }
            fn key(&self) -> autosurgeon::reconcile::LoadKey<Self::Key<'_>> {
                autosurgeon::reconcile::LoadKey::Found(self.0)
            }
            fn hydrate_key<'a, D: autosurgeon::ReadDoc>(
                doc: &D,
                obj: &automerge::ObjId,
                prop: autosurgeon::Prop<'_>,
            ) -> Result<autosurgeon::reconcile::LoadKey<Self::Key<'a>>, autosurgeon::ReconcileError> {
                Uuid::hydrate_key(doc, obj, prop)
            }
        }

        impl Hydrate for $name {
            fn hydrate_bytes(bytes: &[u8]) -> Result<Self, HydrateError> {
                Uuid::hydrate_bytes(bytes).map(Self)
            }
        }
    };
}

uuid_id!(
    /// The id of one synced document (ticket, equipment, part request, reference record).
    DocId
);
uuid_id!(
    /// The id of an entry inside a document's log (work-log note, transition, visit…).
    EntryId
);
uuid_id!(
    /// A person with an account at the desk.
    UserId
);
uuid_id!(
    /// A company: the service company itself or a service partner.
    OrgId
);

/// A point in time, UTC, in milliseconds since the Unix epoch.
///
/// Stored as an automerge timestamp scalar. Device clocks are wrong in the
/// field, so a timestamp says what its writer's clock read, nothing more.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(transparent)]
pub struct Timestamp(pub i64);

impl Timestamp {
    pub fn from_datetime(at: DateTime<Utc>) -> Self {
        Self(at.timestamp_millis())
    }

    pub fn to_datetime(self) -> Option<DateTime<Utc>> {
        DateTime::from_timestamp_millis(self.0)
    }

    pub fn plus_millis(self, millis: i64) -> Self {
        Self(self.0.saturating_add(millis))
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.to_datetime() {
            Some(at) => write!(f, "{}", at.format("%Y-%m-%d %H:%M UTC")),
            None => write!(f, "@{}ms", self.0),
        }
    }
}

impl Reconcile for Timestamp {
    type Key<'a> = autosurgeon::reconcile::NoKey;
    fn reconcile<R: Reconciler>(&self, mut reconciler: R) -> Result<(), R::Error> {
        reconciler.timestamp(self.0)
    }
}

impl Hydrate for Timestamp {
    fn hydrate_timestamp(t: i64) -> Result<Self, HydrateError> {
        Ok(Self(t))
    }
}

/// SHA-256 of an attachment's bytes, as 64 lowercase hex digits.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Reconcile)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(value_type = String, pattern = "^[0-9a-f]{64}$"))]
#[serde(transparent)]
pub struct ContentHash(pub String);

// By hand: the derived newtype impl cannot be read through an `Option`.
impl Hydrate for ContentHash {
    fn hydrate_string(text: &'_ str) -> Result<Self, HydrateError> {
        Ok(Self(text.to_owned()))
    }
}

impl ContentHash {
    pub fn is_well_formed(&self) -> bool {
        self.0.len() == 64 && self.0.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_v7_id_sorts_by_its_time() {
        let early = DocId::new_v7(Timestamp(1_000), [9; 10]);
        let late = DocId::new_v7(Timestamp(2_000), [0; 10]);
        assert!(early < late, "v7 ids must order by creation time");
        assert_eq!(early.0.get_version_num(), 7);
    }

    #[test]
    fn only_64_lowercase_hex_digits_make_a_content_hash() {
        assert!(ContentHash("ab".repeat(32)).is_well_formed());
        assert!(!ContentHash("AB".repeat(32)).is_well_formed());
        assert!(!ContentHash("ab".repeat(31)).is_well_formed());
    }
}
