//! A partner engineer's credentials, API token or device token, reach none
//! of another company's data through any endpoint.

mod support;

use outpost_sync::ids::{ContentHash, DocId, EntryId};
use outpost_sync::limits::WireLimits;
use outpost_sync::model::{Assignee, Attachment, DocKind, Document, PartRequest, Role};
use outpost_sync::sample::{worked_ticket, Cast, Rng};
use outpost_sync::wire::{ClientMessage, Cursor, DocPush, KnownHeads, RoundId, ServerMessage, SyncRequest};
use sha2::{Digest, Sha256};
use support::*;

async fn nothing_of_another_company_is_reachable(desk: Desk) {
    // The rival company's world: a ticket with a photo, a part request, equipment.
    let dispatcher = desk.user(desk.service, Role::Dispatcher).await;
    let rival = desk.user(desk.other_partner, Role::PartnerEngineer).await;
    let cast = Cast { dispatcher, engineer: rival, ..Cast::default() };
    let photo = b"the rival's photo".to_vec();
    let hash = hex::encode(Sha256::digest(&photo));
    let mut ticket = worked_ticket(&mut Rng::new(77), &cast, 1, T0);
    ticket.transitions[0].assignee = Some(Assignee { engineer: None, partner_org: Some(desk.other_partner) });
    ticket.attachments = vec![Attachment {
        id: EntryId::from_u128(1),
        hash: ContentHash(hash.clone()),
        thumbnail: None,
        name: "p.jpg".into(),
        mime: "image/jpeg".into(),
        size: photo.len() as u64,
        at: T0,
        by: rival,
    }];
    let equipment = ticket.equipment[0];
    desk.create(&Document::Ticket(ticket.clone())).await;
    desk.create(&Document::Equipment(outpost_sync::model::Equipment::new(
        equipment,
        "SN-R".into(),
        "M".into(),
        ticket.client,
    )))
    .await;
    let request = PartRequest::new(DocId::from_u128(0xabc), ticket.id, rival, T0, "PN-1".into(), 1);
    desk.create(&Document::PartRequest(request.clone())).await;
    let rival_device = desk.pair(&rival, 9).await;
    let up = desk
        .http
        .put(desk.url(&format!("/v1/blobs/{hash}?offset=0&last=true")))
        .bearer_auth(&rival_device.paired.token)
        .body(photo)
        .send()
        .await
        .unwrap();
    assert_eq!(up.status(), 200, "the rival can store its own photo");

    // Our partner engineer, with an API token and a device.
    let partner = desk.user(desk.partner, Role::PartnerEngineer).await;
    let api_token = desk.api_token(partner.user).await;
    let mut device = desk.pair(&partner, 1).await;
    for token in [api_token.as_str(), device.paired.token.as_str()] {
        for path in [
            "/v1/tickets".to_owned(),
            format!("/v1/tickets/{}", ticket.id),
            "/v1/part-requests".to_owned(),
            "/v1/equipment?serial=SN-R".to_owned(),
            "/v1/devices".to_owned(),
            "/v1/audit".to_owned(),
            format!("/v1/blobs/{hash}"),
            format!("/v1/blobs/{hash}/status"),
        ] {
            let status = desk.http.get(desk.url(&path)).bearer_auth(token).send().await.unwrap().status().as_u16();
            assert!(matches!(status, 401 | 403 | 404), "GET {path} answered {status}");
        }
        for (path, body) in [
            (format!("/v1/tickets/{}/assign", ticket.id), serde_json::json!({ "partner_org": desk.partner })),
            (format!("/v1/part-requests/{}/cancel", request.id), serde_json::json!({})),
            ("/v1/tickets".to_owned(), serde_json::json!({ "title": "x", "client": ticket.client })),
            ("/v1/equipment".to_owned(), serde_json::json!({ "serial": "S", "model": "M", "client": ticket.client })),
            (format!("/v1/devices/{}/revoke", rival_device.paired.id), serde_json::json!({})),
            (format!("/v1/users/{}/pairing-codes", rival.user), serde_json::json!({})),
        ] {
            let status =
                desk.http.post(desk.url(&path)).bearer_auth(token).json(&body).send().await.unwrap().status().as_u16();
            assert!(matches!(status, 401 | 403 | 404), "POST {path} answered {status}");
        }
        let status = desk
            .http
            .put(desk.url(&format!("/v1/blobs/{hash}?offset=0")))
            .bearer_auth(token)
            .body(vec![0])
            .send()
            .await
            .unwrap()
            .status()
            .as_u16();
        assert!(matches!(status, 401 | 403 | 404), "PUT blob answered {status}");
    }

    // Crafted sync: push to, claim to know, and refetch every rival document.
    let foreign = [ticket.id, equipment, request.id];
    let crafted = SyncRequest {
        round: RoundId(1),
        cursor: Cursor(0),
        page_size: 100,
        pushes: foreign
            .iter()
            .map(|id| DocPush { doc: *id, kind: DocKind::Ticket, heads: vec![], changes: vec![] })
            .collect(),
        known: foreign.iter().map(|id| KnownHeads { doc: *id, heads: vec![] }).collect(),
        refetch: foreign.to_vec(),
    };
    let reply = desk.post_sync(&device.paired.token, ClientMessage::Sync(crafted).encode()).await;
    let ServerMessage::Sync(response) =
        ServerMessage::decode(&reply.bytes().await.unwrap(), &WireLimits::default()).unwrap()
    else {
        panic!("a well-formed request gets a sync answer")
    };
    assert!(
        response.updates.is_empty(),
        "no rival document travels: {:?}",
        response.updates.iter().map(|u| u.doc).collect::<Vec<_>>()
    );
    device.sync(&desk).await;
    assert_eq!(device.local.doc_ids().count(), 0, "an honest sync brings nothing of the rival's either");
    assert_eq!(desk.document(ticket.id).await, Some(Document::Ticket(ticket)), "nothing of the rival's changed");
}

on_both_backends!(nothing_of_another_company_is_reachable);
