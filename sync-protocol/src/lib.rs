//! Outpost's synced data model and sync protocol.
pub mod ids;
pub mod limits;
pub mod memory;
pub mod model;
pub mod permissions;
pub mod sample;
pub mod session;
pub mod wire;
pub mod workflow;
