//! Devices sync with a real desk over loopback HTTP, on SQLite and PostgreSQL.

mod support;

use outpost_sync::ids::EntryId;
use outpost_sync::model::{Actor, Assignee, ChecklistItemState, Document, Role, Ticket, WorkLogEntry};
use outpost_sync::sample::{worked_ticket, Cast, Rng};
use support::*;

/// A day's-work ticket assigned to `engineer`.
fn ticket_for(seed: u64, dispatcher: outpost_sync::model::Actor, assignee: Assignee) -> Ticket {
    let cast = Cast { dispatcher, ..Cast::default() };
    let mut ticket = worked_ticket(&mut Rng::new(seed), &cast, seed, T0);
    ticket.transitions.truncate(1);
    ticket.transitions[0].assignee = Some(assignee);
    ticket.visits.clear();
    ticket.time_entries.clear();
    ticket.work_log.clear();
    ticket.checklist.clear();
    ticket.attachments.clear();
    ticket
}

fn as_ticket(document: Option<Document>) -> Ticket {
    match document {
        Some(Document::Ticket(t)) => t,
        other => panic!("expected a ticket, got {other:?}"),
    }
}

fn edit(device: &mut Device, ticket: &Ticket, change: impl FnOnce(&mut Ticket)) {
    device
        .local
        .edit(ticket.id, T0, |d| match d {
            Document::Ticket(t) => change(t),
            _ => unreachable!(),
        })
        .expect("the edit is allowed");
}

/// A dispatcher, an engineer, a ticket assigned to the engineer, and the
/// engineer's device already synced with it.
async fn engineer_with_ticket(desk: &Desk, seed: u64) -> (Actor, Actor, Ticket, Device) {
    let dispatcher = desk.user(desk.service, Role::Dispatcher).await;
    let engineer = desk.user(desk.service, Role::Engineer).await;
    let ticket = ticket_for(seed, dispatcher, Assignee { engineer: Some(engineer.user), partner_org: None });
    desk.create(&Document::Ticket(ticket.clone())).await;
    let mut device = desk.pair(&engineer, 1).await;
    device.sync(desk).await;
    (dispatcher, engineer, ticket, device)
}

async fn two_devices_edit_offline_and_converge_in_both_orders(desk: Desk) {
    let dispatcher = desk.user(desk.service, Role::Dispatcher).await;
    let engineer = desk.user(desk.service, Role::Engineer).await;
    for laptop_first in [true, false] {
        let ticket = ticket_for(
            u64::from(laptop_first) + 1,
            dispatcher,
            Assignee { engineer: Some(engineer.user), partner_org: None },
        );
        desk.create(&Document::Ticket(ticket.clone())).await;
        let mut laptop = desk.pair(&engineer, 1).await;
        let mut tablet = desk.pair(&engineer, 2).await;
        laptop.sync(&desk).await;
        tablet.sync(&desk).await;

        edit(&mut laptop, &ticket, |t| {
            t.work_log.push(WorkLogEntry {
                id: EntryId::from_u128(1),
                at: T0,
                by: engineer,
                text: "laptop note".into(),
            });
            t.checklist.insert("psu".into(), ChecklistItemState { done: true, by: engineer, at: T0 });
            t.description.splice(0, 0, "[laptop] ");
        });
        edit(&mut tablet, &ticket, |t| {
            t.work_log.push(WorkLogEntry {
                id: EntryId::from_u128(2),
                at: T0,
                by: engineer,
                text: "tablet note".into(),
            });
            let end = t.description.as_str().len();
            t.description.splice(end, 0, " [tablet]");
        });
        let (first, second) = if laptop_first { (&mut laptop, &mut tablet) } else { (&mut tablet, &mut laptop) };
        first.sync(&desk).await;
        second.sync(&desk).await;
        first.sync(&desk).await;

        let at_desk = as_ticket(desk.document(ticket.id).await);
        assert_eq!(as_ticket(laptop.local.document(ticket.id)), at_desk, "laptop and desk agree");
        assert_eq!(as_ticket(tablet.local.document(ticket.id)), at_desk, "tablet and desk agree");
        let notes: Vec<&str> = at_desk.work_log.iter().map(|n| n.text.as_str()).collect();
        assert!(notes.contains(&"laptop note") && notes.contains(&"tablet note"), "{notes:?}");
        assert!(at_desk.description.as_str().starts_with("[laptop] "));
        assert!(at_desk.description.as_str().ends_with(" [tablet]"));
        assert!(at_desk.checklist["psu"].done);
    }
}

async fn a_forbidden_edit_is_neutralised_and_audited(desk: Desk) {
    let (dispatcher, engineer, ticket, mut phone) = engineer_with_ticket(&desk, 3).await;
    phone
        .local
        .edit_unchecked(ticket.id, T0, |d| {
            if let Document::Ticket(t) = d {
                t.sla.resolution_due = None;
                t.work_log.push(WorkLogEntry { id: EntryId::from_u128(9), at: T0, by: engineer, text: "kept".into() });
            }
        })
        .unwrap();
    phone.sync(&desk).await;
    let at_desk = as_ticket(desk.document(ticket.id).await);
    assert_eq!(at_desk.sla, ticket.sla, "the deadline is put back");
    assert!(at_desk.work_log.iter().any(|n| n.text == "kept"), "the valid note stays");
    assert_eq!(desk.audit_count().await, 1, "the refusal is in the audit log");
    assert_eq!(as_ticket(phone.local.document(ticket.id)), at_desk, "the device converges");
    assert_eq!(phone.local.refusals().len(), 1);

    let metrics = desk.http.get(desk.url("/metrics")).send().await.unwrap().text().await.unwrap();
    assert!(metrics.contains("outpost_refused_edits_total 1\n"), "{metrics}");
    assert!(metrics.contains("outpost_sync_rounds_total"), "{metrics}");
    let token = desk.api_token(dispatcher.user).await;
    let audit: serde_json::Value =
        desk.http.get(desk.url("/v1/audit")).bearer_auth(&token).send().await.unwrap().json().await.unwrap();
    assert_eq!(audit[0]["action"], "refused_change");
    assert!(audit[0]["detail"].as_str().unwrap().contains("sla"), "{audit}");
    assert_eq!(audit[0]["device_id"], serde_json::json!(phone.paired.id.to_string()));
    let devices: serde_json::Value =
        desk.http.get(desk.url("/v1/devices")).bearer_auth(&token).send().await.unwrap().json().await.unwrap();
    assert_eq!(devices.as_array().unwrap().len(), 1);
    let engineer_token = desk.api_token(engineer.user).await;
    let refused = desk.http.get(desk.url("/v1/audit")).bearer_auth(&engineer_token).send().await.unwrap();
    assert_eq!(refused.status(), 403, "engineers do not read the audit log");
    let health = desk.http.get(desk.url("/healthz")).send().await.unwrap();
    assert_eq!((health.status().as_u16(), health.text().await.unwrap()), (200, "ok".to_owned()));
}

async fn a_partner_device_sees_and_writes_only_its_own_tickets(desk: Desk) {
    let dispatcher = desk.user(desk.service, Role::Dispatcher).await;
    let partner = desk.user(desk.partner, Role::PartnerEngineer).await;
    let rival = desk.user(desk.other_partner, Role::PartnerEngineer).await;
    let ours = ticket_for(4, dispatcher, Assignee { engineer: None, partner_org: Some(desk.partner) });
    let theirs = ticket_for(5, dispatcher, Assignee { engineer: None, partner_org: Some(desk.other_partner) });
    desk.create(&Document::Ticket(ours.clone())).await;
    desk.create(&Document::Ticket(theirs.clone())).await;

    let mut device = desk.pair(&partner, 1).await;
    device.sync(&desk).await;
    assert_eq!(device.local.doc_ids().collect::<Vec<_>>(), vec![ours.id], "only the partner's own ticket arrives");

    // A crafted push: the attacker fabricates a copy of the rival's ticket and writes to it.
    let mut attacker = desk.pair(&partner, 2).await;
    attacker.local.create(&Document::Ticket(theirs.clone())).unwrap();
    attacker
        .local
        .edit_unchecked(theirs.id, T0, |d| {
            if let Document::Ticket(t) = d {
                t.work_log.push(WorkLogEntry { id: EntryId::from_u128(7), at: T0, by: partner, text: "pwned".into() });
            }
        })
        .unwrap();
    attacker.sync(&desk).await;
    assert_eq!(as_ticket(desk.document(theirs.id).await), theirs, "the rival's ticket is untouched");
    assert_eq!(attacker.local.refused_documents().len(), 1);

    let mut rival_device = desk.pair(&rival, 3).await;
    rival_device.sync(&desk).await;
    assert_eq!(rival_device.local.doc_ids().collect::<Vec<_>>(), vec![theirs.id]);
}

async fn a_revoked_device_is_told_to_wipe(desk: Desk) {
    let (dispatcher, _, ticket, mut device) = engineer_with_ticket(&desk, 6).await;
    assert!(device.local.document(ticket.id).is_some());

    let token = desk.api_token(dispatcher.user).await;
    let (revoked, _) =
        desk.post_json(&format!("/v1/devices/{}/revoke", device.paired.id), &token, serde_json::json!({})).await;
    assert_eq!(revoked, 200);
    device.sync(&desk).await;
    assert!(device.local.is_wiped(), "the device erases its data");
    assert!(device.local.document(ticket.id).is_none());
}

async fn an_engineer_may_not_revoke_devices(desk: Desk) {
    let engineer = desk.user(desk.service, Role::Engineer).await;
    let device = desk.pair(&engineer, 1).await;
    let token = desk.api_token(engineer.user).await;
    let (reply, _) =
        desk.post_json(&format!("/v1/devices/{}/revoke", device.paired.id), &token, serde_json::json!({})).await;
    assert_eq!(reply, 403);
}

async fn many_small_edits_compact_and_the_document_stays_whole(desk: Desk) {
    let (_, engineer, ticket, mut phone) = engineer_with_ticket(&desk, 7).await;
    // More rounds than the desk keeps as loose change chunks before it compacts.
    for n in 0..40u128 {
        edit(&mut phone, &ticket, |t| {
            t.work_log.push(WorkLogEntry {
                id: EntryId::from_u128(100 + n),
                at: T0,
                by: engineer,
                text: format!("step {n}"),
            });
        });
        phone.sync(&desk).await;
    }
    let (loose,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM document_changes WHERE doc_id = $1")
        .bind(ticket.id.to_string())
        .fetch_one(&desk.db.pool)
        .await
        .unwrap();
    assert!(loose < 32, "the desk compacted its change chunks, {loose} left");
    let at_desk = as_ticket(desk.document(ticket.id).await);
    assert_eq!(at_desk.work_log.len(), 40, "every step survives compaction");
    assert_eq!(as_ticket(phone.local.document(ticket.id)), at_desk);
}

async fn twenty_devices_pushing_at_once_all_land(desk: Desk) {
    let dispatcher = desk.user(desk.service, Role::Dispatcher).await;
    let mut fleet = Vec::new();
    for n in 0..20u8 {
        let engineer = desk.user(desk.service, Role::Engineer).await;
        let ticket =
            ticket_for(100 + u64::from(n), dispatcher, Assignee { engineer: Some(engineer.user), partner_org: None });
        desk.create(&Document::Ticket(ticket.clone())).await;
        let mut device = desk.pair(&engineer, n + 1).await;
        device.sync(&desk).await;
        edit(&mut device, &ticket, |t| {
            t.work_log.push(WorkLogEntry {
                id: EntryId::from_u128(u128::from(n) + 1),
                at: T0,
                by: engineer,
                text: format!("device {n}"),
            });
        });
        fleet.push((device, ticket));
    }
    // Every device pushes at the same moment; on SQLite the writers queue
    // for the lock instead of failing on a stale read snapshot.
    let desk = std::sync::Arc::new(desk);
    let tasks: Vec<_> = fleet
        .into_iter()
        .map(|(mut device, ticket)| {
            let desk = desk.clone();
            tokio::spawn(async move {
                device.sync(&desk).await;
                (device, ticket)
            })
        })
        .collect();
    for task in tasks {
        let (device, ticket) = task.await.unwrap();
        let at_desk = as_ticket(desk.document(ticket.id).await);
        assert_eq!(at_desk.work_log.len(), 1, "ticket {} got its note", ticket.number);
        assert_eq!(as_ticket(device.local.document(ticket.id)), at_desk);
    }
}

on_both_backends!(
    twenty_devices_pushing_at_once_all_land,
    many_small_edits_compact_and_the_document_stays_whole,
    two_devices_edit_offline_and_converge_in_both_orders,
    a_forbidden_edit_is_neutralised_and_audited,
    a_partner_device_sees_and_writes_only_its_own_tickets,
    a_revoked_device_is_told_to_wipe,
    an_engineer_may_not_revoke_devices,
);

/// A device that hangs up while its push waits for the write lock must not
/// cancel the round half-way: the push lands, and the desk's database is
/// not left locked for everyone after (sqlx loses a `BEGIN` cancelled
/// while it waits, keeping the lock on a pooled connection).
#[tokio::test]
async fn a_push_from_a_device_that_hung_up_still_lands_and_leaves_no_lock() {
    let Some(desk) = start(outpost_desk::Backend::Sqlite).await else { return };
    let (_, engineer, ticket, mut device) = engineer_with_ticket(&desk, 7).await;
    edit(&mut device, &ticket, |t| {
        let text = "written before the link dropped".into();
        t.work_log.push(WorkLogEntry { id: EntryId::from_u128(77), at: T0, by: engineer, text });
    });
    device.round += 1;
    let request = device.local.start_round(T0, outpost_sync::wire::RoundId(device.round)).unwrap();

    let held = desk.db.begin_write().await.unwrap();
    let impatient = reqwest::Client::builder().timeout(std::time::Duration::from_millis(300)).build().unwrap();
    let reply = impatient
        .post(desk.url("/v1/sync"))
        .bearer_auth(&device.paired.token)
        .header("content-type", outpost_desk::SYNC_CONTENT_TYPE)
        .body(request)
        .send()
        .await;
    assert!(reply.is_err(), "the device gave up while the desk waited for the lock");
    held.rollback().await.unwrap();

    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let at_desk = as_ticket(desk.document(ticket.id).await);
        if at_desk.work_log.iter().any(|n| n.text == "written before the link dropped") {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "the abandoned round never completed");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let mut other = desk.pair(&engineer, 2).await;
    assert!(other.sync(&desk).await > 0, "later rounds still get the write lock");
    assert_eq!(as_ticket(other.local.document(ticket.id)).work_log.len(), 1);
}
