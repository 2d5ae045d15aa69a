//! The desk's ticket API: create, list with filters and search, read,
//! assign; and who may not.

mod support;

use outpost_sync::ids::{DocId, Timestamp};
use outpost_sync::model::{Assignee, BusinessHours, Client, Document, Role};
use outpost_sync::sample::{worked_ticket, Cast, Rng};
use serde_json::{json, Value};
use support::*;

struct Api<'d> {
    desk: &'d Desk,
    token: String,
}

impl Api<'_> {
    async fn patch(&self, path: &str, body: Value) -> (u16, Value) {
        self.desk.patch_json(path, &self.token, body).await
    }

    async fn get(&self, path: &str) -> (u16, Value) {
        self.desk.get_json(path, &self.token).await
    }

    async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        self.desk.post_json(path, &self.token, body).await
    }

    async fn numbers(&self, query: &str) -> Vec<String> {
        let (status, rows) = self.get(&format!("/v1/tickets?{query}")).await;
        assert_eq!(status, 200, "listing with {query:?}: {rows}");
        let mut numbers: Vec<String> =
            rows.as_array().unwrap().iter().map(|r| r["title"].as_str().unwrap().to_owned()).collect();
        numbers.sort();
        numbers
    }
}

/// A client on a round-the-clock contract.
async fn client(desk: &Desk) -> DocId {
    let id = DocId(outpost_desk::accounts::new_id());
    let hours = BusinessHours { always: true, weekly: vec![], holidays: vec![] };
    let client = Client {
        id,
        name: "ООО «Северный банк»".into(),
        contract: Some("SLA-1".into()),
        business_hours: hours,
        points_balance: None,
        language: None,
    };
    desk.create(&Document::Client(client)).await;
    id
}

async fn dispatcher_api(desk: &Desk) -> (Api<'_>, outpost_sync::model::Actor) {
    let dispatcher = desk.user(desk.service, Role::Dispatcher).await;
    let token = desk.api_token(dispatcher.user).await;
    (Api { desk, token }, dispatcher)
}

async fn a_dispatcher_creates_assigns_and_the_engineer_receives_it(desk: Desk) {
    let (api, _) = dispatcher_api(&desk).await;
    let client = client(&desk).await;
    let engineer = desk.user(desk.service, Role::Engineer).await;
    let (status, created) = api
        .post(
            "/v1/tickets",
            json!({ "title": "Массив: отказ диска", "client": client, "priority": "p1",
                    "product_team": "storage", "region": "Moscow", "description": "Диск 4 в полке 2" }),
        )
        .await;
    assert_eq!(status, 200, "{created}");
    let id = created["id"].as_str().unwrap().to_owned();
    let (status, shown) = api.get(&format!("/v1/tickets/{id}")).await;
    assert_eq!((status, shown["status"].as_str()), (200, Some("new")));

    let (status, reply) = api.post(&format!("/v1/tickets/{id}/assign"), json!({ "engineer": engineer.user })).await;
    assert_eq!(status, 200, "{reply}");
    let (_, shown) = api.get(&format!("/v1/tickets/{id}")).await;
    assert_eq!(shown["status"], "assigned");
    assert_eq!(shown["assignee"]["engineer"], json!(engineer.user));

    let mut tablet = desk.pair(&engineer, 1).await;
    tablet.sync(&desk).await;
    let id: DocId = id.parse().unwrap();
    assert!(matches!(tablet.local.document(id), Some(Document::Ticket(t)) if t.title == "Массив: отказ диска"));
    assert_eq!(api.numbers(&format!("assignee={}", engineer.user)).await, vec!["Массив: отказ диска"]);
    assert_eq!(
        api.numbers("q=%D0%94%D0%98%D0%A1%D0%9A%D0%90").await,
        vec!["Массив: отказ диска"],
        "Cyrillic words, any case"
    );
}

async fn the_list_filters_by_status_team_region_assignee_partner_deadline_and_words(desk: Desk) {
    let (api, dispatcher) = dispatcher_api(&desk).await;
    let engineer = desk.user(desk.service, Role::Engineer).await;
    let cast = Cast { dispatcher, engineer, ..Cast::default() };
    let hour = 3_600_000;
    let at = outpost_desk::now();
    let make = |seed: u64, title: &str, team: &str, region: &str, due: Timestamp, partner: bool| {
        let mut t = worked_ticket(&mut Rng::new(seed), &cast, seed, at);
        t.title = title.into();
        t.product_team = team.into();
        t.site.region = region.into();
        t.sla.resolution_due = Some(due);
        if partner {
            t.transitions.truncate(1);
            t.transitions[0].assignee = Some(Assignee { engineer: None, partner_org: Some(desk.partner) });
        }
        t
    };
    let late = make(1, "late storage in Moscow", "storage", "Moscow", at.plus_millis(-2 * hour), false);
    let soon = make(2, "soon servers in Novosibirsk", "servers", "Novosibirsk", at.plus_millis(3 * hour), true);
    let later = make(3, "later POS in Moscow", "POS", "Moscow", at.plus_millis(48 * hour), false);
    for t in [&late, &soon, &later] {
        desk.create(&Document::Ticket(t.clone())).await;
    }
    assert_eq!(api.numbers("").await.len(), 3);
    assert_eq!(api.numbers("team=storage").await, vec!["late storage in Moscow"]);
    assert_eq!(api.numbers("region=Moscow").await, vec!["late storage in Moscow", "later POS in Moscow"]);
    assert_eq!(api.numbers("status=on_site").await, vec!["late storage in Moscow", "later POS in Moscow"]);
    assert_eq!(api.numbers("status=assigned").await, vec!["soon servers in Novosibirsk"]);
    assert_eq!(api.numbers(&format!("partner_org={}", desk.partner)).await, vec!["soon servers in Novosibirsk"]);
    assert_eq!(api.numbers(&format!("assignee={}", engineer.user)).await.len(), 2);
    assert_eq!(api.numbers("breached=true").await, vec!["late storage in Moscow"]);
    let (_, rows) = api.get("/v1/tickets").await;
    let flagged: Vec<&str> = rows
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["breached"] == true)
        .map(|r| r["title"].as_str().unwrap())
        .collect();
    assert_eq!(flagged, vec!["late storage in Moscow"], "each row says whether it is breached");
    assert_eq!(api.numbers("due_within_hours=4").await, vec!["soon servers in Novosibirsk"]);
    assert_eq!(api.numbers("q=POS%20moscow").await, vec!["later POS in Moscow"]);
    assert_eq!(api.numbers("q=nothing-like-this").await, Vec::<String>::new());
    assert_eq!(api.numbers("q=100%25").await, Vec::<String>::new(), "a % is a character, not a wildcard");
    assert_eq!(api.numbers("q=%22%22%20*%20OR").await, Vec::<String>::new(), "query syntax in the words is just text");
    assert_eq!(api.numbers("q=Moscow").await.len(), 2, "a word matches in any case");
}

async fn bad_ticket_requests_get_clear_errors_and_change_nothing(desk: Desk) {
    let (api, _) = dispatcher_api(&desk).await;
    let client = client(&desk).await;
    let count = || async { api.numbers("").await.len() };
    assert_eq!(api.get("/v1/tickets?status=flying").await.0, 400);
    assert_eq!(api.get("/v1/tickets?colour=red").await.0, 400);
    assert_eq!(api.get("/v1/tickets/not-an-id").await.0, 400);
    assert_eq!(api.get(&format!("/v1/tickets/{}", DocId::from_u128(99))).await.0, 404);
    assert_eq!(api.post("/v1/tickets", json!({ "title": "  ", "client": client })).await.0, 400);
    assert_eq!(api.post("/v1/tickets", json!({ "title": "x", "client": client, "priority": "P9" })).await.0, 400);
    assert_eq!(api.post("/v1/tickets", json!({ "title": "x", "client": client, "sla": 1 })).await.0, 422);
    assert_eq!(api.post("/v1/tickets", json!({ "title": "x".repeat(5_000), "client": client })).await.0, 400);
    let engineer = desk.user(desk.service, Role::Engineer).await;
    let (status, body) =
        api.post(&format!("/v1/tickets/{}/assign", DocId::from_u128(99)), json!({ "engineer": engineer.user })).await;
    assert_eq!(status, 404, "{body}");
    let (status, body) =
        api.post(&format!("/v1/tickets/{}/assign", DocId::from_u128(99)), json!({ "engineer": null })).await;
    assert_eq!(status, 400, "an assignment naming nobody is refused before the ticket is looked up: {body}");
    let raw = desk
        .http
        .post(desk.url("/v1/tickets"))
        .bearer_auth(&api.token)
        .header("content-type", "application/json")
        .body("{oops")
        .send()
        .await
        .unwrap();
    assert_eq!(raw.status(), 400);
    assert_eq!(count().await, 0, "nothing was created");
}

async fn an_assignment_must_name_someone_real(desk: Desk) {
    let (api, _) = dispatcher_api(&desk).await;
    let client = client(&desk).await;
    let (_, created) = api.post("/v1/tickets", json!({ "title": "x", "client": client })).await;
    let id = created["id"].as_str().unwrap();
    let nobody = api.post(&format!("/v1/tickets/{id}/assign"), json!({})).await;
    assert_eq!(nobody.0, 400, "{}", nobody.1);
    assert!(nobody.1["message"].as_str().unwrap().contains("assign"));
    let ghost = api.post(&format!("/v1/tickets/{id}/assign"), json!({ "engineer": DocId::from_u128(5) })).await;
    assert_eq!(ghost.0, 400);
    let dispatcher = desk.user(desk.service, Role::Dispatcher).await;
    let desk_person = api.post(&format!("/v1/tickets/{id}/assign"), json!({ "engineer": dispatcher.user })).await;
    assert_eq!(desk_person.0, 400, "tickets go to field people");
    let partner = desk.user(desk.partner, Role::PartnerEngineer).await;
    let mismatch = api
        .post(
            &format!("/v1/tickets/{id}/assign"),
            json!({ "engineer": partner.user, "partner_org": desk.other_partner }),
        )
        .await;
    assert_eq!(mismatch.0, 400);
    assert_eq!(api.get(&format!("/v1/tickets/{id}")).await.1["status"], "new");
}

async fn field_users_and_strangers_cannot_use_the_ticket_api(desk: Desk) {
    let (api, _) = dispatcher_api(&desk).await;
    let client = client(&desk).await;
    let (_, created) = api.post("/v1/tickets", json!({ "title": "x", "client": client })).await;
    let id = created["id"].as_str().unwrap();
    for role_org in [(Role::Engineer, desk.service), (Role::PartnerEngineer, desk.partner)] {
        let user = desk.user(role_org.1, role_org.0).await;
        let field = Api { desk: &desk, token: desk.api_token(user.user).await };
        assert_eq!(field.get("/v1/tickets").await.0, 403);
        assert_eq!(field.get(&format!("/v1/tickets/{id}")).await.0, 403);
        assert_eq!(field.post("/v1/tickets", json!({ "title": "y", "client": client })).await.0, 403);
        assert_eq!(field.post(&format!("/v1/tickets/{id}/assign"), json!({ "engineer": user.user })).await.0, 403);
    }
    let parts = desk.user(desk.service, Role::PartsDesk).await;
    let parts = Api { desk: &desk, token: desk.api_token(parts.user).await };
    assert_eq!(parts.get("/v1/tickets").await.0, 200, "the parts desk reads tickets");
    assert_eq!(parts.post("/v1/tickets", json!({ "title": "y", "client": client })).await.0, 403);
    let stranger = Api { desk: &desk, token: "nope".into() };
    assert_eq!(stranger.get("/v1/tickets").await.0, 401);
}

async fn a_new_ticket_gets_deadlines_from_its_priority_and_contract(desk: Desk) {
    let (api, _) = dispatcher_api(&desk).await;
    let client = client(&desk).await;
    let engineer = desk.user(desk.service, Role::Engineer).await;
    let before = outpost_desk::now().0;
    let (status, created) = api.post("/v1/tickets", json!({ "title": "p1", "client": client, "priority": "p1" })).await;
    assert_eq!(status, 200, "{created}");
    let id = created["id"].as_str().unwrap();
    let (_, shown) = api.get(&format!("/v1/tickets/{id}")).await;
    let sla = &shown["document"]["sla"];
    let resolution = sla["resolution_due"].as_i64().expect("a resolution deadline");
    let reaction = sla["reaction_due"].as_i64().expect("a reaction deadline");
    let after = outpost_desk::now().0;
    let hour = 3_600_000;
    assert!((before + 8 * hour..=after + 8 * hour).contains(&resolution), "P1 resolves within 8 hours round the clock");
    assert!((before + 2 * hour..=after + 2 * hour).contains(&reaction));
    assert!(sla["first_response_at"].is_null());
    api.post(&format!("/v1/tickets/{id}/assign"), json!({ "engineer": engineer.user })).await;
    let (_, shown) = api.get(&format!("/v1/tickets/{id}")).await;
    assert!(
        shown["document"]["sla"]["first_response_at"].is_null(),
        "routing is no response: the reaction clock runs until someone working the ticket answers"
    );

    let unknown = api.post("/v1/tickets", json!({ "title": "x", "client": DocId::from_u128(77) })).await;
    assert_eq!(unknown.0, 400, "{}", unknown.1);
    let zone = api.post("/v1/tickets", json!({ "title": "x", "client": client, "time_zone": "Mars/Olympus" })).await;
    assert_eq!(zone.0, 400);
}

async fn the_desk_updates_cancels_and_closes_tickets(desk: Desk) {
    let (api, _) = dispatcher_api(&desk).await;
    let client = client(&desk).await;
    let (_, created) = api.post("/v1/tickets", json!({ "title": "Printer", "client": client })).await;
    let id = created["id"].as_str().unwrap().to_owned();
    let due = 1_900_000_000_000i64;
    let (status, body) = api
        .patch(
            &format!("/v1/tickets/{id}"),
            json!({ "priority": "p1", "resolution_due": due, "billing_class": "service_request", "points_estimate": 350, "estimate_accepted": true, "support_level": "l2_remote" }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (_, shown) = api.get(&format!("/v1/tickets/{id}")).await;
    assert_eq!(shown["document"]["priority"], "p1");
    assert_eq!(shown["document"]["sla"]["resolution_due"], json!(due));
    assert_eq!(shown["document"]["billing"]["class"], "service_request");
    assert_eq!(shown["document"]["billing"]["points_estimate"]["hundredths"], 350);
    assert_eq!(api.patch(&format!("/v1/tickets/{id}"), json!({ "priority": "P0" })).await.0, 400);
    assert_eq!(api.patch(&format!("/v1/tickets/{id}"), json!({ "title": " " })).await.0, 400);
    assert_eq!(api.patch(&format!("/v1/tickets/{id}"), json!({ "colour": "red" })).await.0, 422);
    assert_eq!(api.patch(&format!("/v1/tickets/{}", DocId::from_u128(5)), json!({ "priority": "p2" })).await.0, 404);

    assert_eq!(
        api.post(&format!("/v1/tickets/{id}/status"), json!({ "to": "closed" })).await.0,
        409,
        "only a resolved ticket closes"
    );
    assert_eq!(api.post(&format!("/v1/tickets/{id}/status"), json!({ "to": "flying" })).await.0, 422);
    let (status, moved) =
        api.post(&format!("/v1/tickets/{id}/status"), json!({ "to": "cancelled", "reason": "duplicate" })).await;
    assert_eq!((status, moved["status"].as_str()), (200, Some("cancelled")));
    assert_eq!(
        api.post(&format!("/v1/tickets/{id}/status"), json!({ "to": "cancelled" })).await.0,
        409,
        "already cancelled"
    );
    let engineer = desk.user(desk.service, Role::Engineer).await;
    let field = Api { desk: &desk, token: desk.api_token(engineer.user).await };
    assert_eq!(field.patch(&format!("/v1/tickets/{id}"), json!({ "priority": "p4" })).await.0, 403);
    assert_eq!(field.post(&format!("/v1/tickets/{id}/status"), json!({ "to": "new" })).await.0, 403);
}

on_both_backends!(
    the_desk_updates_cancels_and_closes_tickets,
    a_new_ticket_gets_deadlines_from_its_priority_and_contract,
    a_dispatcher_creates_assigns_and_the_engineer_receives_it,
    the_list_filters_by_status_team_region_assignee_partner_deadline_and_words,
    bad_ticket_requests_get_clear_errors_and_change_nothing,
    an_assignment_must_name_someone_real,
    field_users_and_strangers_cannot_use_the_ticket_api,
);
