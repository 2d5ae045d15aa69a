//! Outpost's central desk: the server devices sync with and dispatchers
//! work through. `app(state)` builds the router; `main.rs` only reads the
//! configuration, opens the database and serves.

pub mod accounts;
pub mod blobs;
pub mod db;
pub mod demo;
pub mod directory;
mod error;
pub mod handoff;
pub mod live;
pub mod metrics;
mod openapi;
mod projection;
pub mod reactions;
pub mod reports;
mod routes;
pub mod service_report;
pub mod store;
pub mod sync;

use axum::Router;
use outpost_sync::ids::Timestamp;
use outpost_sync::session::ServerConfig;

pub use db::{Backend, Db};
pub use error::ApiError;
pub use outpost_sync::sla;
pub use routes::SYNC_CONTENT_TYPE;

/// Everything a request handler needs; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub metrics: std::sync::Arc<metrics::Metrics>,
    /// Open live channels and the feed follower that pokes them.
    pub live: std::sync::Arc<live::Live>,
    pub sync: ServerConfig,
    pub pairing_ttl_ms: i64,
}

impl AppState {
    pub fn new(db: Db) -> Self {
        Self {
            db,
            metrics: Default::default(),
            live: Default::default(),
            sync: ServerConfig::new(desk_actor()),
            pairing_ttl_ms: 24 * 3_600_000,
        }
    }
}

/// The desk's automerge actor: fixed, so every desk process writes as one author.
pub fn desk_actor() -> automerge::ActorId {
    automerge::ActorId::from(*b"outpost-desk-v1!")
}

pub fn app(state: AppState) -> Router {
    routes::router(state.clone()).with_state(state)
}

/// The desk as a service for `axum::serve`, with each request's peer
/// address known (the pairing throttle counts failures per address).
pub fn service(
    state: AppState,
) -> axum::extract::connect_info::IntoMakeServiceWithConnectInfo<Router, std::net::SocketAddr> {
    app(state).into_make_service_with_connect_info::<std::net::SocketAddr>()
}

/// The desk's clock, read at the edge and passed inward.
pub fn now() -> Timestamp {
    Timestamp::from_datetime(chrono::Utc::now())
}
