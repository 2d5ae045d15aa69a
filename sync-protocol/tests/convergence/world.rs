//! The convergence property's world, written once for any desk: the
//! memory desk runs it in `outpost-sync`'s tests, the SQL desk (SQLite) in
//! the desk's. Included by path from both.
#![allow(dead_code, unreachable_pub)]

use std::collections::BTreeSet;

use automerge::ActorId;
use outpost_sync::ids::{DocId, EntryId, Timestamp};
use outpost_sync::limits::WireLimits;
use outpost_sync::memory::{sync_until_quiet, DeskStore, EditError, MemoryDevice};
use outpost_sync::model::{
    ChecklistItemState, Document, Priority, Ticket, TicketStatus, TimeEntry, TimeKind, Transition, WorkLogEntry,
};
use outpost_sync::sample::{worked_ticket, Cast, Rng};
use outpost_sync::wire::RoundId;
use outpost_sync::workflow::{fold_ticket, ticket_move_refusal};
use proptest::prelude::*;

pub const T0: Timestamp = Timestamp(1_790_000_000_000);

fn ticket_of(document: Option<Document>) -> Ticket {
    match document {
        Some(Document::Ticket(t)) => t,
        other => panic!("expected a ticket, got {other:?}"),
    }
}

fn edit_desk_ticket(desk: &mut impl DeskStore, id: DocId, change: impl FnOnce(&mut Ticket)) {
    let mut change = Some(change);
    desk.edit(id, &mut |d| match d {
        Document::Ticket(t) => (change.take().expect("the desk applies an edit once"))(t),
        other => panic!("expected a ticket, got {other:?}"),
    });
}

#[derive(Clone, Debug)]
pub enum Edit {
    Note,
    Tick { item: u8, done: bool },
    Text { at: u16, words: u8 },
    Move { pick: u8 },
    StartTime,
    StopTime,
    ForbiddenDeadline,
}

#[derive(Clone, Debug)]
pub enum DeskEdit {
    Note,
    Text { at: u16 },
    Priority(u8),
    Cancel,
}

#[derive(Clone, Copy, Debug)]
pub enum Fault {
    None,
    DropRequest,
    DropResponse,
    DuplicateRequest,
    ReplayOldResponse,
}

#[derive(Clone, Debug)]
pub enum Op {
    Device {
        device: usize,
        ticket: usize,
        edit: Edit,
    },
    Desk {
        ticket: usize,
        edit: DeskEdit,
    },
    /// The device starts a round; its request is in flight until delivered.
    Send {
        device: usize,
    },
    /// The device's request in flight reaches the desk, and the answer the device.
    Deliver {
        device: usize,
        fault: Fault,
    },
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        3 => Just(Edit::Note),
        2 => (0u8..4, any::<bool>()).prop_map(|(item, done)| Edit::Tick { item, done }),
        2 => (any::<u16>(), 1u8..4).prop_map(|(at, words)| Edit::Text { at, words }),
        2 => any::<u8>().prop_map(|pick| Edit::Move { pick }),
        1 => Just(Edit::StartTime),
        1 => Just(Edit::StopTime),
        1 => Just(Edit::ForbiddenDeadline),
    ]
}

fn desk_edit() -> impl Strategy<Value = DeskEdit> {
    prop_oneof![
        3 => Just(DeskEdit::Note),
        2 => any::<u16>().prop_map(|at| DeskEdit::Text { at }),
        2 => (0u8..4).prop_map(DeskEdit::Priority),
        1 => Just(DeskEdit::Cancel),
    ]
}

fn fault() -> impl Strategy<Value = Fault> {
    prop_oneof![
        6 => Just(Fault::None),
        1 => Just(Fault::DropRequest),
        1 => Just(Fault::DropResponse),
        1 => Just(Fault::DuplicateRequest),
        1 => Just(Fault::ReplayOldResponse),
    ]
}

fn op(devices: usize, tickets: usize) -> impl Strategy<Value = Op> {
    prop_oneof![
        5 => (0..devices, 0..tickets, edit()).prop_map(|(device, ticket, edit)| Op::Device { device, ticket, edit }),
        2 => (0..tickets, desk_edit()).prop_map(|(ticket, edit)| Op::Desk { ticket, edit }),
        2 => (0..devices).prop_map(|device| Op::Send { device }),
        3 => (0..devices, fault()).prop_map(|(device, fault)| Op::Deliver { device, fault }),
    ]
}

pub fn scenario() -> impl Strategy<Value = (usize, usize, Vec<Op>)> {
    (1usize..=4, 1usize..=2).prop_flat_map(|(devices, tickets)| {
        (Just(devices), Just(tickets), proptest::collection::vec(op(devices, tickets), 1..60))
    })
}

/// Everything any replica added, which must all be there at the end.
#[derive(Default)]
struct Ledger {
    notes: BTreeSet<EntryId>,
    moves: BTreeSet<EntryId>,
    fragments: Vec<(usize, String)>,
    ticks: BTreeSet<(usize, String)>,
}

pub struct World<D: DeskStore> {
    cast: Cast,
    desk: D,
    devices: Vec<MemoryDevice>,
    last_response: Vec<Option<Vec<u8>>>,
    in_flight: Vec<Option<Vec<u8>>>,
    tickets: Vec<DocId>,
    deadlines: Vec<Option<Timestamp>>,
    ledger: Ledger,
    serial: u128,
    round: u64,
    now: Timestamp,
}

impl<D: DeskStore> World<D> {
    pub fn new(devices: usize, tickets: usize, mut desk: D) -> Self {
        let cast = Cast::default();
        let mut rng = Rng::new(99);
        let mut ids = Vec::new();
        let mut deadlines = Vec::new();
        for n in 0..tickets {
            let ticket = worked_ticket(&mut rng, &cast, n as u64, T0);
            ids.push(ticket.id);
            deadlines.push(ticket.sla.resolution_due);
            desk.create(&Document::Ticket(ticket));
        }
        let devices = (0..devices)
            .map(|n| {
                MemoryDevice::new(cast.engineer, ActorId::from([n as u8 + 1; 16]), WireLimits::default())
                    .with_page_size(1)
            })
            .collect::<Vec<_>>();
        let count = devices.len();
        Self {
            cast,
            desk,
            devices,
            last_response: vec![None; count],
            in_flight: vec![None; count],
            tickets: ids,
            deadlines,
            ledger: Ledger::default(),
            serial: 1_000,
            round: 1,
            now: T0,
        }
    }

    fn next_id(&mut self) -> EntryId {
        self.serial += 1;
        EntryId::from_u128(self.serial)
    }

    fn tick(&mut self) -> Timestamp {
        self.now = self.now.plus_millis(1_000);
        self.now
    }

    pub fn device_edit(&mut self, device: usize, ticket: usize, edit: Edit) {
        let id = self.tickets[ticket];
        if self.devices[device].document(id).is_none() {
            return; // this device has not received the ticket yet
        }
        let now = self.tick();
        let engineer = self.cast.engineer;
        let entry = self.next_id();
        let ledger = &mut self.ledger;
        let change = |t: &mut Ticket| match edit.clone() {
            Edit::Note => {
                t.work_log.push(WorkLogEntry { id: entry, at: now, by: engineer, text: format!("note {entry}") });
                ledger.notes.insert(entry);
            }
            Edit::Tick { item, done } => {
                let key = format!("item-{item}");
                t.checklist.insert(key.clone(), ChecklistItemState { done, by: engineer, at: now });
                ledger.ticks.insert((ticket, key));
            }
            Edit::Text { at, words } => {
                let fragment = format!("<d{device}-{}-{words}>", entry.0.as_u128());
                let at = insertion_point(t.description.as_str(), at);
                t.description.splice(at, 0, &fragment);
                ledger.fragments.push((ticket, fragment));
            }
            Edit::Move { pick } => {
                let state = fold_ticket(t);
                let targets: Vec<TicketStatus> = [
                    TicketStatus::Accepted,
                    TicketStatus::EnRoute,
                    TicketStatus::OnSite,
                    TicketStatus::WaitingParts,
                    TicketStatus::Resolved,
                ]
                .into_iter()
                .filter(|to| ticket_move_refusal(&engineer, state.status, state.assignee.as_ref(), *to, None).is_none())
                .collect();
                if let Some(to) = targets.get(usize::from(pick) % targets.len().max(1)) {
                    t.transitions.push(Transition {
                        id: entry,
                        from: state.status,
                        to: *to,
                        at: now,
                        by: engineer,
                        assignee: None,
                        reason: None,
                    });
                    ledger.moves.insert(entry);
                }
            }
            Edit::StartTime => {
                t.time_entries.push(TimeEntry { id: entry, kind: TimeKind::Work, start: now, end: None, by: engineer });
            }
            Edit::StopTime => {
                if let Some(running) = t.time_entries.iter_mut().find(|e| e.end.is_none() && e.by.user == engineer.user)
                {
                    running.end = Some(now.max(running.start));
                }
            }
            Edit::ForbiddenDeadline => t.sla.resolution_due = Some(now.plus_millis(86_400_000)),
        };
        // A forbidden edit comes from a crafted or outdated client; the
        // rest go through the device's own checks, which may refuse them.
        let checked = !matches!(edit, Edit::ForbiddenDeadline);
        edit_on(&mut self.devices[device], id, now, checked, change);
    }

    pub fn desk_edit(&mut self, ticket: usize, edit: DeskEdit) {
        let id = self.tickets[ticket];
        let now = self.tick();
        let dispatcher = self.cast.dispatcher;
        let entry = self.next_id();
        let ledger = &mut self.ledger;
        edit_desk_ticket(&mut self.desk, id, |t| match edit {
            DeskEdit::Note => {
                t.work_log.push(WorkLogEntry { id: entry, at: now, by: dispatcher, text: "desk note".into() });
                ledger.notes.insert(entry);
            }
            DeskEdit::Text { at } => {
                let fragment = format!("<desk-{}>", entry.0.as_u128());
                let at = insertion_point(t.description.as_str(), at);
                t.description.splice(at, 0, &fragment);
                ledger.fragments.push((ticket, fragment));
            }
            DeskEdit::Priority(p) => {
                t.priority = [Priority::P1, Priority::P2, Priority::P3, Priority::P4][usize::from(p)]
            }
            DeskEdit::Cancel => {
                let status = fold_ticket(t).status;
                if !status.is_terminal() {
                    t.transitions.push(Transition {
                        id: entry,
                        from: status,
                        to: TicketStatus::Cancelled,
                        at: now,
                        by: dispatcher,
                        assignee: None,
                        reason: Some("customer withdrew".into()),
                    });
                    ledger.moves.insert(entry);
                }
            }
        });
    }

    pub fn send(&mut self, device: usize) {
        let now = self.tick();
        self.round += 1;
        if let Ok(request) = self.devices[device].start_round(now, RoundId(self.round)) {
            self.in_flight[device] = Some(request);
        }
    }

    pub fn deliver(&mut self, device: usize, fault: Fault) {
        let now = self.tick();
        let actor = self.devices[device].actor;
        let Some(request) = self.in_flight[device].take() else { return };
        match fault {
            Fault::DropRequest => self.devices[device].transport_failed(),
            Fault::DropResponse => {
                self.desk.round(now, &actor, &request);
                self.devices[device].transport_failed();
            }
            Fault::None | Fault::DuplicateRequest | Fault::ReplayOldResponse => {
                let mut response = self.desk.round(now, &actor, &request);
                if matches!(fault, Fault::DuplicateRequest) {
                    response = self.desk.round(now, &actor, &request);
                }
                if let (Fault::ReplayOldResponse, Some(old)) = (fault, self.last_response[device].clone()) {
                    assert!(
                        self.devices[device].handle_response(now, &old).is_err(),
                        "an old response must be refused"
                    );
                }
                self.devices[device].handle_response(now, &response).expect("a fresh response is taken");
                self.last_response[device] = Some(response);
            }
        }
    }

    pub fn settle(&mut self) {
        for device in 0..self.devices.len() {
            self.deliver(device, Fault::None);
        }
        for _pass in 0..3 {
            for device in 0..self.devices.len() {
                self.round += 100;
                sync_until_quiet(&mut self.devices[device], &mut self.desk, self.now, self.round, 60);
            }
        }
    }

    pub fn check(&mut self) {
        for (n, id) in self.tickets.clone().into_iter().enumerate() {
            let at_desk = ticket_of(self.desk.document(id));
            for (d, device) in self.devices.iter_mut().enumerate() {
                assert_eq!(
                    device.heads(id),
                    self.desk.heads(id),
                    "device {d} must hold the desk's heads of ticket {n}"
                );
                assert_eq!(ticket_of(device.document(id)), at_desk, "device {d} must read ticket {n} as the desk does");
            }
            assert_eq!(at_desk.sla.resolution_due, self.deadlines[n], "a device's deadline move must be neutralised");
            let description = at_desk.description.as_str();
            for (_, fragment) in self.ledger.fragments.iter().filter(|(t, _)| *t == n) {
                assert!(description.contains(fragment.as_str()), "text {fragment} was lost from {description}");
            }
            for (_, key) in self.ledger.ticks.iter().filter(|(t, _)| *t == n) {
                assert!(at_desk.checklist.contains_key(key), "checklist item {key} was lost");
            }
        }
        let tickets: Vec<Ticket> = self.tickets.iter().map(|id| ticket_of(self.desk.document(*id))).collect();
        let notes: BTreeSet<EntryId> = tickets.iter().flat_map(|t| t.work_log.iter().map(|n| n.id)).collect();
        let moves: BTreeSet<EntryId> = tickets.iter().flat_map(|t| t.transitions.iter().map(|m| m.id)).collect();
        assert!(self.ledger.notes.is_subset(&notes), "a work-log note was lost");
        assert!(self.ledger.moves.is_subset(&moves), "a status move was lost from the log");
    }
}

/// A byte offset on a character boundary and outside earlier `<…>`
/// fragments, so a later insert never splits one.
fn insertion_point(text: &str, at: u16) -> usize {
    let mut at = usize::from(at) % (text.len() + 1);
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    let before = &text[..at];
    if before.matches('<').count() > before.matches('>').count() {
        at += text[at..].find('>').map_or(text.len() - at, |end| end + 1);
    }
    at
}

fn edit_on(device: &mut MemoryDevice, id: DocId, now: Timestamp, checked: bool, change: impl FnOnce(&mut Ticket)) {
    let typed = |d: &mut Document| match d {
        Document::Ticket(t) => change(t),
        other => panic!("expected a ticket, got {other:?}"),
    };
    let result = if checked { device.edit(id, now, typed) } else { device.edit_unchecked(id, now, typed) };
    match result {
        Ok(()) | Err(EditError::Refused(_)) => {}
        Err(err) => panic!("the edit could not be made: {err}"),
    }
}

/// Plays a scenario's operations, settles, and checks the property.
pub fn run<D: DeskStore>(devices: usize, tickets: usize, ops: Vec<Op>, desk: D) {
    let mut world = World::new(devices, tickets, desk);
    for op in ops {
        match op {
            Op::Device { device, ticket, edit } => world.device_edit(device, ticket, edit),
            Op::Desk { ticket, edit } => world.desk_edit(ticket, edit),
            Op::Send { device } => world.send(device),
            Op::Deliver { device, fault } => world.deliver(device, fault),
        }
    }
    world.settle();
    world.check();
}
