//! The desk's day, part two: working a ticket from the desk. Notes and the
//! description land in the document the engineer has, merged with what the
//! engineer wrote meanwhile; a new priority counts the deadlines again and
//! keeps the ones it replaced.

mod support;

use outpost_sync::ids::{DocId, EntryId};
use outpost_sync::model::{BusinessHours, Client, Document, Priority, Role, Ticket, WeeklyHours, WorkLogEntry};
use outpost_sync::sla::{deadlines, Calendar};
use serde_json::json;
use support::*;

fn ticket_of(document: Option<Document>) -> Ticket {
    match document {
        Some(Document::Ticket(t)) => t,
        other => panic!("expected a ticket, got {other:?}"),
    }
}

/// A client on office hours, and a dispatcher's token.
async fn office_client(desk: &Desk) -> (Client, String) {
    let client = Client {
        id: DocId(outpost_desk::accounts::new_id()),
        name: "Office client".into(),
        contract: Some("SLA-5".into()),
        business_hours: BusinessHours {
            always: false,
            weekly: (1..=5).map(|weekday| WeeklyHours { weekday, opens: 9 * 60, closes: 18 * 60 }).collect(),
            holidays: vec![],
        },
        points_balance: None,
        language: None,
    };
    desk.create(&Document::Client(client.clone())).await;
    let dispatcher = desk.user(desk.service, Role::Dispatcher).await;
    (client, desk.api_token(dispatcher.user).await)
}

async fn desk_notes_and_description_merge_with_the_engineers_work(desk: Desk) {
    let (client, token) = office_client(&desk).await;
    let engineer = desk.user(desk.service, Role::Engineer).await;
    let (_, created) = desk
        .post_json(
            "/v1/tickets",
            &token,
            json!({ "title": "Сканер", "client": client.id, "description": "Scanner on till 2 is dead." }),
        )
        .await;
    let id: DocId = created["id"].as_str().unwrap().parse().unwrap();
    desk.post_json(&format!("/v1/tickets/{id}/assign"), &token, json!({ "engineer": engineer.user })).await;
    let mut device = desk.pair(&engineer, 1).await;
    device.sync(&desk).await;

    // Offline, the engineer adds a note and a line to the description ...
    device
        .local
        .edit(id, T0, |d| {
            if let Document::Ticket(t) = d {
                t.work_log.push(WorkLogEntry {
                    id: EntryId::from_u128(1),
                    at: T0,
                    by: engineer,
                    text: "cable swapped".into(),
                });
                let text = format!("{} Cable was loose.", t.description.as_str());
                t.description.update(&text);
            }
        })
        .unwrap();
    // ... while the dispatcher adds a note and fixes the first sentence.
    let (status, reply) =
        desk.post_json(&format!("/v1/tickets/{id}/notes"), &token, json!({ "text": "client called again" })).await;
    assert_eq!(status, 200, "{reply}");
    let (status, reply) = desk
        .patch_json(&format!("/v1/tickets/{id}"), &token, json!({ "description": "Scanner on till 3 is dead." }))
        .await;
    assert_eq!(status, 200, "{reply}");
    device.sync(&desk).await;

    let ticket = ticket_of(desk.document(id).await);
    let notes: Vec<(&str, Role)> = ticket.work_log.iter().map(|n| (n.text.as_str(), n.by.role)).collect();
    assert!(notes.contains(&("cable swapped", Role::Engineer)), "{notes:?}");
    assert!(notes.contains(&("client called again", Role::Dispatcher)), "the desk's note, by its author: {notes:?}");
    assert_eq!(
        ticket.description.as_str(),
        "Scanner on till 3 is dead. Cable was loose.",
        "both edits stand: the text merged, never overwritten"
    );
    assert_eq!(device.local.document(id), desk.document(id).await, "the engineer has the same");

    for (body, status) in [(json!({ "text": "  " }), 400), (json!({ "text": "x", "by": "me" }), 422)] {
        assert_eq!(desk.post_json(&format!("/v1/tickets/{id}/notes"), &token, body).await.0, status);
    }
    let unknown = DocId::from_u128(9);
    assert_eq!(desk.post_json(&format!("/v1/tickets/{unknown}/notes"), &token, json!({ "text": "x" })).await.0, 404);
    let field = desk.api_token(engineer.user).await;
    assert_eq!(desk.post_json(&format!("/v1/tickets/{id}/notes"), &field, json!({ "text": "x" })).await.0, 403);
}

async fn a_new_priority_counts_the_deadlines_again_and_keeps_the_old_ones(desk: Desk) {
    let (client, token) = office_client(&desk).await;
    let (_, created) = desk
        .post_json(
            "/v1/tickets",
            &token,
            json!({ "title": "Till", "client": client.id, "priority": "p4", "time_zone": "Europe/Moscow" }),
        )
        .await;
    let id: DocId = created["id"].as_str().unwrap().parse().unwrap();
    let opened = ticket_of(desk.document(id).await);
    let (status, reply) = desk
        .patch_json(
            &format!("/v1/tickets/{id}"),
            &token,
            json!({ "priority": "p1", "reason": "the client's only till" }),
        )
        .await;
    assert_eq!(status, 200, "{reply}");
    let ticket = ticket_of(desk.document(id).await);
    let calendar = Calendar::new(&client.business_hours, "Europe/Moscow").unwrap();
    let expected = deadlines(Priority::P1, &calendar, opened.created_at);
    assert_eq!(
        (ticket.sla.reaction_due, ticket.sla.resolution_due),
        (expected.reaction_due, expected.resolution_due),
        "counted again from when the ticket was opened, in the contract's hours"
    );
    let old = ticket.sla.history.last().expect("the replaced deadlines are kept");
    assert_eq!(
        (old.priority, old.reaction_due, old.resolution_due, old.reason.as_str()),
        (Priority::P4, opened.sla.reaction_due, opened.sla.resolution_due, "the client's only till")
    );
    assert_eq!(old.by.role, Role::Dispatcher);

    let by_hand = expected.resolution_due.unwrap().0 + 3_600_000;
    desk.patch_json(&format!("/v1/tickets/{id}"), &token, json!({ "resolution_due": by_hand })).await;
    let ticket = ticket_of(desk.document(id).await);
    assert_eq!(ticket.sla.resolution_due.map(|t| t.0), Some(by_hand));
    assert_eq!(ticket.sla.history.len(), 2, "every change of deadlines is kept");
    desk.patch_json(&format!("/v1/tickets/{id}"), &token, json!({ "priority": "p1" })).await;
    assert_eq!(ticket_of(desk.document(id).await).sla.history.len(), 2, "the same priority again changes nothing");
    let long = "x".repeat(501);
    assert_eq!(desk.patch_json(&format!("/v1/tickets/{id}"), &token, json!({ "reason": long })).await.0, 400);
}

async fn equipment_linked_afterwards_reaches_the_engineer_and_its_history(desk: Desk) {
    use outpost_sync::model::Equipment;
    let (client, token) = office_client(&desk).await;
    let (other_client, _) = office_client(&desk).await;
    let engineer = desk.user(desk.service, Role::Engineer).await;
    let machine = DocId(outpost_desk::accounts::new_id());
    let foreign = DocId(outpost_desk::accounts::new_id());
    desk.create(&Document::Equipment(Equipment::new(machine, "SN-LATE".into(), "M".into(), client.id))).await;
    desk.create(&Document::Equipment(Equipment::new(foreign, "SN-OTHER".into(), "M".into(), other_client.id))).await;
    let (_, created) = desk.post_json("/v1/tickets", &token, json!({ "title": "Till", "client": client.id })).await;
    let id: DocId = created["id"].as_str().unwrap().parse().unwrap();
    desk.post_json(&format!("/v1/tickets/{id}/assign"), &token, json!({ "engineer": engineer.user })).await;
    let mut device = desk.pair(&engineer, 2).await;
    device.sync(&desk).await;
    assert!(device.local.document(machine).is_none(), "not linked yet");

    let path = format!("/v1/tickets/{id}");
    let (status, reply) = desk.patch_json(&path, &token, json!({ "equipment": [machine, foreign] })).await;
    assert_eq!(status, 400, "another client's machine is refused: {reply}");
    assert!(ticket_of(desk.document(id).await).equipment.is_empty(), "and nothing is linked");
    let (status, reply) = desk.patch_json(&path, &token, json!({ "equipment": [machine] })).await;
    assert_eq!(status, 200, "{reply}");
    device.sync(&desk).await;
    let Some(Document::Equipment(on_device)) = device.local.document(machine) else {
        panic!("the machine linked afterwards reaches the engineer's device")
    };
    assert_eq!(on_device.service_history, vec![id], "its service history lists the ticket");
    assert_eq!(ticket_of(device.local.document(id)).equipment, vec![machine]);
}

on_both_backends!(
    equipment_linked_afterwards_reaches_the_engineer_and_its_history,
    desk_notes_and_description_merge_with_the_engineers_work,
    a_new_priority_counts_the_deadlines_again_and_keeps_the_old_ones
);
