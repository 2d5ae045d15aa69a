//! The sync client: drives outpost-sync's `ClientSession` over HTTP and
//! applies what comes back to the store, one transaction per round.
//!
//! A round's reply is applied together with the new cursor, so a crash or a
//! cut connection at any point leaves the device either before the round
//! or after it; replaying a round is harmless on both sides. Documents go
//! first, then blobs (signatures and thumbnails before full photos), each
//! resumed from the byte the desk already has.

mod background;
mod handoff;
pub(crate) mod http;
mod live;
mod schedule;

use std::collections::{BTreeSet, HashMap};

use automerge::{AutoCommit, ChangeHash, LoadOptions, OnPartialLoad, VerificationMode};
use outpost_sync::ids::{DocId, Timestamp};
use outpost_sync::limits::WireLimits;
use outpost_sync::model::{DocKind, Document};
use outpost_sync::session::{ClientEvent, ClientSession, ClientState, OutboundDoc, RoundEnd};
use outpost_sync::wire::{to_change_hashes, RoundId};
use serde::Serialize;

pub use background::{SyncLoop, SyncLoopHandle};
pub use handoff::{FeedTaken, OutboxWritten};
pub use schedule::{retry_delay, Schedule};

use crate::device::{now, Device, DeviceEvent, Pairing};
use crate::error::{CoreError, CoreResult};
use crate::store::{self, Bookkeeping, WriteTx};

pub(crate) const LAST_SYNC_KEY: &str = "last_sync_at";
pub(crate) const LAST_ERROR_KEY: &str = "last_sync_error";
/// "1" while the last sync could not reach the desk.
pub(crate) const OFFLINE_KEY: &str = "last_sync_offline";
const STATE_KEY: &str = "sync_state";
/// When a sync last ended with nothing more waiting at the desk.
pub(crate) const LAST_FULL_SYNC_KEY: &str = "last_full_sync_at";
/// How far the desk's clock ran ahead of this device's at the last sync (ms).
pub(crate) const CLOCK_OFFSET_KEY: &str = "clock_offset_ms";
/// Documents to ask the desk for whole at the next sync (JSON list of ids).
pub(crate) const WANTED_KEY: &str = "wanted_whole";
/// Rounds in one sync before it stops and reports (a first sync of 10,000 tickets takes about 20).
const MAX_ROUNDS: u32 = 200;
/// Bytes of a blob sent in one request.
const BLOB_CHUNK: usize = 256 * 1024;

/// How far a sync has got, for a progress bar.
#[derive(ts_rs::TS, Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[ts(export)]
pub struct SyncProgress {
    pub rounds: u32,
    #[ts(type = "number")]
    pub documents_sent: u64,
    #[ts(type = "number")]
    pub documents_received: u64,
    #[ts(type = "number")]
    pub bytes_sent: u64,
    #[ts(type = "number")]
    pub bytes_received: u64,
    #[ts(type = "number")]
    pub blobs_sent: u64,
    #[ts(type = "number")]
    pub blobs_total: u64,
    #[ts(type = "number")]
    pub blob_bytes_sent: u64,
    pub done: bool,
}

/// What one sync did.
#[derive(ts_rs::TS, Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[ts(export)]
pub struct SyncReport {
    pub progress: SyncProgress,
    /// Edits the desk refused this time, in words.
    pub refused: Vec<String>,
    /// Blobs left for later (the desk does not know their document yet).
    #[ts(type = "number")]
    pub blobs_waiting: u64,
    /// The desk had nothing more for this device when the sync ended.
    pub caught_up: bool,
    /// How far the desk's clock ran ahead of this device's at the last round (ms).
    #[ts(type = "number | null")]
    pub clock_offset_ms: Option<i64>,
    /// The company's policy for this device, as the desk's last reply said.
    #[serde(skip)]
    #[ts(skip)]
    pub(crate) policy: Option<outpost_sync::policy::DevicePolicy>,
}

fn damaged(e: impl std::fmt::Display) -> CoreError {
    CoreError::Damaged(e.to_string())
}

impl Device {
    /// Syncs with the desk until neither side has more to say, then uploads
    /// blobs. Edits made meanwhile are never blocked; they go next time.
    pub async fn sync_now(&self) -> CoreResult<SyncReport> {
        let pairing = self.pairing().await?;
        let result = self.sync_with(&pairing).await;
        let _guard = self.write_lock().await;
        let mut tx = self.store().begin_write().await?;
        let offline = matches!(result, Err(CoreError::Offline(_)));
        if !matches!(result, Err(CoreError::Wiped)) {
            store::put_setting(&mut tx, OFFLINE_KEY, if offline { "1" } else { "0" }).await?;
        }
        match &result {
            Ok(report) => {
                store::put_setting(&mut tx, LAST_SYNC_KEY, &now().0.to_string()).await?;
                if report.caught_up {
                    store::put_setting(&mut tx, LAST_FULL_SYNC_KEY, &now().0.to_string()).await?;
                }
                if let Some(offset) = report.clock_offset_ms {
                    store::put_setting(&mut tx, CLOCK_OFFSET_KEY, &offset.to_string()).await?;
                }
                let offset = match report.clock_offset_ms {
                    Some(offset) => offset,
                    None => self.store().setting(CLOCK_OFFSET_KEY).await?.and_then(|v| v.parse().ok()).unwrap_or(0),
                };
                crate::device::policy::record_contact(&mut tx, report.policy.as_ref(), offset).await?;
                store::put_setting(&mut tx, LAST_ERROR_KEY, "").await?;
            }
            Err(CoreError::Wiped) => {}
            Err(e) => store::put_setting(&mut tx, LAST_ERROR_KEY, &e.to_string()).await?,
        }
        tx.commit().await?;
        result
    }

    /// The sync session's state as the last round left it.
    async fn client_state(&self) -> CoreResult<ClientState> {
        Ok(match self.store().setting(STATE_KEY).await? {
            Some(json) => serde_json::from_str(&json).map_err(damaged)?,
            None => ClientState::default(),
        })
    }

    /// The feed position this device's last round reached.
    pub(crate) async fn sync_cursor(&self) -> CoreResult<u64> {
        Ok(self.client_state().await?.cursor.0)
    }

    async fn sync_with(&self, pairing: &Pairing) -> CoreResult<SyncReport> {
        let mut report = SyncReport::default();
        // A device paired before hand-off files gets its keys now; a desk
        // that does not answer for them does not stop the sync.
        let exchanged = self.exchange_keys(pairing.clone()).await;
        if let Err(err) = &exchanged {
            tracing::warn!(%err, "no key exchange with the desk this time");
        }
        let state = self.state_with_wanted().await?;
        let limits = WireLimits::default();
        let max_reply = limits.max_message;
        let mut session = ClientSession::new(state, limits);
        // The next round's reply, asked for while the last one was applied.
        let mut next: Option<(CoreResult<http::RoundReply>, u64)> = None;
        loop {
            report.progress.rounds += 1;
            let (reply, sent_docs) = match next.take() {
                Some(asked) => asked,
                None => {
                    let (request, sent_docs) = self.start_round(&mut session).await?;
                    report.progress.bytes_sent += request.len() as u64;
                    (http::round(self.http(), &pairing.desk_url, &pairing.token, request, max_reply).await, sent_docs)
                }
            };
            let reply = match reply {
                Ok(reply) => {
                    report.clock_offset_ms = reply.clock_offset_ms.or(report.clock_offset_ms);
                    report.policy = reply.policy.or(report.policy);
                    reply.bytes
                }
                Err(err) => {
                    session.handle_transport_error(&err.to_string());
                    return Err(err);
                }
            };
            report.progress.bytes_received += reply.len() as u64;
            if let Err(err) = session.handle_response(now(), &reply) {
                return Err(CoreError::Desk(format!("unreadable reply: {err}")));
            }
            // More pages wait (a first sync): the desk works on the next one
            // while this one is applied; rounds are still applied in order.
            let ask_next = sent_docs == 0 && session.more_waits() && report.progress.rounds < MAX_ROUNDS;
            let (round, again) = if ask_next {
                let (request, sent_docs) = self.start_round(&mut session).await?;
                report.progress.bytes_sent += request.len() as u64;
                let asking = http::round(self.http(), &pairing.desk_url, &pairing.token, request, max_reply);
                let (round, reply) = tokio::join!(self.apply_round(&mut session), asking);
                next = Some((reply, sent_docs));
                (round?, true)
            } else {
                let round = self.apply_round(&mut session).await?;
                let again = match session.next_step() {
                    RoundEnd::Wiped => {
                        self.announce(DeviceEvent::Wiped);
                        return Err(CoreError::Wiped);
                    }
                    RoundEnd::Failed(reason) => return Err(CoreError::Desk(reason)),
                    RoundEnd::Again => true,
                    RoundEnd::Done => false,
                };
                (round, again)
            };
            report.refused.extend(round.refused);
            report.progress.documents_sent += sent_docs;
            report.progress.documents_received += round.received.len() as u64;
            if !round.received.is_empty() || !round.dropped.is_empty() {
                self.announce(DeviceEvent::RemoteChange {
                    docs: round.received.iter().chain(&round.dropped).map(DocId::to_string).collect(),
                });
            }
            self.announce(DeviceEvent::SyncProgress(report.progress.clone()));
            if !again {
                report.caught_up = true;
                break;
            }
            if report.progress.rounds >= MAX_ROUNDS {
                break;
            }
        }
        report.blobs_waiting = self.upload_blobs(pairing, &mut report.progress).await?;
        report.progress.done = true;
        self.announce(DeviceEvent::SyncProgress(report.progress.clone()));
        Ok(report)
    }

    /// The session's state, with the documents asked for whole since the
    /// last sync (`fetch_missing`) moved into it, in one transaction.
    async fn state_with_wanted(&self) -> CoreResult<ClientState> {
        let _guard = self.write_lock().await;
        let mut state = self.client_state().await?;
        let Some(wanted) = self.store().setting(WANTED_KEY).await? else {
            return Ok(state);
        };
        let wanted: BTreeSet<DocId> = serde_json::from_str(&wanted).map_err(damaged)?;
        state.refetch.extend(wanted);
        let mut tx = self.store().begin_write().await?;
        store::put_setting(&mut tx, STATE_KEY, &serde_json::to_string(&state).map_err(damaged)?).await?;
        sqlx::query("DELETE FROM device WHERE key = ?").bind(WANTED_KEY).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(state)
    }

    /// Starts a round pushing what the desk lacks; returns its request and
    /// how many documents it pushes.
    async fn start_round(&self, session: &mut ClientSession) -> CoreResult<(Vec<u8>, u64)> {
        let outbound = self.outbound().await?;
        let sent_docs = outbound.len() as u64;
        session
            .start_round(now(), RoundId(u64::from_le_bytes(random8())), outbound)
            .map_err(|e| CoreError::Damaged(e.to_string()))?;
        let request = session.poll_transmit().expect("a started round has a request");
        Ok((request, sent_docs))
    }

    /// Every document with changes the desk has not acknowledged.
    async fn outbound(&self) -> CoreResult<Vec<OutboundDoc>> {
        let ids: Vec<(String,)> = sqlx::query_as("SELECT id FROM documents WHERE dirty = 1 ORDER BY updated_at")
            .fetch_all(self.store().pool())
            .await?;
        let mut outbound = Vec::new();
        let mut conn = self.store().pool().acquire().await?;
        for (id,) in ids {
            let id: DocId = id.parse().map_err(|_| damaged(format!("document id {id:?}")))?;
            if let Some(mut loaded) = store::load(&mut conn, id).await? {
                outbound.extend(OutboundDoc::pending(id, loaded.kind, &mut loaded.doc, &loaded.acked));
            }
        }
        Ok(outbound)
    }

    /// Applies the session's events and saves its state, in one transaction.
    async fn apply_round(&self, session: &mut ClientSession) -> CoreResult<RoundApplied> {
        let mut applied = RoundApplied::default();
        let _guard = self.write_lock().await;
        let mut tx = self.store().begin_write().await?;
        let at = now();
        let events: Vec<ClientEvent> = std::iter::from_fn(|| session.poll_event()).collect();
        let mut merged = merge_new_documents(&mut tx, &events).await?;
        let mut batch = store::Batch::default();
        for event in events {
            // Everything but a document's update reads the store: what waits goes first.
            if !matches!(event, ClientEvent::Apply(_)) {
                batch.write(&mut tx).await?;
            }
            match event {
                ClientEvent::Apply(update) => {
                    if batch.holds(update.doc) {
                        batch.write(&mut tx).await?;
                    }
                    let heads = to_change_hashes(&update.heads);
                    let ready = merged.remove(&update.doc);
                    let (id, kind) = (update.doc, update.kind);
                    if apply_update(&mut tx, &mut batch, id, kind, &update.changes, &heads, at, ready).await? {
                        applied.received.insert(update.doc);
                    } else {
                        session.request_full(update.doc);
                    }
                }
                ClientEvent::Pushed { doc, acked, refused } => {
                    acknowledge(&mut tx, doc, &acked, at).await?;
                    for r in refused {
                        let text = format!("{}: {}", r.field, r.reason);
                        notice(&mut tx, doc, at, "refused_edit", Some(&r.field), &r.reason).await?;
                        applied.refused.push(text);
                    }
                }
                ClientEvent::PushRefused { doc, acked, reason } => {
                    acknowledge(&mut tx, doc, &acked, at).await?;
                    notice(&mut tx, doc, at, "refused_document", None, &reason).await?;
                    applied.refused.push(reason);
                }
                ClientEvent::ResendAll { doc } => {
                    store::set_bookkeeping(&mut tx, doc, Bookkeeping { acked: &[], dirty: true }, at).await?;
                }
                ClientEvent::TooLarge { doc, bytes } => {
                    let text = format!("{bytes} bytes of changes are more than one sync message carries");
                    notice(&mut tx, doc, at, "too_large", None, &text).await?;
                }
                // How the round ended is the session's to say (`next_step`).
                ClientEvent::RoundComplete { .. } | ClientEvent::RoundFailed { .. } => {}
                ClientEvent::Wipe => {
                    store::erase_all(&mut tx).await?;
                    tx.commit().await?;
                    self.store().shred().await?;
                    return Ok(applied);
                }
            }
        }
        batch.write(&mut tx).await?;
        applied.dropped = drop_withdrawn(&mut tx, session, at).await?;
        let state = serde_json::to_string(session.state()).map_err(damaged)?;
        store::put_setting(&mut tx, STATE_KEY, &state).await?;
        tx.commit().await?;
        self.live_state().cursor.store(session.state().cursor.0, std::sync::atomic::Ordering::Release);
        Ok(applied)
    }

    /// Uploads pending blobs; returns how many must wait for a later sync.
    async fn upload_blobs(&self, pairing: &Pairing, progress: &mut SyncProgress) -> CoreResult<u64> {
        let pending: Vec<(String,)> =
            sqlx::query_as("SELECT hash FROM blobs WHERE uploaded = 0 ORDER BY upload_rank, created_at")
                .fetch_all(self.store().pool())
                .await?;
        progress.blobs_total = pending.len() as u64;
        let mut waiting = 0;
        for (hash,) in pending {
            let (desk, token) = (&pairing.desk_url, &pairing.token);
            let Some(mut status) = http::blob_status(self.http(), desk, token, &hash).await? else {
                waiting += 1;
                continue;
            };
            if !status.complete {
                let (bytes,): (Vec<u8>,) = sqlx::query_as("SELECT bytes FROM blobs WHERE hash = ?")
                    .bind(&hash)
                    .fetch_one(self.store().pool())
                    .await?;
                let mut offset = usize::try_from(status.received).unwrap_or(0).min(bytes.len());
                while !status.complete {
                    let end = (offset + BLOB_CHUNK).min(bytes.len());
                    let last = end == bytes.len();
                    let chunk = bytes[offset..end].to_vec();
                    status = http::upload_chunk(self.http(), desk, token, &hash, offset as i64, chunk, last).await?;
                    progress.blob_bytes_sent += (end - offset) as u64;
                    offset = usize::try_from(status.received).unwrap_or(0).min(bytes.len());
                    if !status.complete && last && offset == bytes.len() {
                        return Err(CoreError::Desk(format!("the desk did not complete blob {hash}")));
                    }
                    self.announce(DeviceEvent::SyncProgress(progress.clone()));
                }
            }
            sqlx::query("UPDATE blobs SET uploaded = 1 WHERE hash = ?")
                .bind(&hash)
                .execute(self.store().pool())
                .await?;
            progress.blobs_sent += 1;
        }
        Ok(waiting)
    }

    /// A photo, thumbnail or signature: from this device, or fetched from the desk.
    pub async fn blob(&self, hash: &str) -> CoreResult<Vec<u8>> {
        self.gate().await?;
        if !outpost_sync::ids::ContentHash(hash.to_owned()).is_well_formed() {
            return Err(CoreError::Invalid(format!("{hash:?} is not a SHA-256 hex digest")));
        }
        if let Some((_, bytes)) = self.stored_blob(hash).await? {
            return Ok(bytes);
        }
        let pairing = self.pairing().await?;
        let bytes = http::download_blob(self.http(), &pairing.desk_url, &pairing.token, hash).await?;
        if crate::media::content_hash(&bytes).0 != hash {
            return Err(CoreError::Desk("the file's bytes do not match its hash".into()));
        }
        Ok(bytes)
    }
}

#[derive(Default)]
struct RoundApplied {
    received: BTreeSet<DocId>,
    /// Documents withdrawn by the desk and erased here.
    dropped: Vec<DocId>,
    refused: Vec<String>,
}

fn random8() -> [u8; 8] {
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes).expect("the operating system provides randomness");
    bytes
}

/// A document with the desk's changes merged in, and read.
pub(crate) enum Merged {
    Complete(Box<(AutoCommit, Result<Document, outpost_sync::model::SchemaError>)>),
    /// The bytes build on history they do not carry.
    Incomplete,
}

impl Merged {
    /// Merges `changes` into `doc` and reads it.
    fn merge(mut doc: AutoCommit, id: DocId, kind: DocKind, changes: &[u8]) -> Self {
        if doc.load_incremental(changes).is_err() {
            return Self::Incomplete;
        }
        Self::read(doc, id, kind)
    }

    /// Loads a document new to this device from the desk's bytes and reads it.
    /// The heads the bytes record are not checked against the heads of the
    /// changes they hold (a fifth of the load): only the latter are used,
    /// and what the device acknowledges is checked against them (`frontier`).
    fn load_new(id: DocId, kind: DocKind, bytes: &[u8]) -> Self {
        let options =
            LoadOptions::new().on_partial_load(OnPartialLoad::Ignore).verification_mode(VerificationMode::DontCheck);
        match AutoCommit::load_with_options(bytes, options) {
            Ok(doc) => Self::read(doc, id, kind),
            Err(_) => Self::Incomplete,
        }
    }

    fn read(mut doc: AutoCommit, id: DocId, kind: DocKind) -> Self {
        if !doc.get_missing_deps(&[]).is_empty() {
            return Self::Incomplete;
        }
        let read = Document::hydrate_as(&doc, id, kind);
        Self::Complete(Box::new((doc, read)))
    }
}

/// Merges and reads, on every core, the documents of a round that the
/// device does not have yet: the bulk of a first sync, and pure work that
/// needs no store (a page of 500 tickets is seconds on one core).
async fn merge_new_documents(tx: &mut WriteTx, events: &[ClientEvent]) -> CoreResult<HashMap<DocId, Merged>> {
    let updates: HashMap<DocId, &outpost_sync::wire::DocUpdate> = events
        .iter()
        .rev()
        .filter_map(|e| match e {
            ClientEvent::Apply(update) => Some((update.doc, update)),
            _ => None,
        })
        .collect();
    let ids: Vec<DocId> = updates.keys().copied().collect();
    let known = store::existing(tx, &ids).await?;
    let work: Vec<(DocId, DocKind, Vec<u8>)> = updates
        .into_iter()
        .filter(|(id, _)| !known.contains(id))
        .map(|(id, update)| (id, update.kind, update.changes.clone()))
        .collect();
    if work.is_empty() {
        return Ok(HashMap::new());
    }
    let merged = tokio::task::spawn_blocking(move || {
        let threads = std::thread::available_parallelism().map_or(1, usize::from).min(8);
        let per_thread = work.len().div_ceil(threads);
        std::thread::scope(|scope| {
            let handles: Vec<_> = work
                .chunks(per_thread)
                .map(|chunk| {
                    scope.spawn(move || {
                        chunk
                            .iter()
                            .map(|(id, kind, bytes)| (*id, Merged::load_new(*id, *kind, bytes)))
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            handles.into_iter().flat_map(|h| h.join().expect("merging a document does not panic")).collect()
        })
    })
    .await
    .map_err(|e| CoreError::Damaged(format!("merging the desk's documents failed: {e}")))?;
    Ok(merged)
}

/// Merges the desk's changes into a document; `false` when the local copy
/// lacks history they build on (the document is then asked for whole).
/// `merged` is the document already merged from `changes`, when it is new here.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn apply_update(
    tx: &mut WriteTx,
    batch: &mut store::Batch,
    id: DocId,
    kind: DocKind,
    changes: &[u8],
    desk_heads: &[ChangeHash],
    at: Timestamp,
    merged: Option<Merged>,
) -> CoreResult<bool> {
    let existing = match merged {
        Some(_) => None,
        None => store::load(tx, id).await?,
    };
    let (heads_before, acked, dirty, merged) = match (existing, merged) {
        (Some(mut loaded), _) => {
            let heads = loaded.doc.get_heads();
            (Some(heads), loaded.acked, loaded.dirty, Merged::merge(loaded.doc, id, kind, changes))
        }
        (None, merged) => {
            let merged = merged.unwrap_or_else(|| Merged::load_new(id, kind, changes));
            (None, Vec::new(), false, merged)
        }
    };
    let Merged::Complete(merged) = merged else {
        return Ok(false);
    };
    let (mut doc, read) = *merged;
    let document = match read {
        Ok(document) => document,
        Err(err) => {
            notice(tx, id, at, "unreadable", None, &format!("this app cannot show it: {err}")).await?;
            return Ok(true);
        }
    };
    let acked = frontier(&mut doc, acked.iter().chain(desk_heads).copied().collect());
    let dirty = dirty && !doc.save_after(&acked).is_empty();
    let bookkeeping = Bookkeeping { acked: &acked, dirty };
    batch.save(tx, &mut doc, heads_before.as_deref(), &document, bookkeeping, at).await?;
    Ok(true)
}

/// Erases the documents the desk withdrew from this device (a ticket handed
/// to someone else, and what only it made readable) once nothing of this
/// device's work on them waits for the desk; the engineer is told which
/// tickets went.
async fn drop_withdrawn(tx: &mut WriteTx, session: &mut ClientSession, at: Timestamp) -> CoreResult<Vec<DocId>> {
    let withdrawn: Vec<DocId> = session.state().withdrawn.iter().copied().collect();
    let mut waiting = BTreeSet::new();
    for doc in withdrawn {
        if store::has_unsent_work(tx, doc).await? {
            waiting.insert(doc);
        }
    }
    let dropped = session.take_droppable(|doc| waiting.contains(&doc));
    for doc in &dropped {
        let doc = *doc;
        let ticket: Option<(String, String)> = sqlx::query_as("SELECT number, title FROM tickets WHERE id = ?")
            .bind(doc.to_string())
            .fetch_optional(&mut **tx)
            .await?;
        store::erase_document(tx, doc).await?;
        if let Some((number, title)) = ticket {
            let text = format!("{number} \"{title}\" was handed to someone else; it is no longer on this device");
            notice(tx, doc, at, "withdrawn", None, &text).await?;
        }
    }
    Ok(dropped)
}

/// Records that the desk holds `heads` of a document; it stays dirty only
/// if edits were made here since the push.
async fn acknowledge(tx: &mut WriteTx, id: DocId, heads: &[ChangeHash], at: Timestamp) -> CoreResult<()> {
    let Some(mut loaded) = store::load(tx, id).await? else {
        return Ok(());
    };
    let acked = frontier(&mut loaded.doc, loaded.acked.iter().chain(heads).copied().collect());
    let dirty = !loaded.doc.save_after(&acked).is_empty();
    store::set_bookkeeping(tx, id, Bookkeeping { acked: &acked, dirty }, at).await
}

/// The hashes of `known` that the document has and that are not ancestors of others.
fn frontier(doc: &mut AutoCommit, known: BTreeSet<ChangeHash>) -> Vec<ChangeHash> {
    // The usual case, and the whole of a first sync: what is known is the
    // document's heads, which no other head descends from. Asking automerge
    // for a change by hash rebuilds it, the largest cost of a first sync.
    let heads = doc.get_heads();
    if known.iter().all(|h| heads.contains(h)) {
        return known.into_iter().collect();
    }
    let present: Vec<ChangeHash> = known.into_iter().filter(|h| doc.get_change_by_hash(h).is_some()).collect();
    if present.len() <= 1 {
        return present;
    }
    doc.fork_at(&present).map(|mut f| f.get_heads()).unwrap_or(present)
}

async fn notice(
    tx: &mut WriteTx,
    doc: DocId,
    at: Timestamp,
    kind: &str,
    field: Option<&str>,
    explanation: &str,
) -> CoreResult<()> {
    sqlx::query("INSERT INTO notices (doc_id, at, kind, field, explanation) VALUES (?, ?, ?, ?, ?)")
        .bind(doc.to_string())
        .bind(at.0)
        .bind(kind)
        .bind(field)
        .bind(explanation)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use automerge::transaction::Transactable;
    use automerge::ROOT;

    use super::*;

    fn edited(doc: &mut AutoCommit, value: i64) -> ChangeHash {
        doc.put(ROOT, "n", value).unwrap();
        doc.commit().unwrap()
    }

    #[test]
    fn the_frontier_keeps_what_no_other_known_change_descends_from() {
        let mut doc = AutoCommit::new();
        let first = edited(&mut doc, 1);
        let mut fork = doc.fork();
        let second = edited(&mut doc, 2);
        let beside = edited(&mut fork, 3);
        doc.merge(&mut fork).unwrap();
        let stranger = ChangeHash([9; 32]);

        // The heads themselves: the shortcut.
        let heads: BTreeSet<_> = doc.get_heads().into_iter().collect();
        assert_eq!(frontier(&mut doc, heads.clone()), heads.iter().copied().collect::<Vec<_>>());
        // An ancestor beside the change that descends from it goes.
        assert_eq!(frontier(&mut doc, [first, second].into()), vec![second]);
        // A change this document does not have goes.
        assert_eq!(frontier(&mut doc, [first, stranger].into()), vec![first]);
        let mut both = frontier(&mut doc, [first, second, beside].into());
        both.sort();
        let mut expected = vec![second, beside];
        expected.sort();
        assert_eq!(both, expected);
    }
}
