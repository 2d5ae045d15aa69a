//! The engineer app's core: everything the Tauri shell and the `outpost`
//! CLI do, with no window.
//!
//! - [`Device`]: a device's store and pairing, and every operation an
//!   engineer makes offline (ticket workflow, notes, checklist, timers,
//!   photos, signature, part requests, new tickets), each checked with
//!   sync-protocol's rules and committed durably before it returns.
//! - [`work`]: those operations as pure functions over the documents.
//! - [`media`]: photo preparation (downscale, re-encode, strip location, thumbnail).
//! - [`sync`]: the sync client and its background loop.
//!
//! The clock and randomness are read only in the shell parts (`device`,
//! `sync`); `work` and `media` take them as input.

mod device;
mod error;
pub mod media;
#[cfg(any(test, feature = "seeding"))]
pub mod seeding;
mod store;
pub mod sync;
mod views;
pub mod work;

pub use device::{
    report_lang, AttachedPhoto, AttachedReport, Device, DeviceEvent, DeviceStatus, NewTicketInput, PairingInfo,
    ReadyScope, DEFAULT_MAX_AGE_HOURS,
};
pub use error::{CoreError, CoreResult, ErrorKind};
/// The service report's types, for the app's commands.
pub use outpost_report;
pub use store::keys::{KeyError, KeyStore, KEY_DIR_ENV};
pub use store::queries::TicketFilter;
pub use store::STORE_FILE;
pub use views::*;
