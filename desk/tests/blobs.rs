//! Photos and signatures travel as content-addressed blobs: resumable,
//! verified, never uploaded twice, reachable only through their documents.

mod support;

use outpost_sync::ids::{ContentHash, EntryId};
use outpost_sync::model::{Assignee, Attachment, Document, Role};
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

/// A ticket for `engineer` whose device attaches `bytes` and syncs.
async fn attached(desk: &Desk, bytes: &[u8]) -> (Device, String, outpost_sync::model::Actor) {
    let dispatcher = desk.user(desk.service, Role::Dispatcher).await;
    let engineer = desk.user(desk.service, Role::Engineer).await;
    let cast = Cast { dispatcher, engineer, ..Cast::default() };
    let mut ticket = worked_ticket(&mut Rng::new(8), &cast, 1, T0);
    ticket.attachments.clear();
    ticket.transitions[0].assignee = Some(Assignee { engineer: Some(engineer.user), partner_org: None });
    desk.create(&Document::Ticket(ticket.clone())).await;
    let mut device = desk.pair(&engineer, 1).await;
    device.sync(desk).await;
    let hash = hex::encode(Sha256::digest(bytes));
    device
        .local
        .edit(ticket.id, T0, |d| {
            if let Document::Ticket(t) = d {
                t.attachments.push(Attachment {
                    id: EntryId::from_u128(1),
                    hash: ContentHash(hash.clone()),
                    thumbnail: None,
                    name: "panel.jpg".into(),
                    mime: "image/jpeg".into(),
                    size: bytes.len() as u64,
                    at: T0,
                    by: engineer,
                });
            }
        })
        .unwrap();
    device.sync(desk).await;
    (device, hash, dispatcher)
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

    let (status, reply) = put(&desk, token, &hash, 0, bytes.clone(), true).await;
    assert_eq!((status, reply["complete"].as_bool()), (200, Some(true)), "a stored blob is not uploaded again");
    let (chunks,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM blob_chunks WHERE hash = $1")
        .bind(&hash)
        .fetch_one(&desk.db.pool)
        .await
        .unwrap();
    assert_eq!(chunks, 3);
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

on_both_backends!(
    a_cut_upload_resumes_and_the_desk_serves_the_same_bytes,
    wrong_offsets_and_wrong_bytes_are_refused,
    other_companies_and_strangers_cannot_reach_a_blob,
);
