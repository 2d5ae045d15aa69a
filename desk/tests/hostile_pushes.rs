//! A partner's device as an attacker would use it: hand-built automerge
//! changes pushed to the real desk over HTTP. Each test is one class of
//! attack; each must leave every other company's data unread and every
//! honest entry in place, and leave a trace in the audit log.

mod support;

use automerge::transaction::Transactable;
use automerge::{ActorId, AutoCommit, Change, ObjType, ReadDoc, ROOT};
use outpost_sync::ids::{DocId, EntryId, Timestamp};
use outpost_sync::limits::WireLimits;
use outpost_sync::model::{
    Actor, Assignee, DocKind, Document, Equipment, PartRequest, Role, Ticket, TicketStatus, TimeEntry, TimeKind,
    Transition, WorkLogEntry,
};
use outpost_sync::sample::{worked_ticket, Cast, Rng};
use outpost_sync::wire::{
    to_heads, ClientMessage, Cursor, DocPush, PushResult, RoundId, ServerMessage, SyncRequest, SyncResponse,
};
use support::*;

/// Two companies' worlds: our partner's ticket, and a rival's ticket with
/// its client, equipment and part request.
struct World {
    partner: Actor,
    ours: Ticket,
    rival: Actor,
    theirs: Ticket,
    rival_equipment: DocId,
    rival_request: DocId,
}

async fn world(desk: &Desk) -> World {
    let dispatcher = desk.user(desk.service, Role::Dispatcher).await;
    let partner = desk.user(desk.partner, Role::PartnerEngineer).await;
    let rival = desk.user(desk.other_partner, Role::PartnerEngineer).await;
    let ours = partner_ticket(1, dispatcher, partner, desk.partner);
    let mut theirs = worked_ticket(&mut Rng::new(2), &Cast { dispatcher, engineer: rival, ..Cast::default() }, 2, T0);
    theirs.transitions[0].assignee = Some(Assignee { engineer: None, partner_org: Some(desk.other_partner) });
    let rival_equipment = theirs.equipment[0];
    desk.create(&Document::Client(client(ours.client, "Our client"))).await;
    desk.create(&Document::Client(client(theirs.client, "Rival's client"))).await;
    desk.create(&Document::Ticket(ours.clone())).await;
    desk.create(&Document::Ticket(theirs.clone())).await;
    desk.create(&Document::Equipment(Equipment::new(rival_equipment, "SN-R".into(), "M".into(), theirs.client))).await;
    let request = PartRequest::new(DocId::from_u128(0xabc), theirs.id, rival, T0, "PN-1".into(), 1);
    desk.create(&Document::PartRequest(request.clone())).await;
    World { partner, ours, rival, theirs, rival_equipment, rival_request: request.id }
}

fn client(id: DocId, name: &str) -> outpost_sync::model::Client {
    outpost_sync::model::Client {
        id,
        name: name.into(),
        contract: None,
        business_hours: outpost_sync::model::BusinessHours { always: true, weekly: vec![], holidays: vec![] },
        points_balance: None,
        language: None,
    }
}

/// The desk's copy of a document as automerge, forked for a hostile actor.
async fn fork_of_desk(desk: &Desk, id: DocId, actor: u8) -> AutoCommit {
    let mut tx = desk.db.pool.begin().await.unwrap();
    let stored = outpost_desk::store::load(&mut tx, id).await.unwrap().expect("the document is at the desk");
    AutoCommit::load(&stored.bytes).unwrap().with_actor(ActorId::from([actor; 16]))
}

/// Pushes raw change bytes for documents, as one round, and reads the answer.
async fn push(desk: &Desk, token: &str, pushes: Vec<DocPush>) -> SyncResponse {
    let request =
        SyncRequest { round: RoundId(1), cursor: Cursor(0), page_size: 1_000, pushes, known: vec![], refetch: vec![] };
    let reply = desk.post_sync(token, ClientMessage::Sync(request).encode()).await;
    assert_eq!(reply.status(), 200, "a hostile push is answered, never with a 5xx");
    match ServerMessage::decode(&reply.bytes().await.unwrap(), &WireLimits::default()).unwrap() {
        ServerMessage::Sync(response) => response,
        other => panic!("expected a sync answer, got {other:?}"),
    }
}

/// A push of everything `doc` holds past `since`.
fn push_of(doc: &mut AutoCommit, id: DocId, kind: DocKind, since: &[automerge::ChangeHash]) -> DocPush {
    DocPush { doc: id, kind, heads: to_heads(&doc.get_heads()), changes: doc.save_after(since) }
}

/// The ticket a hostile copy holds, to edit through the typed model.
fn ticket_in(doc: &AutoCommit, id: DocId) -> Ticket {
    let Document::Ticket(ticket) = Document::hydrate_as(doc, id, DocKind::Ticket).unwrap() else {
        panic!("{id} is a ticket")
    };
    ticket
}

fn result_of(response: &SyncResponse, id: DocId) -> &PushResult {
    &response.outcomes.iter().find(|o| o.doc == id).expect("every push has an outcome").result
}

async fn audit_actions(desk: &Desk) -> Vec<(String, Option<String>, Option<String>)> {
    sqlx::query_as("SELECT action, user_id, device_id FROM audit_log ORDER BY id")
        .fetch_all(&desk.db.pool)
        .await
        .unwrap()
}

async fn a_reference_grants_no_read_access(desk: Desk) {
    let w = world(&desk).await;
    let mut device = desk.pair(&w.partner, 1).await;
    device.sync(&desk).await;
    assert!(device.local.document(w.ours.id).is_some(), "the partner has its own ticket");

    // Link the rival's ticket and equipment into our ticket, name the
    // rival's client in a "found on site" ticket, and put a part request
    // on the rival's ticket: the app's own edits, sent unchecked.
    device
        .local
        .edit_unchecked(w.ours.id, T0, |d| {
            if let Document::Ticket(t) = d {
                t.equipment.extend([w.theirs.id, w.rival_equipment]);
                t.part_requests.push(w.rival_request);
            }
        })
        .unwrap();
    let found = DocId(outpost_desk::accounts::new_id());
    device
        .local
        .create(&Document::Ticket(Ticket::new(found, w.partner, T0, "F-1".into(), "found".into(), w.theirs.client)))
        .unwrap();
    let stolen_request = DocId(outpost_desk::accounts::new_id());
    device
        .local
        .create(&Document::PartRequest(PartRequest::new(stolen_request, w.theirs.id, w.partner, T0, "PN".into(), 1)))
        .unwrap();
    device.sync(&desk).await;
    device.sync(&desk).await;

    let Some(Document::Ticket(at_desk)) = desk.document(w.ours.id).await else { panic!("our ticket stays") };
    assert!(at_desk.equipment.is_empty(), "links to unreadable documents are neutralised: {:?}", at_desk.equipment);
    assert!(at_desk.part_requests.is_empty(), "another company's part request is not listed under our ticket");
    assert_eq!(desk.document(found).await, None, "a ticket for a client the author may not read is refused");
    assert_eq!(
        desk.document(stolen_request).await,
        None,
        "a part request on a ticket the author may not work on is refused"
    );
    for foreign in [w.theirs.id, w.rival_equipment, w.rival_request, w.theirs.client] {
        assert!(device.local.document(foreign).is_none(), "the device must not receive {foreign}");
    }
    let token = desk.api_token(desk.user(desk.service, Role::Dispatcher).await.user).await;
    let (_, requests) = desk.get_json(&format!("/v1/part-requests?ticket={}", w.theirs.id), &token).await;
    assert_eq!(requests.as_array().map(Vec::len), Some(1), "only the rival's own request is listed: {requests}");

    let audit = audit_actions(&desk).await;
    let refused_documents = audit.iter().filter(|(a, _, _)| a == "refused_document").count();
    assert!(refused_documents >= 2, "each refused document is audited: {audit:?}");
    assert!(
        audit.iter().filter(|(a, _, _)| a != "refused_round").all(|(_, user, device_id)| {
            user.as_deref() == Some(&w.partner.user.to_string())
                && device_id.as_deref() == Some(&device.paired.id.to_string())
        }),
        "every entry names the person and the device: {audit:?}"
    );
}

async fn a_field_move_naming_an_assignee_hands_nothing_over(desk: Desk) {
    let w = world(&desk).await;
    let partner_device = desk.pair(&w.partner, 1).await;
    let mut rival_device = desk.pair(&w.rival, 2).await;
    let mut doc = fork_of_desk(&desk, w.ours.id, 7).await;
    let since = doc.get_heads();
    let mut ticket = ticket_in(&doc, w.ours.id);
    ticket.transitions.push(Transition {
        id: EntryId::from_u128(77),
        from: TicketStatus::Assigned,
        to: TicketStatus::Accepted,
        at: T0,
        by: w.partner,
        assignee: Some(Assignee { engineer: Some(w.rival.user), partner_org: Some(desk.other_partner) }),
        reason: None,
    });
    Document::Ticket(ticket).reconcile_into(&mut doc).unwrap();
    doc.commit();
    let answer =
        push(&desk, &partner_device.paired.token, vec![push_of(&mut doc, w.ours.id, DocKind::Ticket, &since)]).await;
    match result_of(&answer, w.ours.id) {
        PushResult::Applied { refused, .. } => assert!(!refused.is_empty(), "the assignee is refused"),
        other => panic!("expected the move applied without its assignee, got {other:?}"),
    }
    rival_device.sync(&desk).await;
    assert!(rival_device.local.document(w.ours.id).is_none(), "the rival's device must not receive our ticket");
}

async fn a_replaced_log_is_refused_and_a_colleagues_note_survives(desk: Desk) {
    let w = world(&desk).await;
    let partner_device = desk.pair(&w.partner, 1).await;
    // The hostile copy starts from the ticket as it is now…
    let mut hostile = fork_of_desk(&desk, w.ours.id, 7).await;
    let since = hostile.get_heads();
    // …while a colleague (the desk here) adds a note to the log meanwhile.
    let dispatcher = desk.user(desk.service, Role::Dispatcher).await;
    let note = WorkLogEntry { id: EntryId::from_u128(500), at: T0, by: dispatcher, text: "Customer called".into() };
    let mut tx = desk.db.begin_write().await.unwrap();
    outpost_desk::store::write_as_desk(
        &mut tx,
        w.ours.id,
        &dispatcher,
        &ActorId::from(*b"outpost-desk-v1!"),
        T0,
        |d| {
            if let Document::Ticket(t) = d {
                t.work_log.push(note.clone());
            }
            Ok::<(), outpost_desk::store::StoreError>(())
        },
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();

    // The hostile device replaces the work log with an equal-looking copy.
    let (_, old_log) = hostile.get(ROOT, "work_log").unwrap().unwrap();
    let entries = hostile.length(&old_log);
    let copy = hostile.put_object(ROOT, "work_log", ObjType::List).unwrap();
    assert_eq!(entries, w.ours.work_log.len());
    for (index, entry) in w.ours.work_log.iter().enumerate() {
        hostile.insert_object(&copy, index, ObjType::Map).unwrap();
        autosurgeon::reconcile_prop(&mut hostile, &copy, index, entry).unwrap();
    }
    hostile.commit();
    let answer =
        push(&desk, &partner_device.paired.token, vec![push_of(&mut hostile, w.ours.id, DocKind::Ticket, &since)])
            .await;
    assert!(matches!(result_of(&answer, w.ours.id), PushResult::Refused { .. }), "{:?}", answer.outcomes);
    let Some(Document::Ticket(at_desk)) = desk.document(w.ours.id).await else { panic!() };
    assert!(at_desk.work_log.contains(&note), "the colleague's note is still there");
    assert!(audit_actions(&desk).await.iter().any(|(a, _, _)| a == "refused_document"), "the refusal is audited");
}

async fn a_broken_change_chain_is_refused_alone(desk: Desk) {
    let w = world(&desk).await;
    let device = desk.pair(&w.partner, 1).await;
    let mut pushes = Vec::new();
    // Hostile: one real change re-numbered to skip a sequence number, on our
    // ticket and on the rival's ticket (which the device may not write).
    for target in [w.ours.id, w.theirs.id] {
        let mut doc = fork_of_desk(&desk, target, 7).await;
        let since = doc.get_heads();
        doc.put(ROOT, "x", 1).unwrap();
        doc.commit();
        let change = doc.get_changes(&since).pop().unwrap();
        let mut expanded = change.decode();
        expanded.seq += 1;
        let skipped = Change::from(expanded);
        pushes.push(DocPush {
            doc: target,
            kind: DocKind::Ticket,
            heads: to_heads(&[skipped.hash()]),
            changes: skipped.raw_bytes().to_vec(),
        });
    }
    // Honest, in the same round: a note on our ticket, from another copy.
    let mut honest_target = fork_of_desk(&desk, w.ours.id, 8).await;
    let since = honest_target.get_heads();
    let mut ticket = ticket_in(&honest_target, w.ours.id);
    ticket.work_log.push(WorkLogEntry { id: EntryId::from_u128(900), at: T0, by: w.partner, text: "honest".into() });
    Document::Ticket(ticket).reconcile_into(&mut honest_target).unwrap();
    honest_target.commit();
    let honest = push_of(&mut honest_target, w.ours.id, DocKind::Ticket, &since);

    let answer = push(&desk, &device.paired.token, pushes).await;
    for outcome in &answer.outcomes {
        assert!(
            matches!(outcome.result, PushResult::Invalid { .. } | PushResult::Refused { .. }),
            "a gap in the chain is refused before it is applied: {outcome:?}"
        );
    }
    let answer = push(&desk, &device.paired.token, vec![honest]).await;
    assert!(matches!(result_of(&answer, w.ours.id), PushResult::Applied { .. }), "the desk still works: {answer:?}");
    let Some(Document::Ticket(at_desk)) = desk.document(w.ours.id).await else { panic!() };
    assert!(at_desk.work_log.iter().any(|n| n.text == "honest"));
}

async fn extreme_times_are_refused_and_the_ticket_stays_resolvable(desk: Desk) {
    let w = world(&desk).await;
    let mut device = desk.pair(&w.partner, 1).await;
    device.sync(&desk).await;
    device
        .local
        .edit_unchecked(w.ours.id, T0, |d| {
            if let Document::Ticket(t) = d {
                for (n, (start, end)) in [(i64::MIN, i64::MAX), (0, i64::MAX)].into_iter().enumerate() {
                    t.time_entries.push(TimeEntry {
                        id: EntryId::from_u128(40 + n as u128),
                        kind: TimeKind::Work,
                        start: Timestamp(start),
                        end: Some(Timestamp(end)),
                        by: w.partner,
                    });
                }
            }
        })
        .unwrap();
    device.sync(&desk).await;
    let Some(Document::Ticket(at_desk)) = desk.document(w.ours.id).await else { panic!() };
    assert!(at_desk.time_entries.iter().all(|e| e.start.0 > 0), "the absurd entries never land");
    assert!(
        device.local.refused_documents().iter().any(|(id, _)| *id == w.ours.id),
        "the device is told why: {:?}",
        device.local.refused_documents()
    );
    // A fresh, honest device resolves the ticket: nothing is stuck.
    let mut honest = desk.pair(&w.partner, 2).await;
    honest.sync(&desk).await;
    honest
        .local
        .edit(w.ours.id, T0, |d| {
            if let Document::Ticket(t) = d {
                for (n, to) in
                    [TicketStatus::Accepted, TicketStatus::OnSite, TicketStatus::Resolved].into_iter().enumerate()
                {
                    let from = outpost_sync::workflow::fold_ticket(t).status;
                    t.transitions.push(Transition {
                        id: EntryId::from_u128(60 + n as u128),
                        from,
                        to,
                        at: T0,
                        by: w.partner,
                        assignee: None,
                        reason: None,
                    });
                }
            }
        })
        .unwrap();
    honest.sync(&desk).await;
    let Some(Document::Ticket(at_desk)) = desk.document(w.ours.id).await else { panic!() };
    assert_eq!(outpost_sync::workflow::fold_ticket(&at_desk).status, TicketStatus::Resolved);
}

/// Text no store keeps as sent (a NUL character, here in a note) is refused
/// with the document, audited, and fails nothing else.
async fn a_nul_character_is_refused_not_a_failed_round(desk: Desk) {
    let w = world(&desk).await;
    let device = desk.pair(&w.partner, 1).await;
    let mut doc = fork_of_desk(&desk, w.ours.id, 9).await;
    let since = doc.get_heads();
    let mut ticket = ticket_in(&doc, w.ours.id);
    ticket.work_log.push(WorkLogEntry { id: EntryId::from_u128(901), at: T0, by: w.partner, text: "a\0b".into() });
    Document::Ticket(ticket).reconcile_into(&mut doc).unwrap();
    doc.commit();
    let answer = push(&desk, &device.paired.token, vec![push_of(&mut doc, w.ours.id, DocKind::Ticket, &since)]).await;
    assert!(
        matches!(result_of(&answer, w.ours.id), PushResult::Invalid { reason } if reason.contains("NUL")),
        "{answer:?}"
    );
    let Some(Document::Ticket(at_desk)) = desk.document(w.ours.id).await else { panic!() };
    assert!(at_desk.work_log.iter().all(|n| !n.text.contains('\0')));
    assert!(audit_actions(&desk).await.iter().any(|(action, _, _)| action == "refused_document"));
}

on_both_backends!(
    a_nul_character_is_refused_not_a_failed_round,
    a_reference_grants_no_read_access,
    a_field_move_naming_an_assignee_hands_nothing_over,
    a_replaced_log_is_refused_and_a_colleagues_note_survives,
    a_broken_change_chain_is_refused_alone,
    extreme_times_are_refused_and_the_ticket_stays_resolvable,
);
