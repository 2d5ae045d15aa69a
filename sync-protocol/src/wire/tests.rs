//! Round trips and hostile input for the wire format.

use proptest::prelude::*;

use super::*;

fn request() -> SyncRequest {
    SyncRequest {
        round: RoundId(7),
        cursor: Cursor(42),
        page_size: 100,
        pushes: vec![DocPush {
            doc: DocId::from_u128(1),
            kind: DocKind::Ticket,
            heads: vec![Head([3; 32])],
            changes: vec![0x85; 2_000],
        }],
        known: vec![KnownHeads { doc: DocId::from_u128(2), heads: vec![Head([4; 32])] }],
        refetch: vec![DocId::from_u128(3)],
    }
}

fn response() -> SyncResponse {
    SyncResponse {
        round: RoundId(7),
        outcomes: vec![PushOutcome {
            doc: DocId::from_u128(1),
            result: PushResult::Applied {
                seq: Some(9),
                refused: vec![RefusalReport { field: "sla".into(), entry: None, reason: "only the desk".into() }],
            },
        }],
        updates: vec![DocUpdate {
            doc: DocId::from_u128(2),
            kind: DocKind::Equipment,
            seq: 9,
            heads: vec![Head([5; 32])],
            changes: vec![1, 2, 3],
        }],
        cursor: Cursor(9),
        more: false,
        cursor_reset: false,
        withdrawn: vec![DocId::from_u128(8)],
    }
}

fn limits() -> WireLimits {
    WireLimits::default()
}

#[test]
fn a_request_survives_encoding_and_decoding() {
    let message = ClientMessage::Sync(request());
    assert_eq!(ClientMessage::decode(&message.encode(), &limits()).unwrap(), message);
}

#[test]
fn every_server_message_survives_encoding_and_decoding() {
    for message in [
        ServerMessage::Sync(response()),
        ServerMessage::Wipe,
        ServerMessage::Error(ErrorReport { code: ErrorCode::Unauthorized, message: "token revoked".into() }),
    ] {
        assert_eq!(ServerMessage::decode(&message.encode(), &limits()).unwrap(), message);
    }
}

#[test]
fn a_large_body_travels_compressed() {
    let bytes = ClientMessage::Sync(request()).encode();
    assert_eq!(bytes[6], FLAG_ZSTD, "a 2 KB repetitive body should be compressed");
    assert!(bytes.len() < 500, "compression should shrink it, got {} bytes", bytes.len());
}

#[test]
fn every_truncation_of_a_message_is_refused_with_an_error() {
    let bytes = ClientMessage::Sync(request()).encode();
    for len in 0..bytes.len() {
        assert!(ClientMessage::decode(&bytes[..len], &limits()).is_err(), "a {len}-byte prefix must not decode");
    }
}

#[test]
fn bad_magic_unknown_version_type_and_flags_are_named() {
    let good = ClientMessage::Sync(request()).encode();
    let with = |at: usize, value: u8| {
        let mut bytes = good.clone();
        bytes[at] = value;
        ClientMessage::decode(&bytes, &limits()).unwrap_err()
    };
    assert_eq!(with(0, b'X'), WireError::BadMagic);
    assert_eq!(with(4, 1), WireError::UnsupportedVersion(1), "a device from before withdrawals is told");
    assert_eq!(with(4, 3), WireError::UnsupportedVersion(3));
    assert_eq!(with(5, 99), WireError::UnknownType(99));
    assert_eq!(with(5, TYPE_SYNC_RESPONSE), WireError::UnexpectedType(TYPE_SYNC_RESPONSE));
    assert!(matches!(with(6, 0x80), WireError::UnknownFlags(_)));
    assert!(matches!(with(7, 1), WireError::UnknownFlags(_)));
}

#[test]
fn a_body_length_that_disagrees_with_the_header_is_refused() {
    let mut bytes = ClientMessage::Sync(request()).encode();
    bytes.push(0);
    assert!(matches!(ClientMessage::decode(&bytes, &limits()), Err(WireError::LengthMismatch { .. })));
}

#[test]
fn an_oversized_message_is_refused_before_it_is_read() {
    let small = WireLimits { max_message: 16, ..limits() };
    let bytes = ClientMessage::Sync(request()).encode();
    assert!(matches!(ClientMessage::decode(&bytes, &small), Err(WireError::TooLarge { what: "message", .. })));
}

#[test]
fn a_compression_bomb_stops_at_the_body_limit() {
    let body = vec![0u8; 10 * 1024 * 1024];
    let bomb = zstd::bulk::compress(&body, 19).unwrap();
    let mut bytes = Vec::new();
    bytes.extend_from_slice(&MAGIC);
    bytes.extend_from_slice(&[PROTOCOL_VERSION, TYPE_SYNC_REQUEST, FLAG_ZSTD, 0]);
    bytes.extend_from_slice(&(bomb.len() as u32).to_le_bytes());
    bytes.extend_from_slice(&bomb);
    let tight = WireLimits { max_body: 1024 * 1024, ..limits() };
    assert!(matches!(
        ClientMessage::decode(&bytes, &tight),
        Err(WireError::TooLarge { what: "decompressed body", .. })
    ));
}

#[test]
fn a_request_over_its_count_limits_is_refused() {
    let mut many = request();
    many.known = (0..10).map(|n| KnownHeads { doc: DocId::from_u128(n), heads: vec![] }).collect();
    let tight = WireLimits { max_documents: 5, ..limits() };
    let err = ClientMessage::decode(&ClientMessage::Sync(many).encode(), &tight).unwrap_err();
    assert_eq!(err, WireError::OverLimit { what: "known-heads entries", count: 10, limit: 5 });
}

#[test]
fn a_request_pushing_one_document_twice_is_refused() {
    let mut twice = request();
    twice.pushes.push(twice.pushes[0].clone());
    let err = ClientMessage::decode(&ClientMessage::Sync(twice).encode(), &limits()).unwrap_err();
    assert!(matches!(err, WireError::Invalid(_)));
}

#[test]
fn a_response_whose_update_lies_past_its_cursor_is_refused() {
    let mut bad = response();
    bad.cursor = Cursor(1);
    assert!(ServerMessage::decode(&ServerMessage::Sync(bad).encode(), &limits()).is_err());
}

#[test]
fn a_wipe_with_a_body_is_refused() {
    let mut bytes = frame(TYPE_WIPE, &[1, 2, 3]);
    assert!(ServerMessage::decode(&bytes, &limits()).is_err());
    bytes = frame(TYPE_WIPE, &[]);
    assert_eq!(ServerMessage::decode(&bytes, &limits()).unwrap(), ServerMessage::Wipe);
}

#[test]
fn trailing_bytes_after_the_body_are_refused() {
    let mut body = to_body(&request());
    body.extend_from_slice(&[0, 0]);
    let bytes = frame(TYPE_SYNC_REQUEST, &body);
    assert!(matches!(ClientMessage::decode(&bytes, &limits()), Err(WireError::Body(_))));
}

proptest! {
    #[test]
    fn random_bytes_never_panic_the_decoder(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = ClientMessage::decode(&bytes, &limits());
        let _ = ServerMessage::decode(&bytes, &limits());
    }

    #[test]
    fn random_bodies_behind_a_valid_header_never_panic(body in proptest::collection::vec(any::<u8>(), 0..512), compressed in any::<bool>()) {
        let mut bytes = Vec::new();
        bytes.extend_from_slice(&MAGIC);
        bytes.extend_from_slice(&[PROTOCOL_VERSION, TYPE_SYNC_REQUEST, if compressed { FLAG_ZSTD } else { 0 }, 0]);
        bytes.extend_from_slice(&(body.len() as u32).to_le_bytes());
        bytes.extend_from_slice(&body);
        let _ = ClientMessage::decode(&bytes, &limits());
    }

    #[test]
    fn flipping_any_byte_of_a_valid_message_never_panics(at in 0usize..4096, value in any::<u8>()) {
        for mut bytes in [ClientMessage::Sync(request()).encode(), ServerMessage::Sync(response()).encode()] {
            let at = at % bytes.len();
            bytes[at] = value;
            let _ = ClientMessage::decode(&bytes, &limits());
            let _ = ServerMessage::decode(&bytes, &limits());
        }
    }
}
