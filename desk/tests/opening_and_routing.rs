//! The desk's day, part one: opening a ticket with everything it is tied
//! to, deciding what pays for it, and routing it: to an engineer, a
//! partner's engineer, or a partner company, and through the queues by team
//! and support level.

mod support;

use std::collections::BTreeSet;

use outpost_sync::ids::{DocId, EntryId, OrgId, Timestamp};
use outpost_sync::model::{
    BusinessHours, ChecklistTemplate, ChecklistTemplateItem, Client, Coordinates, Document, Equipment, Escalation,
    Points, Role, Site, SupportLevel, Ticket,
};
use serde_json::{json, Value};
use support::*;

/// A client, one of its sites, two of its machines (one under warranty
/// until `warranty`), and a checklist template.
struct World {
    client: DocId,
    site: DocId,
    covered: DocId,
    uncovered: DocId,
    template: DocId,
}

async fn world(desk: &Desk, contract: Option<&str>, points: Option<u64>, warranty: Option<Timestamp>) -> World {
    let id = || DocId(outpost_desk::accounts::new_id());
    let w = World { client: id(), site: id(), covered: id(), uncovered: id(), template: id() };
    desk.create(&Document::Client(Client {
        id: w.client,
        name: "АО «Сибирский ритейл»".into(),
        contract: contract.map(Into::into),
        business_hours: BusinessHours { always: true, weekly: vec![], holidays: vec![] },
        points_balance: points.map(|hundredths| Points { hundredths }),
        language: None,
    }))
    .await;
    desk.create(&Document::Site(Site {
        id: w.site,
        client: w.client,
        name: "Склад №2".into(),
        address: "Novosibirsk, Stantsionnaya 30".into(),
        region: "Novosibirsk".into(),
        time_zone: "Asia/Novosibirsk".into(),
        coordinates: Some(Coordinates { lat: 55.0, lon: 82.9 }),
    }))
    .await;
    for (equipment, serial, until) in [(w.covered, "SN-COVERED", warranty), (w.uncovered, "SN-OLD", None)] {
        let mut e = Equipment::new(equipment, serial.into(), "POS-9".into(), w.client);
        e.site = Some(w.site);
        e.covered_until = until;
        desk.create(&Document::Equipment(e)).await;
    }
    desk.create(&Document::ChecklistTemplate(ChecklistTemplate {
        id: w.template,
        name: "POS visit".into(),
        items: ["power", "printer"]
            .into_iter()
            .map(|key| ChecklistTemplateItem { key: key.into(), label: format!("Check the {key}") })
            .collect(),
    }))
    .await;
    w
}

async fn dispatcher(desk: &Desk) -> String {
    let dispatcher = desk.user(desk.service, Role::Dispatcher).await;
    desk.api_token(dispatcher.user).await
}

fn ticket_of(document: Option<Document>) -> Ticket {
    match document {
        Some(Document::Ticket(t)) => t,
        other => panic!("expected a ticket, got {other:?}"),
    }
}

async fn ticket_count(desk: &Desk) -> i64 {
    let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM tickets").fetch_one(&desk.db.pool).await.unwrap();
    n
}

async fn a_ticket_opened_with_its_links_reaches_the_engineer_whole(desk: Desk) {
    let token = dispatcher(&desk).await;
    let next_year = Timestamp(outpost_desk::now().0 + 365 * 86_400_000);
    let w = world(&desk, None, Some(2_000), Some(next_year)).await;
    let (status, created) = desk
        .post_json(
            "/v1/tickets",
            &token,
            json!({
                "title": "Касса 3 не печатает чеки",
                "description": "Принтер чеков молчит после обновления",
                "client": w.client, "site": w.site, "equipment": [w.covered, w.uncovered, w.covered],
                "checklist_template": w.template, "priority": "p2", "product_team": "POS",
                "support_level": "l1_field", "billing_class": "service_request",
                "points_estimate": 300, "estimate_accepted": true,
                "contact_name": "Ирина Петрова", "contact_phone": "+7 913 000-00-00", "contact_email": "ip@example.org"
            }),
        )
        .await;
    assert_eq!(status, 200, "{created}");
    assert_eq!(created["entitlement"], "warranty", "the covered machine's warranty pays, before the points");
    let id: DocId = created["id"].as_str().unwrap().parse().unwrap();
    let ticket = ticket_of(desk.document(id).await);
    assert_eq!(ticket.site.site, Some(w.site));
    assert_eq!(
        (ticket.site.address.as_str(), ticket.site.region.as_str(), ticket.site.time_zone.as_str()),
        ("Novosibirsk, Stantsionnaya 30", "Novosibirsk", "Asia/Novosibirsk"),
        "the site's address and time zone are the ticket's"
    );
    assert_eq!(ticket.site.coordinates, Some(Coordinates { lat: 55.0, lon: 82.9 }));
    assert_eq!(ticket.equipment, vec![w.covered, w.uncovered], "each machine once, in the order given");
    assert_eq!(ticket.checklist_template, Some(w.template));
    assert_eq!(ticket.contact.email, "ip@example.org");
    assert_eq!(ticket.billing.points_estimate, Some(Points { hundredths: 300 }));
    assert!(ticket.billing.estimate_accepted);

    let engineer = desk.user(desk.service, Role::Engineer).await;
    let (status, body) =
        desk.post_json(&format!("/v1/tickets/{id}/assign"), &token, json!({ "engineer": engineer.user })).await;
    assert_eq!(status, 200, "{body}");
    let mut device = desk.pair(&engineer, 1).await;
    device.sync(&desk).await;
    let held: BTreeSet<DocId> = device.local.doc_ids().collect();
    for (what, doc) in
        [("ticket", id), ("client", w.client), ("site", w.site), ("machine", w.covered), ("machine", w.uncovered)]
    {
        assert!(held.contains(&doc), "the engineer's device holds the {what}");
        assert_eq!(device.local.document(doc), desk.document(doc).await, "as the desk has it");
    }
    assert!(held.contains(&w.template), "and the checklist template");
}

async fn links_that_do_not_fit_are_refused_and_nothing_is_opened(desk: Desk) {
    let token = dispatcher(&desk).await;
    let w = world(&desk, Some("SLA-9"), None, None).await;
    let other = world(&desk, Some("SLA-10"), None, None).await;
    let before = ticket_count(&desk).await;
    let base = json!({ "title": "x", "client": w.client });
    let with = |key: &str, value: Value| {
        let mut body = base.clone();
        body[key] = value;
        body
    };
    for (body, mentions) in [
        (with("site", json!(other.site)), "another client's"),
        (with("site", json!(w.client)), "no site"),
        (with("equipment", json!([w.covered, other.covered])), "another client's"),
        (with("equipment", json!([w.site])), "no equipment"),
        (with("checklist_template", json!(w.client)), "no checklist template"),
        (with("client", json!(w.site)), "no client"),
        (with("support_level", json!("L9")), "support_level"),
        (with("billing_class", json!("Gift")), "billing_class"),
        (with("time_zone", json!("Mars/Olympus")), "time zone"),
    ] {
        let (status, reply) = desk.post_json("/v1/tickets", &token, body.clone()).await;
        assert_eq!(status, 400, "{body} → {reply}");
        assert!(reply["message"].as_str().unwrap().contains(mentions), "{reply} should mention {mentions:?}");
    }
    let too_many: Vec<DocId> = (0..51).map(|_| w.covered).collect();
    assert_eq!(desk.post_json("/v1/tickets", &token, with("equipment", json!(too_many))).await.0, 400);
    assert_eq!(ticket_count(&desk).await, before, "nothing was opened");
}

async fn what_pays_is_decided_and_per_call_work_waits_until_paid(desk: Desk) {
    let token = dispatcher(&desk).await;
    let engineer = desk.user(desk.service, Role::Engineer).await;
    let expired = Timestamp(outpost_desk::now().0 - 86_400_000);
    let open = |client: DocId, equipment: Vec<DocId>| json!({ "title": "t", "client": client, "equipment": equipment });
    let contract = world(&desk, Some("SLA-1"), Some(500), None).await;
    let prepaid = world(&desk, None, Some(500), Some(expired)).await;
    let per_call = world(&desk, None, None, Some(expired)).await;
    for (body, expected) in [
        (open(contract.client, vec![]), "contract"),
        (open(prepaid.client, vec![prepaid.covered]), "prepaid"),
        (open(per_call.client, vec![per_call.covered]), "per_call"),
    ] {
        let (status, created) = desk.post_json("/v1/tickets", &token, body).await;
        assert_eq!((status, created["entitlement"].as_str()), (200, Some(expected)), "{created}");
        let id = created["id"].as_str().unwrap();
        let assigned =
            desk.post_json(&format!("/v1/tickets/{id}/assign"), &token, json!({ "engineer": engineer.user })).await;
        if expected == "per_call" {
            assert_eq!(assigned.0, 409, "nothing pays for it yet: {}", assigned.1);
            assert!(assigned.1["message"].as_str().unwrap().contains("paid"));
            let id: DocId = id.parse().unwrap();
            assert!(ticket_of(desk.document(id).await).transitions.is_empty(), "and it stays with the desk");
            let (status, body) = desk.patch_json(&format!("/v1/tickets/{id}"), &token, json!({ "paid": true })).await;
            assert_eq!(status, 200, "{body}");
            let assigned =
                desk.post_json(&format!("/v1/tickets/{id}/assign"), &token, json!({ "engineer": engineer.user })).await;
            assert_eq!(assigned.0, 200, "paid, it goes to the engineer: {}", assigned.1);
        } else {
            assert_eq!(assigned.0, 200, "{}", assigned.1);
        }
    }
}

async fn assigning_by_person_brings_the_partner_and_wrong_pairs_are_refused(desk: Desk) {
    let token = dispatcher(&desk).await;
    let w = world(&desk, Some("SLA-1"), None, None).await;
    let staff = desk.user(desk.service, Role::Engineer).await;
    let partner = desk.user(desk.partner, Role::PartnerEngineer).await;
    let parts = desk.user(desk.service, Role::PartsDesk).await;
    let (_, created) = desk.post_json("/v1/tickets", &token, json!({ "title": "t", "client": w.client })).await;
    let id: DocId = created["id"].as_str().unwrap().parse().unwrap();
    let path = format!("/v1/tickets/{id}/assign");
    let nobody = OrgId::from_u128(404);
    for (body, why) in [
        (json!({ "engineer": partner.user, "partner_org": desk.other_partner }), "does not work for that partner"),
        (json!({ "engineer": staff.user, "partner_org": desk.partner }), "service company"),
        (json!({ "engineer": parts.user }), "engineers"),
        (json!({ "partner_org": desk.service }), "not a service partner"),
        (json!({ "partner_org": nobody }), "not a service partner"),
        (json!({}), "names an engineer"),
    ] {
        let (status, reply) = desk.post_json(&path, &token, body.clone()).await;
        assert_eq!(status, 400, "{body} → {reply}");
        assert!(reply["message"].as_str().unwrap().contains(why), "{reply} should say {why:?}");
    }
    assert!(ticket_of(desk.document(id).await).transitions.is_empty(), "no refused assignment left a trace");

    let (status, reply) = desk.post_json(&path, &token, json!({ "engineer": partner.user })).await;
    assert_eq!(status, 200, "{reply}");
    assert_eq!(reply["partner_org"], json!(desk.partner), "the partner follows from the person");
    let mut partner_device = desk.pair(&partner, 2).await;
    partner_device.sync(&desk).await;
    assert!(partner_device.local.doc_ids().any(|d| d == id), "the partner's engineer has it");

    let (status, reply) = desk.post_json(&path, &token, json!({ "partner_org": desk.other_partner })).await;
    assert_eq!(status, 200, "{reply}");
    let colleague = desk.user(desk.other_partner, Role::PartnerEngineer).await;
    let mut colleague_device = desk.pair(&colleague, 3).await;
    colleague_device.sync(&desk).await;
    assert!(colleague_device.local.doc_ids().any(|d| d == id), "a company alone: its people see the ticket");
    partner_device.sync(&desk).await;
    assert!(!partner_device.local.doc_ids().any(|d| d == id), "and the first partner's device lets it go");
}

async fn the_queues_filter_by_team_and_level_and_an_escalation_moves_a_ticket_at_once(desk: Desk) {
    let token = dispatcher(&desk).await;
    let w = world(&desk, Some("SLA-1"), None, None).await;
    let engineer = desk.user(desk.service, Role::Engineer).await;
    let open = |title: &str, team: &str, level: &str| json!({ "title": title, "client": w.client, "product_team": team, "support_level": level });
    let mut ids = Vec::new();
    for body in
        [open("pos-1", "POS", "l1_field"), open("pos-2", "POS", "l2_remote"), open("net-1", "Network", "l1_field")]
    {
        let (status, created) = desk.post_json("/v1/tickets", &token, body).await;
        assert_eq!(status, 200, "{created}");
        ids.push(created["id"].as_str().unwrap().parse::<DocId>().unwrap());
    }
    let titles = |query: &'static str| {
        let desk = &desk;
        let token = token.clone();
        async move {
            let (status, rows) = desk.get_json(&format!("/v1/tickets?{query}"), &token).await;
            assert_eq!(status, 200, "{rows}");
            let mut titles: Vec<String> =
                rows.as_array().unwrap().iter().map(|r| r["title"].as_str().unwrap().to_owned()).collect();
            titles.sort();
            titles
        }
    };
    assert_eq!(titles("team=POS&support_level=l1_field").await, vec!["pos-1"]);
    assert_eq!(titles("support_level=l2_remote").await, vec!["pos-2"]);
    assert_eq!(desk.get_json("/v1/tickets?support_level=L4", &token).await.0, 400);

    // The engineer on pos-1 escalates it to remote support from the device.
    desk.post_json(&format!("/v1/tickets/{}/assign", ids[0]), &token, json!({ "engineer": engineer.user })).await;
    let mut device = desk.pair(&engineer, 4).await;
    device.sync(&desk).await;
    device
        .local
        .edit(ids[0], T0, |d| {
            if let Document::Ticket(t) = d {
                t.escalations.push(Escalation {
                    id: EntryId::from_u128(1),
                    from: SupportLevel::L1Field,
                    to: SupportLevel::L2Remote,
                    reason: "needs the vendor's tools".into(),
                    at: T0,
                    by: engineer,
                });
            }
        })
        .unwrap();
    device.sync(&desk).await;
    assert_eq!(titles("support_level=l2_remote").await, vec!["pos-1", "pos-2"], "the queue moved at once");
    assert_eq!(ticket_of(device.local.document(ids[0])).support_level, SupportLevel::L2Remote, "the device agrees");

    // The desk sends it on to the experts; the log keeps who and why.
    let (status, body) = desk
        .patch_json(
            &format!("/v1/tickets/{}", ids[0]),
            &token,
            json!({ "support_level": "l3_expert", "reason": "firmware bug" }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(titles("support_level=l3_expert").await, vec!["pos-1"]);
    let ticket = ticket_of(desk.document(ids[0]).await);
    let last = ticket.escalations.last().unwrap();
    assert_eq!(
        (last.from, last.to, last.reason.as_str()),
        (SupportLevel::L2Remote, SupportLevel::L3Expert, "firmware bug")
    );
    device.sync(&desk).await;
    assert_eq!(ticket_of(device.local.document(ids[0])).support_level, SupportLevel::L3Expert);
}

on_both_backends!(
    a_ticket_opened_with_its_links_reaches_the_engineer_whole,
    links_that_do_not_fit_are_refused_and_nothing_is_opened,
    what_pays_is_decided_and_per_call_work_waits_until_paid,
    assigning_by_person_brings_the_partner_and_wrong_pairs_are_refused,
    the_queues_filter_by_team_and_level_and_an_escalation_moves_a_ticket_at_once
);
