//! The desk's side of a sync round.
//!
//! ```text
//! ServerRound::handle_request ─▶ poll_task: LoadDocuments ─▶ handle_document (each pushed id)
//!                               ─▶ poll_task: Store (each changed doc) ─▶ handle_stored
//!                               ─▶ poll_task: ReadFeed ─▶ handle_feed
//!                               ─▶ poll_task: Respond(bytes)
//! ```
//! The caller should run one round's storage work in one transaction, and
//! read the feed and the documents in it from one snapshot, so that a
//! document's bytes always match the sequence number it is listed under.

use std::collections::{BTreeMap, VecDeque};

use automerge::{ActorId, AutoCommit, ChangeHash};

use crate::ids::{DocId, Timestamp};
use crate::limits::{FieldLimits, WireLimits};
use crate::model::{Actor, DocKind, Document};
use crate::permissions::{review, Refusal, Verdict};
use crate::wire::{
    to_change_hashes, to_heads, ClientMessage, Cursor, DocPush, DocUpdate, ErrorCode, ErrorReport, PushOutcome,
    PushResult, RefusalReport, ServerMessage, SyncRequest, SyncResponse, WireError,
};

#[derive(Clone, Debug)]
pub struct ServerConfig {
    pub wire: WireLimits,
    pub fields: FieldLimits,
    /// Most documents in one response page.
    pub max_page: usize,
    /// Bytes of automerge data in one response page, soft: at least one
    /// document always goes.
    pub page_bytes: usize,
    /// The desk's automerge actor, author of compensating changes.
    pub desk_actor: ActorId,
}

impl ServerConfig {
    pub fn new(desk_actor: ActorId) -> Self {
        Self {
            wire: WireLimits::default(),
            fields: FieldLimits::default(),
            max_page: 1_000,
            page_bytes: 4 * 1024 * 1024,
            desk_actor,
        }
    }
}

/// A document as the desk stores it: automerge bytes (a saved document,
/// possibly followed by incremental change chunks).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredDoc {
    pub kind: DocKind,
    pub bytes: Vec<u8>,
}

/// One document in the feed page, read from the same snapshot as the feed.
///
/// The feed holds one entry per document update. A document updated several
/// times after the cursor appears once in a page, at its first entry there,
/// and goes out as it is now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FeedEntry {
    pub doc: DocId,
    pub kind: DocKind,
    /// The document's first feed entry after the cursor.
    pub seq: u64,
    /// The document's heads now.
    pub heads: Vec<ChangeHash>,
    pub bytes: Vec<u8>,
    /// The heads recorded with the document's last feed entry at or below
    /// the device's cursor: passing that entry delivered at least that much.
    /// Empty if there is none (or it was pruned); then the document goes
    /// whole. If the device could not read the document back then, it gets
    /// changes it cannot apply and asks for the document whole, one round later.
    pub heads_at_cursor: Vec<ChangeHash>,
}

/// What the caller found in the feed for this author.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FeedPage {
    /// Documents this author may read with feed entries above the cursor,
    /// by their first such entry, ascending, at most `limit` of them.
    pub entries: Vec<FeedEntry>,
    /// The highest sequence number the caller examined (past unreadable
    /// entries too, and past later entries of documents already in the
    /// page), so the cursor can skip what this author may not see.
    pub scanned_to: Cursor,
    /// The highest sequence number in the whole feed.
    pub latest: Cursor,
    /// The refetched documents this author may read, whole.
    pub refetched: Vec<FeedEntry>,
    /// Documents this author could read and can no longer, withdrawn after
    /// the cursor and at most at `scanned_to`, ascending, at most `limit + 1`
    /// of them (the round pages them with the rest). Documents the author
    /// may read again now are left out.
    pub withdrawn: Vec<Withdrawal>,
}

/// A document taken from a reader at a feed position.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Withdrawal {
    pub seq: u64,
    pub doc: DocId,
}

impl FeedPage {
    /// Keeps at most `limit` withdrawals in the page: past that, the page
    /// ends at the last one kept, and what follows waits for the next page.
    fn fit_withdrawals(&mut self, limit: usize) {
        if self.withdrawn.len() <= limit {
            return;
        }
        self.withdrawn.truncate(limit.max(1));
        let end = self.withdrawn.last().map_or(self.scanned_to.0, |w| w.seq);
        self.scanned_to = Cursor(end);
        self.entries.retain(|e| e.seq <= end);
    }
}

/// A document the round changed, for the caller to store.
#[derive(Clone, Debug, PartialEq)]
pub struct StoreDocument {
    pub doc: DocId,
    pub kind: DocKind,
    pub created: bool,
    /// The new change chunks (the device's and any compensation), to append.
    pub changes: Vec<u8>,
    pub heads: Vec<ChangeHash>,
    /// The document as it now reads, for projections.
    pub document: Document,
    /// Refused changes, for the audit log.
    pub refused: Vec<Refusal>,
    pub author: Actor,
    /// The desk's clock when the push arrived.
    pub received_at: Timestamp,
}

/// A pushed document the desk refused whole, for the audit log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RefusedPush {
    pub doc: DocId,
    pub kind: DocKind,
    pub author: Actor,
    pub reason: String,
    pub at: Timestamp,
}

#[derive(Clone, Debug, PartialEq)]
pub enum ServerTask {
    /// Load these documents (the pushed ones); answer with `handle_document` for each.
    LoadDocuments(Vec<DocId>),
    /// Say which of these documents the author may read, and their kinds:
    /// the documents a push newly references. Answer with `handle_references`.
    CheckReferences(Vec<DocId>),
    /// Write a refused push (refused or invalid whole) to the audit log.
    /// Needs no answer.
    RecordRefusal(RefusedPush),
    /// Store a changed document and give it the next feed sequence number;
    /// answer with `handle_stored`.
    Store(Box<StoreDocument>),
    /// Read the feed after `after` for this author, at most `limit` entries,
    /// and the `refetch` documents they may read; answer with `handle_feed`.
    ReadFeed { after: Cursor, limit: usize, refetch: Vec<DocId> },
    /// Send these bytes; the round is over.
    Respond(Vec<u8>),
}

#[derive(Debug, PartialEq, Eq)]
enum Phase {
    Loading,
    Checking,
    Storing,
    Reading,
    Done,
}

/// One sync round at the desk.
pub struct ServerRound {
    now: Timestamp,
    author: Actor,
    config: ServerConfig,
    request: SyncRequest,
    phase: Phase,
    loaded: BTreeMap<DocId, Option<StoredDoc>>,
    outcomes: Vec<PushOutcome>,
    awaiting_seq: BTreeMap<DocId, usize>,
    /// Pushes merged on scratch copies, by their index in the request,
    /// waiting for the answer to `CheckReferences`.
    merged: Vec<(usize, Merged)>,
    created: BTreeMap<DocId, DocKind>,
    cursor_reset: bool,
    tasks: VecDeque<ServerTask>,
}

/// A pushed document merged on a scratch copy, checked for its change
/// chain and structure, waiting for its references to be checked.
struct Merged {
    doc: AutoCommit,
    before_heads: Vec<ChangeHash>,
    before: Option<Document>,
    after: Document,
}

/// The bytes of an error reply, for requests that could not be read or were not allowed.
pub fn error_reply(code: ErrorCode, message: impl Into<String>) -> Vec<u8> {
    ServerMessage::Error(ErrorReport { code, message: message.into() }).encode()
}

impl ServerRound {
    /// Decodes a device's request; a malformed one is refused before any work.
    pub fn handle_request(
        now: Timestamp,
        author: Actor,
        bytes: &[u8],
        config: ServerConfig,
    ) -> Result<Self, WireError> {
        let ClientMessage::Sync(request) = ClientMessage::decode(bytes, &config.wire)?;
        let mut round = Self {
            now,
            author,
            config,
            phase: Phase::Loading,
            loaded: BTreeMap::new(),
            outcomes: Vec::new(),
            awaiting_seq: BTreeMap::new(),
            merged: Vec::new(),
            created: BTreeMap::new(),
            cursor_reset: false,
            tasks: VecDeque::new(),
            request,
        };
        if round.request.pushes.is_empty() {
            round.start_reading(round.request.cursor);
        } else {
            let ids = round.request.pushes.iter().map(|p| p.doc).collect();
            round.tasks.push_back(ServerTask::LoadDocuments(ids));
        }
        Ok(round)
    }

    pub fn poll_task(&mut self) -> Option<ServerTask> {
        self.tasks.pop_front()
    }

    pub fn is_done(&self) -> bool {
        self.phase == Phase::Done && self.tasks.is_empty()
    }

    /// A pushed document as stored, or `None` if the desk has no such document.
    pub fn handle_document(&mut self, doc: DocId, stored: Option<StoredDoc>) {
        if self.phase != Phase::Loading || !self.request.pushes.iter().any(|p| p.doc == doc) {
            return;
        }
        self.loaded.insert(doc, stored);
        if self.loaded.len() == self.request.pushes.len() {
            self.apply_pushes();
        }
    }

    /// The sequence number the caller gave a stored document.
    pub fn handle_stored(&mut self, doc: DocId, seq: u64) {
        let Some(index) = self.awaiting_seq.remove(&doc) else {
            return;
        };
        if let PushResult::Applied { seq: slot, .. } = &mut self.outcomes[index].result {
            *slot = Some(seq);
        }
        if self.phase == Phase::Storing && self.awaiting_seq.is_empty() {
            self.start_reading(self.request.cursor);
        }
    }

    pub fn handle_feed(&mut self, page: FeedPage) {
        if self.phase != Phase::Reading {
            return;
        }
        if page.latest < self.request.cursor && !self.cursor_reset {
            // The device is ahead of this feed: the desk was restored from a
            // backup. Start the device over from the beginning.
            self.cursor_reset = true;
            self.start_reading(Cursor(0));
            return;
        }
        let mut page = page;
        page.fit_withdrawals(self.page_limit());
        let response = self.respond(page);
        self.tasks.push_back(ServerTask::Respond(ServerMessage::Sync(response).encode()));
        self.phase = Phase::Done;
    }

    fn start_reading(&mut self, after: Cursor) {
        self.phase = Phase::Reading;
        let limit = self.page_limit();
        self.tasks.push_back(ServerTask::ReadFeed { after, limit, refetch: self.request.refetch.clone() });
    }

    /// Most documents (and most withdrawals) in this round's page.
    fn page_limit(&self) -> usize {
        (self.request.page_size as usize).clamp(1, self.config.max_page)
    }

    /// Merges each push on a scratch copy, then asks which of the documents
    /// they newly reference the author may read.
    fn apply_pushes(&mut self) {
        let pushes = std::mem::take(&mut self.request.pushes);
        let mut created: BTreeMap<DocId, DocKind> = BTreeMap::new();
        for (index, push) in pushes.iter().enumerate() {
            let stored = self.loaded.remove(&push.doc).flatten();
            let is_new = stored.is_none();
            let merged = guarded(|| merge_push(&self.author, &self.config, stored, push));
            self.outcomes.push(PushOutcome { doc: push.doc, result: PushResult::MissingDependencies });
            match merged {
                Ok(merged) => {
                    if is_new {
                        created.insert(push.doc, push.kind);
                    }
                    self.merged.push((index, merged));
                }
                Err(result) => self.settle(index, push, result, None),
            }
        }
        let wanted: std::collections::BTreeSet<DocId> = self
            .merged
            .iter()
            .flat_map(|(_, m)| crate::permissions::new_references(m.before.as_ref(), &m.after))
            .map(|r| r.doc)
            .filter(|doc| !created.contains_key(doc))
            .collect();
        self.request.pushes = pushes;
        // What the author creates in this round they may point at.
        self.created = created;
        if wanted.is_empty() {
            self.finish_pushes(BTreeMap::new());
        } else {
            self.phase = Phase::Checking;
            self.tasks.push_back(ServerTask::CheckReferences(wanted.into_iter().collect()));
        }
    }

    /// The documents among those asked for that the author may read, with
    /// their kinds; the others are left out.
    pub fn handle_references(&mut self, readable: BTreeMap<DocId, DocKind>) {
        if self.phase != Phase::Checking {
            return;
        }
        self.finish_pushes(readable);
    }

    fn finish_pushes(&mut self, mut readable: BTreeMap<DocId, DocKind>) {
        readable.extend(std::mem::take(&mut self.created));
        for (index, merged) in std::mem::take(&mut self.merged) {
            let push = self.request.pushes[index].clone();
            let (result, store) =
                guarded(|| Ok(finish_push(&self.author, self.now, &self.config, merged, &push, &readable)))
                    .unwrap_or_else(|result| (result, None));
            self.settle(index, &push, result, store);
        }
        if self.awaiting_seq.is_empty() {
            self.start_reading(self.request.cursor);
        } else {
            self.phase = Phase::Storing;
        }
    }

    /// Records a push's outcome, and what the caller must store or audit.
    fn settle(&mut self, index: usize, push: &DocPush, result: PushResult, store: Option<StoreDocument>) {
        if let PushResult::Refused { reason } | PushResult::Invalid { reason } = &result {
            self.tasks.push_back(ServerTask::RecordRefusal(RefusedPush {
                doc: push.doc,
                kind: push.kind,
                author: self.author,
                reason: reason.clone(),
                at: self.now,
            }));
        }
        if let Some(store) = store {
            self.awaiting_seq.insert(push.doc, index);
            self.tasks.push_back(ServerTask::Store(Box::new(store)));
        }
        self.outcomes[index].result = result;
    }

    /// Heads the device is known to have, beyond its cursor.
    fn device_heads(&self) -> BTreeMap<DocId, Vec<ChangeHash>> {
        let mut known: BTreeMap<DocId, Vec<ChangeHash>> = BTreeMap::new();
        for k in &self.request.known {
            known.entry(k.doc).or_default().extend(to_change_hashes(&k.heads));
        }
        for push in &self.request.pushes {
            known.entry(push.doc).or_default().extend(to_change_hashes(&push.heads));
        }
        known
    }

    fn respond(&self, page: FeedPage) -> SyncResponse {
        let known = self.device_heads();
        let mut updates = Vec::new();
        let mut bytes = 0;
        let mut cursor = page.scanned_to.max(if self.cursor_reset { Cursor(0) } else { self.request.cursor });
        let mut truncated = false;
        for entry in &page.entries {
            let mut have = entry.heads_at_cursor.clone();
            if !self.cursor_reset {
                have.extend(known.get(&entry.doc).into_iter().flatten().copied());
            }
            let changes = lacking(entry, &have);
            if !updates.is_empty() && bytes + changes.len() > self.config.page_bytes {
                truncated = true;
                break;
            }
            cursor = Cursor(entry.seq);
            if changes.is_empty() {
                continue;
            }
            bytes += changes.len();
            updates.push(DocUpdate {
                doc: entry.doc,
                kind: entry.kind,
                seq: entry.seq,
                heads: to_heads(&entry.heads),
                changes,
            });
        }
        if !truncated {
            cursor = page.scanned_to.max(cursor);
        }
        for entry in &page.refetched {
            if updates.iter().any(|u| u.doc == entry.doc) || entry.seq > cursor.0 {
                continue;
            }
            updates.push(DocUpdate {
                doc: entry.doc,
                kind: entry.kind,
                seq: entry.seq,
                heads: to_heads(&entry.heads),
                changes: entry.bytes.clone(),
            });
        }
        let more = truncated || page.scanned_to < page.latest;
        let mut withdrawn: Vec<DocId> = page.withdrawn.iter().filter(|w| w.seq <= cursor.0).map(|w| w.doc).collect();
        withdrawn.sort_unstable();
        withdrawn.dedup();
        SyncResponse {
            round: self.request.round,
            outcomes: self.outcomes.clone(),
            updates,
            cursor,
            more,
            cursor_reset: self.cursor_reset,
            withdrawn,
        }
    }
}

/// The changes of a feed entry not covered by `have`; the stored bytes as
/// they are when the device has nothing.
fn lacking(entry: &FeedEntry, have: &[ChangeHash]) -> Vec<u8> {
    if have.is_empty() {
        return entry.bytes.clone();
    }
    // Having a head is having everything before it: a device that has the
    // entry's heads (typically its own push, coming back in its page) lacks
    // nothing, and the document need not be loaded to say so.
    if !entry.heads.is_empty() && entry.heads.iter().all(|h| have.contains(h)) {
        return Vec::new();
    }
    match AutoCommit::load(&entry.bytes) {
        Ok(mut doc) => super::changes_since(&mut doc, have),
        Err(_) => entry.bytes.clone(),
    }
}

fn invalid(reason: impl std::fmt::Display) -> PushResult {
    PushResult::Invalid { reason: reason.to_string() }
}

fn refused(reason: impl std::fmt::Display) -> PushResult {
    PushResult::Refused { reason: reason.to_string() }
}

/// Runs one document's work so that a panic inside it (automerge's, or
/// ours) refuses that document alone: never the round, never a 500 loop.
fn guarded<T>(work: impl FnOnce() -> Result<T, PushResult>) -> Result<T, PushResult> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(work))
        .unwrap_or_else(|_| Err(invalid("the desk could not process this document's changes")))
}

/// Merges one pushed document on a scratch copy of the desk's: the change
/// chain is checked before anything is applied, the structure right after.
/// Nothing here is stored.
fn merge_push(
    author: &Actor,
    config: &ServerConfig,
    stored: Option<StoredDoc>,
    push: &DocPush,
) -> Result<Merged, PushResult> {
    if push.kind.is_reference() && !author.role.is_desk() {
        return Err(refused(crate::permissions::WholeRefusal::ReferenceData));
    }
    let (mut doc, before) = match stored {
        Some(stored) if stored.kind != push.kind => {
            return Err(invalid(format!("the pushed kind {:?} does not match the document", push.kind)));
        }
        Some(stored) => {
            let Ok(doc) = AutoCommit::load(&stored.bytes) else {
                return Err(invalid("the desk's copy of this document cannot be read"));
            };
            match Document::hydrate_as(&doc, push.doc, push.kind) {
                Ok(before) => (doc, Some(before)),
                Err(err) => return Err(invalid(err)),
            }
        }
        None => (AutoCommit::new(), None),
    };
    // An author who may not write the document learns nothing more about
    // it, whatever the bytes they sent.
    if let Some(before) = &before {
        if let Verdict::Refused(why) = review(author, Some(before), before) {
            return Err(refused(why));
        }
    }
    doc.set_actor(config.desk_actor.clone());
    let before_heads = doc.get_heads();
    let changes = match super::read_changes(&push.changes, config.fields.log_entries) {
        Ok(changes) => changes,
        Err(err) => return Err(invalid(format!("the changes do not load: {err}"))),
    };
    if let Err(err) = super::check_chain(&mut doc, &changes, &config.desk_actor) {
        return Err(invalid(format!("the changes do not chain: {err}")));
    }
    if let Err(err) = doc.apply_changes(changes) {
        return Err(invalid(format!("the changes do not apply: {err}")));
    }
    if !doc.get_missing_deps(&[]).is_empty() {
        return Err(PushResult::MissingDependencies);
    }
    if doc.get_heads() == before_heads {
        // A replay or an empty push: nothing new to store.
        return match before {
            Some(_) => Err(PushResult::Applied { seq: None, refused: Vec::new() }),
            None => Err(invalid("the push creates an empty document")),
        };
    }
    if let Err(err) = super::check_structure(&doc, &before_heads, author.role.is_desk()) {
        return Err(refused(err));
    }
    let after = Document::hydrate_as(&doc, push.doc, push.kind).map_err(invalid)?;
    Ok(Merged { doc, before_heads, before, after })
}

/// Reviews a merged document: schema, times, permissions, references.
/// Refused changes are neutralised by a compensating change of the desk's;
/// nothing is stored unless the result is valid.
fn finish_push(
    author: &Actor,
    now: Timestamp,
    config: &ServerConfig,
    merged: Merged,
    push: &DocPush,
    readable: &BTreeMap<DocId, DocKind>,
) -> (PushResult, Option<StoreDocument>) {
    let Merged { mut doc, before_heads, before, after } = merged;
    if let Err(err) = after.validate(&config.fields) {
        return (invalid(err), None);
    }
    if let Err(err) = super::check_text(&doc) {
        return (invalid(err), None);
    }
    if let Err(err) = after.check_times(now, &config.fields) {
        return (invalid(err), None);
    }
    let review = match review(author, before.as_ref(), &after) {
        Verdict::Refused(why) => return (refused(why), None),
        Verdict::Reviewed(review) => review,
    };
    let mut refusals = review.refused;
    let mut corrected = review.corrected.unwrap_or_else(|| after.clone());
    match crate::permissions::review_references(before.as_ref(), &mut corrected, readable) {
        Ok(more) => refusals.extend(more),
        Err(why) => return (refused(why), None),
    }
    let document = if refusals.is_empty() {
        after
    } else {
        if let Err(err) = corrected.reconcile_into(&mut doc) {
            return (invalid(err), None);
        }
        let message = format!("desk: neutralised {} refused change(s) by {}", refusals.len(), author.user);
        doc.commit_with(automerge::transaction::CommitOptions::default().with_message(message).with_time(now.0 / 1000));
        corrected
    };
    let refused_reports = refusals
        .iter()
        .map(|r| RefusalReport {
            field: r.field.to_owned(),
            entry: r.entry.as_ref().map(ToString::to_string),
            reason: r.reason.to_string(),
        })
        .collect();
    let store = StoreDocument {
        doc: push.doc,
        kind: push.kind,
        created: before.is_none(),
        changes: doc.save_after(&before_heads),
        heads: doc.get_heads(),
        document,
        refused: refusals,
        author: *author,
        received_at: now,
    };
    (PushResult::Applied { seq: None, refused: refused_reports }, Some(store))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sample::Cast;
    use crate::wire::{RoundId, SyncRequest};

    const NOW: Timestamp = Timestamp(1_000_000);

    fn request(cursor: u64, pushes: Vec<DocPush>) -> Vec<u8> {
        ClientMessage::Sync(SyncRequest {
            round: RoundId(3),
            cursor: Cursor(cursor),
            page_size: 10,
            pushes,
            known: vec![],
            refetch: vec![],
        })
        .encode()
    }

    fn config() -> ServerConfig {
        ServerConfig::new(ActorId::from([9; 16]))
    }

    fn entry(n: u128, seq: u64, bytes: usize) -> FeedEntry {
        FeedEntry {
            doc: DocId::from_u128(n),
            kind: DocKind::Ticket,
            seq,
            heads: vec![],
            bytes: vec![1; bytes],
            heads_at_cursor: vec![],
        }
    }

    fn response(round: &mut ServerRound) -> SyncResponse {
        match round.poll_task() {
            Some(ServerTask::Respond(bytes)) => match ServerMessage::decode(&bytes, &WireLimits::default()).unwrap() {
                ServerMessage::Sync(response) => response,
                other => panic!("expected a sync response, got {other:?}"),
            },
            other => panic!("expected the response, got {other:?}"),
        }
    }

    #[test]
    fn a_device_that_has_an_entrys_heads_lacks_nothing_and_one_behind_gets_the_rest() {
        use automerge::transaction::Transactable;
        let mut doc = AutoCommit::new();
        doc.put(automerge::ROOT, "a", 1).unwrap();
        doc.commit();
        let older = doc.get_heads();
        let mut device = AutoCommit::load(&doc.save()).unwrap();
        doc.put(automerge::ROOT, "b", 2).unwrap();
        doc.commit();
        let entry = FeedEntry {
            doc: DocId::from_u128(1),
            kind: DocKind::Ticket,
            seq: 5,
            heads: doc.get_heads(),
            bytes: doc.save(),
            heads_at_cursor: vec![],
        };
        assert!(lacking(&entry, &doc.get_heads()).is_empty(), "its own heads: nothing to send");
        let rest = lacking(&entry, &older);
        assert!(!rest.is_empty() && rest.len() < entry.bytes.len(), "one change behind gets that change alone");
        device.load_incremental(&rest).unwrap();
        assert_eq!(device.get_heads(), doc.get_heads());
    }

    #[test]
    fn an_idle_request_goes_straight_to_the_feed() {
        let mut round =
            ServerRound::handle_request(NOW, Cast::default().engineer, &request(7, vec![]), config()).unwrap();
        assert_eq!(round.poll_task(), Some(ServerTask::ReadFeed { after: Cursor(7), limit: 10, refetch: vec![] }));
        round.handle_feed(FeedPage {
            entries: vec![],
            scanned_to: Cursor(7),
            latest: Cursor(7),
            refetched: vec![],
            withdrawn: vec![],
        });
        let answer = response(&mut round);
        assert_eq!((answer.cursor, answer.more, answer.updates.len()), (Cursor(7), false, 0));
        assert!(round.is_done());
    }

    #[test]
    fn inputs_for_another_phase_are_ignored() {
        let push = DocPush { doc: DocId::from_u128(1), kind: DocKind::Ticket, heads: vec![], changes: vec![] };
        let mut round =
            ServerRound::handle_request(NOW, Cast::default().engineer, &request(0, vec![push]), config()).unwrap();
        assert!(matches!(round.poll_task(), Some(ServerTask::LoadDocuments(_))));
        round.handle_feed(FeedPage::default());
        round.handle_stored(DocId::from_u128(1), 99);
        round.handle_document(DocId::from_u128(2), None);
        assert_eq!(round.poll_task(), None, "nothing moves until the pushed document is loaded");
        round.handle_document(DocId::from_u128(1), None);
        assert!(
            matches!(round.poll_task(), Some(ServerTask::RecordRefusal(RefusedPush { .. }))),
            "an empty new document is refused, and the refusal audited"
        );
        assert!(matches!(round.poll_task(), Some(ServerTask::ReadFeed { .. })), "an empty new document stores nothing");
    }

    #[test]
    fn a_device_ahead_of_the_feed_starts_over_from_the_beginning() {
        let mut round =
            ServerRound::handle_request(NOW, Cast::default().engineer, &request(500, vec![]), config()).unwrap();
        round.poll_task();
        round.handle_feed(FeedPage {
            entries: vec![],
            scanned_to: Cursor(20),
            latest: Cursor(20),
            refetched: vec![],
            withdrawn: vec![],
        });
        assert_eq!(round.poll_task(), Some(ServerTask::ReadFeed { after: Cursor(0), limit: 10, refetch: vec![] }));
        round.handle_feed(FeedPage {
            entries: vec![entry(1, 3, 10)],
            scanned_to: Cursor(20),
            latest: Cursor(20),
            refetched: vec![],
            withdrawn: vec![],
        });
        let answer = response(&mut round);
        assert!(answer.cursor_reset);
        assert_eq!((answer.cursor, answer.updates.len()), (Cursor(20), 1));
    }

    #[test]
    fn a_page_stops_at_its_byte_budget_and_asks_for_more() {
        let config = ServerConfig { page_bytes: 1_000, ..config() };
        let mut round =
            ServerRound::handle_request(NOW, Cast::default().engineer, &request(0, vec![]), config).unwrap();
        round.poll_task();
        let entries = vec![entry(1, 1, 600), entry(2, 2, 600), entry(3, 3, 600)];
        round.handle_feed(FeedPage {
            entries,
            scanned_to: Cursor(3),
            latest: Cursor(3),
            refetched: vec![],
            withdrawn: vec![],
        });
        let answer = response(&mut round);
        assert_eq!(answer.updates.len(), 1, "one document always goes, the second would pass the budget");
        assert_eq!((answer.cursor, answer.more), (Cursor(1), true), "the cursor stops at what was sent");
    }

    #[test]
    fn a_document_the_device_already_has_is_skipped_but_passed() {
        let ticket = crate::model::Ticket::new(
            DocId::from_u128(1),
            Cast::default().dispatcher,
            NOW,
            "T-1".into(),
            "x".into(),
            DocId::from_u128(2),
        );
        let mut doc = crate::model::new_document(&Document::Ticket(ticket), ActorId::from([1; 16])).unwrap();
        let mut round =
            ServerRound::handle_request(NOW, Cast::default().engineer, &request(4, vec![]), config()).unwrap();
        round.poll_task();
        let heads = doc.get_heads();
        let known = FeedEntry { heads: heads.clone(), heads_at_cursor: heads, bytes: doc.save(), ..entry(1, 5, 0) };
        round.handle_feed(FeedPage {
            entries: vec![known],
            scanned_to: Cursor(5),
            latest: Cursor(5),
            refetched: vec![],
            withdrawn: vec![],
        });
        let answer = response(&mut round);
        assert!(answer.updates.is_empty(), "nothing the device lacks");
        assert_eq!(answer.cursor, Cursor(5));
    }

    #[test]
    fn withdrawals_page_with_the_feed_and_stop_at_the_cursor() {
        let withdrawal = |seq, doc| Withdrawal { seq, doc: DocId::from_u128(doc) };
        let request = |page_size: u32| {
            ClientMessage::Sync(SyncRequest {
                round: RoundId(1),
                cursor: Cursor(0),
                page_size,
                pushes: vec![],
                known: vec![],
                refetch: vec![],
            })
            .encode()
        };
        let mut round = ServerRound::handle_request(NOW, Cast::default().engineer, &request(2), config()).unwrap();
        round.poll_task();
        round.handle_feed(FeedPage {
            entries: vec![entry(1, 2, 10), entry(2, 6, 10)],
            scanned_to: Cursor(6),
            latest: Cursor(9),
            refetched: vec![],
            withdrawn: vec![withdrawal(3, 7), withdrawal(4, 7), withdrawal(5, 8)],
        });
        let answer = response(&mut round);
        assert_eq!(answer.withdrawn, vec![DocId::from_u128(7)], "two withdrawals fill a page of two");
        assert_eq!((answer.cursor, answer.more), (Cursor(4), true), "the page ends at the last withdrawal kept");
        assert_eq!(answer.updates.len(), 1, "the document past the page's end waits for the next page");

        let config = ServerConfig { page_bytes: 10, ..config() };
        let mut round = ServerRound::handle_request(NOW, Cast::default().engineer, &request(10), config).unwrap();
        round.poll_task();
        round.handle_feed(FeedPage {
            entries: vec![entry(1, 2, 10), entry(2, 6, 10)],
            scanned_to: Cursor(8),
            latest: Cursor(8),
            refetched: vec![],
            withdrawn: vec![withdrawal(3, 7), withdrawal(7, 8)],
        });
        let answer = response(&mut round);
        assert_eq!(answer.cursor, Cursor(2), "the byte budget ends the page after the first document");
        assert!(answer.withdrawn.is_empty(), "a withdrawal past the cursor waits for the page that reaches it");
    }
}
