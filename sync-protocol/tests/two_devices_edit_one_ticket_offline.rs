//! An engineer's laptop and tablet both work a ticket offline while the
//! dispatcher changes it at the desk; they sync in both orders and all three
//! end identical with nothing lost.

use automerge::ActorId;
use outpost_sync::ids::{EntryId, Timestamp};
use outpost_sync::limits::WireLimits;
use outpost_sync::memory::{sync_until_quiet, MemoryDesk, MemoryDevice};
use outpost_sync::model::{ChecklistItemState, Document, Priority, Ticket, TicketStatus, Transition, WorkLogEntry};
use outpost_sync::sample::{worked_ticket, Cast, Rng};
use outpost_sync::session::ServerConfig;
use outpost_sync::workflow::fold_ticket;

const T0: Timestamp = Timestamp(1_790_000_000_000);

fn ticket_of(document: Option<Document>) -> Ticket {
    match document {
        Some(Document::Ticket(t)) => t,
        other => panic!("expected a ticket, got {other:?}"),
    }
}

fn note(cast: &Cast, n: u128, text: &str) -> WorkLogEntry {
    WorkLogEntry { id: EntryId::from_u128(n), at: T0, by: cast.engineer, text: text.into() }
}

fn run(laptop_first: bool) {
    let cast = Cast::default();
    let mut desk = MemoryDesk::new(ServerConfig::new(ActorId::from([0xd5; 16])));
    let ticket = worked_ticket(&mut Rng::new(1), &cast, 1, T0);
    let id = ticket.id;
    desk.create(&Document::Ticket(ticket)).unwrap();

    let mut laptop = MemoryDevice::new(cast.engineer, ActorId::from([1; 16]), WireLimits::default());
    let mut tablet = MemoryDevice::new(cast.engineer, ActorId::from([2; 16]), WireLimits::default());
    sync_until_quiet(&mut laptop, &mut desk, T0, 1, 10);
    sync_until_quiet(&mut tablet, &mut desk, T0, 100, 10);

    // Offline on the laptop: a note, a checklist tick, text at the start.
    laptop
        .edit(id, T0, |d| {
            let Document::Ticket(t) = d else { unreachable!() };
            t.work_log.push(note(&cast, 1, "Replaced drive 4"));
            t.checklist.insert("psu".into(), ChecklistItemState { done: true, by: cast.engineer, at: T0 });
            t.description.splice(0, 0, "[laptop] ");
        })
        .unwrap();
    // Offline on the tablet: another note, text at the end, waiting for parts.
    tablet
        .edit(id, T0, |d| {
            let Document::Ticket(t) = d else { unreachable!() };
            t.work_log.push(note(&cast, 2, "Controller battery also weak"));
            let end = t.description.as_str().len();
            t.description.splice(end, 0, " [tablet]");
            let status = fold_ticket(t).status;
            t.transitions.push(Transition {
                id: EntryId::from_u128(3),
                from: status,
                to: TicketStatus::WaitingParts,
                at: T0,
                by: cast.engineer,
                assignee: None,
                reason: None,
            });
        })
        .unwrap();
    // Meanwhile at the desk: the priority goes up.
    desk.edit(id, |d| {
        let Document::Ticket(t) = d else { unreachable!() };
        t.priority = Priority::P1;
    })
    .unwrap();

    let (first, second) = if laptop_first { (&mut laptop, &mut tablet) } else { (&mut tablet, &mut laptop) };
    sync_until_quiet(first, &mut desk, T0, 200, 10);
    sync_until_quiet(second, &mut desk, T0, 300, 10);
    sync_until_quiet(first, &mut desk, T0, 400, 10);

    let at_desk = ticket_of(desk.document(id).cloned());
    assert_eq!(ticket_of(laptop.document(id)), at_desk, "laptop and desk must agree");
    assert_eq!(ticket_of(tablet.document(id)), at_desk, "tablet and desk must agree");
    assert_eq!(laptop.heads(id), desk.heads(id));
    assert_eq!(tablet.heads(id), desk.heads(id));

    let notes: Vec<&str> = at_desk.work_log.iter().map(|n| n.text.as_str()).collect();
    assert!(notes.contains(&"Replaced drive 4") && notes.contains(&"Controller battery also weak"), "{notes:?}");
    let description = at_desk.description.as_str();
    assert!(description.starts_with("[laptop] ") && description.ends_with(" [tablet]"), "{description}");
    assert!(at_desk.checklist["psu"].done);
    assert_eq!(at_desk.priority, Priority::P1);
    assert_eq!(fold_ticket(&at_desk).status, TicketStatus::WaitingParts);
    assert!(laptop.refusals().is_empty() && tablet.refusals().is_empty(), "nothing here breaks a rule");
}

#[test]
fn laptop_first_then_tablet() {
    run(true);
}

#[test]
fn tablet_first_then_laptop() {
    run(false);
}
