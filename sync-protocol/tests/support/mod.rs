//! What the scenarios share: a desk with a cast, devices, and typed access.
#![allow(dead_code, unreachable_pub)]

use automerge::ActorId;
use outpost_sync::ids::{DocId, Timestamp};
use outpost_sync::limits::WireLimits;
use outpost_sync::memory::{DeskStore, MemoryDesk, MemoryDevice};
use outpost_sync::model::{Actor, Document, Ticket};
use outpost_sync::session::ServerConfig;

pub const T0: Timestamp = Timestamp(1_790_000_000_000);

pub fn desk() -> MemoryDesk {
    MemoryDesk::new(ServerConfig::new(ActorId::from([0xd5; 16])))
}

pub fn device(actor: Actor, n: u8) -> MemoryDevice {
    MemoryDevice::new(actor, ActorId::from([n; 16]), WireLimits::default())
}

pub fn ticket_of(document: Option<Document>) -> Ticket {
    match document {
        Some(Document::Ticket(t)) => t,
        other => panic!("expected a ticket, got {other:?}"),
    }
}

/// Edits a ticket on a device through the typed model.
pub fn edit_ticket(device: &mut MemoryDevice, id: DocId, change: impl FnOnce(&mut Ticket)) {
    device
        .edit(id, T0, |d| match d {
            Document::Ticket(t) => change(t),
            other => panic!("expected a ticket, got {other:?}"),
        })
        .expect("the device holds the ticket");
}

/// Edits a ticket with no local checks, as a crafted or outdated client would.
pub fn edit_ticket_unchecked(device: &mut MemoryDevice, id: DocId, change: impl FnOnce(&mut Ticket)) {
    device
        .edit_unchecked(id, T0, |d| match d {
            Document::Ticket(t) => change(t),
            other => panic!("expected a ticket, got {other:?}"),
        })
        .expect("the device holds the ticket");
}

/// Edits a ticket as the desk, on any desk.
pub fn edit_desk_ticket(desk: &mut (impl DeskStore + ?Sized), id: DocId, change: impl FnOnce(&mut Ticket)) {
    let mut change = Some(change);
    desk.edit(id, &mut |d| match d {
        Document::Ticket(t) => (change.take().expect("the desk applies an edit once"))(t),
        other => panic!("expected a ticket, got {other:?}"),
    });
}

/// Changes an equipment record as the desk, through the typed model.
pub fn edit_desk_equipment(
    desk: &mut (impl DeskStore + ?Sized),
    id: DocId,
    change: impl FnOnce(&mut outpost_sync::model::Equipment),
) {
    let mut change = Some(change);
    desk.edit(id, &mut |d| match d {
        Document::Equipment(e) => (change.take().expect("edited once"))(e),
        other => panic!("expected equipment, got {other:?}"),
    });
}
