//! In-memory stores that drive the sessions: a desk and a device.
//!
//! They are the reference for what real storage must do (the desk's SQL
//! tables and the app's SQLite store follow the same steps), and they let
//! tests, the benchmark and the fuzz target run whole sync rounds with no
//! network, no disk and no clock.

use std::collections::{BTreeMap, BTreeSet};

use automerge::{ActorId, AutoCommit, ChangeHash};

use crate::ids::{DocId, Timestamp};
use crate::limits::{FieldLimits, WireLimits};
use crate::model::{new_document, Actor, DocKind, Document, SchemaError};
use crate::permissions::{grants, review, Reader, Refusal, Verdict};
use crate::session::{
    error_reply, ClientEvent, ClientSession, ClientState, FeedEntry, FeedPage, OutboundDoc, RefusedPush, RoundEnd,
    ServerConfig, ServerRound, ServerTask, SessionError, StoreDocument, StoredDoc, Withdrawal,
};
use crate::wire::{Cursor, ErrorCode, RefusalReport, RoundId};

/// One reader's access to a document.
#[derive(Clone, Debug)]
struct Grant {
    /// The feed position since which the reader may read it.
    at: u64,
    /// The documents whose grants give it.
    sources: BTreeSet<DocId>,
}

struct DeskDoc {
    kind: DocKind,
    bytes: Vec<u8>,
    seq: u64,
    heads: Vec<ChangeHash>,
    document: Document,
}

/// A refused change as the desk's audit log keeps it.
#[derive(Clone, Debug, PartialEq)]
pub struct AuditEntry {
    pub doc: DocId,
    pub author: Actor,
    pub refusal: Refusal,
    pub at: Timestamp,
}

/// A desk as the scenario and property tests drive it: rounds for devices,
/// and the desk's own writes. The memory desk below and the SQL desk
/// (SQLite, PostgreSQL) implement it, and one suite runs on each, so what
/// the tests prove of the reference they prove of the product. It is a test
/// harness's contract: a storage failure is a failed test, so it panics.
pub trait DeskStore {
    /// Answers one device request: the request's bytes in, the response's out.
    fn round(&mut self, now: Timestamp, author: &Actor, request: &[u8]) -> Vec<u8>;
    /// Creates a document as the desk.
    fn create(&mut self, document: &Document);
    /// Changes a document as the desk, through the typed model.
    fn edit(&mut self, id: DocId, change: &mut dyn FnMut(&mut Document));
    /// The desk's copy of a document, as it reads now.
    fn document(&self, id: DocId) -> Option<Document>;
    fn heads(&self, id: DocId) -> Option<Vec<ChangeHash>>;
    /// The document as stored, in automerge's format: what a leaked copy holds.
    fn bytes(&self, id: DocId) -> Option<Vec<u8>>;
    /// The newest position of the change feed.
    fn latest(&self) -> Cursor;
    /// Every refusal in the audit log, partial or whole, oldest first.
    fn refusals(&self) -> Vec<AuditedRefusal>;
}

/// A refusal as a desk's audit log keeps it: which document, whose push, and
/// in words what was refused (a partial refusal names the field).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditedRefusal {
    pub doc: DocId,
    pub user: crate::ids::UserId,
    pub detail: String,
}

impl DeskStore for MemoryDesk {
    fn round(&mut self, now: Timestamp, author: &Actor, request: &[u8]) -> Vec<u8> {
        self.handle(now, author, request)
    }

    fn create(&mut self, document: &Document) {
        Self::create(self, document).expect("the document is valid");
    }

    fn edit(&mut self, id: DocId, change: &mut dyn FnMut(&mut Document)) {
        Self::edit(self, id, change).expect("the desk holds the document");
    }

    fn document(&self, id: DocId) -> Option<Document> {
        Self::document(self, id).cloned()
    }

    fn heads(&self, id: DocId) -> Option<Vec<ChangeHash>> {
        Self::heads(self, id)
    }

    fn bytes(&self, id: DocId) -> Option<Vec<u8>> {
        self.docs.get(&id).map(|d| d.bytes.clone())
    }

    fn latest(&self) -> Cursor {
        Self::latest(self)
    }

    fn refusals(&self) -> Vec<AuditedRefusal> {
        let partial = self.audit.iter().map(|a| (a.at, a.doc, a.author.user, a.refusal.to_string()));
        let whole = self.refused_pushes.iter().map(|r| (r.at, r.doc, r.author.user, r.reason.clone()));
        let mut all: Vec<_> = partial.chain(whole).collect();
        all.sort_by_key(|(at, ..)| *at);
        all.into_iter().map(|(_, doc, user, detail)| AuditedRefusal { doc, user, detail }).collect()
    }
}

/// The desk's documents and change feed, in memory.
pub struct MemoryDesk {
    config: ServerConfig,
    docs: BTreeMap<DocId, DeskDoc>,
    /// The change feed: one entry per document update, with its heads then.
    feed: BTreeMap<u64, (DocId, Vec<ChangeHash>)>,
    /// Who may read each document: since which feed position, and through which documents.
    readers: BTreeMap<(DocId, Reader), Grant>,
    /// What each document grants now, by the document (the source).
    grants_by_source: BTreeMap<DocId, BTreeSet<(DocId, Reader)>>,
    /// Readers who lost a document, and the feed position they lost it at.
    withdrawals: Vec<(u64, DocId, Reader)>,
    next_seq: u64,
    audit: Vec<AuditEntry>,
    refused_pushes: Vec<RefusedPush>,
}

impl MemoryDesk {
    pub fn new(config: ServerConfig) -> Self {
        Self {
            config,
            docs: BTreeMap::new(),
            feed: BTreeMap::new(),
            readers: BTreeMap::new(),
            grants_by_source: BTreeMap::new(),
            withdrawals: Vec::new(),
            next_seq: 1,
            audit: Vec::new(),
            refused_pushes: Vec::new(),
        }
    }

    /// Creates a document as the desk (a dispatcher's new ticket, reference data).
    pub fn create(&mut self, document: &Document) -> Result<u64, SchemaError> {
        let mut doc = new_document(document, self.config.desk_actor.clone())?;
        Ok(self.put(document.id(), document.kind(), &mut doc, document.clone()))
    }

    /// Changes a document as the desk, through the typed model.
    pub fn edit(&mut self, id: DocId, change: impl FnOnce(&mut Document)) -> Result<u64, SchemaError> {
        let entry =
            self.docs.get(&id).ok_or(SchemaError::InvalidField { field: "id", reason: "no such document".into() })?;
        let kind = entry.kind;
        let mut doc = AutoCommit::load(&entry.bytes)
            .map_err(|e| SchemaError::InvalidField { field: "bytes", reason: e.to_string() })?;
        doc.set_actor(self.config.desk_actor.clone());
        let mut document = Document::hydrate_as(&doc, id, kind)?;
        change(&mut document);
        document.reconcile_into(&mut doc)?;
        let document = Document::hydrate_as(&doc, id, kind)?;
        Ok(self.put(id, kind, &mut doc, document))
    }

    fn put(&mut self, id: DocId, kind: DocKind, doc: &mut AutoCommit, document: Document) -> u64 {
        let heads = doc.get_heads();
        if let Some(existing) = self.docs.get(&id) {
            if existing.heads == heads {
                return existing.seq;
            }
        }
        let seq = self.next_seq;
        self.next_seq += 1;
        self.feed.insert(seq, (id, heads.clone()));
        let granted = grants(&document);
        self.docs.insert(id, DeskDoc { kind, bytes: crate::session::stored_form(doc), seq, heads, document });
        self.grant(id, seq, granted);
        seq
    }

    /// Records what document `id`, stored at `seq`, grants now (see
    /// [`grants`]). A document newly readable without being written (a
    /// ticket's equipment, client, site) gets a feed entry of its own; a
    /// grant the document made before and no longer makes is withdrawn at
    /// `seq`, unless another document still makes it.
    fn grant(&mut self, id: DocId, seq: u64, granted: Vec<(DocId, Reader)>) {
        let now: BTreeSet<(DocId, Reader)> = granted.into_iter().collect();
        let before = self.grants_by_source.insert(id, now.clone()).unwrap_or_default();
        for (doc, reader) in before.difference(&now) {
            let Some(grant) = self.readers.get_mut(&(*doc, *reader)) else { continue };
            grant.sources.remove(&id);
            if grant.sources.is_empty() {
                self.readers.remove(&(*doc, *reader));
                self.withdrawals.push((seq, *doc, *reader));
            }
        }
        let mut fed = BTreeMap::from([(id, seq)]);
        for (doc, reader) in now.difference(&before) {
            if let Some(grant) = self.readers.get_mut(&(*doc, *reader)) {
                grant.sources.insert(id);
                continue;
            }
            let at = match fed.get(doc) {
                Some(at) => *at,
                None => {
                    let Some(heads) = self.docs.get(doc).map(|d| d.heads.clone()) else { continue };
                    let at = self.next_seq;
                    self.next_seq += 1;
                    self.feed.insert(at, (*doc, heads));
                    fed.insert(*doc, at);
                    at
                }
            };
            self.readers.insert((*doc, *reader), Grant { at, sources: BTreeSet::from([id]) });
        }
    }

    /// The desk's reactions to a ticket a device just wrote (see
    /// [`crate::reactions`]), as its own changes.
    fn react(&mut self, ticket_id: DocId, now: Timestamp) {
        let Some(Document::Ticket(ticket)) = self.document(ticket_id).cloned() else { return };
        let client = match self.document(ticket.client) {
            Some(Document::Client(client)) => Some(client.clone()),
            _ => None,
        };
        // The memory desk has no transport to say what the device's clock read.
        let clock = crate::reactions::DeviceClock::default();
        if let Some(reaction) = crate::reactions::react(&ticket, client.as_ref(), now, clock) {
            let reacted = self.edit(ticket_id, |document| {
                if let Document::Ticket(t) = document {
                    reaction.apply_to_ticket(t);
                }
            });
            reacted.expect("the desk's reaction keeps the ticket valid");
            if reaction.charge.is_some() && client.is_some() {
                let charged = self.edit(ticket.client, |document| {
                    if let Document::Client(c) = document {
                        reaction.charge_client(c);
                    }
                });
                charged.expect("the desk's charge keeps the client valid");
            }
        }
        // The service records follow the ticket as it reads after the reaction.
        let Some(Document::Ticket(ticket)) = self.document(ticket_id).cloned() else { return };
        for update in crate::reactions::service_history(&ticket, &self.equipment_of(&ticket)) {
            self.update_equipment(&update);
        }
    }

    /// The desk's reaction to a part request a device just wrote: an
    /// installed part's serials go on its equipment.
    fn react_to_part(&mut self, request_id: DocId, now: Timestamp) {
        let Some(Document::PartRequest(request)) = self.document(request_id).cloned() else { return };
        let Some(Document::Ticket(ticket)) = self.document(request.ticket).cloned() else { return };
        let equipment = self.equipment_of(&ticket);
        if let Some(update) = crate::reactions::part_installed(&request, &ticket, &equipment, now) {
            self.update_equipment(&update);
        }
    }

    /// The equipment a ticket names, as the desk has it.
    fn equipment_of(&self, ticket: &crate::model::Ticket) -> Vec<crate::model::Equipment> {
        ticket
            .equipment
            .iter()
            .filter_map(|id| match self.document(*id) {
                Some(Document::Equipment(e)) => Some(e.clone()),
                _ => None,
            })
            .collect()
    }

    fn update_equipment(&mut self, update: &crate::reactions::EquipmentUpdate) {
        let updated = self.edit(update.equipment, |document| {
            if let Document::Equipment(e) = document {
                update.apply(e);
            }
        });
        updated.expect("the desk's update keeps the equipment valid");
    }

    /// The feed position at which `author` could first read `id`, if they can.
    fn first_granted(&self, author: &Actor, id: DocId) -> Option<u64> {
        Reader::of(author).iter().filter_map(|reader| self.readers.get(&(id, *reader)).map(|g| g.at)).min()
    }

    fn store(&mut self, store: &StoreDocument) -> u64 {
        let mut doc = match self.docs.get(&store.doc) {
            Some(existing) => AutoCommit::load(&existing.bytes).expect("the desk's own bytes load"),
            None => AutoCommit::new(),
        };
        doc.load_incremental(&store.changes).expect("the round's own changes load");
        for refusal in &store.refused {
            self.audit.push(AuditEntry {
                doc: store.doc,
                author: store.author,
                refusal: refusal.clone(),
                at: store.received_at,
            });
        }
        self.put(store.doc, store.kind, &mut doc, store.document.clone())
    }

    pub fn document(&self, id: DocId) -> Option<&Document> {
        self.docs.get(&id).map(|d| &d.document)
    }

    pub fn heads(&self, id: DocId) -> Option<Vec<ChangeHash>> {
        self.docs.get(&id).map(|d| d.heads.clone())
    }

    pub fn doc_ids(&self) -> impl Iterator<Item = DocId> + '_ {
        self.docs.keys().copied()
    }

    pub fn audit(&self) -> &[AuditEntry] {
        &self.audit
    }

    /// Pushes refused whole (or invalid), as the audit log keeps them.
    pub fn refused_pushes(&self) -> &[RefusedPush] {
        &self.refused_pushes
    }

    pub fn latest(&self) -> Cursor {
        Cursor(self.next_seq - 1)
    }

    /// Puts back the state of `snapshot`, as a restore from a backup would.
    pub fn restore_to(&mut self, snapshot: &Self) {
        self.docs = snapshot.docs.iter().map(|(id, d)| (*id, d.clone_deep())).collect();
        self.feed = snapshot.feed.clone();
        self.readers = snapshot.readers.clone();
        self.grants_by_source = snapshot.grants_by_source.clone();
        self.withdrawals = snapshot.withdrawals.clone();
        self.next_seq = snapshot.next_seq;
        self.audit = snapshot.audit.clone();
        self.refused_pushes = snapshot.refused_pushes.clone();
    }

    pub fn snapshot(&self) -> Self {
        let mut copy = Self::new(self.config.clone());
        copy.restore_to(self);
        copy
    }

    fn readable(&self, author: &Actor, document: &Document) -> bool {
        author.role.reads_everything() || self.first_granted(author, document.id()).is_some()
    }

    /// Runs one sync round: the request's bytes in, the response's bytes out.
    pub fn handle(&mut self, now: Timestamp, author: &Actor, request: &[u8]) -> Vec<u8> {
        let mut round = match ServerRound::handle_request(now, *author, request, self.config.clone()) {
            Ok(round) => round,
            Err(err) => return error_reply(ErrorCode::BadRequest, err.to_string()),
        };
        while let Some(task) = round.poll_task() {
            match task {
                ServerTask::LoadDocuments(ids) => {
                    for id in ids {
                        let stored = self.docs.get(&id).map(|d| StoredDoc { kind: d.kind, bytes: d.bytes.clone() });
                        round.handle_document(id, stored);
                    }
                }
                ServerTask::CheckReferences(ids) => {
                    let readable = ids
                        .into_iter()
                        .filter_map(|id| self.docs.get(&id).map(|d| (id, d)))
                        .filter(|(_, d)| self.readable(author, &d.document))
                        .map(|(id, d)| (id, d.kind))
                        .collect();
                    round.handle_references(readable);
                }
                ServerTask::RecordRefusal(refused) => self.refused_pushes.push(refused),
                ServerTask::Store(store) => {
                    let seq = self.store(&store);
                    round.handle_stored(store.doc, seq);
                    match store.kind {
                        DocKind::Ticket => self.react(store.doc, now),
                        DocKind::PartRequest => self.react_to_part(store.doc, now),
                        _ => {}
                    }
                }
                ServerTask::ReadFeed { after, limit, refetch } => {
                    let page = self.read_feed(author, after, limit, &refetch);
                    round.handle_feed(page);
                }
                ServerTask::Respond(bytes) => return bytes,
            }
        }
        error_reply(ErrorCode::Unavailable, "the round ended without a response")
    }

    fn entry(&self, id: DocId, seq: u64, after: Cursor) -> FeedEntry {
        let d = &self.docs[&id];
        // The device has, at least, the document as of its last feed entry
        // at or below the cursor: passing that entry delivered it.
        let heads_at_cursor = self
            .feed
            .range(..=after.0)
            .rev()
            .find(|(_, (doc, _))| *doc == id)
            .map(|(_, (_, heads))| heads.clone())
            .unwrap_or_default();
        FeedEntry { doc: id, kind: d.kind, seq, heads: d.heads.clone(), bytes: d.bytes.clone(), heads_at_cursor }
    }

    fn read_feed(&self, author: &Actor, after: Cursor, limit: usize, refetch: &[DocId]) -> FeedPage {
        let mut entries: Vec<FeedEntry> = Vec::new();
        let mut scanned_to = self.latest();
        for (&seq, (id, _)) in self.feed.range(after.0 + 1..) {
            if entries.iter().any(|e| e.doc == *id) {
                continue; // already going out whole, as it is now
            }
            if entries.len() == limit {
                scanned_to = Cursor(seq - 1);
                break;
            }
            if self.readable(author, &self.docs[id].document) {
                // Gained after the cursor: the device has nothing of it yet.
                let gained =
                    !author.role.reads_everything() && self.first_granted(author, *id).is_some_and(|at| at > after.0);
                entries.push(self.entry(*id, seq, if gained { Cursor(0) } else { after }));
            }
        }
        let refetched = refetch
            .iter()
            .filter(|id| self.docs.get(id).is_some_and(|d| self.readable(author, &d.document)))
            .map(|id| FeedEntry { heads_at_cursor: Vec::new(), ..self.entry(*id, self.docs[id].seq, Cursor(0)) })
            .collect();
        let keys = Reader::of(author);
        let withdrawn = self
            .withdrawals
            .iter()
            .filter(|(seq, doc, reader)| {
                *seq > after.0
                    && *seq <= scanned_to.0
                    && keys.contains(reader)
                    && !author.role.reads_everything()
                    && self.first_granted(author, *doc).is_none()
            })
            .map(|(seq, doc, _)| Withdrawal { seq: *seq, doc: *doc })
            .take(limit + 1)
            .collect();
        FeedPage { entries, scanned_to, latest: self.latest(), refetched, withdrawn }
    }
}

impl DeskDoc {
    fn clone_deep(&self) -> Self {
        Self {
            kind: self.kind,
            bytes: self.bytes.clone(),
            seq: self.seq,
            heads: self.heads.clone(),
            document: self.document.clone(),
        }
    }
}

struct DeviceDoc {
    kind: DocKind,
    doc: AutoCommit,
    /// Heads the desk is known to have.
    acked: Vec<ChangeHash>,
}

/// Why a device could not make an edit.
#[derive(Debug, thiserror::Error)]
pub enum EditError {
    #[error("no document {0} on this device")]
    UnknownDocument(DocId),
    #[error(transparent)]
    Schema(#[from] SchemaError),
    #[error("the desk would refuse this edit: {0}")]
    Refused(String),
}

/// A device's documents and sync session, in memory.
pub struct MemoryDevice {
    pub actor: Actor,
    automerge_actor: ActorId,
    docs: BTreeMap<DocId, DeviceDoc>,
    /// Documents that may hold changes the desk lacks.
    dirty: BTreeSet<DocId>,
    session: ClientSession,
    refusals: Vec<(DocId, RefusalReport)>,
    refused_docs: Vec<(DocId, String)>,
    wiped: bool,
    last_failure: Option<String>,
}

impl MemoryDevice {
    pub fn new(actor: Actor, automerge_actor: ActorId, limits: WireLimits) -> Self {
        Self {
            actor,
            automerge_actor,
            docs: BTreeMap::new(),
            dirty: BTreeSet::new(),
            session: ClientSession::new(ClientState::default(), limits),
            refusals: Vec::new(),
            refused_docs: Vec::new(),
            wiped: false,
            last_failure: None,
        }
    }

    pub fn with_page_size(mut self, page_size: u32) -> Self {
        self.session = self.session.with_page_size(page_size);
        self
    }

    pub fn create(&mut self, document: &Document) -> Result<(), SchemaError> {
        let doc = new_document(document, self.automerge_actor.clone())?;
        self.docs.insert(document.id(), DeviceDoc { kind: document.kind(), doc, acked: Vec::new() });
        self.dirty.insert(document.id());
        Ok(())
    }

    /// Changes a document locally through the typed model, committed at
    /// `now`, if the schema and the author's permissions allow it all: the
    /// device never makes an edit the desk would refuse.
    pub fn edit(&mut self, id: DocId, now: Timestamp, change: impl FnOnce(&mut Document)) -> Result<(), EditError> {
        self.edit_with(id, now, change, true)
    }

    /// Changes a document with no local checks, as an outdated or crafted
    /// client would; the desk's checks are all that stand in the way.
    pub fn edit_unchecked(
        &mut self,
        id: DocId,
        now: Timestamp,
        change: impl FnOnce(&mut Document),
    ) -> Result<(), EditError> {
        self.edit_with(id, now, change, false)
    }

    fn edit_with(
        &mut self,
        id: DocId,
        now: Timestamp,
        change: impl FnOnce(&mut Document),
        checked: bool,
    ) -> Result<(), EditError> {
        let entry = self.docs.get_mut(&id).ok_or(EditError::UnknownDocument(id))?;
        let before = Document::hydrate_as(&entry.doc, id, entry.kind)?;
        let mut after = before.clone();
        change(&mut after);
        if checked {
            after.validate(&FieldLimits::default())?;
            match review(&self.actor, Some(&before), &after) {
                Verdict::Refused(why) => return Err(EditError::Refused(why.to_string())),
                Verdict::Reviewed(r) if !r.is_clean() => {
                    let reasons: Vec<String> = r.refused.iter().map(ToString::to_string).collect();
                    return Err(EditError::Refused(reasons.join("; ")));
                }
                Verdict::Reviewed(_) => {}
            }
        }
        after.reconcile_into(&mut entry.doc)?;
        entry.doc.commit_with(automerge::transaction::CommitOptions::default().with_time(now.0 / 1000));
        self.dirty.insert(id);
        Ok(())
    }

    pub fn document(&self, id: DocId) -> Option<Document> {
        let entry = self.docs.get(&id)?;
        Document::hydrate_as(&entry.doc, id, entry.kind).ok()
    }

    pub fn heads(&mut self, id: DocId) -> Option<Vec<ChangeHash>> {
        self.docs.get_mut(&id).map(|d| d.doc.get_heads())
    }

    pub fn doc_ids(&self) -> impl Iterator<Item = DocId> + '_ {
        self.docs.keys().copied()
    }

    pub fn refusals(&self) -> &[(DocId, RefusalReport)] {
        &self.refusals
    }

    pub fn refused_documents(&self) -> &[(DocId, String)] {
        &self.refused_docs
    }

    pub fn is_wiped(&self) -> bool {
        self.wiped
    }

    pub fn sync_state(&self) -> &ClientState {
        self.session.state()
    }

    /// Loses the sync state (cursor and all), as a device restored from an old backup would.
    pub fn forget_sync_state(&mut self, limits: WireLimits) {
        self.session = ClientSession::new(ClientState::default(), limits);
        for entry in self.docs.values_mut() {
            entry.acked.clear();
        }
        self.dirty = self.docs.keys().copied().collect();
    }

    /// Documents with changes the desk has not acknowledged.
    pub fn pending(&mut self) -> Vec<OutboundDoc> {
        let mut outbound = Vec::new();
        let docs = &mut self.docs;
        self.dirty.retain(|id| {
            let Some(entry) = docs.get_mut(id) else {
                return false;
            };
            match OutboundDoc::pending(*id, entry.kind, &mut entry.doc, &entry.acked) {
                Some(doc) => {
                    outbound.push(doc);
                    true
                }
                None => false,
            }
        });
        outbound
    }

    /// Starts a round and returns the request to send.
    pub fn start_round(&mut self, now: Timestamp, round: RoundId) -> Result<Vec<u8>, SessionError> {
        let outbound = self.pending();
        self.session.start_round(now, round, outbound)?;
        Ok(self.session.poll_transmit().expect("a started round has a request to send"))
    }

    pub fn transport_failed(&mut self) {
        self.session.handle_transport_error("connection lost");
        while self.session.poll_event().is_some() {}
    }

    /// Takes a response; returns whether another round should follow now
    /// (`RoundEnd::Again`). A failed round ends the sync, as in the app: its
    /// reason is kept in `last_failure`.
    pub fn handle_response(&mut self, now: Timestamp, bytes: &[u8]) -> Result<bool, SessionError> {
        self.session.handle_response(now, bytes)?;
        while let Some(event) = self.session.poll_event() {
            match event {
                ClientEvent::Apply(update) => {
                    self.apply(update.doc, update.kind, &update.changes, &crate::wire::to_change_hashes(&update.heads))
                }
                ClientEvent::Pushed { doc, acked, refused } => {
                    self.ack(doc, &acked);
                    self.refusals.extend(refused.into_iter().map(|r| (doc, r)));
                }
                ClientEvent::PushRefused { doc, acked, reason } => {
                    self.ack(doc, &acked);
                    self.refused_docs.push((doc, reason));
                }
                ClientEvent::ResendAll { doc } => {
                    if let Some(entry) = self.docs.get_mut(&doc) {
                        entry.acked.clear();
                        self.dirty.insert(doc);
                    }
                }
                ClientEvent::TooLarge { doc, bytes } => {
                    self.refused_docs
                        .push((doc, format!("{bytes} bytes of changes are more than one message carries")));
                }
                ClientEvent::Wipe => {
                    self.docs.clear();
                    self.dirty.clear();
                    self.wiped = true;
                }
                ClientEvent::RoundComplete { .. } | ClientEvent::RoundFailed { .. } => {}
            }
        }
        let withdrawn: Vec<DocId> = self.session.state().withdrawn.iter().copied().collect();
        let waiting: BTreeSet<DocId> = withdrawn.into_iter().filter(|doc| self.has_unsent_work(*doc)).collect();
        for doc in self.session.take_droppable(|doc| waiting.contains(&doc)) {
            self.docs.remove(&doc);
            self.dirty.remove(&doc);
        }
        Ok(match self.session.next_step() {
            RoundEnd::Again => true,
            RoundEnd::Done | RoundEnd::Wiped => false,
            RoundEnd::Failed(reason) => {
                self.last_failure = Some(reason);
                false
            }
        })
    }

    /// Whether the document holds changes made here that the desk lacks.
    fn has_unsent_work(&mut self, id: DocId) -> bool {
        self.dirty.contains(&id)
            && self.docs.get_mut(&id).is_some_and(|e| OutboundDoc::pending(id, e.kind, &mut e.doc, &e.acked).is_some())
    }

    /// Why the last failed round failed.
    pub fn last_failure(&self) -> Option<&str> {
        self.last_failure.as_deref()
    }

    fn apply(&mut self, id: DocId, kind: DocKind, changes: &[u8], desk_heads: &[ChangeHash]) {
        let actor = self.automerge_actor.clone();
        let entry = self.docs.entry(id).or_insert_with(|| DeviceDoc {
            kind,
            doc: AutoCommit::new().with_actor(actor),
            acked: Vec::new(),
        });
        if entry.doc.load_incremental(changes).is_err() || !entry.doc.get_missing_deps(&[]).is_empty() {
            // This copy lacks history the update builds on: ask for it whole.
            self.session.request_full(id);
            return;
        }
        self.ack(id, desk_heads);
    }

    fn ack(&mut self, id: DocId, heads: &[ChangeHash]) {
        let Some(entry) = self.docs.get_mut(&id) else {
            return;
        };
        let mut acked: BTreeSet<ChangeHash> = entry.acked.iter().copied().collect();
        acked.extend(heads.iter().copied());
        // Keep only the frontier: hashes that are not ancestors of others.
        let all: Vec<ChangeHash> = acked.into_iter().filter(|h| entry.doc.get_change_by_hash(h).is_some()).collect();
        entry.acked =
            if all.len() > 1 { entry.doc.fork_at(&all).map(|mut f| f.get_heads()).unwrap_or(all) } else { all };
    }
}

/// Syncs `device` with `desk` until neither has more to say (at most `max_rounds`).
/// Returns the number of rounds run.
pub fn sync_until_quiet(
    device: &mut MemoryDevice,
    desk: &mut (impl DeskStore + ?Sized),
    now: Timestamp,
    first_round: u64,
    max_rounds: u64,
) -> u64 {
    for n in 0..max_rounds {
        let Ok(request) = device.start_round(now, RoundId(first_round + n)) else {
            return n;
        };
        let actor = device.actor;
        let response = desk.round(now, &actor, &request);
        match device.handle_response(now, &response) {
            Ok(true) => {}
            Ok(false) | Err(_) => return n + 1,
        }
    }
    max_rounds
}
