//! The desk's own reactions to what devices send: deadlines for tickets
//! found on site, the first response on the desk's clock, prepaid points
//! charged on resolution.

mod support;

use outpost_sync::ids::{DocId, EntryId, Timestamp};
use outpost_sync::model::{
    Assignee, BillingClass, BusinessHours, Client, Document, Points, Role, Ticket, TicketStatus, TimeEntry, TimeKind,
    Transition,
};
use outpost_sync::sample::{worked_ticket, Cast, Rng};
use support::*;

async fn client(desk: &Desk, balance: Option<u64>) -> DocId {
    let id = DocId(outpost_desk::accounts::new_id());
    let hours = BusinessHours { always: true, weekly: vec![], holidays: vec![] };
    let client = Client {
        id,
        name: "Retail Group".into(),
        contract: Some("PTS-1".into()),
        business_hours: hours,
        points_balance: balance.map(|hundredths| Points { hundredths }),
        language: None,
    };
    desk.create(&Document::Client(client)).await;
    id
}

fn ticket_of(document: Option<Document>) -> Ticket {
    match document {
        Some(Document::Ticket(t)) => t,
        other => panic!("expected a ticket, got {other:?}"),
    }
}

async fn a_ticket_found_on_site_gets_deadlines_and_a_first_response(desk: Desk) {
    let dispatcher = desk.user(desk.service, Role::Dispatcher).await;
    let engineer = desk.user(desk.service, Role::Engineer).await;
    let client = client(&desk, None).await;
    // The engineer is on site for one of this client's tickets, so may name the client.
    let cast = Cast { dispatcher, engineer, ..Cast::default() };
    let mut visited = worked_ticket(&mut Rng::new(11), &cast, 1, T0);
    visited.client = client;
    visited.transitions[0].assignee = Some(Assignee { engineer: Some(engineer.user), partner_org: None });
    desk.create(&Document::Ticket(visited)).await;
    let mut device = desk.pair(&engineer, 1).await;
    device.sync(&desk).await;
    let id = DocId(outpost_desk::accounts::new_id());
    let mut ticket = Ticket::new(id, engineer, T0, "D-1".into(), "Second array degraded".into(), client);
    ticket.priority = outpost_sync::model::Priority::P2;
    ticket.work_log.push(outpost_sync::model::WorkLogEntry {
        id: EntryId::from_u128(1),
        at: T0,
        by: engineer,
        text: "found it".into(),
    });
    device.local.create(&Document::Ticket(ticket)).unwrap();
    let before = outpost_desk::now().0;
    device.sync(&desk).await;
    let after = outpost_desk::now().0;

    let at_desk = ticket_of(desk.document(id).await);
    let resolution = at_desk.sla.resolution_due.expect("the desk sets deadlines").0;
    assert!((before + 24 * 3_600_000..=after + 24 * 3_600_000).contains(&resolution), "P2: 24 hours from receipt");
    let first = at_desk.sla.first_response_at.expect("the note is a first response").0;
    assert!((before..=after).contains(&first), "on the desk's clock, not the device's ({})", T0.0);
    assert_eq!(ticket_of(device.local.document(id)), at_desk, "the device gets the desk's additions in the same sync");
}

async fn resolving_a_service_request_charges_prepaid_points(desk: Desk) {
    let dispatcher = desk.user(desk.service, Role::Dispatcher).await;
    let engineer = desk.user(desk.service, Role::Engineer).await;
    let client = client(&desk, Some(1_100)).await;
    let cast = Cast { dispatcher, engineer, ..Cast::default() };
    let mut ticket = worked_ticket(&mut Rng::new(12), &cast, 1, T0);
    ticket.client = client;
    ticket.billing.class = BillingClass::ServiceRequest;
    ticket.transitions[0].assignee = Some(Assignee { engineer: Some(engineer.user), partner_org: None });
    ticket.time_entries.clear();
    desk.create(&Document::Ticket(ticket.clone())).await;
    let mut device = desk.pair(&engineer, 1).await;
    device.sync(&desk).await;

    device
        .local
        .edit(ticket.id, T0, |d| {
            if let Document::Ticket(t) = d {
                let start = Timestamp(T0.0 + 1_000);
                t.time_entries.push(TimeEntry {
                    id: EntryId::from_u128(5),
                    kind: TimeKind::Work,
                    start,
                    end: Some(start.plus_millis(61 * 60_000)),
                    by: engineer,
                });
                t.transitions.push(Transition {
                    id: EntryId::from_u128(6),
                    from: TicketStatus::OnSite,
                    to: TicketStatus::Resolved,
                    at: T0,
                    by: engineer,
                    assignee: None,
                    reason: None,
                });
            }
        })
        .unwrap();
    device.sync(&desk).await;

    let at_desk = ticket_of(desk.document(ticket.id).await);
    assert_eq!(at_desk.billing.points_charged, Some(Points { hundredths: 125 }), "61 minutes of work: 1.25 points");
    assert!(at_desk.sla.resolved_at.is_some());
    let Some(Document::Client(after)) = desk.document(client).await else { panic!("the client is there") };
    assert_eq!(after.points_balance, Some(Points { hundredths: 975 }));
    let rows: Vec<(String,)> =
        sqlx::query_as("SELECT action FROM audit_log ORDER BY id").fetch_all(&desk.db.pool).await.unwrap();
    let actions: Vec<&str> = rows.iter().map(|(a,)| a.as_str()).collect();
    assert_eq!(actions, vec!["points_charged", "low_points_balance"], "9.75 points left is below the warning line");

    let dispatcher_token = desk.api_token(dispatcher.user).await;
    let (_, clients) = desk.get_json("/v1/clients", &dispatcher_token).await;
    assert_eq!(clients[0]["low_points_balance"], true, "the API flags the low balance");

    // Syncing again charges nothing twice.
    device.sync(&desk).await;
    let Some(Document::Client(again)) = desk.document(client).await else { panic!() };
    assert_eq!(again.points_balance, Some(Points { hundredths: 975 }));
}

/// An engineer resolves offline on a clock two minutes slow and syncs six
/// hours later: the SLA counts the resolution when it happened, by the
/// desk's clock. A resolution the device's clock puts in the future is kept
/// at the desk's now and audited. A malformed clock header is refused and
/// changes nothing.
async fn times_entered_offline_count_corrected_by_the_device_clock(desk: Desk) {
    const HOUR: i64 = 3_600_000;
    let dispatcher = desk.user(desk.service, Role::Dispatcher).await;
    let engineer = desk.user(desk.service, Role::Engineer).await;
    let client = client(&desk, None).await;
    let cast = Cast { dispatcher, engineer, ..Cast::default() };
    let mut tickets = Vec::new();
    for n in 0..2 {
        let mut ticket = worked_ticket(&mut Rng::new(20 + n), &cast, n, T0);
        ticket.client = client;
        ticket.transitions[0].assignee = Some(Assignee { engineer: Some(engineer.user), partner_org: None });
        desk.create(&Document::Ticket(ticket.clone())).await;
        tickets.push(ticket);
    }
    let mut device = desk.pair(&engineer, 1).await;
    device.sync(&desk).await;
    let resolve = |device: &mut support::Device, id: DocId, at: i64| {
        device
            .local
            .edit(id, T0, |d| {
                if let Document::Ticket(t) = d {
                    t.transitions.push(Transition {
                        id: EntryId::from_u128(9),
                        from: TicketStatus::OnSite,
                        to: TicketStatus::Resolved,
                        at: Timestamp(at),
                        by: engineer,
                        assignee: None,
                        reason: None,
                    });
                }
            })
            .unwrap();
    };

    // The device's clock is two minutes slow; the work was done six hours ago.
    let slow = -120_000;
    device.clock_skew_ms = Some(slow);
    let entered = outpost_desk::now().0 - 6 * HOUR + slow;
    resolve(&mut device, tickets[0].id, entered);
    device.sync(&desk).await;
    let resolved = ticket_of(desk.document(tickets[0].id).await).sla.resolved_at.expect("resolved").0;
    let corrected = entered - slow;
    assert!(
        (corrected..corrected + 5_000).contains(&resolved),
        "{resolved} is the entered time corrected, {corrected}"
    );

    // A resolution entered two hours ahead of the device's own clock cannot have happened yet.
    let before = outpost_desk::now().0;
    resolve(&mut device, tickets[1].id, before + 2 * HOUR + slow);
    device.sync(&desk).await;
    let resolved = ticket_of(desk.document(tickets[1].id).await).sla.resolved_at.expect("resolved").0;
    assert!((before..=outpost_desk::now().0).contains(&resolved), "kept at the desk's now");
    let (audited,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM audit_log WHERE action = 'implausible_time'")
        .fetch_one(&desk.db.pool)
        .await
        .unwrap();
    assert_eq!(audited, 1, "the implausible time is audited, the plausible one is not");

    // The desk keeps each device's offset; a clock that jumps between rounds is audited.
    let token = desk.api_token(dispatcher.user).await;
    let (_, devices) = desk.get_json("/v1/devices", &token).await;
    let kept = devices[0]["clock_offset_ms"].as_i64().expect("the offset is kept");
    assert!((120_000..125_000).contains(&kept), "{kept}");
    device.clock_skew_ms = Some(2 * HOUR);
    device.sync(&desk).await;
    device.sync(&desk).await;
    let (jumps,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM audit_log WHERE action = 'clock_changed'")
        .fetch_one(&desk.db.pool)
        .await
        .unwrap();
    assert_eq!(jumps, 1, "the jump is audited once, not at every round after it");

    // A clock header that is not a time is refused before anything is read.
    let request = device.local.start_round(T0, outpost_sync::wire::RoundId(77)).unwrap();
    let refused = desk.post_sync_with_clock(&device.paired.token, request, Some("yesterday".into())).await;
    assert_eq!(refused.status(), 400);
    assert!(refused.text().await.unwrap().contains("x-outpost-device-clock"));
}

on_both_backends!(
    times_entered_offline_count_corrected_by_the_device_clock,
    a_ticket_found_on_site_gets_deadlines_and_a_first_response,
    resolving_a_service_request_charges_prepaid_points
);
