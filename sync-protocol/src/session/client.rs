//! The device's side of a sync round.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use automerge::{AutoCommit, ChangeHash};
use serde::{Deserialize, Serialize};

use crate::ids::{DocId, Timestamp};
use crate::limits::WireLimits;
use crate::model::DocKind;
use crate::wire::{
    to_change_hashes, to_heads, ClientMessage, Cursor, DocPush, DocUpdate, Head, KnownHeads, PushResult, RefusalReport,
    RoundId, ServerMessage, SyncRequest, WireError,
};

/// What a device must keep between rounds (persist it after each round).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientState {
    pub cursor: Cursor,
    /// Documents whose pushed version sits in the feed past the cursor: the
    /// device tells the desk it has them so they are not sent back to it.
    pub unconfirmed: BTreeMap<DocId, Unconfirmed>,
    /// Documents the device needs whole again.
    pub refetch: BTreeSet<DocId>,
    /// Documents the desk withdrew from this device that it still holds:
    /// each goes once nothing of the device's own on it waits for the desk.
    #[serde(default)]
    pub withdrawn: BTreeSet<DocId>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unconfirmed {
    pub seq: u64,
    pub heads: Vec<Head>,
}

/// One document's changes that the desk has not acknowledged.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutboundDoc {
    pub doc: DocId,
    pub kind: DocKind,
    pub heads: Vec<ChangeHash>,
    pub changes: Vec<u8>,
}

impl OutboundDoc {
    /// What of `doc` the desk lacks, given the heads it acknowledged; `None`
    /// when it lacks nothing.
    pub fn pending(id: DocId, kind: DocKind, doc: &mut AutoCommit, acked: &[ChangeHash]) -> Option<Self> {
        let heads = doc.get_heads();
        let changes = super::changes_since(doc, acked);
        (!changes.is_empty()).then_some(Self { doc: id, kind, heads, changes })
    }
}

/// What the device must do after a response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ClientEvent {
    /// Merge these changes into the local document (automerge
    /// `load_incremental`); the desk then has `update.heads` and so does the device.
    Apply(DocUpdate),
    /// The desk holds the pushed changes up to `acked`; `refused` lists the
    /// ones it neutralised (its compensating change arrives as an `Apply`).
    Pushed { doc: DocId, acked: Vec<ChangeHash>, refused: Vec<RefusalReport> },
    /// The desk refused the document whole, or found it invalid. Treat
    /// `acked` as settled so it is not sent again, and show `reason`.
    PushRefused { doc: DocId, acked: Vec<ChangeHash>, reason: String },
    /// The desk lacks changes the push builds on: forget its acknowledged
    /// heads for this document and push it whole next round.
    ResendAll { doc: DocId },
    /// The document's unsynced changes exceed what one message may carry;
    /// they stay on the device and are not sent.
    TooLarge { doc: DocId, bytes: usize },
    /// The round is over. `more`: start another one now.
    RoundComplete { cursor: Cursor, more: bool },
    /// The round failed (transport error, timeout, error reply); nothing
    /// was lost: its pushes go again next round.
    RoundFailed { reason: String },
    /// The device was revoked: erase local data and stop.
    Wipe,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SessionError {
    #[error("a round is already in flight")]
    RoundInFlight,
    #[error("no round is waiting for a response")]
    NoRoundInFlight,
    #[error("the response belongs to round {found}, not {expected}")]
    UnexpectedRound { expected: u64, found: u64 },
    #[error("a page of the feed was expected, not a wipe or an error")]
    NotAPage,
    #[error("malformed message: {0}")]
    Wire(#[from] WireError),
}

struct InFlight {
    round: RoundId,
    pushed: BTreeMap<DocId, Vec<ChangeHash>>,
    refetched: Vec<DocId>,
    deferred: usize,
    deadline: Timestamp,
}

/// The device's sync session: one round in flight at a time.
pub struct ClientSession {
    state: ClientState,
    limits: WireLimits,
    page_size: u32,
    round_timeout_ms: i64,
    in_flight: Option<InFlight>,
    transmit: VecDeque<Vec<u8>>,
    events: VecDeque<ClientEvent>,
    /// How the last round ended, for `next_step`.
    ended: Option<RoundEnd>,
}

/// What a device does once it has applied a round's events. Decided here,
/// once, so the app's core and the memory device behave alike.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RoundEnd {
    /// Start another round now: more of the feed waits, or documents go
    /// whole (pushed again or asked for again).
    Again,
    /// Nothing more to say until something changes.
    Done,
    /// The round failed; nothing was lost. Stop this sync and report the
    /// reason; the next sync (after the caller's backoff) sends it all again.
    Failed(String),
    /// The device was revoked and must have erased its data.
    Wiped,
}

impl ClientSession {
    pub fn new(state: ClientState, limits: WireLimits) -> Self {
        Self {
            state,
            limits,
            page_size: 500,
            round_timeout_ms: 60_000,
            in_flight: None,
            transmit: VecDeque::new(),
            events: VecDeque::new(),
            ended: None,
        }
    }

    /// What to do once this round's events are applied (call it after
    /// draining `poll_event` and answering failed applies with `request_full`).
    pub fn next_step(&mut self) -> RoundEnd {
        match self.ended.take() {
            Some(end @ (RoundEnd::Again | RoundEnd::Failed(_) | RoundEnd::Wiped)) => end,
            // A document found lacking history is asked for whole at once.
            Some(RoundEnd::Done) | None if !self.state.refetch.is_empty() => RoundEnd::Again,
            Some(RoundEnd::Done) | None => RoundEnd::Done,
        }
    }

    /// Whether the desk said, in the reply just handled, that more pages
    /// wait. A device may then start the next round while it applies this
    /// one, as long as this round pushed nothing (its acknowledgements are
    /// not applied yet) and it applies the rounds in order.
    pub fn more_waits(&self) -> bool {
        self.ended == Some(RoundEnd::Again) && self.in_flight.is_none()
    }

    /// Documents per page to ask for (the desk may send fewer).
    pub fn with_page_size(mut self, page_size: u32) -> Self {
        self.page_size = page_size.max(1);
        self
    }

    pub fn with_round_timeout_ms(mut self, timeout: i64) -> Self {
        self.round_timeout_ms = timeout;
        self
    }

    pub fn state(&self) -> &ClientState {
        &self.state
    }

    pub fn is_in_flight(&self) -> bool {
        self.in_flight.is_some()
    }

    /// The withdrawn documents the device may drop now, given which of them
    /// still hold its own work the desk lacks (`waiting`); they leave the
    /// session's state, and the caller erases them in the same transaction
    /// that saves it. The others stay until their work has gone.
    pub fn take_droppable(&mut self, waiting: impl Fn(DocId) -> bool) -> Vec<DocId> {
        let droppable: Vec<DocId> = self.state.withdrawn.iter().copied().filter(|doc| !waiting(*doc)).collect();
        for doc in &droppable {
            self.state.withdrawn.remove(doc);
        }
        droppable
    }

    /// Asks for a document whole in the next round (its local copy lacks changes).
    pub fn request_full(&mut self, doc: DocId) {
        self.state.refetch.insert(doc);
    }

    /// Starts a round pushing `outbound`; as many as fit in one message go,
    /// the rest wait for the next round (reported as `more`).
    pub fn start_round(
        &mut self,
        now: Timestamp,
        round: RoundId,
        outbound: Vec<OutboundDoc>,
    ) -> Result<(), SessionError> {
        if self.in_flight.is_some() {
            return Err(SessionError::RoundInFlight);
        }
        self.ended = None;
        let (pushes, deferred) = self.pack(outbound);
        let deferred = deferred.len();
        let request = self.request(round, pushes);
        let refetch = request.refetch.clone();
        let pushed = request.pushes.iter().map(|p| (p.doc, to_change_hashes(&p.heads))).collect();
        self.transmit.push_back(ClientMessage::Sync(request).encode());
        let deadline = now.plus_millis(self.round_timeout_ms);
        self.in_flight = Some(InFlight { round, pushed, refetched: refetch, deferred, deadline });
        Ok(())
    }

    /// The pushes of `outbound` that fit in one message, and those that wait
    /// for the next; what no message could carry is reported (`TooLarge`).
    fn pack(&mut self, outbound: Vec<OutboundDoc>) -> (Vec<DocPush>, Vec<OutboundDoc>) {
        // Leave room for the header, the known heads and postcard's framing.
        let budget = self.limits.max_message / 2;
        let mut used = 0;
        let (mut pushes, mut deferred) = (Vec::new(), Vec::new());
        for doc in outbound {
            if doc.changes.len() > self.limits.max_document_bytes || doc.heads.len() > self.limits.max_heads {
                // No round could carry it; say so instead of trying forever.
                self.events.push_back(ClientEvent::TooLarge { doc: doc.doc, bytes: doc.changes.len() });
                continue;
            }
            let size = doc.changes.len() + doc.heads.len() * 32 + 64;
            let fits = pushes.is_empty() || used + size <= budget;
            if !fits || pushes.len() >= self.limits.max_documents {
                deferred.push(doc);
                continue;
            }
            used += size;
            pushes.push(DocPush { doc: doc.doc, kind: doc.kind, heads: to_heads(&doc.heads), changes: doc.changes });
        }
        (pushes, deferred)
    }

    /// A request pushing `pushes`, from where this device stands.
    fn request(&self, round: RoundId, pushes: Vec<DocPush>) -> SyncRequest {
        let known: Vec<KnownHeads> = self
            .state
            .unconfirmed
            .iter()
            .filter(|(doc, _)| !pushes.iter().any(|p| p.doc == **doc))
            .take(self.limits.max_documents)
            .map(|(doc, u)| KnownHeads { doc: *doc, heads: u.heads.clone() })
            .collect();
        let refetch: Vec<DocId> = self.state.refetch.iter().copied().take(self.limits.max_documents).collect();
        SyncRequest { round, cursor: self.state.cursor, page_size: self.page_size, pushes, known, refetch }
    }

    /// Every push of `outbound` as requests to carry by hand (a hand-off
    /// file), as many as they need; nothing goes in flight, and nothing is
    /// settled until the desk's answer comes back (by file or online).
    /// Round ids are `first_round` counting up.
    pub fn requests_for_hand_off(&mut self, first_round: RoundId, outbound: Vec<OutboundDoc>) -> Vec<Vec<u8>> {
        let mut requests = Vec::new();
        let mut waiting = outbound;
        loop {
            let (pushes, deferred) = self.pack(waiting);
            let round = RoundId(first_round.0.wrapping_add(requests.len() as u64));
            // The desk answers each with a page of the feed that nobody
            // reads: ask for the smallest.
            let request = SyncRequest { page_size: 1, ..self.request(round, pushes) };
            requests.push(ClientMessage::Sync(request).encode());
            if deferred.is_empty() {
                return requests;
            }
            waiting = deferred;
        }
    }

    /// The next message to send, if any.
    pub fn poll_transmit(&mut self) -> Option<Vec<u8>> {
        self.transmit.pop_front()
    }

    /// The next thing the app must do, if any.
    pub fn poll_event(&mut self) -> Option<ClientEvent> {
        self.events.pop_front()
    }

    /// When the round in flight gives up waiting.
    pub fn poll_timeout(&self) -> Option<Timestamp> {
        self.in_flight.as_ref().map(|f| f.deadline)
    }

    pub fn handle_timeout(&mut self, now: Timestamp) {
        if self.in_flight.as_ref().is_some_and(|f| now >= f.deadline) {
            self.fail("no response in time".into());
        }
    }

    /// The transport lost the request or the response.
    pub fn handle_transport_error(&mut self, reason: &str) {
        if self.in_flight.is_some() {
            self.fail(format!("transport: {reason}"));
        }
    }

    fn fail(&mut self, reason: String) {
        self.in_flight = None;
        self.ended = Some(RoundEnd::Failed(reason.clone()));
        self.events.push_back(ClientEvent::RoundFailed { reason });
    }

    /// Takes the desk's reply. A reply to another round (a late duplicate)
    /// is refused and changes nothing.
    pub fn handle_response(&mut self, _now: Timestamp, bytes: &[u8]) -> Result<(), SessionError> {
        let Some(in_flight) = self.in_flight.as_ref() else {
            return Err(SessionError::NoRoundInFlight);
        };
        let message = match ServerMessage::decode(bytes, &self.limits) {
            Ok(message) => message,
            Err(err) => {
                self.fail(format!("malformed response: {err}"));
                return Err(err.into());
            }
        };
        let response = match message {
            ServerMessage::Wipe => {
                self.in_flight = None;
                self.ended = Some(RoundEnd::Wiped);
                self.events.push_back(ClientEvent::Wipe);
                return Ok(());
            }
            ServerMessage::Error(report) => {
                self.fail(format!("{:?}: {}", report.code, report.message));
                return Ok(());
            }
            ServerMessage::Sync(response) => response,
        };
        if response.round != in_flight.round {
            return Err(SessionError::UnexpectedRound { expected: in_flight.round.0, found: response.round.0 });
        }
        let Some(in_flight) = self.in_flight.take() else {
            return Err(SessionError::NoRoundInFlight);
        };
        if response.cursor_reset {
            // Sequence numbers from before the reset mean nothing now.
            self.state.unconfirmed.clear();
        }
        let mut resend = false;
        for outcome in response.outcomes {
            let Some(acked) = in_flight.pushed.get(&outcome.doc) else {
                continue;
            };
            let doc = outcome.doc;
            let event = match outcome.result {
                PushResult::Applied { seq, refused } => {
                    if let Some(seq) = seq.filter(|s| *s > response.cursor.0) {
                        self.state.unconfirmed.insert(doc, Unconfirmed { seq, heads: to_heads(acked) });
                    }
                    ClientEvent::Pushed { doc, acked: acked.clone(), refused }
                }
                PushResult::Refused { reason } | PushResult::Invalid { reason } => {
                    ClientEvent::PushRefused { doc, acked: acked.clone(), reason }
                }
                PushResult::MissingDependencies => {
                    resend = true;
                    ClientEvent::ResendAll { doc }
                }
            };
            self.events.push_back(event);
        }
        // The desk sent each refetched document it lets this device read.
        for doc in &in_flight.refetched {
            self.state.refetch.remove(doc);
        }
        // The desk's answer to a round says where this device stands.
        let cursor = response.cursor;
        self.take_page(response.withdrawn, response.updates, cursor, true);
        let more = response.more || in_flight.deferred > 0 || !self.state.refetch.is_empty();
        self.ended = Some(if more || resend { RoundEnd::Again } else { RoundEnd::Done });
        self.events.push_back(ClientEvent::RoundComplete { cursor, more });
        Ok(())
    }

    /// Takes a page of the feed that came by hand (a file the desk wrote
    /// for this device) rather than as the answer to a round: its updates
    /// to apply and its withdrawals, like a round's. The cursor only moves
    /// forward (unless the desk's feed restarted), so an older page merges
    /// harmlessly. A page never settles pushes: the desk's heads in its
    /// updates do that, when they are applied. Returns the page's cursor.
    pub fn handle_delivered(&mut self, bytes: &[u8]) -> Result<Cursor, SessionError> {
        if self.in_flight.is_some() {
            return Err(SessionError::RoundInFlight);
        }
        let response = match ServerMessage::decode(bytes, &self.limits)? {
            ServerMessage::Sync(response) => response,
            ServerMessage::Wipe | ServerMessage::Error(_) => return Err(SessionError::NotAPage),
        };
        if response.cursor_reset {
            self.state.unconfirmed.clear();
        }
        for update in &response.updates {
            self.state.refetch.remove(&update.doc);
        }
        let cursor = response.cursor;
        self.take_page(response.withdrawn, response.updates, cursor, response.cursor_reset);
        Ok(cursor)
    }

    /// What a page of the feed says, whichever way it came.
    fn take_page(&mut self, withdrawn: Vec<DocId>, updates: Vec<DocUpdate>, cursor: Cursor, reset: bool) {
        for doc in withdrawn {
            self.state.refetch.remove(&doc);
            self.state.unconfirmed.remove(&doc);
            self.state.withdrawn.insert(doc);
        }
        for update in updates {
            // Readable again: the desk sends only what the device may read.
            self.state.withdrawn.remove(&update.doc);
            self.events.push_back(ClientEvent::Apply(update));
        }
        if reset || cursor > self.state.cursor {
            self.state.cursor = cursor;
        }
        let cursor = self.state.cursor.0;
        self.state.unconfirmed.retain(|_, u| u.seq > cursor);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::{ErrorCode, ErrorReport, SyncResponse};

    const NOW: Timestamp = Timestamp(1_000_000);

    fn session() -> ClientSession {
        ClientSession::new(ClientState::default(), WireLimits::default()).with_round_timeout_ms(5_000)
    }

    fn outbound(n: u128, bytes: usize) -> OutboundDoc {
        OutboundDoc {
            doc: DocId::from_u128(n),
            kind: DocKind::Ticket,
            heads: vec![ChangeHash([n as u8; 32])],
            changes: vec![0; bytes],
        }
    }

    fn reply(round: u64, cursor: u64, more: bool) -> Vec<u8> {
        ServerMessage::Sync(SyncResponse {
            round: RoundId(round),
            outcomes: vec![],
            updates: vec![],
            cursor: Cursor(cursor),
            more,
            cursor_reset: false,
            withdrawn: Vec::new(),
        })
        .encode()
    }

    fn events(session: &mut ClientSession) -> Vec<ClientEvent> {
        std::iter::from_fn(|| session.poll_event()).collect()
    }

    fn page(cursor: u64, docs: &[u128], reset: bool) -> Vec<u8> {
        let updates = docs
            .iter()
            .map(|n| DocUpdate {
                doc: DocId::from_u128(*n),
                kind: DocKind::Ticket,
                seq: cursor,
                heads: vec![],
                changes: vec![1],
            })
            .collect();
        ServerMessage::Sync(SyncResponse {
            round: RoundId(0),
            outcomes: vec![],
            updates,
            cursor: Cursor(cursor),
            more: false,
            cursor_reset: reset,
            withdrawn: vec![DocId::from_u128(99)],
        })
        .encode()
    }

    #[test]
    fn a_hand_off_carries_every_push_in_as_many_requests_as_it_needs() {
        let limits = WireLimits { max_message: 1000, ..WireLimits::default() };
        let mut s = ClientSession::new(ClientState { cursor: Cursor(7), ..ClientState::default() }, limits.clone());
        let requests = s.requests_for_hand_off(RoundId(10), (1..=5).map(|n| outbound(n, 300)).collect());
        let decoded: Vec<SyncRequest> = requests
            .iter()
            .map(|r| match ClientMessage::decode(r, &limits).unwrap() {
                ClientMessage::Sync(request) => request,
            })
            .collect();
        let pushed: Vec<DocId> = decoded.iter().flat_map(|r| r.pushes.iter().map(|p| p.doc)).collect();
        assert_eq!(pushed, (1..=5).map(DocId::from_u128).collect::<Vec<_>>(), "each push once, in order");
        assert!(decoded.len() > 1, "a 500-byte budget takes one 300-byte push per request");
        assert_eq!(
            decoded.iter().map(|r| r.round.0).collect::<Vec<_>>(),
            (10..10 + decoded.len() as u64).collect::<Vec<_>>()
        );
        assert!(decoded.iter().all(|r| r.cursor == Cursor(7)));
        assert!(!s.is_in_flight(), "nothing waits for an answer");
        s.start_round(NOW, RoundId(1), vec![]).expect("a round can start as usual");
        // Nothing to push still says where the device stands.
        let mut empty = session();
        assert_eq!(empty.requests_for_hand_off(RoundId(1), vec![]).len(), 1);
    }

    #[test]
    fn a_delivered_page_applies_like_a_round_and_moves_the_cursor_forward_only() {
        let mut s = session();
        assert_eq!(s.handle_delivered(&page(40, &[1, 2], false)).unwrap(), Cursor(40));
        let applied: Vec<DocId> = events(&mut s)
            .into_iter()
            .filter_map(|e| match e {
                ClientEvent::Apply(u) => Some(u.doc),
                _ => None,
            })
            .collect();
        assert_eq!(applied, vec![DocId::from_u128(1), DocId::from_u128(2)]);
        assert_eq!(s.state().cursor, Cursor(40));
        assert!(s.state().withdrawn.contains(&DocId::from_u128(99)));
        // An older page merges, and leaves the cursor where it was.
        s.handle_delivered(&page(20, &[3], false)).unwrap();
        assert_eq!(s.state().cursor, Cursor(40));
        // Unless the desk's feed restarted.
        s.handle_delivered(&page(5, &[3], true)).unwrap();
        assert_eq!(s.state().cursor, Cursor(5));
        // Not while a round is in flight, and never a wipe or an error.
        assert_eq!(s.handle_delivered(&ServerMessage::Wipe.encode()).unwrap_err(), SessionError::NotAPage);
        assert!(matches!(s.handle_delivered(b"junk"), Err(SessionError::Wire(_))));
        s.start_round(NOW, RoundId(1), vec![]).unwrap();
        assert_eq!(s.handle_delivered(&page(50, &[], false)).unwrap_err(), SessionError::RoundInFlight);
    }

    #[test]
    fn more_waits_only_between_a_reply_that_says_so_and_the_next_round() {
        let mut s = session();
        assert!(!s.more_waits(), "no round yet");
        s.start_round(NOW, RoundId(1), vec![]).unwrap();
        assert!(!s.more_waits(), "in flight");
        s.handle_response(NOW, &reply(1, 500, true)).unwrap();
        assert!(s.more_waits());
        s.start_round(NOW, RoundId(2), vec![]).unwrap();
        assert!(!s.more_waits(), "the next round is on its way");
        s.handle_response(NOW, &reply(2, 900, false)).unwrap();
        assert!(!s.more_waits(), "the last page");
        assert_eq!(s.state().cursor, Cursor(900));
    }

    #[test]
    fn a_second_round_cannot_start_while_one_is_in_flight() {
        let mut s = session();
        s.start_round(NOW, RoundId(1), vec![]).unwrap();
        assert_eq!(s.start_round(NOW, RoundId(2), vec![]), Err(SessionError::RoundInFlight));
        assert!(s.poll_transmit().is_some() && s.poll_transmit().is_none(), "exactly one request goes out");
    }

    #[test]
    fn a_round_times_out_at_its_deadline_and_not_before() {
        let mut s = session();
        s.start_round(NOW, RoundId(1), vec![]).unwrap();
        assert_eq!(s.poll_timeout(), Some(NOW.plus_millis(5_000)));
        s.handle_timeout(NOW.plus_millis(4_999));
        assert!(s.is_in_flight(), "not yet");
        s.handle_timeout(NOW.plus_millis(5_000));
        assert!(!s.is_in_flight());
        assert!(matches!(events(&mut s)[..], [ClientEvent::RoundFailed { .. }]));
    }

    #[test]
    fn the_cursor_advances_only_with_the_matching_response() {
        let mut s = session();
        s.start_round(NOW, RoundId(1), vec![]).unwrap();
        assert!(matches!(s.handle_response(NOW, &reply(9, 40, false)), Err(SessionError::UnexpectedRound { .. })));
        assert_eq!(s.state().cursor, Cursor(0), "a stranger's reply changes nothing");
        s.handle_response(NOW, &reply(1, 40, false)).unwrap();
        assert_eq!(s.state().cursor, Cursor(40));
        assert_eq!(events(&mut s), vec![ClientEvent::RoundComplete { cursor: Cursor(40), more: false }]);
        assert_eq!(
            s.handle_response(NOW, &reply(1, 40, false)),
            Err(SessionError::NoRoundInFlight),
            "a duplicate is refused"
        );
    }

    #[test]
    fn a_wipe_ends_the_round_and_tells_the_app() {
        let mut s = session();
        s.start_round(NOW, RoundId(1), vec![]).unwrap();
        s.handle_response(NOW, &ServerMessage::Wipe.encode()).unwrap();
        assert_eq!(events(&mut s), vec![ClientEvent::Wipe]);
        assert!(!s.is_in_flight());
    }

    #[test]
    fn an_error_reply_or_garbage_fails_the_round_and_moves_nothing() {
        let mut s = session();
        s.start_round(NOW, RoundId(1), vec![outbound(1, 10)]).unwrap();
        let error =
            ServerMessage::Error(ErrorReport { code: ErrorCode::Unauthorized, message: "token expired".into() });
        s.handle_response(NOW, &error.encode()).unwrap();
        assert!(
            matches!(&events(&mut s)[..], [ClientEvent::RoundFailed { reason }] if reason.contains("token expired"))
        );
        s.start_round(NOW, RoundId(2), vec![]).unwrap();
        assert!(matches!(s.handle_response(NOW, b"garbage"), Err(SessionError::Wire(_))));
        assert!(matches!(events(&mut s)[..], [ClientEvent::RoundFailed { .. }]));
        assert_eq!(s.state(), &ClientState::default());
    }

    #[test]
    fn the_session_decides_what_follows_a_round() {
        let mut s = session();
        s.start_round(NOW, RoundId(1), vec![]).unwrap();
        s.handle_response(NOW, &reply(1, 40, false)).unwrap();
        events(&mut s);
        assert_eq!(s.next_step(), RoundEnd::Done);
        s.start_round(NOW, RoundId(2), vec![]).unwrap();
        s.handle_response(NOW, &reply(2, 40, false)).unwrap();
        events(&mut s);
        s.request_full(DocId::from_u128(5));
        assert_eq!(s.next_step(), RoundEnd::Again, "a document asked for whole comes at once");
        s.start_round(NOW, RoundId(3), vec![]).unwrap();
        let error = ServerMessage::Error(ErrorReport { code: ErrorCode::Unavailable, message: "busy".into() });
        s.handle_response(NOW, &error.encode()).unwrap();
        events(&mut s);
        assert!(
            matches!(s.next_step(), RoundEnd::Failed(reason) if reason.contains("busy")),
            "a failure ends the sync"
        );
        s.start_round(NOW, RoundId(4), vec![]).unwrap();
        s.handle_response(NOW, &ServerMessage::Wipe.encode()).unwrap();
        events(&mut s);
        assert_eq!(s.next_step(), RoundEnd::Wiped);
    }

    #[test]
    fn a_document_too_large_for_any_message_is_reported_not_retried_forever() {
        let limits = WireLimits { max_document_bytes: 100, ..WireLimits::default() };
        let mut s = ClientSession::new(ClientState::default(), limits);
        s.start_round(NOW, RoundId(1), vec![outbound(1, 101), outbound(2, 50)]).unwrap();
        assert_eq!(events(&mut s), vec![ClientEvent::TooLarge { doc: DocId::from_u128(1), bytes: 101 }]);
        let ClientMessage::Sync(sent) =
            ClientMessage::decode(&s.poll_transmit().unwrap(), &WireLimits::default()).unwrap();
        assert_eq!(sent.pushes.iter().map(|p| p.doc).collect::<Vec<_>>(), vec![DocId::from_u128(2)]);
        s.handle_response(NOW, &reply(1, 0, false)).unwrap();
        assert_eq!(events(&mut s), vec![ClientEvent::RoundComplete { cursor: Cursor(0), more: false }]);
    }

    #[test]
    fn pushes_that_do_not_fit_one_message_wait_for_the_next_round() {
        let limits = WireLimits { max_message: 4_000, ..WireLimits::default() };
        let mut s = ClientSession::new(ClientState::default(), limits);
        s.start_round(NOW, RoundId(1), vec![outbound(1, 1_500), outbound(2, 1_500)]).unwrap();
        let request = s.poll_transmit().unwrap();
        let ClientMessage::Sync(sent) = ClientMessage::decode(&request, &WireLimits::default()).unwrap();
        assert_eq!(sent.pushes.len(), 1, "only what fits goes");
        s.handle_response(NOW, &reply(1, 0, false)).unwrap();
        assert_eq!(
            events(&mut s),
            vec![ClientEvent::RoundComplete { cursor: Cursor(0), more: true }],
            "the rest is due now"
        );
    }

    #[test]
    fn an_accepted_push_past_the_cursor_is_declared_known_until_the_cursor_passes_it() {
        let mut s = session();
        s.start_round(NOW, RoundId(1), vec![outbound(1, 10)]).unwrap();
        let accepted = ServerMessage::Sync(SyncResponse {
            round: RoundId(1),
            outcomes: vec![crate::wire::PushOutcome {
                doc: DocId::from_u128(1),
                result: PushResult::Applied { seq: Some(50), refused: vec![] },
            }],
            updates: vec![],
            cursor: Cursor(10),
            more: true,
            cursor_reset: false,
            withdrawn: Vec::new(),
        });
        s.handle_response(NOW, &accepted.encode()).unwrap();
        assert!(s.state().unconfirmed.contains_key(&DocId::from_u128(1)));
        s.poll_transmit();
        s.start_round(NOW, RoundId(2), vec![]).unwrap();
        let ClientMessage::Sync(sent) =
            ClientMessage::decode(&s.poll_transmit().unwrap(), &WireLimits::default()).unwrap();
        assert_eq!(sent.known.len(), 1, "the desk must not echo the device's own push");
        s.handle_response(NOW, &reply(2, 60, false)).unwrap();
        assert!(s.state().unconfirmed.is_empty(), "past the cursor it is plain history");
    }

    #[test]
    fn a_withdrawn_document_goes_only_once_its_own_work_has_gone() {
        let mut s = session();
        let (kept, free) = (DocId::from_u128(1), DocId::from_u128(2));
        s.start_round(NOW, RoundId(1), vec![]).unwrap();
        let withdrawing = ServerMessage::Sync(SyncResponse {
            round: RoundId(1),
            outcomes: vec![],
            updates: vec![],
            cursor: Cursor(5),
            more: false,
            cursor_reset: false,
            withdrawn: vec![kept, free],
        });
        s.handle_response(NOW, &withdrawing.encode()).unwrap();
        events(&mut s);
        assert_eq!(s.take_droppable(|doc| doc == kept), vec![free], "the one with unsent work stays");
        assert_eq!(s.state().withdrawn, BTreeSet::from([kept]), "and is remembered until it can go");
        assert_eq!(s.take_droppable(|_| false), vec![kept], "once its work has gone, it goes too");
        assert!(s.take_droppable(|_| false).is_empty(), "each goes once");

        s.start_round(NOW, RoundId(2), vec![]).unwrap();
        let mut again = withdrawing;
        if let ServerMessage::Sync(r) = &mut again {
            r.round = RoundId(2);
            r.withdrawn = vec![kept];
        }
        s.handle_response(NOW, &again.encode()).unwrap();
        s.start_round(NOW, RoundId(3), vec![]).unwrap();
        let regained = ServerMessage::Sync(SyncResponse {
            round: RoundId(3),
            outcomes: vec![],
            updates: vec![DocUpdate { doc: kept, kind: DocKind::Ticket, seq: 6, heads: vec![], changes: vec![] }],
            cursor: Cursor(6),
            more: false,
            cursor_reset: false,
            withdrawn: vec![],
        });
        s.handle_response(NOW, &regained.encode()).unwrap();
        assert!(s.take_droppable(|_| false).is_empty(), "a document readable again is kept");
    }
}
