//! Devices and desks lose state in the field: a device restored from an old
//! backup, a desk restored from last night's dump. Each side recovers by
//! itself and ends converged with nothing lost and nothing applied twice.

mod support;

use outpost_sync::ids::EntryId;
use outpost_sync::limits::WireLimits;
use outpost_sync::memory::sync_until_quiet;
use outpost_sync::model::{Document, WorkLogEntry};
use outpost_sync::sample::{worked_ticket, Cast, Rng};
use support::*;

fn note(cast: &Cast, n: u128, text: &str) -> WorkLogEntry {
    WorkLogEntry { id: EntryId::from_u128(n), at: T0, by: cast.engineer, text: text.into() }
}

#[test]
fn a_device_that_lost_its_sync_state_converges_without_duplicates() {
    let cast = Cast::default();
    let mut desk = desk();
    let mut rng = Rng::new(11);
    let tickets: Vec<_> = (0..5).map(|n| worked_ticket(&mut rng, &cast, n, T0)).collect();
    for t in &tickets {
        desk.create(&Document::Ticket(t.clone())).unwrap();
    }
    let mut tablet = device(cast.engineer, 1);
    sync_until_quiet(&mut tablet, &mut desk, T0, 1, 10);
    edit_ticket(&mut tablet, tickets[0].id, |t| t.work_log.push(note(&cast, 1, "before the crash")));

    tablet.forget_sync_state(WireLimits::default());
    edit_desk_ticket(&mut desk, tickets[1].id, |t| t.title = "Retitled by the desk".into());
    sync_until_quiet(&mut tablet, &mut desk, T0, 10, 20);

    for t in &tickets {
        assert_eq!(tablet.document(t.id).as_ref(), desk.document(t.id), "ticket {} must converge", t.number);
        assert_eq!(tablet.heads(t.id), desk.heads(t.id));
    }
    let notes = ticket_of(desk.document(tickets[0].id).cloned()).work_log;
    assert_eq!(notes.iter().filter(|n| n.text == "before the crash").count(), 1, "applied exactly once");
}

#[test]
fn a_desk_restored_from_a_backup_gets_the_devices_work_back() {
    let cast = Cast::default();
    let mut desk = desk();
    let ticket = worked_ticket(&mut Rng::new(12), &cast, 1, T0);
    let id = ticket.id;
    desk.create(&Document::Ticket(ticket)).unwrap();
    let mut laptop = device(cast.engineer, 1);
    sync_until_quiet(&mut laptop, &mut desk, T0, 1, 10);
    let backup = desk.snapshot();

    edit_ticket(&mut laptop, id, |t| t.work_log.push(note(&cast, 1, "synced before the restore")));
    sync_until_quiet(&mut laptop, &mut desk, T0, 10, 10);
    // The desk's disk dies; last night's backup comes back, and then more happens there.
    desk.restore_to(&backup);
    edit_ticket(&mut laptop, id, |t| t.work_log.push(note(&cast, 2, "synced after the restore")));
    sync_until_quiet(&mut laptop, &mut desk, T0, 20, 20);

    let at_desk = ticket_of(desk.document(id).cloned());
    let texts: Vec<_> = at_desk.work_log.iter().map(|n| n.text.as_str()).collect();
    assert!(texts.contains(&"synced before the restore"), "the device resends what the desk lost: {texts:?}");
    assert!(texts.contains(&"synced after the restore"));
    assert_eq!(laptop.heads(id), desk.heads(id));
}
