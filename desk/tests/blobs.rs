//! Photos and signatures travel as content-addressed blobs: resumable,
//! verified, never uploaded twice, reachable only through their documents.

mod support;

use outpost_sync::ids::{ContentHash, EntryId};
use outpost_sync::model::{Actor, Assignee, Attachment, Document, Role, Signature};
use outpost_sync::sample::{worked_ticket, Cast, Rng};
use serde_json::Value;
use sha2::{Digest, Sha256};
use support::*;

fn photo() -> Vec<u8> {
    (0..300_000u32).map(|n| (n.wrapping_mul(2_654_435_761) >> 24) as u8).collect()
}

async fn put(desk: &Desk, token: &str, hash: &str, offset: usize, bytes: Vec<u8>, last: bool) -> (u16, Value) {
    let reply = desk
        .http
        .put(desk.url(&format!("/v1/blobs/{hash}?offset={offset}&last={last}")))
        .bearer_auth(token)
        .header("content-type", "application/octet-stream")
        .body(bytes)
        .send()
        .await
        .unwrap();
    let status = reply.status().as_u16();
    (status, reply.json().await.unwrap_or(Value::Null))
}

async fn get(desk: &Desk, token: &str, path: &str) -> (u16, Vec<u8>) {
    let reply = desk.http.get(desk.url(path)).bearer_auth(token).send().await.unwrap();
    let status = reply.status().as_u16();
    (status, reply.bytes().await.unwrap().to_vec())
}

/// A ticket assigned to `engineer` (and, for a partner, their company),
/// whose device names `hash` in an attachment (and, with `signed`, in the
/// customer's signature too) and syncs.
async fn naming(desk: &Desk, engineer: Actor, seed: u64, hash: &str, size: usize, signed: bool) -> Device {
    let dispatcher = desk.user(desk.service, Role::Dispatcher).await;
    let cast = Cast { dispatcher, engineer, ..Cast::default() };
    let mut ticket = worked_ticket(&mut Rng::new(seed), &cast, seed, T0);
    ticket.attachments.clear();
    ticket.signature = None;
    let partner_org = (engineer.role == Role::PartnerEngineer).then_some(engineer.org);
    ticket.transitions[0].assignee = Some(Assignee { engineer: Some(engineer.user), partner_org });
    desk.create(&Document::Ticket(ticket.clone())).await;
    let mut device = desk.pair(&engineer, seed as u8).await;
    device.sync(desk).await;
    device
        .local
        .edit(ticket.id, T0, |d| {
            if let Document::Ticket(t) = d {
                t.attachments.push(Attachment {
                    id: EntryId::from_u128(1),
                    hash: ContentHash(hash.to_owned()),
                    thumbnail: None,
                    name: "panel.jpg".into(),
                    mime: "image/jpeg".into(),
                    size: size as u64,
                    at: T0,
                    by: engineer,
                });
                if signed {
                    t.signature = Some(Signature {
                        signer_name: "Signer".into(),
                        at: T0,
                        attachment: ContentHash(hash.to_owned()),
                        by: engineer,
                    });
                }
            }
        })
        .unwrap();
    device.sync(desk).await;
    let links: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM blob_links WHERE hash = $1 AND author = $2 AND doc_id = $3")
            .bind(hash)
            .bind(engineer.user.to_string())
            .bind(ticket.id.to_string())
            .fetch_one(&desk.db.pool)
            .await
            .unwrap();
    assert_eq!(links, 1, "the desk accepted the entries naming the blob");
    device
}

/// A staff ticket whose engineer's device attaches `bytes` and syncs.
async fn attached(desk: &Desk, bytes: &[u8]) -> (Device, String, Actor) {
    let dispatcher = desk.user(desk.service, Role::Dispatcher).await;
    let engineer = desk.user(desk.service, Role::Engineer).await;
    let hash = hex::encode(Sha256::digest(bytes));
    let device = naming(desk, engineer, 1, &hash, bytes.len(), false).await;
    (device, hash, dispatcher)
}

async fn stored_chunks(desk: &Desk, hash: &str) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM blob_chunks WHERE hash = $1")
        .bind(hash)
        .fetch_one(&desk.db.pool)
        .await
        .unwrap()
}

async fn a_cut_upload_resumes_and_the_desk_serves_the_same_bytes(desk: Desk) {
    let bytes = photo();
    let (device, hash, dispatcher) = attached(&desk, &bytes).await;
    let token = &device.paired.token;
    let (status, reply) = put(&desk, token, &hash, 0, bytes[..100_000].to_vec(), false).await;
    assert_eq!((status, reply["received"].as_i64()), (200, Some(100_000)));
    // The link drops; the device asks where to go on.
    let (_, status_body) = get(&desk, token, &format!("/v1/blobs/{hash}/status")).await;
    let standing: Value = serde_json::from_slice(&status_body).unwrap();
    assert_eq!((standing["received"].as_i64(), standing["complete"].as_bool()), (Some(100_000), Some(false)));
    assert_eq!(put(&desk, token, &hash, 100_000, bytes[100_000..200_000].to_vec(), false).await.0, 200);
    let (status, reply) = put(&desk, token, &hash, 200_000, bytes[200_000..].to_vec(), true).await;
    assert_eq!((status, reply["complete"].as_bool()), (200, Some(true)));

    let desk_token = desk.api_token(dispatcher.user).await;
    let (status, served) = get(&desk, &desk_token, &format!("/v1/blobs/{hash}")).await;
    assert_eq!(status, 200);
    assert_eq!(served, bytes, "the desk serves exactly what was uploaded");

    let chunks = stored_chunks(&desk, &hash).await;
    let (status, reply) = put(&desk, token, &hash, 0, bytes.clone(), true).await;
    assert_eq!((status, reply["complete"].as_bool()), (200, Some(true)), "a stored blob is not uploaded again");
    assert_eq!(stored_chunks(&desk, &hash).await, chunks);
}

async fn wrong_offsets_and_wrong_bytes_are_refused(desk: Desk) {
    let bytes = photo();
    let (device, hash, _) = attached(&desk, &bytes).await;
    let token = &device.paired.token;
    assert_eq!(put(&desk, token, &hash, 5, bytes[..10].to_vec(), false).await.0, 409, "a gap is refused");
    let mut forged = bytes.clone();
    forged[7] ^= 1;
    let (status, reply) = put(&desk, token, &hash, 0, forged, true).await;
    assert_eq!(status, 400);
    assert!(reply["message"].as_str().unwrap().contains("hash"), "{reply}");
    let (_, body) = get(&desk, token, &format!("/v1/blobs/{hash}/status")).await;
    let standing: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(standing["received"].as_i64(), Some(0), "the bad bytes are discarded");
    assert_eq!(get(&desk, token, &format!("/v1/blobs/{hash}")).await.0, 409, "nothing to download yet");
    // The desk answers 413 without reading the body, so the client may instead see the
    // connection closed while it was still writing: either way the chunk is refused.
    let oversized = desk
        .http
        .put(desk.url(&format!("/v1/blobs/{hash}?offset=0&last=false")))
        .bearer_auth(token)
        .header("content-type", "application/octet-stream")
        .body(vec![0; 2 * 1024 * 1024])
        .send()
        .await;
    assert!(oversized.map_or(true, |r| r.status() == 413), "chunks are bounded");
    assert_eq!(put(&desk, token, &hash, 0, vec![], false).await.1["received"], 0, "and nothing of it was kept");
    assert_eq!(put(&desk, token, "not-a-hash", 0, vec![1], false).await.0, 400);
}

async fn other_companies_and_strangers_cannot_reach_a_blob(desk: Desk) {
    let bytes = photo();
    let (device, hash, _) = attached(&desk, &bytes).await;
    assert_eq!(put(&desk, &device.paired.token, &hash, 0, bytes.clone(), true).await.0, 200);
    let partner = desk.user(desk.partner, Role::PartnerEngineer).await;
    let partner_device = desk.pair(&partner, 2).await;
    let token = &partner_device.paired.token;
    assert_eq!(get(&desk, token, &format!("/v1/blobs/{hash}")).await.0, 404, "a partner cannot read a staff photo");
    assert_eq!(get(&desk, token, &format!("/v1/blobs/{hash}/status")).await.0, 404);
    assert_eq!(put(&desk, token, &hash, 0, vec![1], false).await.0, 404);
    assert_eq!(get(&desk, "wrong", &format!("/v1/blobs/{hash}")).await.0, 401);
    let unreferenced = hex::encode(Sha256::digest(b"nobody points here"));
    assert_eq!(put(&desk, &device.paired.token, &unreferenced, 0, b"nobody points here".to_vec(), true).await.0, 404);
}

/// Naming another company's hash, in an attachment or a signature, reaches
/// nothing; uploading the bytes proves holding them, and then the partner's
/// own documents serve them to its own people, with nothing stored twice.
async fn naming_a_hash_proves_nothing(desk: Desk) {
    let bytes = photo();
    let (staff_device, hash, _) = attached(&desk, &bytes).await;
    assert_eq!(put(&desk, &staff_device.paired.token, &hash, 0, bytes.clone(), true).await.0, 200);
    let chunks = stored_chunks(&desk, &hash).await;

    let partner = desk.user(desk.partner, Role::PartnerEngineer).await;
    let attacker = naming(&desk, partner, 2, &hash, bytes.len(), true).await;
    let token = &attacker.paired.token;
    assert_eq!(
        get(&desk, token, &format!("/v1/blobs/{hash}")).await.0,
        409,
        "the photo is not served: nobody who holds it named it there"
    );
    let (status, body) = get(&desk, token, &format!("/v1/blobs/{hash}/status")).await;
    assert_eq!(status, 200, "whoever names a blob may upload it");
    let standing: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!((standing["received"].as_i64(), standing["complete"].as_bool()), (Some(0), Some(false)));
    let colleague = desk.user(desk.partner, Role::PartnerEngineer).await;
    let colleague_device = desk.pair(&colleague, 3).await;
    let colleague_token = &colleague_device.paired.token;
    assert_eq!(get(&desk, colleague_token, &format!("/v1/blobs/{hash}")).await.0, 409, "nor to its colleagues");

    // Guessing does not help: wrong bytes are refused and change nothing.
    let mut guess = bytes.clone();
    guess[0] ^= 1;
    assert_eq!(put(&desk, token, &hash, 0, guess, true).await.0, 400);
    assert_eq!(get(&desk, token, &format!("/v1/blobs/{hash}")).await.0, 409);
    assert_eq!(
        get(&desk, &staff_device.paired.token, &format!("/v1/blobs/{hash}")).await.1,
        bytes,
        "the stored blob is intact"
    );

    // Someone who really holds the file proves it by uploading it.
    let (status, reply) = put(&desk, token, &hash, 0, bytes[..150_000].to_vec(), false).await;
    assert_eq!((status, reply["complete"].as_bool()), (200, Some(false)));
    let (status, reply) = put(&desk, token, &hash, 150_000, bytes[150_000..].to_vec(), true).await;
    assert_eq!((status, reply["complete"].as_bool()), (200, Some(true)));
    assert_eq!(get(&desk, token, &format!("/v1/blobs/{hash}")).await.1, bytes);
    assert_eq!(
        get(&desk, colleague_token, &format!("/v1/blobs/{hash}")).await.1,
        bytes,
        "through the partner's ticket"
    );
    assert_eq!(stored_chunks(&desk, &hash).await, chunks, "the desk kept one copy");
}

/// Two uploads of a new blob do not mix: a stranger's bytes cannot spoil an
/// engineer's upload in progress.
async fn uploads_in_progress_are_apart(desk: Desk) {
    let bytes = photo();
    let (device, hash, _) = attached(&desk, &bytes).await;
    let token = &device.paired.token;
    assert_eq!(put(&desk, token, &hash, 0, bytes[..100_000].to_vec(), false).await.0, 200);
    let partner = desk.user(desk.partner, Role::PartnerEngineer).await;
    let stranger = naming(&desk, partner, 2, &hash, bytes.len(), false).await;
    let (status, reply) = put(&desk, &stranger.paired.token, &hash, 0, vec![0; 10], true).await;
    assert_eq!(status, 400, "{reply}");
    let (status, reply) = put(&desk, token, &hash, 100_000, bytes[100_000..].to_vec(), true).await;
    assert_eq!((status, reply["complete"].as_bool()), (200, Some(true)), "{reply}");
    assert_eq!(get(&desk, token, &format!("/v1/blobs/{hash}")).await.1, bytes);
}

on_both_backends!(
    naming_a_hash_proves_nothing,
    uploads_in_progress_are_apart,
    a_cut_upload_resumes_and_the_desk_serves_the_same_bytes,
    wrong_offsets_and_wrong_bytes_are_refused,
    other_companies_and_strangers_cannot_reach_a_blob,
);
