//! Hand-off files as an attacker would use them: keys swapped, files signed
//! by another device, hand-built changes to another company's ticket and
//! files named after another company's photo, carried in a partner
//! device's own signed outbox. The file carries rounds, not rights: each is
//! refused exactly as online, and audited.

mod support;

use automerge::{ActorId, AutoCommit};
use outpost_desk::handoff::{self, HandoffFailure};
use outpost_sync::handoff::{public_key_hex, seal, Handoff, HandoffBlob, HandoffError, Outbox};
use outpost_sync::ids::{ContentHash, DocId, EntryId, Timestamp};
use outpost_sync::limits::WireLimits;
use outpost_sync::model::{Assignee, Attachment, DocKind, Document, Role, Ticket, WorkLogEntry};
use outpost_sync::sample::{worked_ticket, Cast, Rng};
use outpost_sync::session::ServerConfig;
use outpost_sync::wire::{to_heads, ClientMessage, Cursor, DocPush, RoundId, ServerMessage, SyncRequest};
use serde_json::json;
use sha2::{Digest, Sha256};
use support::*;

/// Pairs a device for `actor` over HTTP, giving the public key of `seed`; its id, token and the desk's key.
async fn pair_with_key(
    desk: &Desk,
    actor: &outpost_sync::model::Actor,
    seed: [u8; 32],
) -> (uuid::Uuid, String, String) {
    let code = outpost_desk::accounts::issue_pairing_code(&desk.db.pool, actor.user, outpost_desk::now(), 60_000)
        .await
        .unwrap();
    let body = json!({ "code": code, "device_name": "tablet", "public_key": public_key_hex(&seed) });
    let (status, reply) = desk.post_json("/v1/devices/pair", "", body).await;
    assert_eq!(status, 200, "{reply}");
    let id = reply["device_id"].as_str().unwrap().parse().unwrap();
    (id, reply["token"].as_str().unwrap().to_owned(), reply["desk_key"].as_str().unwrap().to_owned())
}

async fn device_keys_are_given_at_pairing_or_exchanged_once(desk: Desk) {
    let engineer = desk.user(desk.partner, Role::PartnerEngineer).await;
    let code = outpost_desk::accounts::issue_pairing_code(&desk.db.pool, engineer.user, outpost_desk::now(), 60_000)
        .await
        .unwrap();
    for bad in ["", "not hex", "00", &"ab".repeat(33)] {
        let body = json!({ "code": code, "device_name": "tablet", "public_key": bad });
        let (status, reply) = desk.post_json("/v1/devices/pair", "", body).await;
        assert_eq!(status, 400, "{bad:?}: {reply}");
        assert!(reply["message"].as_str().unwrap().contains("public_key"), "{reply}");
    }
    let body = json!({ "code": code, "device_name": "tablet", "public_key": public_key_hex(&[1; 32]) });
    let (status, reply) = desk.post_json("/v1/devices/pair", "", body).await;
    assert_eq!(status, 200, "a bad key spent nothing: the code still pairs: {reply}");
    let desk_key = reply["desk_key"].as_str().unwrap().to_owned();
    outpost_sync::handoff::parse_public_key(&desk_key).expect("the desk's key is a key");
    assert_eq!(desk_key, handoff::desk_public_key(&desk.db, outpost_desk::now()).await.unwrap(), "one desk key");

    // A device paired before hand-off files gives its key once, with its own token.
    let device = desk.pair(&engineer, 2).await;
    let token = device.paired.token.as_str();
    let key = |seed: u8| json!({ "public_key": public_key_hex(&[seed; 32]) });
    assert_eq!(desk.post_json("/v1/devices/key", "", key(2)).await.0, 401);
    let person = desk.api_token(engineer.user).await;
    assert_eq!(desk.post_json("/v1/devices/key", &person, key(2)).await.0, 401, "a person's token is no device's");
    assert_eq!(desk.post_json("/v1/devices/key", token, json!({ "public_key": "zz" })).await.0, 400);
    assert_eq!(desk.post_json("/v1/devices/key", token, json!({ "key": "zz" })).await.0, 422);
    let (status, reply) = desk.post_json("/v1/devices/key", token, key(2)).await;
    assert_eq!((status, reply["desk_key"].as_str()), (200, Some(desk_key.as_str())));
    assert_eq!(desk.post_json("/v1/devices/key", token, key(2)).await.0, 200, "the same key again is no change");
    let (status, reply) = desk.post_json("/v1/devices/key", token, key(3)).await;
    assert_eq!(status, 409, "a stolen token cannot swap in the thief's key: {reply}");
    // Nor can a device paired with a key have it replaced.
    let (_, paired_token, _) = pair_with_key(&desk, &engineer, [4; 32]).await;
    assert_eq!(desk.post_json("/v1/devices/key", &paired_token, key(5)).await.0, 409);
}

async fn a_partner_devices_outbox_reaches_nothing_of_another_company(desk: Desk) {
    let config = ServerConfig::new(outpost_desk::desk_actor());
    let dispatcher = desk.user(desk.service, Role::Dispatcher).await;
    let partner = desk.user(desk.partner, Role::PartnerEngineer).await;
    let rival = desk.user(desk.other_partner, Role::PartnerEngineer).await;
    let ours = partner_ticket(1, dispatcher, partner, desk.partner);
    let photo = b"the rival's photo".to_vec();
    let photo_hash = hex::encode(Sha256::digest(&photo));
    let mut theirs = worked_ticket(&mut Rng::new(2), &Cast { dispatcher, engineer: rival, ..Cast::default() }, 2, T0);
    theirs.transitions[0].assignee = Some(Assignee { engineer: None, partner_org: Some(desk.other_partner) });
    theirs.attachments = vec![Attachment {
        id: EntryId::from_u128(1),
        hash: ContentHash(photo_hash.clone()),
        thumbnail: None,
        name: "p.jpg".into(),
        mime: "image/jpeg".into(),
        size: photo.len() as u64,
        at: T0,
        by: rival,
    }];
    desk.create(&Document::Ticket(ours.clone())).await;
    desk.create(&Document::Ticket(theirs.clone())).await;
    let (partner_device, _, _) = pair_with_key(&desk, &partner, [5; 32]).await;
    pair_with_key(&desk, &rival, [6; 32]).await;

    // The partner's outbox, signed with its own key: an honest note on its
    // ticket, a hand-built change to the rival's ticket, and the rival's
    // photo's name on bytes of its own.
    let mut ours_doc = fork_of_desk(&desk, ours.id, 0x51).await;
    let ours_before = ours_doc.get_heads();
    let mut edited = ticket_in(&ours_doc, ours.id);
    edited.work_log.push(WorkLogEntry {
        id: EntryId::from_u128(500),
        at: Timestamp(T0.0 + 60_000),
        by: partner,
        text: "carried on a stick".into(),
    });
    Document::Ticket(edited).reconcile_into(&mut ours_doc).unwrap();
    let mut theirs_doc = fork_of_desk(&desk, theirs.id, 0x51).await;
    let theirs_before = theirs_doc.get_heads();
    let mut stolen = ticket_in(&theirs_doc, theirs.id);
    stolen.title = "taken over".into();
    Document::Ticket(stolen).reconcile_into(&mut theirs_doc).unwrap();
    let request = SyncRequest {
        round: RoundId(1),
        cursor: Cursor(0),
        page_size: 1,
        pushes: vec![
            DocPush {
                doc: ours.id,
                kind: DocKind::Ticket,
                heads: to_heads(&ours_doc.get_heads()),
                changes: ours_doc.save_after(&ours_before),
            },
            DocPush {
                doc: theirs.id,
                kind: DocKind::Ticket,
                heads: to_heads(&theirs_doc.get_heads()),
                changes: theirs_doc.save_after(&theirs_before),
            },
        ],
        known: vec![],
        refetch: vec![theirs.id],
    };
    let outbox = |sequence: u64, device: uuid::Uuid| Outbox {
        device,
        sequence,
        made_at: T0,
        clock_offset_ms: None,
        rounds: vec![outpost_sync::handoff::ByteBuf::from(ClientMessage::Sync(request.clone()).encode())],
        blobs: vec![
            HandoffBlob { hash: photo_hash.clone(), bytes: b"not the rival's photo".to_vec() },
            HandoffBlob { hash: "zz".into(), bytes: vec![1] },
        ],
    };

    // Signed by the rival's key in the partner's name: refused before anything runs.
    let forged = seal(&Handoff::Outbox(outbox(1, partner_device)), &[6; 32]);
    let err = handoff::import(&desk.db, &config, &forged, outpost_desk::now()).await.unwrap_err();
    assert!(matches!(err, HandoffFailure::File(HandoffError::BadSignature)), "{err}");
    assert_eq!(desk.document(ours.id).await, Some(Document::Ticket(ours.clone())), "nothing ran");

    let file = seal(&Handoff::Outbox(outbox(1, partner_device)), &[5; 32]);
    let imported = handoff::import(&desk.db, &config, &file, outpost_desk::now()).await.unwrap();
    assert_eq!(imported.documents, 1, "the partner's own ticket is taken: {imported:?}");
    assert_eq!(imported.refused_documents.len(), 1, "the rival's is refused whole: {imported:?}");
    assert!(imported.refused_documents[0].starts_with(&theirs.id.to_string()), "{imported:?}");
    assert_eq!((imported.files_stored, imported.files_left), (0, 2), "no photo by another's name: {imported:?}");
    assert_eq!(
        desk.document(theirs.id).await,
        Some(Document::Ticket(theirs.clone())),
        "the rival's ticket is as it was"
    );
    let Some(Document::Ticket(taken)) = desk.document(ours.id).await else { panic!("our ticket stays") };
    assert!(taken.work_log.iter().any(|n| n.text == "carried on a stick"));
    let download = desk
        .http
        .get(desk.url(&format!("/v1/blobs/{photo_hash}")))
        .bearer_auth(desk.api_token(dispatcher.user).await)
        .send()
        .await
        .unwrap();
    assert_ne!(download.status(), 200, "the fake bytes were not stored as the rival's photo");
    let actions: Vec<(String,)> =
        sqlx::query_as("SELECT action FROM audit_log ORDER BY id").fetch_all(&desk.db.pool).await.unwrap();
    let actions: Vec<&str> = actions.iter().map(|(a,)| a.as_str()).collect();
    for expected in ["refused_handoff", "refused_document", "handoff_imported"] {
        assert!(actions.contains(&expected), "{expected} audited: {actions:?}");
    }

    // The desk's file for the partner's device carries nothing of the rival's, from the very start.
    let (bytes, exported) =
        handoff::export(&desk.db, &config, partner_device, Some(0), outpost_desk::now()).await.unwrap();
    assert!(exported.documents >= 1, "{exported:?}");
    let desk_key =
        outpost_sync::handoff::parse_public_key(&handoff::desk_public_key(&desk.db, T0).await.unwrap()).unwrap();
    let limits = outpost_sync::handoff::HandoffLimits::default();
    let unverified =
        outpost_sync::handoff::Unverified::read(&bytes, outpost_sync::handoff::Direction::Feed, &limits).unwrap();
    let Handoff::Feed(feed) = unverified.verify(&desk_key).unwrap() else { panic!("a feed") };
    let mut carried = Vec::new();
    for page in &feed.pages {
        let ServerMessage::Sync(response) = ServerMessage::decode(page, &WireLimits::default()).unwrap() else {
            panic!("pages are sync answers")
        };
        carried.extend(response.updates.iter().map(|u| u.doc));
    }
    assert!(carried.contains(&ours.id), "{carried:?}");
    assert!(!carried.contains(&theirs.id), "no rival document travels: {carried:?}");
    assert!(!feed.held.contains(&photo_hash), "nor is the rival's photo said to be held");
}

/// `outpost-desk` run as an operator would, against the test's database.
async fn desk_command(desk: &Desk, args: &[&str]) -> std::process::Output {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_outpost-desk"));
    command.args(["--database-url", &desk.db.url]).args(args).env("RUST_LOG", "warn");
    tokio::task::spawn_blocking(move || command.output().expect("the desk binary runs")).await.unwrap()
}

fn text(output: &std::process::Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr))
}

async fn the_desk_commands_take_and_write_files_and_refuse_bad_ones(desk: Desk) {
    let dispatcher = desk.user(desk.service, Role::Dispatcher).await;
    let partner = desk.user(desk.partner, Role::PartnerEngineer).await;
    let ours = partner_ticket(3, dispatcher, partner, desk.partner);
    desk.create(&Document::Ticket(ours.clone())).await;
    let (device, _, _) = pair_with_key(&desk, &partner, [7; 32]).await;
    let mut doc = fork_of_desk(&desk, ours.id, 0x71).await;
    let before = doc.get_heads();
    let mut edited = ticket_in(&doc, ours.id);
    edited.work_log.push(WorkLogEntry { id: EntryId::from_u128(700), at: T0, by: partner, text: "by hand".into() });
    Document::Ticket(edited).reconcile_into(&mut doc).unwrap();
    let push = DocPush {
        doc: ours.id,
        kind: DocKind::Ticket,
        heads: to_heads(&doc.get_heads()),
        changes: doc.save_after(&before),
    };
    let request = SyncRequest {
        round: RoundId(1),
        cursor: Cursor(0),
        page_size: 1,
        pushes: vec![push],
        known: vec![],
        refetch: vec![],
    };
    let outbox = Outbox {
        device,
        sequence: 1,
        made_at: T0,
        clock_offset_ms: None,
        rounds: vec![outpost_sync::handoff::ByteBuf::from(ClientMessage::Sync(request).encode())],
        blobs: vec![],
    };
    let files = tempfile::tempdir().unwrap();
    let file = files.path().join("outbox.outpost");
    std::fs::write(&file, seal(&Handoff::Outbox(outbox), &[7; 32])).unwrap();
    let path = file.to_str().unwrap();

    let taken = desk_command(&desk, &["import", path]).await;
    assert!(taken.status.success(), "{}", text(&taken));
    assert!(
        text(&taken).contains("outbox 1 of device") && text(&taken).contains("1 document(s) taken"),
        "{}",
        text(&taken)
    );
    let Some(Document::Ticket(at_desk)) = desk.document(ours.id).await else { panic!("the ticket stays") };
    assert!(at_desk.work_log.iter().any(|n| n.text == "by hand"));

    let again = desk_command(&desk, &["import", path]).await;
    assert!(!again.status.success() && text(&again).contains("copy of one already taken"), "{}", text(&again));
    let junk = files.path().join("junk");
    std::fs::write(&junk, b"not a file of ours").unwrap();
    let refused = desk_command(&desk, &["import", junk.to_str().unwrap()]).await;
    assert!(!refused.status.success() && text(&refused).contains("not an Outpost hand-off file"), "{}", text(&refused));
    let missing = desk_command(&desk, &["import", files.path().join("none").to_str().unwrap()]).await;
    assert!(!missing.status.success() && text(&missing).contains("reading"), "{}", text(&missing));

    let answer = files.path().join("answer.outpost");
    let device_id = device.to_string();
    let written = desk_command(&desk, &["export", "--device", &device_id, "--output", answer.to_str().unwrap()]).await;
    assert!(written.status.success(), "{}", text(&written));
    assert!(text(&written).contains("document(s)"), "{}", text(&written));
    let desk_key =
        outpost_sync::handoff::parse_public_key(&handoff::desk_public_key(&desk.db, T0).await.unwrap()).unwrap();
    let bytes = std::fs::read(&answer).unwrap();
    let limits = outpost_sync::handoff::HandoffLimits::default();
    let feed =
        outpost_sync::handoff::Unverified::read(&bytes, outpost_sync::handoff::Direction::Feed, &limits).unwrap();
    assert_eq!(feed.device(), device);
    feed.verify(&desk_key).expect("signed by this desk");
    let stranger = uuid::Uuid::from_u128(9).to_string();
    let unknown = desk_command(&desk, &["export", "--device", &stranger, "--output", answer.to_str().unwrap()]).await;
    assert!(!unknown.status.success() && text(&unknown).contains("not a device of this desk"), "{}", text(&unknown));
    let malformed =
        desk_command(&desk, &["export", "--device", "tablet-7", "--output", answer.to_str().unwrap()]).await;
    assert_eq!(malformed.status.code(), Some(2), "{}", text(&malformed));
}

/// The desk's copy of a document as automerge, forked for a hostile actor.
async fn fork_of_desk(desk: &Desk, id: DocId, actor: u8) -> AutoCommit {
    let mut tx = desk.db.pool.begin().await.unwrap();
    let stored = outpost_desk::store::load(&mut tx, id).await.unwrap().expect("the document is at the desk");
    AutoCommit::load(&stored.bytes).unwrap().with_actor(ActorId::from([actor; 16]))
}

fn ticket_in(doc: &AutoCommit, id: DocId) -> Ticket {
    let Document::Ticket(ticket) = Document::hydrate_as(doc, id, DocKind::Ticket).unwrap() else {
        panic!("{id} is a ticket")
    };
    ticket
}

on_both_backends!(
    the_desk_commands_take_and_write_files_and_refuse_bad_ones,
    device_keys_are_given_at_pairing_or_exchanged_once,
    a_partner_devices_outbox_reaches_nothing_of_another_company
);
