//! Admins add companies and people; nobody else does.

mod support;

use outpost_sync::model::Role;
use serde_json::{json, Value};
use support::*;

async fn post(desk: &Desk, token: &str, path: &str, body: Value) -> (u16, Value) {
    desk.post_json(path, token, body).await
}

async fn an_admin_adds_a_partner_and_its_engineer_who_can_pair(desk: Desk) {
    let admin = desk.user(desk.service, Role::Admin).await;
    let token = desk.api_token(admin.user).await;
    let (status, org) = post(&desk, &token, "/v1/orgs", json!({ "name": "Волга Сервис" })).await;
    assert_eq!(status, 200, "{org}");
    assert_eq!(post(&desk, &token, "/v1/orgs", json!({ "name": "Волга Сервис" })).await.0, 409, "names are unique");
    let org_id = org["id"].as_str().unwrap();
    let (status, person) =
        post(&desk, &token, "/v1/users", json!({ "org": org_id, "name": "Пётр", "role": "partner_engineer" })).await;
    assert_eq!(status, 200, "{person}");
    let code = person["pairing_code"].as_str().expect("a field user gets a pairing code");
    let paired = desk
        .http
        .post(desk.url("/v1/devices/pair"))
        .json(&json!({ "code": code, "device_name": "tablet" }))
        .send()
        .await
        .unwrap();
    assert_eq!(paired.status(), 200);
    let (status, dispatcher) =
        post(&desk, &token, "/v1/users", json!({ "org": desk.service, "name": "Ольга", "role": "dispatcher" })).await;
    assert_eq!(status, 200);
    let new_token = dispatcher["api_token"].as_str().expect("a desk user gets an API token");
    let users = desk.http.get(desk.url("/v1/users")).bearer_auth(new_token).send().await.unwrap();
    assert_eq!(users.status(), 200, "the new dispatcher's token works");
}

async fn bad_people_and_other_roles_are_refused(desk: Desk) {
    let admin = desk.user(desk.service, Role::Admin).await;
    let token = desk.api_token(admin.user).await;
    let cases = [
        json!({ "org": desk.partner, "name": "X", "role": "dispatcher" }),
        json!({ "org": desk.service, "name": "X", "role": "partner_engineer" }),
        json!({ "org": desk.service, "name": "X", "role": "wizard" }),
        json!({ "org": desk.service, "name": "", "role": "engineer" }),
        json!({ "org": "0190a000-0000-7000-8000-000000000009", "name": "X", "role": "engineer" }),
    ];
    for case in cases {
        assert_eq!(post(&desk, &token, "/v1/users", case.clone()).await.0, 400, "{case}");
    }
    assert_eq!(
        post(&desk, &token, "/v1/users", json!({ "org": desk.service, "name": "X", "role": "engineer", "x": 1 }))
            .await
            .0,
        422
    );
    let dispatcher = desk.user(desk.service, Role::Dispatcher).await;
    let dispatcher_token = desk.api_token(dispatcher.user).await;
    assert_eq!(
        post(&desk, &dispatcher_token, "/v1/users", json!({ "org": desk.service, "name": "X", "role": "admin" }))
            .await
            .0,
        403
    );
    assert_eq!(post(&desk, &dispatcher_token, "/v1/orgs", json!({ "name": "Y" })).await.0, 403);
    let (count,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM users").fetch_one(&desk.db.pool).await.unwrap();
    assert_eq!(count, 2, "only the two test people exist");
}

async fn teams_status(desk: &Desk, token: &str) -> u16 {
    desk.http.get(desk.url("/v1/teams")).bearer_auth(token).send().await.unwrap().status().as_u16()
}

async fn revoked_api_tokens_and_teams(desk: Desk) {
    let admin = desk.user(desk.service, Role::Admin).await;
    let token = desk.api_token(admin.user).await;
    let dispatcher = desk.user(desk.service, Role::Dispatcher).await;
    let dispatcher_token = desk.api_token(dispatcher.user).await;
    assert_eq!(teams_status(&desk, &dispatcher_token).await, 200);
    let (status, revoked) = post(&desk, &token, &format!("/v1/users/{}/revoke", dispatcher.user), json!({})).await;
    assert_eq!((status, revoked["api_tokens"].as_i64()), (200, Some(1)));
    assert_eq!(teams_status(&desk, &dispatcher_token).await, 401, "a revoked token is refused");
    assert_eq!(post(&desk, &token, "/v1/users/0190a000-0000-7000-8000-000000000009/revoke", json!({})).await.0, 404);

    assert_eq!(post(&desk, &token, "/v1/teams", json!({ "name": "storage", "description": "Arrays" })).await.0, 200);
    assert_eq!(post(&desk, &token, "/v1/teams", json!({ "name": "storage" })).await.0, 409);
    assert_eq!(post(&desk, &token, "/v1/teams", json!({ "name": "" })).await.0, 400);
    let teams: Value =
        desk.http.get(desk.url("/v1/teams")).bearer_auth(&token).send().await.unwrap().json().await.unwrap();
    assert_eq!(teams[0]["name"], "storage");
    let engineer = desk.user(desk.service, Role::Engineer).await;
    let engineer_token = desk.api_token(engineer.user).await;
    assert_eq!(post(&desk, &engineer_token, "/v1/teams", json!({ "name": "x" })).await.0, 403);
}

async fn revoking_a_field_person_takes_their_devices_and_pairing_codes(desk: Desk) {
    let admin = desk.user(desk.service, Role::Admin).await;
    let token = desk.api_token(admin.user).await;
    let engineer = desk.user(desk.partner, Role::PartnerEngineer).await;
    let mut device = desk.pair(&engineer, 1).await;
    let api_token = desk.api_token(engineer.user).await;
    let (_, code) = post(&desk, &token, &format!("/v1/users/{}/pairing-codes", engineer.user), json!({})).await;
    let code = code["code"].as_str().expect("a pairing code").to_owned();

    let (status, revoked) = post(&desk, &token, &format!("/v1/users/{}/revoke", engineer.user), json!({})).await;
    assert_eq!(status, 200);
    assert_eq!(revoked, json!({ "api_tokens": 1, "devices": 1, "pairing_codes": 1 }), "one action takes everything");

    let pairing = desk
        .http
        .post(desk.url("/v1/devices/pair"))
        .json(&json!({ "code": code, "device_name": "stolen tablet" }))
        .send()
        .await
        .unwrap();
    assert!(pairing.status().is_client_error(), "an outstanding pairing code no longer works: {}", pairing.status());
    assert_eq!(desk.get_json("/v1/tickets", &api_token).await.0, 401, "the API token is refused");
    device.sync(&desk).await;
    assert!(device.local.is_wiped(), "the device is told to wipe at its next contact");
    let (_, audit) = desk.get_json("/v1/audit", &token).await;
    assert!(audit.to_string().contains("person_revoked"), "the revocation is in the audit log: {audit}");
}

/// Guessing pairing codes is slowed down: after ten failures from one
/// address, even a right code waits, with a clear 429 and when to retry.
async fn failed_pairing_attempts_are_throttled(desk: Desk) {
    let admin = desk.user(desk.service, Role::Admin).await;
    let token = desk.api_token(admin.user).await;
    let (status, person) =
        post(&desk, &token, "/v1/users", json!({ "org": desk.partner, "name": "Ира", "role": "partner_engineer" }))
            .await;
    assert_eq!(status, 200, "{person}");
    let code = person["pairing_code"].as_str().unwrap().to_owned();
    let pair = |code: String| {
        desk.http.post(desk.url("/v1/devices/pair")).json(&json!({ "code": code, "device_name": "tablet" })).send()
    };
    for guess in 0..10 {
        assert_eq!(pair(format!("WRONG{guess:03}")).await.unwrap().status(), 401, "guess {guess}");
    }
    let throttled = pair(code.clone()).await.unwrap();
    assert_eq!(throttled.status(), 429);
    let retry_after: u64 = throttled.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=15 * 60).contains(&retry_after), "{retry_after}");
    let body: Value = throttled.json().await.unwrap();
    assert_eq!(body["error"], "too_many_requests");
    assert!(body["message"].as_str().unwrap().contains("too many failed pairing attempts"), "{body}");
    let failures: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM pairing_failures").fetch_one(&desk.db.pool).await.unwrap();
    assert_eq!(failures, 10, "a throttled attempt is not itself counted, nor is the code spent");
    let used: Option<i64> = sqlx::query_scalar("SELECT used_at FROM pairing_codes WHERE user_id = $1")
        .bind(person["id"].as_str().unwrap())
        .fetch_one(&desk.db.pool)
        .await
        .unwrap();
    assert_eq!(used, None, "the right code stays unspent while throttled");
}

on_both_backends!(
    failed_pairing_attempts_are_throttled,
    revoked_api_tokens_and_teams,
    revoking_a_field_person_takes_their_devices_and_pairing_codes,
    an_admin_adds_a_partner_and_its_engineer_who_can_pair,
    bad_people_and_other_roles_are_refused
);
