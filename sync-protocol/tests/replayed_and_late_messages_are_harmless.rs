//! The network duplicates, delays and drops messages. A replayed request
//! changes nothing at the desk; a late or duplicated response is refused by
//! the device and changes nothing there; a dropped response costs a retry.

mod support;

use outpost_sync::ids::EntryId;
use outpost_sync::memory::sync_until_quiet;
use outpost_sync::model::{Document, WorkLogEntry};
use outpost_sync::sample::{worked_ticket, Cast, Rng};
use outpost_sync::session::SessionError;
use outpost_sync::wire::RoundId;
use support::*;

#[test]
fn a_replayed_request_adds_nothing_twice() {
    let cast = Cast::default();
    let mut desk = desk();
    let ticket = worked_ticket(&mut Rng::new(21), &cast, 1, T0);
    let id = ticket.id;
    desk.create(&Document::Ticket(ticket)).unwrap();
    let mut phone = device(cast.engineer, 1);
    sync_until_quiet(&mut phone, &mut desk, T0, 1, 10);
    edit_ticket(&mut phone, id, |t| {
        t.work_log.push(WorkLogEntry { id: EntryId::from_u128(1), at: T0, by: cast.engineer, text: "once".into() })
    });

    let request = phone.start_round(T0, RoundId(50)).unwrap();
    let first = desk.handle(T0, &cast.engineer, &request);
    let heads = desk.heads(id);
    let latest = desk.latest();
    let second = desk.handle(T0, &cast.engineer, &request);
    assert_eq!(desk.heads(id), heads, "a replay must not change the document");
    assert_eq!(desk.latest(), latest, "a replay must not add to the feed");

    phone.handle_response(T0, &first).unwrap();
    let stale = phone.handle_response(T0, &second);
    assert!(matches!(stale, Err(SessionError::NoRoundInFlight)), "{stale:?}");
    let before_late = phone.sync_state().clone();
    phone.start_round(T0, RoundId(51)).unwrap();
    let late = phone.handle_response(T0, &second);
    assert!(matches!(late, Err(SessionError::UnexpectedRound { .. })), "{late:?}");
    assert_eq!(phone.sync_state(), &before_late, "a late response must not move the cursor");
    phone.transport_failed();

    sync_until_quiet(&mut phone, &mut desk, T0, 60, 10);
    let notes = ticket_of(desk.document(id).cloned()).work_log;
    assert_eq!(notes.iter().filter(|n| n.text == "once").count(), 1);
    assert_eq!(phone.heads(id), desk.heads(id));
}

#[test]
fn a_dropped_response_costs_only_a_retry() {
    let cast = Cast::default();
    let mut desk = desk();
    let ticket = worked_ticket(&mut Rng::new(22), &cast, 1, T0);
    let id = ticket.id;
    desk.create(&Document::Ticket(ticket)).unwrap();
    let mut phone = device(cast.engineer, 1);
    sync_until_quiet(&mut phone, &mut desk, T0, 1, 10);
    edit_ticket(&mut phone, id, |t| t.description.splice(0, 0, "Urgent: "));

    let request = phone.start_round(T0, RoundId(70)).unwrap();
    let _lost = desk.handle(T0, &cast.engineer, &request);
    phone.transport_failed();
    sync_until_quiet(&mut phone, &mut desk, T0, 71, 10);

    let at_desk = ticket_of(desk.document(id).cloned());
    assert!(at_desk.description.as_str().starts_with("Urgent: "));
    assert_eq!(at_desk.description.as_str().matches("Urgent: ").count(), 1, "the retry must not insert twice");
    assert_eq!(phone.heads(id), desk.heads(id));
}
