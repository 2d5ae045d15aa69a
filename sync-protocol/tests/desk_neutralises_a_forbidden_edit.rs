//! An engineer's device moves an SLA deadline and adds a note in one push.
//! The desk keeps the note, neutralises the deadline with a compensating
//! change, writes the refusal to its audit log and tells the device, whose
//! copy then converges to the desk's.

mod support;

use outpost_sync::ids::EntryId;
use outpost_sync::memory::sync_until_quiet;
use outpost_sync::model::{Document, WorkLogEntry};
use outpost_sync::sample::{worked_ticket, Cast, Rng};
use support::*;

#[test]
fn the_note_stands_and_the_deadline_goes_back() {
    let cast = Cast::default();
    let mut desk = desk();
    let ticket = worked_ticket(&mut Rng::new(3), &cast, 1, T0);
    let (id, deadline) = (ticket.id, ticket.sla.resolution_due);
    desk.create(&Document::Ticket(ticket)).unwrap();
    let mut phone = device(cast.engineer, 1);
    sync_until_quiet(&mut phone, &mut desk, T0, 1, 10);

    edit_ticket_unchecked(&mut phone, id, |t| {
        t.sla.resolution_due = Some(T0.plus_millis(30 * 86_400_000));
        t.work_log.push(WorkLogEntry { id: EntryId::from_u128(1), at: T0, by: cast.engineer, text: "On site".into() });
    });
    sync_until_quiet(&mut phone, &mut desk, T0, 10, 10);

    let at_desk = ticket_of(desk.document(id).cloned());
    assert_eq!(at_desk.sla.resolution_due, deadline, "the desk must not accept a moved deadline");
    assert!(at_desk.work_log.iter().any(|n| n.text == "On site"), "the valid note must be kept");
    assert_eq!(desk.audit().len(), 1);
    assert_eq!(desk.audit()[0].refusal.field, "sla");
    assert_eq!(desk.audit()[0].author, cast.engineer);
    assert_eq!(phone.refusals().len(), 1, "the device is told what was refused");
    assert_eq!(phone.refusals()[0].1.field, "sla");
    assert_eq!(ticket_of(phone.document(id)), at_desk, "the device converges to the corrected ticket");
    assert_eq!(phone.heads(id), desk.heads(id));
}
