//! Inputs the fuzz targets found, kept as tests. Each is replayed against
//! the same desk the target builds, and must be answered with the hostile
//! document refused and nothing changed.

mod support;

use outpost_sync::ids::Timestamp;
use outpost_sync::limits::WireLimits;
use outpost_sync::model::Document;
use outpost_sync::sample::{worked_ticket, Cast, Rng};
use outpost_sync::wire::{PushResult, ServerMessage, PROTOCOL_VERSION};

const NOW: Timestamp = Timestamp(1_790_000_000_000);

/// A partner's push whose changes make automerge 0.12 panic while it orders
/// their operations ("user-provided comparison function does not correctly
/// implement a total order", in `order_ops_for_doc`), past every check the
/// desk makes first. The desk runs each document's work under
/// `catch_unwind`: the document is refused as invalid, the round answered.
#[test]
fn a_push_that_panics_automerge_is_refused_alone() {
    let mut desk = support::desk();
    let ticket = worked_ticket(&mut Rng::new(1), &Cast::default(), 1, NOW);
    desk.create(&Document::Ticket(ticket.clone())).unwrap();
    let heads = desk.heads(ticket.id);
    // Found under protocol version 1; requests have not changed since, so
    // it is replayed as the current version and must reach the round.
    let mut input = include_bytes!("data/round_that_panics_automerge.bin").to_vec();
    input[4] = PROTOCOL_VERSION;
    let reply = desk.handle(NOW, &Cast::default().partner_engineer, &input);
    match ServerMessage::decode(&reply, &WireLimits::default()).expect("the desk answers in its format") {
        ServerMessage::Sync(response) => {
            assert!(!response.outcomes.is_empty(), "the round reached the pushed documents");
            for outcome in &response.outcomes {
                assert!(
                    matches!(outcome.result, PushResult::Invalid { .. } | PushResult::Refused { .. }),
                    "{outcome:?}"
                );
            }
        }
        other => panic!("expected the round's answer, got {other:?}"),
    }
    assert_eq!(desk.heads(ticket.id), heads, "the staff ticket is untouched");
}
