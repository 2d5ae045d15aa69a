//! A partner's device pulls only its company's tickets, and crafted pushes,
//! known-heads and refetch requests naming other companies' documents get
//! it nothing and change nothing.

mod support;

use outpost_sync::ids::{DocId, EntryId};
use outpost_sync::limits::WireLimits;
use outpost_sync::memory::sync_until_quiet;
use outpost_sync::model::{Assignee, DocKind, Document, KbArticle, WorkLogEntry};
use outpost_sync::sample::{worked_ticket, Cast, Rng};
use outpost_sync::wire::{ClientMessage, Cursor, DocPush, KnownHeads, PushResult, RoundId, ServerMessage, SyncRequest};
use support::*;

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

#[test]
fn a_partner_device_pulls_its_own_tickets_and_nothing_else() {
    let cast = Cast::default();
    let mut desk = desk();
    let mut rng = Rng::new(5);
    let ours = partner_ticket(&cast, &mut rng, 1, cast.partner);
    let theirs = partner_ticket(&cast, &mut rng, 2, cast.other_partner);
    let staff = worked_ticket(&mut rng, &cast, 3, T0);
    for t in [&ours, &theirs, &staff] {
        desk.create(&Document::Ticket(t.clone())).unwrap();
    }
    let mut partner = device(cast.partner_engineer, 1);
    sync_until_quiet(&mut partner, &mut desk, T0, 1, 10);
    let ids: Vec<DocId> = partner.doc_ids().collect();
    assert_eq!(ids, vec![ours.id], "only the partner's own ticket may reach its device");
}

#[test]
fn a_crafted_push_to_another_partners_ticket_is_refused_whole() {
    let cast = Cast::default();
    let mut desk = desk();
    let theirs = partner_ticket(&cast, &mut Rng::new(6), 2, cast.other_partner);
    let id = theirs.id;
    desk.create(&Document::Ticket(theirs.clone())).unwrap();
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

#[test]
fn a_partner_may_not_write_reference_data() {
    let cast = Cast::default();
    let mut desk = desk();
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
    assert_eq!(desk.doc_ids().count(), 0, "no reference document may be created by a device");
}

#[test]
fn known_heads_and_refetch_naming_foreign_documents_reveal_nothing() {
    let cast = Cast::default();
    let mut desk = desk();
    let theirs = partner_ticket(&cast, &mut Rng::new(8), 2, cast.other_partner);
    desk.create(&Document::Ticket(theirs.clone())).unwrap();
    let request = SyncRequest {
        round: RoundId(1),
        cursor: Cursor(0),
        page_size: 100,
        pushes: vec![DocPush { doc: theirs.id, kind: DocKind::Ticket, heads: vec![], changes: vec![] }],
        known: vec![KnownHeads { doc: theirs.id, heads: vec![] }],
        refetch: vec![theirs.id],
    };
    let reply = desk.handle(T0, &cast.partner_engineer, &ClientMessage::Sync(request).encode());
    let ServerMessage::Sync(response) = ServerMessage::decode(&reply, &WireLimits::default()).unwrap() else {
        panic!("a well-formed request gets a sync response")
    };
    assert!(response.updates.is_empty(), "no foreign document may travel: {:?}", response.updates);
    assert!(matches!(response.outcomes[0].result, PushResult::Refused { .. }), "{:?}", response.outcomes);
}
