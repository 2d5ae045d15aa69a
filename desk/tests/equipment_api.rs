//! Equipment: create, look up by serial, import a CSV with a per-row report.

mod support;

use outpost_sync::ids::DocId;
use outpost_sync::model::{BusinessHours, Client, Document, Role, Site};
use serde_json::{json, Value};
use support::*;

async fn client_and_site(desk: &Desk) -> (DocId, DocId) {
    let client = DocId(outpost_desk::accounts::new_id());
    let site = DocId(outpost_desk::accounts::new_id());
    let hours = BusinessHours { always: true, weekly: vec![], holidays: vec![] };
    desk.create(&Document::Client(Client {
        id: client,
        name: "Retail Group".into(),
        contract: None,
        business_hours: hours,
        points_balance: None,
        language: None,
    }))
    .await;
    desk.create(&Document::Site(Site {
        id: site,
        client,
        name: "Склад 1".into(),
        address: "Москва".into(),
        region: "Москва".into(),
        time_zone: "Europe/Moscow".into(),
        coordinates: None,
    }))
    .await;
    (client, site)
}

async fn token(desk: &Desk, role: Role) -> String {
    let person = desk.user(desk.service, role).await;
    desk.api_token(person.user).await
}

async fn import(desk: &Desk, token: &str, csv: String) -> (u16, Value) {
    let reply = desk
        .http
        .post(desk.url("/v1/equipment/import"))
        .bearer_auth(token)
        .header("content-type", "text/csv")
        .body(csv)
        .send()
        .await
        .unwrap();
    let status = reply.status().as_u16();
    (status, reply.json().await.unwrap_or(Value::Null))
}

async fn lookup(desk: &Desk, token: &str, query: &str) -> Vec<Value> {
    let reply = desk.http.get(desk.url(&format!("/v1/equipment?{query}"))).bearer_auth(token).send().await.unwrap();
    assert_eq!(reply.status(), 200);
    reply.json().await.unwrap()
}

async fn equipment_is_created_and_found_by_serial(desk: Desk) {
    let (client, site) = client_and_site(&desk).await;
    let token = token(&desk, Role::Dispatcher).await;
    let body = json!({ "serial": "SN-1", "model": "FAS8300", "vendor": "NetApp", "client": client, "site": site, "covered_until": "2027-12-31" });
    let reply = desk.http.post(desk.url("/v1/equipment")).bearer_auth(&token).json(&body).send().await.unwrap();
    assert_eq!(reply.status(), 200);
    let found = lookup(&desk, &token, "serial=SN-1").await;
    assert_eq!((found.len(), found[0]["model"].as_str()), (1, Some("FAS8300")));
    let again = desk.http.post(desk.url("/v1/equipment")).bearer_auth(&token).json(&body).send().await.unwrap();
    assert_eq!(again.status(), 400, "a serial is registered once");
}

async fn a_csv_import_takes_good_rows_and_reports_bad_ones(desk: Desk) {
    let (client, site) = client_and_site(&desk).await;
    let token = token(&desk, Role::Dispatcher).await;
    let csv = format!(
        "serial,model,vendor,class,client,site,location_note,installed_on,covered_until\n\
         SN-A,R750,Dell,servers,{client},{site},\"Стойка 4, юнит 12\",2024-03-01,2027-03-01\n\
         SN-B,R750,Dell,servers,not-an-id,,,,\n\
         SN-C,R750,Dell,servers,{unknown},,,,\n\
         SN-D,R750,Dell,servers,{client},,,01/03/2024,\n\
         SN-A,R750,Dell,servers,{client},,,,\n\
         SN-E,,Dell,servers,{client},,,,\n\
         SN-F,9300,Cisco,networking,{client},{site},,,\n",
        unknown = DocId::from_u128(404)
    );
    let (status, report) = import(&desk, &token, csv).await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["imported"], 2, "{report}");
    let errors = report["errors"].as_array().unwrap();
    let lines: Vec<i64> = errors.iter().map(|e| e["line"].as_i64().unwrap()).collect();
    assert_eq!(lines, vec![3, 4, 5, 6, 7], "{report}");
    let says = |line: i64, words: &str| {
        let message = errors.iter().find(|e| e["line"] == line).unwrap()["message"].as_str().unwrap().to_owned();
        assert!(message.contains(words), "line {line}: {message:?} should mention {words:?}");
    };
    says(3, "not an id");
    says(4, "no client");
    says(5, "YYYY-MM-DD");
    says(6, "already registered");
    says(7, "model");
    assert_eq!(lookup(&desk, &token, &format!("client={client}")).await.len(), 2);
    let note = lookup(&desk, &token, "serial=SN-A").await;
    assert_eq!(note.len(), 1);
}

async fn bad_imports_and_other_roles_are_refused(desk: Desk) {
    let dispatcher = token(&desk, Role::Dispatcher).await;
    let reply = desk
        .http
        .post(desk.url("/v1/equipment/import"))
        .bearer_auth(&dispatcher)
        .json(&json!([]))
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 415);
    let (status, body) = import(&desk, &dispatcher, "serial,vendor\nSN-1,Dell\n".into()).await;
    assert_eq!(status, 400);
    assert!(body["message"].as_str().unwrap().contains("model"), "{body}");
    let engineer = token(&desk, Role::Engineer).await;
    assert_eq!(import(&desk, &engineer, "serial,model,client\n".into()).await.0, 403);
    let parts = token(&desk, Role::PartsDesk).await;
    assert_eq!(
        import(&desk, &parts, "serial,model,client\n".into()).await.0,
        403,
        "the parts desk reads equipment only"
    );
    assert!(lookup(&desk, &parts, "").await.is_empty());
}

async fn equipment_is_updated_by_the_desk_only(desk: Desk) {
    let (client, site) = client_and_site(&desk).await;
    let token = token(&desk, Role::Dispatcher).await;
    let body = json!({ "serial": "SN-U", "model": "R750", "client": client });
    let (_, created) = desk.post_json("/v1/equipment", &token, body).await;
    let id = created["id"].as_str().unwrap();
    let patch = |token: String, body: Value| {
        let url = desk.url(&format!("/v1/equipment/{id}"));
        let http = desk.http.clone();
        async move { http.patch(url).bearer_auth(token).json(&body).send().await.unwrap().status().as_u16() }
    };
    let update = json!({ "site": site, "location_note": "Стойка 7", "covered_until": "2028-06-30", "attributes": { "firmware": "9.12" } });
    assert_eq!(patch(token.clone(), update).await, 200);
    let found = lookup(&desk, &token, "serial=SN-U").await;
    assert_eq!(found[0]["site_id"], json!(site.to_string()));
    assert!(found[0]["covered_until"].as_i64().is_some());
    assert_eq!(patch(token.clone(), json!({ "covered_until": "soon" })).await, 400);
    assert_eq!(patch(token.clone(), json!({ "site": DocId::from_u128(3) })).await, 400);
    assert_eq!(patch(token.clone(), json!({ "serial": "NEW" })).await, 422, "a serial is not changed here");
    let missing = desk
        .http
        .patch(desk.url(&format!("/v1/equipment/{}", DocId::from_u128(8))))
        .bearer_auth(&token)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
    let engineer = token_for_engineer(&desk).await;
    assert_eq!(patch(engineer, json!({ "location_note": "x" })).await, 403);
}

async fn token_for_engineer(desk: &Desk) -> String {
    token(desk, Role::Engineer).await
}

on_both_backends!(
    equipment_is_updated_by_the_desk_only,
    equipment_is_created_and_found_by_serial,
    a_csv_import_takes_good_rows_and_reports_bad_ones,
    bad_imports_and_other_roles_are_refused,
);
