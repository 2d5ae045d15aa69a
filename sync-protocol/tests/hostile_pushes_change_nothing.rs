//! Malformed and hostile pushes: each gets a clear answer, and the desk's
//! documents and feed stay exactly as they were.

mod support;

use automerge::transaction::Transactable;
use automerge::{AutoCommit, ROOT};
use outpost_sync::ids::{DocId, Timestamp};
use outpost_sync::limits::WireLimits;
use outpost_sync::memory::MemoryDesk;
use outpost_sync::model::{new_document, DocKind, Document, Ticket, SCHEMA_VERSION};
use outpost_sync::sample::{worked_ticket, Cast, Rng};
use outpost_sync::wire::{ClientMessage, Cursor, DocPush, ErrorCode, PushResult, RoundId, ServerMessage, SyncRequest};
use support::*;

fn push(desk: &mut MemoryDesk, cast: &Cast, doc: DocId, kind: DocKind, changes: Vec<u8>) -> PushResult {
    let request = SyncRequest {
        round: RoundId(1),
        cursor: desk.latest(),
        page_size: 10,
        pushes: vec![DocPush { doc, kind, heads: vec![], changes }],
        known: vec![],
        refetch: vec![],
    };
    let reply = desk.handle(T0, &cast.engineer, &ClientMessage::Sync(request).encode());
    match ServerMessage::decode(&reply, &WireLimits::default()).expect("the desk answers well-formed bytes") {
        ServerMessage::Sync(mut response) => response.outcomes.remove(0).result,
        other => panic!("expected a sync response, got {other:?}"),
    }
}

fn setup() -> (Cast, MemoryDesk, Ticket) {
    let cast = Cast::default();
    let mut desk = desk();
    let ticket = worked_ticket(&mut Rng::new(31), &cast, 1, T0);
    desk.create(&Document::Ticket(ticket.clone())).unwrap();
    (cast, desk, ticket)
}

fn assert_invalid(result: &PushResult, mentions: &str) {
    match result {
        PushResult::Invalid { reason } => {
            assert!(reason.contains(mentions), "reason {reason:?} should mention {mentions:?}")
        }
        other => panic!("expected an invalid push, got {other:?}"),
    }
}

#[test]
fn bytes_that_are_not_automerge_are_refused() {
    let (cast, mut desk, ticket) = setup();
    let (heads, latest) = (desk.heads(ticket.id), desk.latest());
    let result = push(&mut desk, &cast, ticket.id, DocKind::Ticket, b"definitely not automerge".to_vec());
    assert_invalid(&result, "do not load");
    assert_eq!((desk.heads(ticket.id), desk.latest()), (heads, latest));
}

#[test]
fn a_new_document_that_does_not_match_the_schema_is_refused() {
    let (cast, mut desk, _) = setup();
    let id = DocId::from_u128(0xbad);
    let mut doc = AutoCommit::new();
    doc.put(ROOT, "schema", SCHEMA_VERSION).unwrap();
    doc.put(ROOT, "title", "no kind, no id").unwrap();
    let latest = desk.latest();
    assert_invalid(&push(&mut desk, &cast, id, DocKind::Ticket, doc.save_after(&[])), "schema");
    assert_eq!(desk.latest(), latest);
    assert!(desk.document(id).is_none());
}

#[test]
fn a_document_from_a_newer_schema_is_refused() {
    let (cast, mut desk, _) = setup();
    let mut ticket = worked_ticket(&mut Rng::new(32), &cast, 2, T0);
    ticket.created_by = cast.engineer;
    let mut doc = new_document(&Document::Ticket(ticket.clone()), automerge::ActorId::from([7; 16])).unwrap();
    doc.put(ROOT, "schema", SCHEMA_VERSION + 1).unwrap();
    assert_invalid(&push(&mut desk, &cast, ticket.id, DocKind::Ticket, doc.save_after(&[])), "newer");
    assert!(desk.document(ticket.id).is_none());
}

#[test]
fn a_document_pushed_under_another_id_is_refused() {
    let (cast, mut desk, _) = setup();
    let mut ticket = worked_ticket(&mut Rng::new(33), &cast, 2, T0);
    ticket.created_by = cast.engineer;
    let mut doc = new_document(&Document::Ticket(ticket), automerge::ActorId::from([7; 16])).unwrap();
    let elsewhere = DocId::from_u128(0x5eed);
    assert_invalid(&push(&mut desk, &cast, elsewhere, DocKind::Ticket, doc.save_after(&[])), "id");
    assert!(desk.document(elsewhere).is_none());
}

#[test]
fn a_push_that_claims_the_wrong_kind_is_refused() {
    let (cast, mut desk, ticket) = setup();
    let heads = desk.heads(ticket.id);
    let result = push(&mut desk, &cast, ticket.id, DocKind::Equipment, vec![]);
    assert_invalid(&result, "kind");
    assert_eq!(desk.heads(ticket.id), heads);
}

#[test]
fn a_field_over_its_length_limit_is_refused() {
    let (cast, mut desk, _) = setup();
    let mut ticket =
        Ticket::new(DocId::from_u128(0x1009), cast.engineer, T0, "D-1".into(), "x".repeat(5_000), DocId::from_u128(1));
    ticket.category = "hardware fault".into();
    let mut doc = new_document(&Document::Ticket(ticket.clone()), automerge::ActorId::from([7; 16])).unwrap();
    assert_invalid(&push(&mut desk, &cast, ticket.id, DocKind::Ticket, doc.save_after(&[])), "title");
    assert!(desk.document(ticket.id).is_none());
}

#[test]
fn garbage_and_oversized_requests_get_an_error_reply_and_change_nothing() {
    let (cast, mut desk, ticket) = setup();
    let (heads, latest) = (desk.heads(ticket.id), desk.latest());
    for bytes in [b"GET / HTTP/1.1\r\n\r\n".to_vec(), vec![0; 3], vec![0x42; 9 * 1024 * 1024]] {
        let reply = desk.handle(Timestamp(0), &cast.engineer, &bytes);
        match ServerMessage::decode(&reply, &WireLimits::default()).unwrap() {
            ServerMessage::Error(report) => {
                assert_eq!(report.code, ErrorCode::BadRequest);
                assert!(!report.message.is_empty(), "the error must say what was wrong");
            }
            other => panic!("expected an error reply, got {other:?}"),
        }
    }
    assert_eq!((desk.heads(ticket.id), desk.latest()), (heads, latest));
    let _ = Cursor(0);
}
