//! Reference data: the desk writes clients, sites, articles and templates;
//! devices receive articles and templates to read offline.

mod support;

use outpost_sync::model::{DocKind, Role};
use serde_json::{json, Value};
use support::*;

async fn post(desk: &Desk, token: &str, path: &str, body: Value) -> (u16, Value) {
    desk.post_json(path, token, body).await
}

async fn get(desk: &Desk, token: &str, path: &str) -> (u16, Value) {
    desk.get_json(path, token).await
}

async fn the_desk_writes_reference_data_and_devices_read_articles_offline(desk: Desk) {
    let dispatcher = desk.user(desk.service, Role::Dispatcher).await;
    let token = desk.api_token(dispatcher.user).await;
    let (status, client) = post(
        &desk,
        &token,
        "/v1/clients",
        json!({ "name": "АО «Аэропорт»", "weekly": [[1, 570, 1110], [2, 570, 1110]], "holidays": ["2027-01-01"], "points_balance": 4000, "language": "ru" }),
    )
    .await;
    assert_eq!(status, 200, "{client}");
    let (status, _) = post(
        &desk,
        &token,
        "/v1/sites",
        json!({ "client": client["id"], "name": "Терминал A", "address": "Новосибирск", "region": "Новосибирск", "time_zone": "Asia/Novosibirsk", "lat": 55.0, "lon": 82.6 }),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        post(
            &desk,
            &token,
            "/v1/kb-articles",
            json!({ "title": "Сброс контроллера", "body": "Удерживайте кнопку…", "language": "ru" })
        )
        .await
        .0,
        200
    );
    assert_eq!(
        post(
            &desk,
            &token,
            "/v1/checklist-templates",
            json!({ "name": "Выезд", "items": [["a", "Осмотр"], ["b", "Журналы"]] })
        )
        .await
        .0,
        200
    );
    let (_, clients) = get(&desk, &token, "/v1/clients").await;
    assert_eq!(clients[0]["name"], "АО «Аэропорт»");
    assert_eq!(clients[0]["points_balance"]["hundredths"], 4000);
    assert_eq!(clients[0]["language"], "ru", "the language its papers are written in");
    let path = format!("/v1/clients/{}", client["id"].as_str().unwrap());
    assert_eq!(desk.patch_json(&path, &token, json!({ "language": "en" })).await.0, 200);
    assert_eq!(get(&desk, &token, "/v1/clients").await.1[0]["language"], "en");
    assert_eq!(get(&desk, &token, "/v1/sites").await.1.as_array().unwrap().len(), 1);

    let engineer = desk.user(desk.service, Role::Engineer).await;
    let mut device = desk.pair(&engineer, 1).await;
    device.sync(&desk).await;
    let kinds: Vec<DocKind> =
        device.local.doc_ids().filter_map(|id| device.local.document(id)).map(|d| d.kind()).collect();
    assert!(kinds.contains(&DocKind::KbArticle) && kinds.contains(&DocKind::ChecklistTemplate), "{kinds:?}");
    assert!(!kinds.contains(&DocKind::Client), "clients travel only with the engineer's tickets");
}

async fn bad_reference_data_is_refused(desk: Desk) {
    let dispatcher = desk.user(desk.service, Role::Dispatcher).await;
    let token = desk.api_token(dispatcher.user).await;
    let (_, client) = post(&desk, &token, "/v1/clients", json!({ "name": "C", "always": true })).await;
    for (path, body) in [
        ("/v1/clients", json!({ "name": "C" })),
        ("/v1/clients", json!({ "name": "C", "weekly": [[8, 1, 2]] })),
        ("/v1/clients", json!({ "name": "C", "weekly": [[1, 600, 500]] })),
        ("/v1/clients", json!({ "name": "C", "always": true, "holidays": ["tomorrow"] })),
        ("/v1/clients", json!({ "name": " ", "always": true })),
        ("/v1/clients", json!({ "name": "C", "always": true, "language": "de" })),
        (
            "/v1/sites",
            json!({ "client": client["id"], "name": "S", "address": "A", "region": "R", "time_zone": "Mars/Base" }),
        ),
        (
            "/v1/sites",
            json!({ "client": "0190a000-0000-7000-8000-000000000001", "name": "S", "address": "A", "region": "R", "time_zone": "UTC" }),
        ),
        (
            "/v1/sites",
            json!({ "client": client["id"], "name": "S", "address": "A", "region": "R", "time_zone": "UTC", "lat": 1.0 }),
        ),
        (
            "/v1/sites",
            json!({ "client": client["id"], "name": "S", "address": "A", "region": "R", "time_zone": "UTC", "lat": 91.0, "lon": 0.0 }),
        ),
        ("/v1/checklist-templates", json!({ "name": "T", "items": [] })),
        ("/v1/checklist-templates", json!({ "name": "T", "items": [["a", "x"], ["a", "y"]] })),
        ("/v1/kb-articles", json!({ "title": "T", "body": "x".repeat(70_000), "language": "ru" })),
    ] {
        let (status, reply) = post(&desk, &token, path, body.clone()).await;
        assert_eq!(status, 400, "{path} {body}: {reply}");
    }
    let engineer = desk.user(desk.service, Role::Engineer).await;
    let engineer_token = desk.api_token(engineer.user).await;
    assert_eq!(
        post(&desk, &engineer_token, "/v1/kb-articles", json!({ "title": "T", "body": "b", "language": "ru" })).await.0,
        403
    );
    assert_eq!(get(&desk, &engineer_token, "/v1/clients").await.0, 403);
    assert_eq!(get(&desk, &token, "/v1/clients").await.1.as_array().unwrap().len(), 1, "only the good client exists");
}

async fn the_desk_tops_up_points_and_edits_articles(desk: Desk) {
    let dispatcher = desk.user(desk.service, Role::Dispatcher).await;
    let token = desk.api_token(dispatcher.user).await;
    let (_, client) =
        post(&desk, &token, "/v1/clients", json!({ "name": "C", "always": true, "points_balance": 500 })).await;
    let (_, article) =
        post(&desk, &token, "/v1/kb-articles", json!({ "title": "T", "body": "Шаг 1", "language": "ru" })).await;
    let patch = |path: String, token: String, body: Value| {
        let http = desk.http.clone();
        let url = desk.url(&path);
        async move { http.patch(url).bearer_auth(token).json(&body).send().await.unwrap().status().as_u16() }
    };
    let client_path = format!("/v1/clients/{}", client["id"].as_str().unwrap());
    let article_path = format!("/v1/kb-articles/{}", article["id"].as_str().unwrap());
    assert_eq!(patch(client_path.clone(), token.clone(), json!({ "points_balance": 4_500 })).await, 200);
    assert_eq!(get(&desk, &token, "/v1/clients").await.1[0]["points_balance"]["hundredths"], 4_500);
    assert_eq!(patch(article_path.clone(), token.clone(), json!({ "body": "Шаг 1\nШаг 2" })).await, 200);
    assert_eq!(get(&desk, &token, "/v1/kb-articles").await.1[0]["body"], "Шаг 1\nШаг 2");
    assert_eq!(patch(client_path.clone(), token.clone(), json!({ "name": "" })).await, 400);
    assert_eq!(patch(client_path.clone(), token.clone(), json!({ "colour": 1 })).await, 422);
    assert_eq!(patch(client_path.clone(), token.clone(), json!({ "language": "fr" })).await, 400);
    let wrong_kind = format!("/v1/kb-articles/{}", client["id"].as_str().unwrap());
    assert_eq!(patch(wrong_kind, token.clone(), json!({ "title": "x" })).await, 404, "a client is not an article");
    assert_eq!(patch("/v1/clients/0190a000-0000-7000-8000-000000000001".into(), token.clone(), json!({})).await, 404);
    let engineer = desk.user(desk.service, Role::Engineer).await;
    let engineer_token = desk.api_token(engineer.user).await;
    assert_eq!(patch(client_path, engineer_token, json!({ "points_balance": 999_999 })).await, 403);
}

on_both_backends!(
    the_desk_tops_up_points_and_edits_articles,
    the_desk_writes_reference_data_and_devices_read_articles_offline,
    bad_reference_data_is_refused
);
