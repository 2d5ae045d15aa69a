//! The conformance suite: stories every desk must tell the same way, written
//! once against `DeskStore`. `outpost-sync` runs them on the memory desk;
//! the desk's tests include this file and run them on SQLite and PostgreSQL.
#![allow(dead_code, unreachable_pub)]

use automerge::transaction::Transactable;
use automerge::{AutoCommit, ROOT};
use outpost_sync::ids::{DocId, EntryId, Timestamp};
use outpost_sync::limits::WireLimits;
use outpost_sync::memory::{sync_until_quiet, DeskStore};
use outpost_sync::model::{
    new_document, Assignee, BillingClass, BusinessHours, Client, DocKind, Document, KbArticle, Points, Priority, Sla,
    Ticket, TicketStatus, Transition, WeeklyHours, WorkLogEntry, SCHEMA_VERSION,
};
use outpost_sync::sample::{worked_ticket, Cast, Rng};
use outpost_sync::sla::Calendar;
use outpost_sync::wire::{
    ClientMessage, Cursor, DocPush, ErrorCode, KnownHeads, PushResult, RoundId, ServerMessage, SyncRequest,
};
use outpost_sync::workflow::fold_ticket;

use super::support::*;

/// Every story, by name, for the runners' macro.
#[macro_export]
macro_rules! every_conformance_story {
    ($run:ident) => {
        $run!(
            a_partner_device_pulls_its_own_tickets_and_nothing_else,
            a_crafted_push_to_another_partners_ticket_is_refused_whole,
            a_partner_may_not_write_reference_data,
            known_heads_and_refetch_naming_foreign_documents_reveal_nothing,
            the_note_stands_and_the_deadline_goes_back,
            the_partner_ends_with_the_whole_ticket,
            bytes_that_are_not_automerge_are_refused,
            a_new_document_that_does_not_match_the_schema_is_refused,
            a_document_from_a_newer_schema_is_refused,
            a_document_pushed_under_another_id_is_refused,
            a_push_that_claims_the_wrong_kind_is_refused,
            a_field_over_its_length_limit_is_refused,
            garbage_and_oversized_requests_get_an_error_reply_and_change_nothing,
            a_device_gains_documents_whole_as_its_access_grows,
            a_device_loses_a_ticket_moved_away_once_its_work_has_reached_the_desk,
            a_ticket_a_device_opens_gets_deadlines_on_the_desks_clock,
            the_first_field_response_and_the_resolution_are_stamped_on_the_desks_clock,
            resolving_prepaid_work_charges_the_clients_points_once,
            an_installed_part_goes_on_its_equipment_record_and_only_there
        );
    };
}

// A partner's device pulls only its company's tickets, and crafted pushes,
// known-heads and refetch requests naming other companies' documents get
// it nothing and change nothing.

fn partner_ticket(
    cast: &Cast,
    rng: &mut Rng,
    n: u64,
    partner: outpost_sync::ids::OrgId,
) -> outpost_sync::model::Ticket {
    let mut ticket = worked_ticket(rng, cast, n, T0);
    ticket.transitions.truncate(1);
    ticket.transitions[0].assignee = Some(Assignee { engineer: None, partner_org: Some(partner) });
    ticket.visits.clear();
    ticket.time_entries.clear();
    ticket.work_log.clear();
    ticket.checklist.clear();
    ticket.attachments.clear();
    ticket
}

pub fn a_partner_device_pulls_its_own_tickets_and_nothing_else(mut desk: impl DeskStore) {
    let cast = Cast::default();
    let mut rng = Rng::new(5);
    let ours = partner_ticket(&cast, &mut rng, 1, cast.partner);
    let theirs = partner_ticket(&cast, &mut rng, 2, cast.other_partner);
    let staff = worked_ticket(&mut rng, &cast, 3, T0);
    for t in [&ours, &theirs, &staff] {
        desk.create(&Document::Ticket(t.clone()));
    }
    let mut partner = device(cast.partner_engineer, 1);
    sync_until_quiet(&mut partner, &mut desk, T0, 1, 10);
    let ids: Vec<DocId> = partner.doc_ids().collect();
    assert_eq!(ids, vec![ours.id], "only the partner's own ticket may reach its device");
}

pub fn a_crafted_push_to_another_partners_ticket_is_refused_whole(mut desk: impl DeskStore) {
    let cast = Cast::default();
    let theirs = partner_ticket(&cast, &mut Rng::new(6), 2, cast.other_partner);
    let id = theirs.id;
    desk.create(&Document::Ticket(theirs.clone()));
    let before = desk.heads(id);

    // The attacker builds the change on a copy it should never have had.
    let mut attacker = device(cast.partner_engineer, 9);
    attacker.create(&Document::Ticket(theirs)).unwrap();
    edit_ticket_unchecked(&mut attacker, id, |t| {
        t.work_log.push(WorkLogEntry {
            id: EntryId::from_u128(1),
            at: T0,
            by: cast.partner_engineer,
            text: "pwned".into(),
        });
        t.transitions[0].assignee = Some(Assignee { engineer: None, partner_org: Some(cast.partner) });
    });
    sync_until_quiet(&mut attacker, &mut desk, T0, 1, 5);

    assert_eq!(desk.heads(id), before, "nothing of the push may land");
    assert_eq!(attacker.refused_documents().len(), 1, "the device is told the document was refused");
}

pub fn a_partner_may_not_write_reference_data(mut desk: impl DeskStore) {
    let cast = Cast::default();
    let mut attacker = device(cast.partner_engineer, 9);
    let article = KbArticle {
        id: DocId::from_u128(77),
        title: "Fake".into(),
        body: autosurgeon::Text::with_value("x"),
        tags: vec![],
        language: "en".into(),
        attributes: Default::default(),
    };
    attacker.create(&Document::KbArticle(article)).unwrap();
    sync_until_quiet(&mut attacker, &mut desk, T0, 1, 5);
    assert!(desk.document(DocId::from_u128(77)).is_none(), "no reference document may be created by a device");
}

pub fn known_heads_and_refetch_naming_foreign_documents_reveal_nothing(mut desk: impl DeskStore) {
    let cast = Cast::default();
    let theirs = partner_ticket(&cast, &mut Rng::new(8), 2, cast.other_partner);
    desk.create(&Document::Ticket(theirs.clone()));
    let request = SyncRequest {
        round: RoundId(1),
        cursor: Cursor(0),
        page_size: 100,
        pushes: vec![DocPush { doc: theirs.id, kind: DocKind::Ticket, heads: vec![], changes: vec![] }],
        known: vec![KnownHeads { doc: theirs.id, heads: vec![] }],
        refetch: vec![theirs.id],
    };
    let reply = desk.round(T0, &cast.partner_engineer, &ClientMessage::Sync(request).encode());
    let ServerMessage::Sync(response) = ServerMessage::decode(&reply, &WireLimits::default()).unwrap() else {
        panic!("a well-formed request gets a sync response")
    };
    assert!(response.updates.is_empty(), "no foreign document may travel: {:?}", response.updates);
    assert!(matches!(response.outcomes[0].result, PushResult::Refused { .. }), "{:?}", response.outcomes);
}

// An engineer's device moves an SLA deadline and adds a note in one push.
// The desk keeps the note, neutralises the deadline with a compensating
// change, writes the refusal to its audit log and tells the device, whose
// copy then converges to the desk's.

pub fn the_note_stands_and_the_deadline_goes_back(mut desk: impl DeskStore) {
    let cast = Cast::default();
    let ticket = worked_ticket(&mut Rng::new(3), &cast, 1, T0);
    let (id, deadline) = (ticket.id, ticket.sla.resolution_due);
    desk.create(&Document::Ticket(ticket));
    let mut phone = device(cast.engineer, 1);
    sync_until_quiet(&mut phone, &mut desk, T0, 1, 10);

    edit_ticket_unchecked(&mut phone, id, |t| {
        t.sla.resolution_due = Some(T0.plus_millis(30 * 86_400_000));
        t.work_log.push(WorkLogEntry { id: EntryId::from_u128(1), at: T0, by: cast.engineer, text: "On site".into() });
    });
    sync_until_quiet(&mut phone, &mut desk, T0, 10, 10);

    let at_desk = ticket_of(desk.document(id));
    assert_eq!(at_desk.sla.resolution_due, deadline, "the desk must not accept a moved deadline");
    assert!(at_desk.work_log.iter().any(|n| n.text == "On site"), "the valid note must be kept");
    let refusals = desk.refusals();
    assert_eq!(refusals.len(), 1, "{refusals:?}");
    assert!(refusals[0].detail.contains("sla"), "{refusals:?}");
    assert_eq!(refusals[0].user, cast.engineer.user);
    assert_eq!(phone.refusals().len(), 1, "the device is told what was refused");
    assert_eq!(phone.refusals()[0].1.field, "sla");
    assert_eq!(ticket_of(phone.document(id)), at_desk, "the device converges to the corrected ticket");
    assert_eq!(phone.heads(id), desk.heads(id));
}

// A partner's device has synced past a staff ticket it could not read. Then
// the desk hands the ticket to the partner. The device's cursor is past the
// ticket's old version, but the partner gained the ticket after it: the
// desk sends the ticket whole, in the first round, with no refetch.

pub fn the_partner_ends_with_the_whole_ticket(mut desk: impl DeskStore) {
    let cast = Cast::default();
    let ticket = worked_ticket(&mut Rng::new(41), &cast, 1, T0);
    let id = ticket.id;
    desk.create(&Document::Ticket(ticket));
    let mut partner = device(cast.partner_engineer, 1);
    sync_until_quiet(&mut partner, &mut desk, T0, 1, 10);
    assert_eq!(partner.doc_ids().count(), 0, "a staff ticket is not the partner's to read");

    edit_desk_ticket(&mut desk, id, |t| {
        let status = fold_ticket(t).status;
        t.transitions.push(Transition {
            id: EntryId::from_u128(1),
            from: status,
            to: TicketStatus::Assigned,
            at: T0,
            by: cast.dispatcher,
            assignee: Some(Assignee { engineer: None, partner_org: Some(cast.partner) }),
            reason: Some("staff engineer on leave".into()),
        });
    });
    let rounds = sync_until_quiet(&mut partner, &mut desk, T0, 10, 10);

    assert_eq!(rounds, 1, "the ticket arrives whole in one round");
    assert_eq!(partner.document(id), desk.document(id), "the partner must hold the desk's ticket");
    assert_eq!(partner.heads(id), desk.heads(id));
    assert!(partner.sync_state().refetch.is_empty(), "nothing is left to fetch");
}

// Malformed and hostile pushes: each gets a clear answer, and the desk's
// documents and feed stay exactly as they were.

fn push(desk: &mut impl DeskStore, cast: &Cast, doc: DocId, kind: DocKind, changes: Vec<u8>) -> PushResult {
    let request = SyncRequest {
        round: RoundId(1),
        cursor: desk.latest(),
        page_size: 10,
        pushes: vec![DocPush { doc, kind, heads: vec![], changes }],
        known: vec![],
        refetch: vec![],
    };
    let reply = desk.round(T0, &cast.engineer, &ClientMessage::Sync(request).encode());
    match ServerMessage::decode(&reply, &WireLimits::default()).expect("the desk answers well-formed bytes") {
        ServerMessage::Sync(mut response) => response.outcomes.remove(0).result,
        other => panic!("expected a sync response, got {other:?}"),
    }
}

fn setup<D: DeskStore>(mut desk: D) -> (Cast, D, Ticket) {
    let cast = Cast::default();
    let ticket = worked_ticket(&mut Rng::new(31), &cast, 1, T0);
    desk.create(&Document::Ticket(ticket.clone()));
    (cast, desk, ticket)
}

fn assert_invalid(result: &PushResult, mentions: &str) {
    match result {
        PushResult::Invalid { reason } => {
            assert!(reason.contains(mentions), "reason {reason:?} should mention {mentions:?}")
        }
        other => panic!("expected an invalid push, got {other:?}"),
    }
}

pub fn bytes_that_are_not_automerge_are_refused(desk: impl DeskStore) {
    let (cast, mut desk, ticket) = setup(desk);
    let (heads, latest) = (desk.heads(ticket.id), desk.latest());
    let result = push(&mut desk, &cast, ticket.id, DocKind::Ticket, b"definitely not automerge".to_vec());
    assert_invalid(&result, "do not load");
    assert_eq!((desk.heads(ticket.id), desk.latest()), (heads, latest));
}

pub fn a_new_document_that_does_not_match_the_schema_is_refused(desk: impl DeskStore) {
    let (cast, mut desk, _) = setup(desk);
    let id = DocId::from_u128(0xbad);
    let mut doc = AutoCommit::new();
    doc.put(ROOT, "schema", SCHEMA_VERSION).unwrap();
    doc.put(ROOT, "title", "no kind, no id").unwrap();
    let latest = desk.latest();
    assert_invalid(&push(&mut desk, &cast, id, DocKind::Ticket, doc.save_after(&[])), "schema");
    assert_eq!(desk.latest(), latest);
    assert!(desk.document(id).is_none());
}

pub fn a_document_from_a_newer_schema_is_refused(desk: impl DeskStore) {
    let (cast, mut desk, _) = setup(desk);
    let mut ticket = worked_ticket(&mut Rng::new(32), &cast, 2, T0);
    ticket.created_by = cast.engineer;
    let mut doc = new_document(&Document::Ticket(ticket.clone()), automerge::ActorId::from([7; 16])).unwrap();
    doc.put(ROOT, "schema", SCHEMA_VERSION + 1).unwrap();
    assert_invalid(&push(&mut desk, &cast, ticket.id, DocKind::Ticket, doc.save_after(&[])), "newer");
    assert!(desk.document(ticket.id).is_none());
}

pub fn a_document_pushed_under_another_id_is_refused(desk: impl DeskStore) {
    let (cast, mut desk, _) = setup(desk);
    let mut ticket = worked_ticket(&mut Rng::new(33), &cast, 2, T0);
    ticket.created_by = cast.engineer;
    let mut doc = new_document(&Document::Ticket(ticket), automerge::ActorId::from([7; 16])).unwrap();
    let elsewhere = DocId::from_u128(0x5eed);
    assert_invalid(&push(&mut desk, &cast, elsewhere, DocKind::Ticket, doc.save_after(&[])), "id");
    assert!(desk.document(elsewhere).is_none());
}

pub fn a_push_that_claims_the_wrong_kind_is_refused(desk: impl DeskStore) {
    let (cast, mut desk, ticket) = setup(desk);
    let heads = desk.heads(ticket.id);
    let result = push(&mut desk, &cast, ticket.id, DocKind::Equipment, vec![]);
    assert_invalid(&result, "kind");
    assert_eq!(desk.heads(ticket.id), heads);
}

pub fn a_field_over_its_length_limit_is_refused(desk: impl DeskStore) {
    let (cast, mut desk, _) = setup(desk);
    let mut ticket =
        Ticket::new(DocId::from_u128(0x1009), cast.engineer, T0, "D-1".into(), "x".repeat(5_000), DocId::from_u128(1));
    ticket.category = "hardware fault".into();
    let mut doc = new_document(&Document::Ticket(ticket.clone()), automerge::ActorId::from([7; 16])).unwrap();
    assert_invalid(&push(&mut desk, &cast, ticket.id, DocKind::Ticket, doc.save_after(&[])), "title");
    assert!(desk.document(ticket.id).is_none());
}

pub fn garbage_and_oversized_requests_get_an_error_reply_and_change_nothing(desk: impl DeskStore) {
    let (cast, mut desk, ticket) = setup(desk);
    let (heads, latest) = (desk.heads(ticket.id), desk.latest());
    for bytes in [b"GET / HTTP/1.1\r\n\r\n".to_vec(), vec![0; 3], vec![0x42; 9 * 1024 * 1024]] {
        let reply = desk.round(Timestamp(0), &cast.engineer, &bytes);
        match ServerMessage::decode(&reply, &WireLimits::default()).unwrap() {
            ServerMessage::Error(report) => {
                assert_eq!(report.code, ErrorCode::BadRequest);
                assert!(!report.message.is_empty(), "the error must say what was wrong");
            }
            other => panic!("expected an error reply, got {other:?}"),
        }
    }
    assert_eq!((desk.heads(ticket.id), desk.latest()), (heads, latest));
    let _ = Cursor(0);
}

// A device that becomes able to read documents (assigned a ticket, handed
// one, a ticket of theirs linked to more equipment) gets them whole at its
// next sync, however far its cursor has passed them; and nothing else.
/// A client with one site and two pieces of equipment, as the desk made them.
fn client_with_equipment(desk: &mut impl DeskStore) -> (DocId, DocId, DocId, DocId) {
    use outpost_sync::model::{Equipment, Site};
    let (client, site, e1, e2) =
        (DocId::from_u128(0xc1), DocId::from_u128(0x51), DocId::from_u128(0xe1), DocId::from_u128(0xe2));
    desk.create(&Document::Client(Client {
        id: client,
        name: "Client".into(),
        contract: None,
        business_hours: BusinessHours { always: true, weekly: vec![], holidays: vec![] },
        points_balance: None,
        language: None,
    }));
    desk.create(&Document::Site(Site {
        id: site,
        client,
        name: "Plant".into(),
        address: "Lenina 1".into(),
        region: "Perm".into(),
        time_zone: "Europe/Moscow".into(),
        coordinates: None,
    }));
    for (id, serial) in [(e1, "SN-1"), (e2, "SN-2")] {
        desk.create(&Document::Equipment(Equipment::new(id, serial.into(), "M".into(), client)));
    }
    (client, site, e1, e2)
}

/// A desk move assigning the ticket to `assignee`.
fn assign(cast: &Cast, ticket: &mut Ticket, assignee: Assignee) {
    let from = fold_ticket(ticket).status;
    let n = ticket.transitions.len() as u128;
    ticket.transitions.push(Transition {
        id: EntryId::from_u128(500 + n),
        from,
        to: TicketStatus::Assigned,
        at: T0,
        by: cast.dispatcher,
        assignee: Some(assignee),
        reason: None,
    });
}

/// The documents a device holds, each checked equal to the desk's copy.
fn holds(device: &outpost_sync::memory::MemoryDevice, desk: &dyn DeskStore) -> std::collections::BTreeSet<DocId> {
    let ids: std::collections::BTreeSet<DocId> = device.doc_ids().collect();
    for doc in &ids {
        assert_eq!(device.document(*doc), desk.document(*doc), "{doc} is the desk's copy");
    }
    ids
}

pub fn a_device_gains_documents_whole_as_its_access_grows(mut desk: impl DeskStore) {
    let cast = Cast::default();
    let (client, site, e1, e2) = client_with_equipment(&mut desk);
    let mut ticket = worked_ticket(&mut Rng::new(44), &cast, 1, T0);
    ticket.transitions.clear();
    (ticket.client, ticket.site.site, ticket.equipment) = (client, Some(site), vec![e1]);
    let id = ticket.id;
    desk.create(&Document::Ticket(ticket));
    let mut first = device(cast.engineer, 1);
    let mut second = device(cast.partner_engineer, 2);
    sync_until_quiet(&mut first, &mut desk, T0, 1, 10);
    sync_until_quiet(&mut second, &mut desk, T0, 20, 10);
    assert!(holds(&first, &desk).is_empty(), "nothing is the engineer's yet");

    let engineer = Assignee { engineer: Some(cast.engineer.user), partner_org: None };
    edit_desk_ticket(&mut desk, id, |t| assign(&cast, t, engineer));
    sync_until_quiet(&mut first, &mut desk, T0, 40, 10);
    assert_eq!(holds(&first, &desk), [id, client, site, e1].into(), "the ticket with its client, site and equipment");

    edit_desk_ticket(&mut desk, id, |t| t.equipment.push(e2));
    sync_until_quiet(&mut first, &mut desk, T0, 60, 10);
    assert_eq!(holds(&first, &desk), [id, client, site, e1, e2].into(), "equipment linked afterwards");

    sync_until_quiet(&mut second, &mut desk, T0, 80, 10);
    assert!(holds(&second, &desk).is_empty(), "a partner reads nothing of a staff ticket");
    let partner = Assignee { engineer: Some(cast.partner_engineer.user), partner_org: Some(cast.partner) };
    edit_desk_ticket(&mut desk, id, |t| assign(&cast, t, partner));
    sync_until_quiet(&mut second, &mut desk, T0, 100, 10);
    assert_eq!(holds(&second, &desk), [id, client, site, e1, e2].into(), "handed over whole");
}

// A device whose ticket moves to another company loses it: its own work on
// the ticket reaches the desk first, then the ticket and what only it made
// readable (its equipment) leave the device, while what another of its
// tickets still grants (the client, the site) stays. Given back, the ticket
// comes back whole.
pub fn a_device_loses_a_ticket_moved_away_once_its_work_has_reached_the_desk(mut desk: impl DeskStore) {
    let cast = Cast::default();
    let (client, site, e1, e2) = client_with_equipment(&mut desk);
    let engineer = Assignee { engineer: Some(cast.engineer.user), partner_org: None };
    let mut tickets = Vec::new();
    for (n, equipment) in [(1, e1), (2, e2)] {
        let mut ticket = worked_ticket(&mut Rng::new(50 + n), &cast, n, T0);
        ticket.transitions.clear();
        (ticket.client, ticket.site.site, ticket.equipment) = (client, Some(site), vec![equipment]);
        assign(&cast, &mut ticket, engineer);
        desk.create(&Document::Ticket(ticket.clone()));
        tickets.push(ticket.id);
    }
    let (moved, kept) = (tickets[0], tickets[1]);
    let mut first = device(cast.engineer, 1);
    let mut partner = device(cast.partner_engineer, 2);
    sync_until_quiet(&mut first, &mut desk, T0, 1, 10);
    assert_eq!(holds(&first, &desk), [moved, kept, client, site, e1, e2].into());

    // Offline, the engineer writes a note; meanwhile the desk hands the ticket to a partner.
    let note =
        |n: u128, text: &str| WorkLogEntry { id: EntryId::from_u128(n), at: T0, by: cast.engineer, text: text.into() };
    edit_ticket(&mut first, moved, |t| t.work_log.push(note(901, "replaced the fuser")));
    let partner_assignee = Assignee { engineer: Some(cast.partner_engineer.user), partner_org: Some(cast.partner) };
    edit_desk_ticket(&mut desk, moved, |t| assign(&cast, t, partner_assignee));

    // A round in which the engineer types another note while the request is on its way.
    let request = first.start_round(T0, RoundId(20)).unwrap();
    let reply = desk.round(T0, &cast.engineer, &request);
    edit_ticket(&mut first, moved, |t| t.work_log.push(note(902, "and cleaned the rollers")));
    first.handle_response(T0, &reply).unwrap();
    assert!(first.doc_ids().any(|d| d == moved), "the ticket stays while a note of its engineer waits for the desk");
    sync_until_quiet(&mut first, &mut desk, T0, 21, 10);

    let on_desk = ticket_of(desk.document(moved));
    for n in [901, 902] {
        assert!(on_desk.work_log.iter().any(|e| e.id == EntryId::from_u128(n)), "note {n} reached the desk");
    }
    assert_eq!(holds(&first, &desk), [kept, client, site, e2].into(), "the moved ticket and its equipment are gone");
    sync_until_quiet(&mut partner, &mut desk, T0, 40, 10);
    assert_eq!(holds(&partner, &desk), [moved, client, site, e1].into(), "the partner has it, notes and all");

    // Later desk edits of the moved ticket never reach the old device.
    edit_desk_ticket(&mut desk, moved, |t| t.title = "Moved away".into());
    sync_until_quiet(&mut first, &mut desk, T0, 60, 10);
    assert_eq!(holds(&first, &desk), [kept, client, site, e2].into());

    // Handed back, it comes back whole.
    edit_desk_ticket(&mut desk, moved, |t| assign(&cast, t, engineer));
    sync_until_quiet(&mut first, &mut desk, T0, 80, 10);
    assert_eq!(holds(&first, &desk), [moved, kept, client, site, e1, e2].into(), "given back whole");
    sync_until_quiet(&mut partner, &mut desk, T0, 100, 10);
    assert!(holds(&partner, &desk).is_empty(), "and the partner's device lets all of it go");
}

// The desk's reactions: what it writes, on its own clock, when a device's
// ticket lands. Every desk must write the same.

/// An hour after the device's clock: the desk's, when the device syncs.
const T1: Timestamp = Timestamp(T0.0 + 3_600_000);

/// A client on office hours (Mon–Fri 9:30–18:30) with `points` prepaid, and
/// a worked ticket of theirs (on site, work running) assigned to the
/// engineer, as `shape` leaves it.
fn office_client_and_worked_ticket(
    desk: &mut impl DeskStore,
    cast: &Cast,
    points: Option<u64>,
    shape: impl FnOnce(&mut Ticket),
) -> (Client, Ticket) {
    let client = Client {
        id: DocId::from_u128(0xc10),
        name: "Office client".into(),
        contract: Some("C-7".into()),
        business_hours: BusinessHours {
            always: false,
            weekly: (1..=5).map(|weekday| WeeklyHours { weekday, opens: 9 * 60 + 30, closes: 18 * 60 + 30 }).collect(),
            holidays: vec![],
        },
        points_balance: points.map(|p| Points { hundredths: p }),
        language: None,
    };
    desk.create(&Document::Client(client.clone()));
    let mut ticket = worked_ticket(&mut Rng::new(61), cast, 1, T0);
    ticket.client = client.id;
    ticket.site.site = None;
    ticket.site.time_zone = "Europe/Moscow".into();
    ticket.equipment.clear();
    ticket.sla = Sla::default();
    shape(&mut ticket);
    desk.create(&Document::Ticket(ticket.clone()));
    (client, ticket)
}

pub fn a_ticket_a_device_opens_gets_deadlines_on_the_desks_clock(mut desk: impl DeskStore) {
    let cast = Cast::default();
    let (client, _) = office_client_and_worked_ticket(&mut desk, &cast, None, |_| {});
    let mut engineer = device(cast.engineer, 1);
    sync_until_quiet(&mut engineer, &mut desk, T0, 1, 10);

    // Found on site: the engineer opens a ticket, and a crafted deadline rides along.
    let mut found = Ticket::new(DocId::from_u128(0xf0), cast.engineer, T0, "F-1".into(), "Found".into(), client.id);
    found.priority = Priority::P2;
    found.site.time_zone = "Europe/Moscow".into();
    found.sla.reaction_due = Some(Timestamp(T0.0 + 365 * 86_400_000));
    engineer.create(&Document::Ticket(found.clone())).unwrap();
    sync_until_quiet(&mut engineer, &mut desk, T1, 20, 10);

    let calendar = Calendar::new(&client.business_hours, "Europe/Moscow").unwrap();
    let expected = outpost_sync::sla::deadlines(Priority::P2, &calendar, T1);
    let on_desk = ticket_of(desk.document(found.id));
    assert_eq!(
        (on_desk.sla.reaction_due, on_desk.sla.resolution_due),
        (expected.reaction_due, expected.resolution_due),
        "deadlines from the contract's hours, counted from when the desk received the ticket"
    );
    assert_eq!(on_desk.sla.first_response_at, None, "opening a ticket is no response to it");
    assert_eq!(engineer.document(found.id), desk.document(found.id), "the device has the desk's deadlines");
    assert!(desk.refusals().iter().any(|r| r.doc == found.id), "the crafted deadline is refused and audited");
}

pub fn the_first_field_response_and_the_resolution_are_stamped_on_the_desks_clock(mut desk: impl DeskStore) {
    let cast = Cast::default();
    // Assigned, and the engineer has not answered yet.
    let (_, ticket) = office_client_and_worked_ticket(&mut desk, &cast, None, |t| {
        t.transitions.truncate(1);
        t.work_log.clear();
    });
    let id = ticket.id;
    let mut engineer = device(cast.engineer, 1);
    sync_until_quiet(&mut engineer, &mut desk, T0, 1, 10);
    assert_eq!(ticket_of(desk.document(id)).sla.first_response_at, None);

    edit_ticket(&mut engineer, id, |t| {
        t.transitions.push(Transition {
            id: EntryId::from_u128(0xacc),
            from: TicketStatus::Assigned,
            to: TicketStatus::Accepted,
            at: T0,
            by: cast.engineer,
            assignee: None,
            reason: None,
        });
    });
    sync_until_quiet(&mut engineer, &mut desk, T1, 20, 10);
    let on_desk = ticket_of(desk.document(id));
    assert_eq!(on_desk.sla.first_response_at, Some(T1), "the desk's clock, not the device's");
    assert_eq!(on_desk.sla.resolved_at, None);

    let later = Timestamp(T1.0 + 3_600_000);
    edit_ticket(&mut engineer, id, |t| {
        for (n, (from, to)) in [
            (TicketStatus::Accepted, TicketStatus::EnRoute),
            (TicketStatus::EnRoute, TicketStatus::OnSite),
            (TicketStatus::OnSite, TicketStatus::Resolved),
        ]
        .into_iter()
        .enumerate()
        {
            t.transitions.push(Transition {
                id: EntryId::from_u128(0xb00 + n as u128),
                from,
                to,
                at: T1,
                by: cast.engineer,
                assignee: None,
                reason: None,
            });
        }
    });
    sync_until_quiet(&mut engineer, &mut desk, later, 40, 10);
    let on_desk = ticket_of(desk.document(id));
    assert_eq!(
        (on_desk.sla.first_response_at, on_desk.sla.resolved_at),
        (Some(T1), Some(later)),
        "the first response stands; the resolution is stamped when it arrives"
    );
    assert_eq!(engineer.document(id), desk.document(id));
}

pub fn resolving_prepaid_work_charges_the_clients_points_once(mut desk: impl DeskStore) {
    let cast = Cast::default();
    let (client, ticket) = office_client_and_worked_ticket(&mut desk, &cast, Some(1_000), |t| {
        t.billing.class = BillingClass::ServiceRequest
    });
    let id = ticket.id;
    let mut engineer = device(cast.engineer, 1);
    sync_until_quiet(&mut engineer, &mut desk, T0, 1, 10);

    // The running work entry ends after 61 minutes, and the engineer resolves.
    edit_ticket(&mut engineer, id, |t| {
        let running = t.time_entries.iter_mut().find(|e| e.end.is_none()).expect("work is running");
        running.end = Some(Timestamp(running.start.0 + 61 * 60_000));
        t.transitions.push(Transition {
            id: EntryId::from_u128(0xd0e),
            from: TicketStatus::OnSite,
            to: TicketStatus::Resolved,
            at: T0,
            by: cast.engineer,
            assignee: None,
            reason: None,
        });
    });
    sync_until_quiet(&mut engineer, &mut desk, T1, 20, 10);
    let charged = ticket_of(desk.document(id)).billing.points_charged;
    let expected_work = outpost_sync::reactions::work_points(&ticket_of(desk.document(id)));
    assert!(expected_work.hundredths >= 125, "at least the 61 minutes, rounded up to quarters");
    assert_eq!(charged, Some(expected_work), "the work recorded, in quarter hours");
    let balance = |desk: &dyn DeskStore| match desk.document(client.id) {
        Some(Document::Client(c)) => c.points_balance,
        other => panic!("expected the client, got {other:?}"),
    };
    let left = Points { hundredths: 1_000 - expected_work.hundredths };
    assert_eq!(balance(&desk), Some(left), "the client's balance is charged");

    // Another edit after resolution charges nothing more.
    edit_ticket(&mut engineer, id, |t| {
        t.work_log.push(WorkLogEntry {
            id: EntryId::from_u128(0xf1),
            at: T0,
            by: cast.engineer,
            text: "left spare toner".into(),
        })
    });
    sync_until_quiet(&mut engineer, &mut desk, T1, 40, 10);
    assert_eq!(balance(&desk), Some(left), "charged once");
    assert_eq!(engineer.document(client.id), desk.document(client.id), "the device sees the balance left");
}

// An installed part's serials go on the equipment record of its ticket, on
// every desk; a request naming equipment that is not its ticket's (another
// company's, or just another machine) writes nothing anywhere.
pub fn an_installed_part_goes_on_its_equipment_record_and_only_there(mut desk: impl DeskStore) {
    use outpost_sync::model::{Equipment, InstalledPart, PartRequest, PartStatus, PartTransition};
    let cast = Cast::default();
    let (client, _, e1, e2) = client_with_equipment(&mut desk);
    edit_desk_equipment(&mut desk, e1, |e| {
        e.installed_parts.push(InstalledPart {
            id: EntryId::from_u128(1),
            part_number: "FUSER-1".into(),
            serial: "OLD-1".into(),
            installed_at: T0,
            part_request: None,
        })
    });
    let mut ticket = worked_ticket(&mut Rng::new(71), &cast, 1, T0);
    (ticket.client, ticket.site.site, ticket.equipment) = (client, None, vec![e1]);
    desk.create(&Document::Ticket(ticket.clone()));
    let mut engineer = device(cast.engineer, 1);
    sync_until_quiet(&mut engineer, &mut desk, T0, 1, 10);
    let equipment = |desk: &dyn DeskStore, id| match desk.document(id) {
        Some(Document::Equipment(e)) => e,
        other => panic!("expected equipment, got {other:?}"),
    };

    // The part travelled through the warehouse; the engineer installs it.
    // A part the warehouse approved, picked and shipped for the ticket.
    let shipped = |id: DocId| {
        let mut request = PartRequest::new(id, ticket.id, cast.engineer, T0, "FUSER-1".into(), 1);
        let moves = [
            (PartStatus::Requested, PartStatus::Approved),
            (PartStatus::Approved, PartStatus::Picked),
            (PartStatus::Picked, PartStatus::Shipped),
        ];
        for (n, (from, to)) in moves.into_iter().enumerate() {
            let id = EntryId::from_u128(10 + n as u128);
            request.transitions.push(PartTransition { id, from, to, at: T0, by: cast.parts_desk, reason: None });
        }
        Document::PartRequest(request)
    };
    let request_id = DocId::from_u128(0x9a);
    desk.create(&shipped(request_id));
    sync_until_quiet(&mut engineer, &mut desk, T0, 20, 10);
    let install = |request: &mut PartRequest, installed: &str, equipment: Option<DocId>| {
        for (n, (from, to)) in
            [(PartStatus::Shipped, PartStatus::Delivered), (PartStatus::Delivered, PartStatus::Installed)]
                .into_iter()
                .enumerate()
        {
            request.transitions.push(PartTransition {
                id: EntryId::from_u128(20 + n as u128),
                from,
                to,
                at: T0,
                by: cast.engineer,
                reason: None,
            });
        }
        request.installed_serial = Some(installed.into());
        request.removed_serial = Some("OLD-1".into());
        request.equipment = equipment;
    };
    engineer
        .edit(request_id, T0, |d| {
            if let Document::PartRequest(r) = d {
                install(r, "NEW-1", None);
            }
        })
        .unwrap();
    sync_until_quiet(&mut engineer, &mut desk, T1, 40, 10);
    let record: Equipment = equipment(&desk, e1);
    let installed: Vec<(&str, Option<DocId>)> =
        record.installed_parts.iter().map(|p| (p.serial.as_str(), p.part_request)).collect();
    assert_eq!(installed, vec![("NEW-1", Some(request_id))], "the new part in, the faulty one out");
    let replaced: Vec<(&str, &str)> =
        record.replaced_parts.iter().map(|p| (p.part_number.as_str(), p.serial.as_str())).collect();
    assert_eq!(replaced, vec![("FUSER-1", "OLD-1")]);
    assert!(record.service_history.contains(&ticket.id), "and the ticket is in the machine's service history");
    assert_eq!(engineer.document(e1), desk.document(e1), "the device has the record as the desk does");
    sync_until_quiet(&mut engineer, &mut desk, T1, 60, 10);
    assert_eq!(equipment(&desk, e1), record, "recorded once");

    // A second request names a machine its ticket does not: nothing is written on it.
    let other_id = DocId::from_u128(0x9b);
    desk.create(&shipped(other_id));
    sync_until_quiet(&mut engineer, &mut desk, T0, 80, 10);
    let before = equipment(&desk, e2);
    engineer
        .edit_unchecked(other_id, T0, |d| {
            if let Document::PartRequest(r) = d {
                install(r, "NEW-2", Some(e2));
            }
        })
        .unwrap();
    sync_until_quiet(&mut engineer, &mut desk, T1, 100, 10);
    assert_eq!(equipment(&desk, e2), before, "a machine the ticket does not name is never written");
    assert!(desk.refusals().iter().any(|r| r.doc == other_id), "the unreadable reference is refused and audited");
}
