//! Untrusted bytes as a sync request to a desk holding one ticket: an answer
//! always comes back, and nothing the engineer may not do lands.
#![no_main]

use std::sync::OnceLock;

use automerge::ActorId;
use libfuzzer_sys::fuzz_target;
use outpost_sync::ids::Timestamp;
use outpost_sync::memory::MemoryDesk;
use outpost_sync::model::{Document, Ticket};
use outpost_sync::sample::{worked_ticket, Cast, Rng};
use outpost_sync::session::ServerConfig;

const NOW: Timestamp = Timestamp(1_790_000_000_000);

/// The desk before any input, built once; each input gets a fresh copy.
fn template() -> &'static (MemoryDesk, Ticket) {
    static TEMPLATE: OnceLock<(MemoryDesk, Ticket)> = OnceLock::new();
    TEMPLATE.get_or_init(|| {
        // The desk refuses a document whose work panics (automerge's own
        // panics included) under `catch_unwind`; libfuzzer's hook would abort
        // on those caught panics too. A panic that escapes the round still
        // aborts the run and is reported.
        std::panic::set_hook(Box::new(|_| {}));
        let mut desk = MemoryDesk::new(ServerConfig::new(ActorId::from([0xd5; 16])));
        let ticket = worked_ticket(&mut Rng::new(1), &Cast::default(), 1, NOW);
        desk.create(&Document::Ticket(ticket.clone())).expect("sample ticket");
        (desk, ticket)
    })
}

fuzz_target!(|bytes: &[u8]| {
    let (template, ticket) = template();
    let mut desk = template.snapshot();
    let reply = desk.handle(NOW, &Cast::default().partner_engineer, bytes);
    assert!(!reply.is_empty(), "every request gets an answer");
    match desk.document(ticket.id) {
        Some(Document::Ticket(now)) => {
            assert_eq!(now.sla, ticket.sla, "a partner never moves a staff ticket's deadline");
            assert_eq!(now.work_log, ticket.work_log, "a partner never writes a staff ticket");
        }
        other => panic!("the ticket must still be there: {other:?}"),
    }
});
