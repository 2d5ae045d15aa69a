//! Outpost's synced data model and sync protocol.
//!
//! # Contract
//! This crate is pure: no sockets, no files, no async runtime, no SQL, and
//! no clock or random source read inside. Time (`now`) and randomness (ids,
//! round ids, automerge actor ids) come in as arguments, so every test can
//! replay any schedule exactly.
//!
//! # What is here
//! - [`model`]: one automerge document per entity (ticket, equipment, part
//!   request, reference data), typed through autosurgeon, schema-versioned.
//! - [`workflow`]: ticket and part-request status as a deterministic fold
//!   over an append-only transitions log, reporting the conflicts it resolved.
//! - [`permissions`]: which field changes an author may make, as a pure
//!   function that also returns the corrected document for the desk's
//!   compensating change.
//! - [`handoff`]: signed files that carry sync rounds by hand.
//! - [`wire`]: the versioned, length-bounded binary messages (format
//!   documented there).
//! - [`session`]: the client and server sides of a sync round as state
//!   machines: `handle_*` in, `poll_*` out.
//! - [`memory`]: in-memory desk and device stores that drive the sessions;
//!   the reference for real storage, and the test and benchmark harness.
//! - [`sla`]: SLA deadlines counted in a contract's business hours.
//! - [`reactions`]: what the desk does, on its own clock, when a field
//!   user's ticket lands (deadlines, first response, points), decided once
//!   for every desk.
//! - [`sample`]: seeded, realistic sample records.

pub mod handoff;
pub mod ids;
pub mod limits;
pub mod memory;
pub mod model;
pub mod permissions;
pub mod policy;
pub mod reactions;
pub mod sample;
pub mod session;
pub mod sla;
pub mod wire;
pub mod workflow;
