//! The engineer's device: its store, its pairing with a desk, and every
//! operation the screens and the CLI offer, over the pure rules in
//! [`crate::work`].
//!
//! Every edit is checked, written and projected in one transaction under
//! the device's write lock, then announced on [`Device::events`]; the sync
//! loop takes that as its cue. Sync never holds the lock across the network,
//! so it never blocks an edit.

pub(crate) mod policy;
mod reads;
mod ready;
mod report;
mod writes;

use std::path::Path;
use std::sync::Arc;

use automerge::ActorId;
use outpost_sync::ids::{DocId, Timestamp};
use outpost_sync::model::{Actor, Role};
use serde::{Deserialize, Serialize};
use tokio::sync::{broadcast, Mutex};

use crate::error::{CoreError, CoreResult};
use crate::store::keys::KeyStore;
use crate::store::{self, Store};

pub use reads::DeviceStatus;
pub use ready::{ReadyScope, DEFAULT_MAX_AGE_HOURS};
pub use report::{report_lang, AttachedReport};
pub use writes::{AttachedPhoto, NewTicketInput};

/// What the device keeps of its pairing; the token never leaves the store.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct Pairing {
    pub(crate) desk_url: String,
    pub(crate) device_id: String,
    pub(crate) token: String,
    pub(crate) actor: Actor,
    /// This device's automerge actor id, hex.
    pub(crate) automerge_actor: String,
    /// The seed of this device's signing key for hand-off files (hex); it
    /// never leaves the device. Absent on devices paired before hand-off
    /// files, until their next sync makes one (`Device::exchange_keys`).
    #[serde(default)]
    pub(crate) signing_key: Option<String>,
    /// The desk's public key (hex): the files it writes for this device are signed with it.
    #[serde(default)]
    pub(crate) desk_key: Option<String>,
}

/// The pairing as shown to the user.
#[derive(ts_rs::TS, Clone, Debug, PartialEq, Serialize)]
#[ts(export)]
pub struct PairingInfo {
    pub desk_url: String,
    pub device_id: String,
    pub user_id: String,
    pub org_id: String,
    #[ts(type = "\"engineer\" | \"partner_engineer\"")]
    pub role: Role,
}

/// Something that happened on the device, for the UI and the sync loop.
#[derive(ts_rs::TS, Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[ts(export)]
pub enum DeviceEvent {
    /// The user changed documents here.
    LocalChange {
        docs: Vec<String>,
    },
    /// Sync brought changes from the desk.
    RemoteChange {
        docs: Vec<String>,
    },
    SyncProgress(crate::sync::SyncProgress),
    Connectivity {
        online: bool,
    },
    /// The desk's live channel opened or closed: while open, the desk's
    /// changes arrive within a second instead of at the next periodic sync.
    Live {
        connected: bool,
    },
    /// The desk revoked this device; its data is gone.
    Wiped,
}

pub(crate) const PAIRING_KEY: &str = "pairing";

/// One device's store and identity; cheap to clone and share.
#[derive(Clone)]
pub struct Device {
    inner: Arc<Inner>,
}

struct Inner {
    store: Store,
    /// Serialises this process's writes (SQLite serialises them across processes).
    writer: Mutex<()>,
    events: broadcast::Sender<DeviceEvent>,
    http: reqwest::Client,
    live: LiveState,
}

/// What the live channel knows, in memory: whether it is open, and the
/// cursor of the last round (a poke at or below it brings nothing new).
#[derive(Default)]
pub(crate) struct LiveState {
    pub(crate) connected: std::sync::atomic::AtomicBool,
    pub(crate) cursor: std::sync::atomic::AtomicU64,
}

impl Device {
    /// Opens the device's store in `data_dir`, creating it on first use,
    /// with its key in the key store this machine offers
    /// ([`KeyStore::for_this_machine`]).
    pub async fn open(data_dir: &Path) -> CoreResult<Self> {
        Self::open_with_keys(data_dir, &KeyStore::for_this_machine()).await
    }

    /// Opens the device's store in `data_dir` with its key kept in `keys`.
    pub async fn open_with_keys(data_dir: &Path, keys: &KeyStore) -> CoreResult<Self> {
        Self::with_store(Store::open(data_dir, keys).await?)
    }

    pub(crate) fn with_store(store: Store) -> CoreResult<Self> {
        let (events, _) = broadcast::channel(256);
        let http = reqwest::Client::builder()
            .connect_timeout(std::time::Duration::from_secs(10))
            .timeout(std::time::Duration::from_secs(120))
            .build()
            .map_err(|e| CoreError::Offline(e.to_string()))?;
        Ok(Self { inner: Arc::new(Inner { store, writer: Mutex::new(()), events, http, live: LiveState::default() }) })
    }

    pub(crate) fn store(&self) -> &Store {
        &self.inner.store
    }

    pub(crate) fn live_state(&self) -> &LiveState {
        &self.inner.live
    }

    pub(crate) fn http(&self) -> &reqwest::Client {
        &self.inner.http
    }

    pub(crate) async fn write_lock(&self) -> tokio::sync::MutexGuard<'_, ()> {
        self.inner.writer.lock().await
    }

    /// Events for the UI and the sync loop.
    pub fn events(&self) -> broadcast::Receiver<DeviceEvent> {
        self.inner.events.subscribe()
    }

    pub(crate) fn announce(&self, event: DeviceEvent) {
        // Nobody listening is fine: the CLI has no subscribers.
        let _ = self.inner.events.send(event);
    }

    pub async fn close(&self) {
        self.inner.store.pool().close().await;
    }

    /// Keeps a changed pairing (keys made after it), under the write lock.
    pub(crate) async fn save_pairing(&self, pairing: &Pairing) -> CoreResult<()> {
        let _guard = self.write_lock().await;
        let mut tx = self.store().begin_write().await?;
        let json = serde_json::to_string(pairing).map_err(|e| CoreError::Damaged(e.to_string()))?;
        store::put_setting(&mut tx, PAIRING_KEY, &json).await?;
        tx.commit().await?;
        Ok(())
    }

    pub(crate) async fn pairing(&self) -> CoreResult<Pairing> {
        let text = self.store().setting(PAIRING_KEY).await?.ok_or(CoreError::NotPaired)?;
        serde_json::from_str(&text).map_err(|e| CoreError::Damaged(format!("pairing: {e}")))
    }

    pub async fn pairing_info(&self) -> CoreResult<Option<PairingInfo>> {
        match self.pairing().await {
            Ok(p) => Ok(Some(PairingInfo {
                desk_url: p.desk_url,
                device_id: p.device_id,
                user_id: p.actor.user.to_string(),
                org_id: p.actor.org.to_string(),
                role: p.actor.role,
            })),
            Err(CoreError::NotPaired) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Pairs with the desk at `desk_url` using a one-time code from a dispatcher.
    pub async fn pair(&self, desk_url: &str, code: &str, device_name: &str) -> CoreResult<PairingInfo> {
        if let Some(existing) = self.pairing_info().await? {
            return Err(CoreError::AlreadyPaired(existing.desk_url));
        }
        let desk_url = normalise_desk_url(desk_url)?;
        let code = code.trim();
        if code.is_empty() || code.len() > 100 {
            return Err(CoreError::Invalid("the pairing code is empty or too long".into()));
        }
        let seed = random_seed()?;
        let public_key = outpost_sync::handoff::public_key_hex(&seed);
        let paired = crate::sync::http::pair(self.http(), &desk_url, code, device_name, &public_key).await?;
        let mut actor_bytes = [0u8; 16];
        getrandom::fill(&mut actor_bytes).map_err(|e| CoreError::Damaged(e.to_string()))?;
        let pairing = Pairing {
            desk_url,
            device_id: paired.device_id,
            token: paired.token,
            actor: paired.actor,
            automerge_actor: hex::encode(actor_bytes),
            signing_key: Some(hex::encode(seed)),
            desk_key: paired.desk_key,
        };
        self.save_pairing(&pairing).await?;
        Ok(self.pairing_info().await?.expect("just paired"))
    }

    /// Forgets the pairing and erases every document. Refused while the desk
    /// lacks changes made here, unless `discard_unsynced`.
    pub async fn sign_out(&self, discard_unsynced: bool) -> CoreResult<()> {
        let _guard = self.write_lock().await;
        let status = self.status().await?;
        let unsynced = status.pending_documents + status.pending_blobs;
        if unsynced > 0 && !discard_unsynced {
            return Err(CoreError::Unsynced(unsynced as u64));
        }
        let mut tx = self.store().begin_write().await?;
        store::erase_all(&mut tx).await?;
        tx.commit().await?;
        self.store().shred().await
    }
}

impl Pairing {
    pub(crate) fn automerge_actor(&self) -> CoreResult<ActorId> {
        hex::decode(&self.automerge_actor)
            .map(ActorId::from)
            .map_err(|e| CoreError::Damaged(format!("automerge actor: {e}")))
    }
}

fn normalise_desk_url(url: &str) -> CoreResult<String> {
    let url = url.trim().trim_end_matches('/');
    let parsed = reqwest::Url::parse(url).map_err(|e| CoreError::Invalid(format!("desk URL {url:?}: {e}")))?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host().is_none() {
        return Err(CoreError::Invalid(format!("desk URL {url:?} must be http:// or https:// with a host")));
    }
    Ok(url.to_owned())
}

/// The wall clock, read only here, at the shell's edge.
pub(crate) fn now() -> Timestamp {
    let at = Timestamp::from_datetime(chrono::Utc::now());
    // Tests move the device's clock as a person or a wrong time zone would.
    #[cfg(any(test, feature = "seeding"))]
    let at = at.plus_millis(crate::seeding::clock_skew_ms());
    at
}

/// A fresh UUIDv7-based id.
pub(crate) fn fresh_random() -> [u8; 10] {
    let mut bytes = [0u8; 10];
    getrandom::fill(&mut bytes).expect("the operating system provides randomness");
    bytes
}

pub(crate) fn parse_doc_id(kind: &'static str, id: &str) -> CoreResult<DocId> {
    id.trim().parse().map_err(|_| CoreError::Invalid(format!("{id:?} is not a {kind} id")))
}

#[cfg(test)]
mod tests;

/// 32 bytes from the operating system's randomness: a key's seed.
pub(crate) fn random_seed() -> CoreResult<[u8; 32]> {
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed).map_err(|e| CoreError::Damaged(e.to_string()))?;
    Ok(seed)
}

#[cfg(test)]
mod url_tests {
    use super::normalise_desk_url;

    #[test]
    fn desk_urls_must_be_http_with_a_host() {
        assert_eq!(normalise_desk_url(" http://127.0.0.1:8710/ ").unwrap(), "http://127.0.0.1:8710");
        for bad in ["", "127.0.0.1:8710", "ftp://desk", "http://", "not a url"] {
            assert!(normalise_desk_url(bad).is_err(), "{bad:?} is refused");
        }
    }
}
