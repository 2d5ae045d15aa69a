//! A spare part from the engineer's request through the warehouse to the
//! site, and the moves the parts desk may not make.

mod support;

use outpost_sync::ids::{DocId, EntryId};
use outpost_sync::model::{Assignee, Document, PartRequest, PartStatus, PartTransition, Role};
use outpost_sync::sample::{worked_ticket, Cast, Rng};
use outpost_sync::workflow::fold_part_request;
use serde_json::{json, Value};
use support::*;

async fn post(desk: &Desk, token: &str, path: &str, body: Value) -> (u16, Value) {
    desk.post_json(path, token, body).await
}

async fn list(desk: &Desk, token: &str, query: &str) -> Vec<Value> {
    let reply = desk.http.get(desk.url(&format!("/v1/part-requests?{query}"))).bearer_auth(token).send().await.unwrap();
    assert_eq!(reply.status(), 200);
    reply.json::<Vec<Value>>().await.unwrap()
}

fn request_of(device: &Device, id: DocId) -> PartRequest {
    match device.local.document(id) {
        Some(Document::PartRequest(r)) => r,
        other => panic!("expected a part request, got {other:?}"),
    }
}

async fn a_part_goes_from_request_to_installation(desk: Desk) {
    let dispatcher = desk.user(desk.service, Role::Dispatcher).await;
    let engineer = desk.user(desk.service, Role::Engineer).await;
    let parts = desk.user(desk.service, Role::PartsDesk).await;
    let parts_token = desk.api_token(parts.user).await;
    let cast = Cast { dispatcher, engineer, ..Cast::default() };
    let mut ticket = worked_ticket(&mut Rng::new(9), &cast, 1, T0);
    ticket.transitions[0].assignee = Some(Assignee { engineer: Some(engineer.user), partner_org: None });
    desk.create(&Document::Ticket(ticket.clone())).await;
    let mut tablet = desk.pair(&engineer, 1).await;
    tablet.sync(&desk).await;

    // On site: the engineer asks for a drive.
    let id = DocId::from_u128(0x0190_0000_0000_7000_8000_0000_0000_9999);
    let request = PartRequest::new(id, ticket.id, engineer, T0, "HDD-600-SAS".into(), 2);
    tablet.local.create(&Document::PartRequest(request)).unwrap();
    tablet
        .local
        .edit(ticket.id, T0, |d| {
            if let Document::Ticket(t) = d {
                t.part_requests.push(id)
            }
        })
        .unwrap();
    tablet.sync(&desk).await;
    let waiting = list(&desk, &parts_token, "status=requested").await;
    assert_eq!(waiting.len(), 1);
    assert_eq!(waiting[0]["part_number"], "HDD-600-SAS");

    let path = |action: &str| format!("/v1/part-requests/{id}/{action}");
    assert_eq!(
        post(&desk, &parts_token, &path("ship"), json!({ "tracking_number": "X" })).await.0,
        409,
        "not before approval"
    );
    assert_eq!(post(&desk, &parts_token, &path("approve"), json!({})).await.0, 200);
    assert_eq!(post(&desk, &parts_token, &path("pick"), json!({ "warehouse": "Склад Москва-1" })).await.0, 200);
    assert_eq!(post(&desk, &parts_token, &path("ship"), json!({})).await.0, 400, "shipping needs a tracking number");
    let (status, shipped) =
        post(&desk, &parts_token, &path("ship"), json!({ "tracking_number": "CDEK-123456789" })).await;
    assert_eq!((status, shipped["status"].as_str()), (200, Some("shipped")));

    tablet.sync(&desk).await;
    let on_device = request_of(&tablet, id);
    assert_eq!(fold_part_request(&on_device).status, PartStatus::Shipped);
    assert_eq!(on_device.tracking_number.as_deref(), Some("CDEK-123456789"));

    // The part arrives and goes in; the engineer records both serials.
    tablet
        .local
        .edit(id, T0, |d| {
            if let Document::PartRequest(r) = d {
                for (n, (from, to)) in
                    [(PartStatus::Shipped, PartStatus::Delivered), (PartStatus::Delivered, PartStatus::Installed)]
                        .into_iter()
                        .enumerate()
                {
                    r.transitions.push(PartTransition {
                        id: EntryId::from_u128(n as u128 + 1),
                        from,
                        to,
                        at: T0,
                        by: engineer,
                        reason: None,
                    });
                }
                r.installed_serial = Some("NEW-1".into());
                r.removed_serial = Some("OLD-1".into());
            }
        })
        .unwrap();
    tablet.sync(&desk).await;
    let installed = list(&desk, &parts_token, &format!("ticket={}", ticket.id)).await;
    assert_eq!(installed[0]["status"], "installed");
    let (status, _) =
        post(&desk, &parts_token, &path("receive-return"), json!({ "reason": "faulty drive back" })).await;
    assert_eq!(status, 409, "nothing was sent back yet");

    // The engineer sends the faulty part back; the warehouse receives it.
    tablet
        .local
        .edit(id, T0, |d| {
            if let Document::PartRequest(r) = d {
                r.transitions.push(PartTransition {
                    id: EntryId::from_u128(3),
                    from: PartStatus::Installed,
                    to: PartStatus::ReturnSent,
                    at: T0,
                    by: engineer,
                    reason: None,
                });
                r.return_tracking = Some("RET-1".into());
            }
        })
        .unwrap();
    tablet.sync(&desk).await;
    assert_eq!(list(&desk, &parts_token, "status=return_sent").await.len(), 1, "the return is on its way");
    let (status, _) =
        post(&desk, &parts_token, &path("receive-return"), json!({ "reason": "faulty drive back" })).await;
    assert_eq!(status, 200, "the faulty part comes back to the warehouse");
    assert_eq!(list(&desk, &parts_token, "status=returned").await.len(), 1);
}

async fn the_warehouse_api_refuses_bad_moves_and_other_roles(desk: Desk) {
    let engineer = desk.user(desk.service, Role::Engineer).await;
    let parts = desk.user(desk.service, Role::PartsDesk).await;
    let parts_token = desk.api_token(parts.user).await;
    let engineer_token = desk.api_token(engineer.user).await;
    let unknown = DocId::from_u128(42);
    assert_eq!(post(&desk, &parts_token, &format!("/v1/part-requests/{unknown}/approve"), json!({})).await.0, 404);
    assert_eq!(post(&desk, &parts_token, &format!("/v1/part-requests/{unknown}/teleport"), json!({})).await.0, 404);
    assert_eq!(post(&desk, &parts_token, "/v1/part-requests/nope/approve", json!({})).await.0, 400);
    assert_eq!(
        post(&desk, &parts_token, &format!("/v1/part-requests/{unknown}/approve"), json!({ "bribe": 1 })).await.0,
        422
    );
    assert_eq!(post(&desk, &engineer_token, &format!("/v1/part-requests/{unknown}/approve"), json!({})).await.0, 403);
    let reply =
        desk.http.get(desk.url("/v1/part-requests?status=lost")).bearer_auth(&parts_token).send().await.unwrap();
    assert_eq!(reply.status(), 400);
    let reply = desk.http.get(desk.url("/v1/part-requests")).bearer_auth(&engineer_token).send().await.unwrap();
    assert_eq!(reply.status(), 403, "engineers see their requests through sync, not here");
}

on_both_backends!(a_part_goes_from_request_to_installation, the_warehouse_api_refuses_bad_moves_and_other_roles);
