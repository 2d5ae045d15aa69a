//! `GET /v1/tickets/{id}/report`: the desk checks a ticket against the
//! report its customer signed, for the people who may read the ticket, and
//! says what a device's malformed report data is instead of failing.

mod support;

use outpost_report::{Lang, ServiceReport, Sources};
use outpost_sync::ids::{ContentHash, EntryId};
use outpost_sync::model::{Attachment, Document, Role, Ticket};
use sha2::{Digest, Sha256};
use support::*;

fn report_of(ticket: &Ticket) -> ServiceReport {
    ServiceReport::build(&Sources {
        ticket,
        client: None,
        site: None,
        equipment: &[],
        template: None,
        parts: &[],
        directories: &[],
        lang: Lang::En,
    })
}

fn attachment(bytes: &[u8], by: outpost_sync::model::Actor, n: u128) -> Attachment {
    Attachment {
        id: EntryId::from_u128(900 + n),
        hash: ContentHash(hex::encode(Sha256::digest(bytes))),
        thumbnail: None,
        name: format!("report-{n}.json"),
        mime: outpost_report::DATA_MIME.into(),
        size: bytes.len() as u64,
        at: T0,
        by,
    }
}

async fn the_desk_checks_a_ticket_against_its_signed_report(desk: Desk) {
    let dispatcher = desk.user(desk.service, Role::Dispatcher).await;
    let token = desk.api_token(dispatcher.user).await;
    let partner = desk.user(desk.partner, Role::PartnerEngineer).await;
    let ticket = partner_ticket(11, dispatcher, partner, desk.partner);
    let path = format!("/v1/tickets/{}/report", ticket.id);

    // No report yet.
    desk.create(&Document::Ticket(ticket.clone())).await;
    let (status, body) = desk.get_json(&path, &token).await;
    assert_eq!(status, 404, "{body}");
    assert!(body["message"].as_str().unwrap().contains("no service report"), "{body}");

    // A report attached by the engineer, its data not uploaded yet; then uploaded.
    let mut signed = ticket.clone();
    let signed_id = outpost_sync::ids::DocId::from_u128(0x5161);
    signed.id = signed_id;
    signed.number = "T-2026-000099".into();
    let data = report_of(&signed).data();
    signed.attachments.push(attachment(&data, partner, 1));
    desk.create(&Document::Ticket(signed.clone())).await;
    let path = format!("/v1/tickets/{signed_id}/report");
    let (status, check) = desk.get_json(&path, &token).await;
    assert_eq!((status, check["received"].as_bool()), (200, Some(false)), "{check}");
    let device = desk.pair(&partner, 1).await;
    let hash = &signed.attachments.last().unwrap().hash.0;
    let up = desk
        .http
        .put(desk.url(&format!("/v1/blobs/{hash}?offset=0&last=true")))
        .bearer_auth(&device.paired.token)
        .body(data.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(up.status(), 200);
    let (status, check) = desk.get_json(&path, &token).await;
    assert_eq!(status, 200, "{check}");
    assert_eq!((check["received"].as_bool(), check["matches"].as_bool()), (Some(true), Some(true)), "{check}");
    assert_eq!(check["data_hash"], hash.as_str());
    assert_eq!(check["changes"], serde_json::json!([]));

    // Who may read the ticket may check it; nobody else learns it exists.
    let partner_dispatcher = desk.user(desk.partner, Role::PartnerDispatcher).await;
    assert_eq!(desk.get_json(&path, &desk.api_token(partner_dispatcher.user).await).await.0, 200);
    let rival_dispatcher = desk.user(desk.other_partner, Role::PartnerDispatcher).await;
    assert_eq!(desk.get_json(&path, &desk.api_token(rival_dispatcher.user).await).await.0, 404);
    assert_eq!(desk.get_json(&path, &desk.api_token(partner.user).await).await.0, 403, "field people sync instead");
    assert_eq!(desk.get_json("/v1/tickets/not-an-id/report", &token).await.0, 400);
    assert_eq!(desk.get_json(&path, "").await.0, 401);

    // A device's report data that does not read as a report: said, not a failure.
    let junk = b"{\"not\": \"a report\"}".to_vec();
    let mut hostile = signed.clone();
    hostile.id = outpost_sync::ids::DocId::from_u128(0x5162);
    hostile.attachments.pop();
    hostile.attachments.push(attachment(&junk, partner, 2));
    desk.create(&Document::Ticket(hostile.clone())).await;
    let junk_hash = &hostile.attachments.last().unwrap().hash.0;
    let up = desk
        .http
        .put(desk.url(&format!("/v1/blobs/{junk_hash}?offset=0&last=true")))
        .bearer_auth(&device.paired.token)
        .body(junk)
        .send()
        .await
        .unwrap();
    assert_eq!(up.status(), 200);
    let (status, check) = desk.get_json(&format!("/v1/tickets/{}/report", hostile.id), &token).await;
    assert_eq!((status, check["matches"].as_bool()), (200, Some(false)), "{check}");
    assert!(check["changes"][0].as_str().unwrap().contains("does not read as a report"), "{check}");
}

on_both_backends!(the_desk_checks_a_ticket_against_its_signed_report);
