//! Untrusted bytes as a sync request to a desk holding one ticket: an answer
//! always comes back, and nothing the engineer may not do lands.
#![no_main]

use automerge::ActorId;
use libfuzzer_sys::fuzz_target;
use outpost_sync::ids::Timestamp;
use outpost_sync::memory::MemoryDesk;
use outpost_sync::model::Document;
use outpost_sync::sample::{worked_ticket, Cast, Rng};
use outpost_sync::session::ServerConfig;

fuzz_target!(|bytes: &[u8]| {
    let cast = Cast::default();
    let mut desk = MemoryDesk::new(ServerConfig::new(ActorId::from([0xd5; 16])));
    let ticket = worked_ticket(&mut Rng::new(1), &cast, 1, Timestamp(1_790_000_000_000));
    let sla = ticket.sla.clone();
    desk.create(&Document::Ticket(ticket.clone())).expect("sample ticket");
    let reply = desk.handle(Timestamp(1_790_000_000_000), &cast.partner_engineer, bytes);
    assert!(!reply.is_empty(), "every request gets an answer");
    match desk.document(ticket.id) {
        Some(Document::Ticket(now)) => {
            assert_eq!(now.sla, sla, "a partner never moves a staff ticket's deadline");
            assert_eq!(now.work_log, ticket.work_log, "a partner never writes a staff ticket");
        }
        other => panic!("the ticket must still be there: {other:?}"),
    }
});
