//! The adversarial property's world, written once for any desk: honest
//! devices of two companies work a ticket each and sync, while a third
//! company's partner device interleaves hostile pushes: hand-built automerge
//! changes on real document ids (with the real bytes, as if leaked),
//! references to other companies' documents, a stolen blob hash, structural
//! edits, broken change chains, assignments inside field moves and random
//! puts. Every answer the hostile device gets is checked to carry only what
//! it may read; at the end the honest documents must equal those of the same
//! run without the attacker. The memory desk runs it in `outpost-sync`'s
//! tests, the SQL desk (with blobs) in the desk's.
#![allow(dead_code, unreachable_pub)]

use std::collections::BTreeSet;

use automerge::transaction::Transactable;
use automerge::{ActorId, AutoCommit, Change, ChangeHash, ObjType, ROOT};
use outpost_sync::ids::{ContentHash, DocId, EntryId, Timestamp};
use outpost_sync::limits::WireLimits;
use outpost_sync::memory::{sync_until_quiet, DeskStore, MemoryDevice};
use outpost_sync::model::{
    new_document, Assignee, Attachment, BusinessHours, Client, DocKind, Document, Equipment, Ticket, TicketStatus,
    Transition, WorkLogEntry,
};
use outpost_sync::permissions::grants;
use outpost_sync::sample::{worked_ticket, Cast, Rng};
use outpost_sync::wire::{to_heads, ClientMessage, Cursor, DocPush, RoundId, ServerMessage, SyncRequest};
use proptest::prelude::*;

pub const T0: Timestamp = Timestamp(1_790_000_000_000);

/// A photo of the staff engineer's, attached to the staff ticket.
pub fn photo() -> Vec<u8> {
    (0..20_000u32).map(|n| (n.wrapping_mul(2_654_435_761) >> 24) as u8).collect()
}

pub fn photo_hash() -> ContentHash {
    use sha2::Digest;
    ContentHash(hex::encode(sha2::Sha256::digest(photo())))
}

#[derive(Clone, Debug)]
pub enum Attack {
    /// A note on an honest company's ticket, built on its real bytes.
    WriteForeign { target: u8 },
    /// The hostile ticket made to reference another company's documents.
    Reference { what: u8 },
    /// The staff photo's hash attached to the hostile ticket.
    StealHash,
    /// A work log replaced by a new list object.
    ReplaceLog { target: u8 },
    /// A real change renumbered to skip a sequence number.
    SeqGap { target: u8 },
    /// A field move naming the staff engineer as assignee.
    AssignInFieldMove,
    /// A raw put of a scalar at the document's root.
    Random { target: u8, key: u8, value: u16 },
    /// A ticket found on site, pointing at the staff ticket's client and equipment.
    NewTicket,
    /// An ordinary sync of the hostile device.
    Sync,
}

#[derive(Clone, Debug)]
pub enum Op {
    /// An honest device adds a note to its ticket.
    Note {
        partner: bool,
    },
    /// An honest device syncs.
    Sync {
        partner: bool,
    },
    Attack(Attack),
}

fn attack() -> impl Strategy<Value = Attack> {
    prop_oneof![
        (0u8..3).prop_map(|target| Attack::WriteForeign { target }),
        (0u8..4).prop_map(|what| Attack::Reference { what }),
        Just(Attack::StealHash),
        (0u8..3).prop_map(|target| Attack::ReplaceLog { target }),
        (0u8..3).prop_map(|target| Attack::SeqGap { target }),
        Just(Attack::AssignInFieldMove),
        (0u8..3, any::<u8>(), any::<u16>()).prop_map(|(target, key, value)| Attack::Random { target, key, value }),
        Just(Attack::NewTicket),
        Just(Attack::Sync),
    ]
}

pub fn ops() -> impl Strategy<Value = Vec<Op>> {
    let op = prop_oneof![
        2 => any::<bool>().prop_map(|partner| Op::Note { partner }),
        2 => any::<bool>().prop_map(|partner| Op::Sync { partner }),
        4 => attack().prop_map(Op::Attack),
    ];
    proptest::collection::vec(op, 1..40)
}

/// The three companies' tickets and what the hostile device may read.
pub struct Fixture {
    pub cast: Cast,
    pub staff: DocId,
    pub partner: DocId,
    pub hostile: DocId,
    pub staff_client: DocId,
    pub staff_equipment: DocId,
    pub allowed: BTreeSet<DocId>,
}

fn ticket_for(cast: &Cast, seed: u64, client: DocId, equipment: Vec<DocId>, assignee: Assignee) -> Ticket {
    let mut ticket = worked_ticket(&mut Rng::new(seed), cast, seed, T0);
    ticket.transitions.truncate(1);
    ticket.transitions[0].assignee = Some(assignee);
    ticket.client = client;
    ticket.site.site = None;
    ticket.equipment = equipment;
    ticket.part_requests.clear();
    ticket.attachments.clear();
    ticket.signature = None;
    ticket
}

/// Creates the three companies' documents at the desk.
pub fn setup(desk: &mut impl DeskStore) -> Fixture {
    let cast = Cast::default();
    let clients = [DocId::from_u128(0xc1), DocId::from_u128(0xc2), DocId::from_u128(0xc3)];
    for id in clients {
        desk.create(&Document::Client(Client {
            id,
            name: format!("Client {id}"),
            contract: None,
            business_hours: BusinessHours { always: true, weekly: vec![], holidays: vec![] },
            points_balance: None,
            language: None,
        }));
    }
    let (staff_equipment, partner_equipment) = (DocId::from_u128(0xe1), DocId::from_u128(0xe2));
    desk.create(&Document::Equipment(Equipment::new(staff_equipment, "SN-S".into(), "M".into(), clients[0])));
    desk.create(&Document::Equipment(Equipment::new(partner_equipment, "SN-P".into(), "M".into(), clients[1])));
    let mut staff = ticket_for(
        &cast,
        1,
        clients[0],
        vec![staff_equipment],
        Assignee { engineer: Some(cast.engineer.user), partner_org: None },
    );
    staff.attachments.push(Attachment {
        id: EntryId::from_u128(0xa1),
        hash: photo_hash(),
        thumbnail: None,
        name: "panel.jpg".into(),
        mime: "image/jpeg".into(),
        size: photo().len() as u64,
        at: T0,
        by: cast.engineer,
    });
    let partner = ticket_for(
        &cast,
        2,
        clients[1],
        vec![partner_equipment],
        Assignee { engineer: Some(cast.partner_engineer.user), partner_org: Some(cast.partner) },
    );
    let hostile = ticket_for(
        &cast,
        3,
        clients[2],
        vec![],
        Assignee { engineer: Some(cast.other_partner_engineer.user), partner_org: Some(cast.other_partner) },
    );
    let allowed = grants(&Document::Ticket(hostile.clone())).into_iter().map(|(doc, _)| doc).collect();
    let fixture = Fixture {
        cast,
        staff: staff.id,
        partner: partner.id,
        hostile: hostile.id,
        staff_client: clients[0],
        staff_equipment,
        allowed,
    };
    for ticket in [staff, partner, hostile] {
        desk.create(&Document::Ticket(ticket));
    }
    fixture
}

/// What the honest companies hold at the end.
#[derive(Debug, PartialEq)]
pub struct HonestState {
    desk: Vec<(Option<Document>, Option<Vec<ChangeHash>>)>,
    devices: Vec<Vec<(DocId, Option<Document>)>>,
}

pub struct World<'d, D: DeskStore> {
    desk: &'d mut D,
    fixture: Fixture,
    staff_device: MemoryDevice,
    partner_device: MemoryDevice,
    hostile_device: MemoryDevice,
    created: BTreeSet<DocId>,
    now: Timestamp,
    round: u64,
    /// Ids for hostile changes; honest notes count apart, so both runs name them alike.
    serial: u128,
    notes: u128,
}

impl<'d, D: DeskStore> World<'d, D> {
    pub fn new(desk: &'d mut D) -> Self {
        let fixture = setup(desk);
        let device = |actor, n: u8| MemoryDevice::new(actor, ActorId::from([n; 16]), WireLimits::default());
        Self {
            staff_device: device(fixture.cast.engineer, 1),
            partner_device: device(fixture.cast.partner_engineer, 2),
            hostile_device: device(fixture.cast.other_partner_engineer, 3),
            fixture,
            desk,
            created: BTreeSet::new(),
            now: T0,
            round: 0,
            serial: 0,
            notes: 0,
        }
    }

    pub fn fixture(&self) -> &Fixture {
        &self.fixture
    }

    fn next(&mut self) -> u128 {
        self.serial += 1;
        self.serial
    }

    pub fn play(&mut self, op: &Op, with_attacks: bool) {
        match op {
            Op::Note { partner } => {
                self.now = self.now.plus_millis(1_000);
                let (device, id) = if *partner {
                    (&mut self.partner_device, self.fixture.partner)
                } else {
                    (&mut self.staff_device, self.fixture.staff)
                };
                if device.document(id).is_none() {
                    return; // not synced yet
                }
                let by = device.actor;
                self.notes += 1;
                let entry = EntryId::from_u128(0x1_0000 + self.notes);
                let at = self.now;
                device
                    .edit(id, at, |d| {
                        if let Document::Ticket(t) = d {
                            t.work_log.push(WorkLogEntry { id: entry, at, by, text: format!("note {entry}") });
                        }
                    })
                    .expect("an honest note is allowed");
            }
            Op::Sync { partner } => {
                self.now = self.now.plus_millis(1_000);
                self.round += 100;
                let device = if *partner { &mut self.partner_device } else { &mut self.staff_device };
                sync_until_quiet(device, &mut *self.desk, self.now, self.round, 20);
            }
            Op::Attack(attack) if with_attacks => self.attack(attack),
            Op::Attack(_) => {}
        }
    }

    fn target(&self, n: u8) -> DocId {
        [self.fixture.staff, self.fixture.partner, self.fixture.hostile][usize::from(n % 3)]
    }

    /// A leaked copy of a document, ready for hostile changes by a fresh actor.
    fn leaked(&mut self, id: DocId) -> (AutoCommit, Vec<ChangeHash>) {
        let bytes = self.desk.bytes(id).expect("the fixture's documents exist");
        let n = self.next();
        let mut actor = [0xbb; 16];
        actor[..8].copy_from_slice(&(n as u64).to_be_bytes());
        let mut doc = AutoCommit::load(&bytes).unwrap().with_actor(ActorId::from(actor));
        let heads = doc.get_heads();
        (doc, heads)
    }

    fn typed_edit(&mut self, id: DocId, change: impl FnOnce(&mut Ticket)) {
        let (mut doc, since) = self.leaked(id);
        let Ok(Document::Ticket(mut ticket)) = Document::hydrate_as(&doc, id, DocKind::Ticket) else { return };
        change(&mut ticket);
        if Document::Ticket(ticket).reconcile_into(&mut doc).is_err() {
            return;
        }
        doc.commit();
        let changes = doc.save_after(&since);
        self.push(id, DocKind::Ticket, to_heads(&doc.get_heads()), changes);
    }

    fn attack(&mut self, attack: &Attack) {
        let hostile = self.fixture.cast.other_partner_engineer;
        match attack.clone() {
            Attack::WriteForeign { target } => {
                let entry = EntryId::from_u128(0x2_0000 + self.next());
                self.typed_edit(self.target(target), |t| {
                    t.work_log.push(WorkLogEntry { id: entry, at: T0, by: hostile, text: "pwned".into() });
                });
            }
            Attack::Reference { what } => {
                let f = &self.fixture;
                let foreign = [f.staff, f.partner, f.staff_client, f.staff_equipment][usize::from(what % 4)];
                self.typed_edit(self.fixture.hostile, |t| match what % 3 {
                    0 => t.equipment.push(foreign),
                    1 => t.client = foreign,
                    _ => t.site.site = Some(foreign),
                });
            }
            Attack::StealHash => {
                let entry = EntryId::from_u128(0x3_0000 + self.next());
                self.typed_edit(self.fixture.hostile, |t| {
                    t.attachments.push(Attachment {
                        id: entry,
                        hash: photo_hash(),
                        thumbnail: None,
                        name: "stolen.jpg".into(),
                        mime: "image/jpeg".into(),
                        size: photo().len() as u64,
                        at: T0,
                        by: hostile,
                    });
                });
            }
            Attack::ReplaceLog { target } => {
                let id = self.target(target);
                let (mut doc, since) = self.leaked(id);
                let log = doc.put_object(ROOT, "work_log", ObjType::List).unwrap();
                let entry = doc.insert_object(&log, 0, ObjType::Map).unwrap();
                doc.put(&entry, "text", "replaced").unwrap();
                doc.commit();
                let changes = doc.save_after(&since);
                self.push(id, DocKind::Ticket, to_heads(&doc.get_heads()), changes);
            }
            Attack::SeqGap { target } => {
                let id = self.target(target);
                let (mut doc, since) = self.leaked(id);
                doc.put(ROOT, "x", 1).unwrap();
                doc.commit();
                let Some(change) = doc.get_changes(&since).pop() else { return };
                let mut expanded = change.decode();
                expanded.seq += 1;
                let skipped = Change::from(expanded);
                self.push(id, DocKind::Ticket, to_heads(&[skipped.hash()]), skipped.raw_bytes().to_vec());
            }
            Attack::AssignInFieldMove => {
                let (engineer, service) = (self.fixture.cast.engineer.user, self.fixture.cast.service);
                let entry = EntryId::from_u128(0x4_0000 + self.next());
                self.typed_edit(self.fixture.hostile, |t| {
                    let from = outpost_sync::workflow::fold_ticket(t).status;
                    t.transitions.push(Transition {
                        id: entry,
                        from,
                        to: TicketStatus::Assigned,
                        at: T0,
                        by: hostile,
                        assignee: Some(Assignee { engineer: Some(engineer), partner_org: Some(service) }),
                        reason: None,
                    });
                });
            }
            Attack::Random { target, key, value } => {
                let id = self.target(target);
                let (mut doc, since) = self.leaked(id);
                let keys = ["title", "client", "equipment", "sla", "work_log", "schema", "x"];
                let key = keys[usize::from(key) % keys.len()];
                if value % 2 == 0 {
                    doc.put(ROOT, key, i64::from(value)).unwrap();
                } else {
                    doc.put(ROOT, key, format!("v{value}")).unwrap();
                }
                doc.commit();
                let changes = doc.save_after(&since);
                self.push(id, DocKind::Ticket, to_heads(&doc.get_heads()), changes);
            }
            Attack::NewTicket => {
                let id = DocId::from_u128(0x7e57_0000 + self.next());
                let mut ticket =
                    Ticket::new(id, hostile, T0, format!("F-{id}"), "Found on site".into(), self.fixture.staff_client);
                ticket.category = "hardware fault".into();
                ticket.equipment = vec![self.fixture.staff_equipment, self.fixture.staff];
                let mut doc = new_document(&Document::Ticket(ticket), ActorId::from([0xcc; 16])).unwrap();
                let changes = doc.save_after(&[]);
                self.created.insert(id);
                self.push(id, DocKind::Ticket, to_heads(&doc.get_heads()), changes);
            }
            Attack::Sync => {
                self.round += 100;
                sync_until_quiet(&mut self.hostile_device, &mut *self.desk, self.now, self.round, 20);
                let held: BTreeSet<DocId> = self.hostile_device.doc_ids().collect();
                self.assert_allowed(held.iter().copied(), "the hostile device's own sync");
            }
        }
    }

    /// Pushes raw changes as the hostile device, from cursor 0, and checks
    /// that the answer carries nothing it may not read.
    fn push(&mut self, doc: DocId, kind: DocKind, heads: Vec<outpost_sync::wire::Head>, changes: Vec<u8>) {
        self.round += 1;
        let request = SyncRequest {
            round: RoundId(self.round),
            cursor: Cursor(0),
            page_size: 1_000,
            pushes: vec![DocPush { doc, kind, heads, changes }],
            known: vec![],
            refetch: vec![self.fixture.staff, self.fixture.partner, self.fixture.staff_client],
        };
        let hostile = self.fixture.cast.other_partner_engineer;
        let reply = self.desk.round(self.now, &hostile, &ClientMessage::Sync(request).encode());
        match ServerMessage::decode(&reply, &WireLimits::default()).expect("the desk answers in its format") {
            ServerMessage::Sync(response) => {
                self.assert_allowed(response.updates.iter().map(|u| u.doc), "an answer to a hostile push");
            }
            ServerMessage::Error(_) => {}
            other => panic!("unexpected answer {other:?}"),
        }
    }

    fn assert_allowed(&self, docs: impl Iterator<Item = DocId>, when: &str) {
        for doc in docs {
            assert!(
                self.fixture.allowed.contains(&doc) || self.created.contains(&doc),
                "{when} carried {doc}, which the hostile company may not read"
            );
        }
    }

    /// Syncs the honest devices until quiet and returns what they hold.
    pub fn settle(&mut self) -> HonestState {
        for _ in 0..2 {
            for device in [&mut self.staff_device, &mut self.partner_device] {
                self.round += 100;
                sync_until_quiet(device, &mut *self.desk, self.now, self.round, 30);
            }
        }
        let ids = [self.fixture.staff, self.fixture.partner];
        HonestState {
            desk: ids.iter().map(|id| (self.desk.document(*id), self.desk.heads(*id))).collect(),
            devices: [&self.staff_device, &self.partner_device]
                .iter()
                .map(|d| d.doc_ids().map(|id| (id, d.document(id))).collect())
                .collect(),
        }
    }
}

/// What a desk does beyond `DeskStore` before the play (the SQL desk
/// stores the staff photo) and checks after it (no blob was served).
pub type Hook<'h, D> = &'h dyn Fn(&mut D, &Fixture);

/// Plays `ops` with and without the attacks, on two fresh desks, and checks
/// the honest companies end the same.
pub fn run<D: DeskStore>(ops: &[Op], attacked: &mut D, honest_only: &mut D, prepare: Hook<'_, D>, check: Hook<'_, D>) {
    let mut world = World::new(attacked);
    prepare(world.desk, &world.fixture);
    for op in ops {
        world.play(op, true);
    }
    let with_attacks = world.settle();
    check(world.desk, &world.fixture);
    let mut reference = World::new(honest_only);
    prepare(reference.desk, &reference.fixture);
    for op in ops {
        reference.play(op, false);
    }
    let without = reference.settle();
    // Compared piecewise, so a failure names what differs.
    for (n, (attacked, honest)) in with_attacks.desk.iter().zip(&without.desk).enumerate() {
        assert!(
            attacked == honest,
            "the attacker changed honest ticket {n} at the desk:\n{attacked:?}\nvs\n{honest:?}"
        );
    }
    for (n, (attacked, honest)) in with_attacks.devices.iter().zip(&without.devices).enumerate() {
        let ids = |docs: &Vec<(DocId, Option<Document>)>| docs.iter().map(|(id, _)| *id).collect::<Vec<_>>();
        assert_eq!(ids(attacked), ids(honest), "honest device {n} holds other documents");
        assert!(attacked == honest, "the attacker changed what honest device {n} holds");
    }
}
