//! A partner company's dispatcher: routes the tickets the desk assigned to
//! the company to its own engineers, adds notes to them, reads their
//! timelines; sees no other ticket, and nothing else of the desk.

mod support;

use outpost_sync::ids::DocId;
use outpost_sync::model::{BusinessHours, Client, Document, Role};
use serde_json::{json, Value};
use support::*;

async fn a_partners_dispatcher_routes_its_own_tickets_and_sees_nothing_else(desk: Desk) {
    let admin = desk.user(desk.service, Role::Admin).await;
    let admin = desk.api_token(admin.user).await;
    let (status, reply) = desk
        .post_json("/v1/users", &admin, json!({ "org": desk.service, "name": "x", "role": "partner_dispatcher" }))
        .await;
    assert_eq!(status, 400, "a partner's dispatcher belongs to a partner: {reply}");
    let (status, reply) = desk
        .post_json("/v1/users", &admin, json!({ "org": desk.partner, "name": "Ольга", "role": "partner_dispatcher" }))
        .await;
    assert_eq!(status, 200, "{reply}");
    let partner_desk = reply["api_token"].as_str().expect("a dispatcher works through the API").to_owned();

    let dispatcher = desk.user(desk.service, Role::Dispatcher).await;
    let token = desk.api_token(dispatcher.user).await;
    let ours = desk.user(desk.partner, Role::PartnerEngineer).await;
    let theirs = desk.user(desk.other_partner, Role::PartnerEngineer).await;
    let staff = desk.user(desk.service, Role::Engineer).await;
    let client = DocId(outpost_desk::accounts::new_id());
    desk.create(&Document::Client(Client {
        id: client,
        name: "C".into(),
        contract: Some("SLA".into()),
        business_hours: BusinessHours { always: true, weekly: vec![], holidays: vec![] },
        points_balance: None,
        language: None,
    }))
    .await;
    let mut ids = Vec::new();
    for (title, assignment) in [
        ("ours", json!({ "partner_org": desk.partner })),
        ("theirs", json!({ "partner_org": desk.other_partner })),
        ("staff", json!({ "engineer": staff.user })),
    ] {
        let (_, created) = desk.post_json("/v1/tickets", &token, json!({ "title": title, "client": client })).await;
        let id = created["id"].as_str().unwrap().to_owned();
        let (status, body) = desk.post_json(&format!("/v1/tickets/{id}/assign"), &token, assignment).await;
        assert_eq!(status, 200, "{body}");
        ids.push(id);
    }
    let (ours_id, theirs_id) = (&ids[0], &ids[1]);

    let (status, rows) = desk.get_json("/v1/tickets", &partner_desk).await;
    assert_eq!(status, 200, "{rows}");
    let titles: Vec<&str> = rows.as_array().unwrap().iter().map(|r| r["title"].as_str().unwrap()).collect();
    assert_eq!(titles, vec!["ours"], "the company's tickets only");
    let (_, rows) = desk.get_json(&format!("/v1/tickets?partner_org={}", desk.other_partner), &partner_desk).await;
    assert_eq!(rows, Value::Array(vec![]), "asking for another company's finds nothing");
    for path in [format!("/v1/tickets/{theirs_id}"), format!("/v1/tickets/{theirs_id}/timeline")] {
        assert_eq!(desk.get_json(&path, &partner_desk).await.0, 404, "{path}");
    }
    assert_eq!(desk.get_json(&format!("/v1/tickets/{ours_id}/timeline"), &partner_desk).await.0, 200);

    // Routing within the company, and nowhere else.
    let assign = format!("/v1/tickets/{ours_id}/assign");
    for body in [
        json!({ "engineer": theirs.user }),
        json!({ "engineer": staff.user }),
        json!({ "partner_org": desk.partner }),
        json!({ "engineer": theirs.user, "partner_org": desk.partner }),
    ] {
        let (status, reply) = desk.post_json(&assign, &partner_desk, body.clone()).await;
        assert_eq!(status, 400, "{body} → {reply}");
    }
    let (status, reply) = desk
        .post_json(&format!("/v1/tickets/{theirs_id}/assign"), &partner_desk, json!({ "engineer": ours.user }))
        .await;
    assert_eq!(status, 404, "another company's ticket does not exist for them: {reply}");
    let (status, reply) = desk.post_json(&assign, &partner_desk, json!({ "engineer": ours.user })).await;
    assert_eq!(status, 200, "{reply}");
    let mut device = desk.pair(&ours, 1).await;
    device.sync(&desk).await;
    let id: DocId = ours_id.parse().unwrap();
    let Some(Document::Ticket(ticket)) = device.local.document(id) else { panic!("the engineer has the ticket") };
    let state = outpost_sync::workflow::fold_ticket(&ticket);
    assert_eq!(state.assignee.and_then(|a| a.engineer), Some(ours.user), "assigned by the partner's dispatcher");
    assert!(state.conflicts.is_empty(), "{:?}", state.conflicts);

    let (status, _) =
        desk.post_json(&format!("/v1/tickets/{ours_id}/notes"), &partner_desk, json!({ "text": "Пётр едет" })).await;
    assert_eq!(status, 200);
    let (status, _) =
        desk.post_json(&format!("/v1/tickets/{theirs_id}/notes"), &partner_desk, json!({ "text": "x" })).await;
    assert_eq!(status, 404);

    // Nothing else of the desk.
    assert_eq!(
        desk.patch_json(&format!("/v1/tickets/{ours_id}"), &partner_desk, json!({ "priority": "p1" })).await.0,
        403
    );
    assert_eq!(desk.post_json("/v1/tickets", &partner_desk, json!({ "title": "x", "client": client })).await.0, 403);
    let status_move = json!({ "to": "cancelled" });
    assert_eq!(desk.post_json(&format!("/v1/tickets/{ours_id}/status"), &partner_desk, status_move).await.0, 403);
    for path in [
        "/v1/clients",
        "/v1/sites",
        "/v1/equipment",
        "/v1/part-requests",
        "/v1/users",
        "/v1/orgs",
        "/v1/teams",
        "/v1/devices",
        "/v1/audit",
        "/v1/reports/sla?from=0&to=10",
    ] {
        assert_eq!(desk.get_json(path, &partner_desk).await.0, 403, "{path}");
    }
}

on_both_backends!(a_partners_dispatcher_routes_its_own_tickets_and_sees_nothing_else);
