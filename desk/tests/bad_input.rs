//! Bad input at every entry: a 4xx with a clear message, and nothing changes.

mod support;

use outpost_sync::limits::WireLimits;
use outpost_sync::model::Role;
use outpost_sync::wire::{ErrorCode, ServerMessage};
use support::*;

/// Sends a 9 MiB sync request straight into the router (no socket, so the
/// early refusal cannot race the upload) and returns the status.
async fn huge_body_status(desk: &Desk, token: &str) -> u16 {
    use tower::ServiceExt;
    let router = outpost_desk::app(outpost_desk::AppState::new(desk.db.clone()));
    let request = axum::http::Request::post("/v1/sync")
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", outpost_desk::SYNC_CONTENT_TYPE)
        .body(axum::body::Body::from(vec![0u8; 9 * 1024 * 1024]))
        .unwrap();
    router.oneshot(request).await.unwrap().status().as_u16()
}

async fn devices(desk: &Desk) -> i64 {
    let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM devices").fetch_one(&desk.db.pool).await.unwrap();
    n
}

async fn feed_length(desk: &Desk) -> i64 {
    let (n,): (i64,) = sqlx::query_as("SELECT seq FROM feed_counter").fetch_one(&desk.db.pool).await.unwrap();
    n
}

async fn sync_requests_without_a_valid_token_or_body_are_refused(desk: Desk) {
    let engineer = desk.user(desk.service, Role::Engineer).await;
    let device = desk.pair(&engineer, 1).await;
    let before = feed_length(&desk).await;

    let no_token = desk
        .http
        .post(desk.url("/v1/sync"))
        .header("content-type", outpost_desk::SYNC_CONTENT_TYPE)
        .body(vec![1])
        .send()
        .await
        .unwrap();
    assert_eq!(no_token.status(), 401);
    assert!(no_token.text().await.unwrap().contains("bearer token"));

    let unknown = desk.post_sync("not-a-token", vec![1, 2, 3]).await;
    assert_eq!(unknown.status(), 401);
    let reply = ServerMessage::decode(&unknown.bytes().await.unwrap(), &WireLimits::default()).unwrap();
    assert!(matches!(reply, ServerMessage::Error(ref e) if e.code == ErrorCode::Unauthorized), "{reply:?}");

    let wrong_type = desk
        .http
        .post(desk.url("/v1/sync"))
        .bearer_auth(&device.paired.token)
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(wrong_type.status(), 415);

    let garbage = desk.post_sync(&device.paired.token, b"hello desk, how are you".to_vec()).await;
    assert_eq!(garbage.status(), 400);
    let reply = ServerMessage::decode(&garbage.bytes().await.unwrap(), &WireLimits::default()).unwrap();
    assert!(
        matches!(reply, ServerMessage::Error(ref e) if e.code == ErrorCode::BadRequest && e.message.contains("Outpost")),
        "{reply:?}"
    );

    assert_eq!(huge_body_status(&desk, &device.paired.token).await, 413, "an oversized body is refused");

    assert_eq!(feed_length(&desk).await, before, "nothing was written");
}

async fn a_pairing_code_works_once_and_not_after_it_expires(desk: Desk) {
    let engineer = desk.user(desk.service, Role::Engineer).await;
    let code = outpost_desk::accounts::issue_pairing_code(&desk.db.pool, engineer.user, outpost_desk::now(), 60_000)
        .await
        .unwrap();
    let pair = |code: String| {
        desk.http
            .post(desk.url("/v1/devices/pair"))
            .json(&serde_json::json!({ "code": code, "device_name": "tablet" }))
            .send()
    };
    assert_eq!(pair(code.clone()).await.unwrap().status(), 200);
    let again = pair(code).await.unwrap();
    assert_eq!(again.status(), 401, "a code is single-use");
    assert!(again.text().await.unwrap().contains("pairing code"));

    let stale = outpost_desk::accounts::issue_pairing_code(&desk.db.pool, engineer.user, T0, 60_000).await.unwrap();
    assert_eq!(pair(stale).await.unwrap().status(), 401, "an expired code is refused");
    assert_eq!(devices(&desk).await, 1, "only the first pairing made a device");
}

async fn malformed_pairing_requests_are_refused(desk: Desk) {
    let raw = |body: &'static str| {
        desk.http.post(desk.url("/v1/devices/pair")).header("content-type", "application/json").body(body).send()
    };
    assert_eq!(raw("{not json").await.unwrap().status(), 400);
    assert_eq!(raw(r#"{"code": "X", "device_name": "t", "admin": true}"#).await.unwrap().status(), 422);
    assert_eq!(raw(r#"{"code": "X", "device_name": ""}"#).await.unwrap().status(), 400);
    assert_eq!(raw(r#"{"code": "NOPE", "device_name": "t"}"#).await.unwrap().status(), 401);
    assert_eq!(devices(&desk).await, 0);
}

async fn desk_actions_name_real_things_and_real_callers(desk: Desk) {
    let dispatcher = desk.user(desk.service, Role::Dispatcher).await;
    let token = desk.api_token(dispatcher.user).await;
    let post = |path: String, token: Option<String>| {
        let request = desk.http.post(desk.url(&path));
        match token {
            Some(t) => request.bearer_auth(t).send(),
            None => request.send(),
        }
    };
    assert_eq!(
        post("/v1/devices/0190a000-0000-7000-8000-000000000000/revoke".into(), Some(token.clone()))
            .await
            .unwrap()
            .status(),
        404
    );
    assert_eq!(post("/v1/devices/not-an-id/revoke".into(), Some(token.clone())).await.unwrap().status(), 400);
    assert_eq!(
        post("/v1/users/0190a000-0000-7000-8000-000000000000/pairing-codes".into(), Some(token.clone()))
            .await
            .unwrap()
            .status(),
        404
    );
    assert_eq!(
        post(format!("/v1/users/{}/pairing-codes", dispatcher.user), Some(token.clone())).await.unwrap().status(),
        400,
        "desk users do not pair devices"
    );
    assert_eq!(post(format!("/v1/users/{}/pairing-codes", dispatcher.user), None).await.unwrap().status(), 401);
    assert_eq!(
        post(format!("/v1/users/{}/pairing-codes", dispatcher.user), Some("wrong".into())).await.unwrap().status(),
        401
    );
}

async fn an_expired_api_token_is_refused(desk: Desk) {
    let dispatcher = desk.user(desk.service, Role::Dispatcher).await;
    let engineer = desk.user(desk.service, Role::Engineer).await;
    let token =
        outpost_desk::accounts::issue_api_token(&desk.db.pool, dispatcher.user, "old", T0, Some(T0.plus_millis(1)))
            .await
            .unwrap();
    let reply = desk
        .http
        .post(desk.url(&format!("/v1/users/{}/pairing-codes", engineer.user)))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 401);
}

/// Every route the desk documents, called by its people with hostile text
/// in the path, the query and the body: always a clear 4xx, never a 5xx,
/// and nothing is stored.
async fn hostile_text_on_every_route_gets_a_4xx(desk: Desk) {
    let admin = desk.user(desk.service, Role::Admin).await;
    let parts_desk = desk.user(desk.service, Role::PartsDesk).await;
    let tokens = [desk.api_token(admin.user).await, desk.api_token(parts_desk.user).await];
    let spec: serde_json::Value =
        desk.http.get(desk.url("/api/openapi.json")).send().await.unwrap().json().await.unwrap();
    let before = feed_length(&desk).await;
    let long = "x".repeat(5_000);
    let path_values = ["%00", "%FF%FE", "..%2F..%2Fetc", "0190a000-0000-7000-8000-000000000009", long.as_str()];
    let long_query = format!("q={long}");
    let queries = [
        "q=%00",
        "status=%00",
        "region=a%00b",
        "assignee=%00",
        "partner_org=nope",
        "ticket=%00",
        "client=%00",
        "serial=%00",
        "team=%00",
        "limit=-1",
        "limit=99999999999999999999",
        "offset=x",
        "due_within_hours=4294967296",
        "breached=maybe",
        "%FF=1",
        "q=%FF",
        "q=%25%27%22%3B--",
        long_query.as_str(),
        "limit=1&limit=2",
        "wat=1",
    ];
    let bodies = [
        r#"{"name":"a\u0000b","title":"\u0000","org":"\u0000","role":"engineer","serial":"\u0000","text":"\u0000"}"#,
        r#"{"a\u0000":1}"#,
        "not json",
        "[]",
        "null",
        r#"{"name":1e999}"#,
    ];
    let mut tried = 0;
    for (template, methods) in spec["paths"].as_object().expect("the spec lists paths") {
        if template == "/v1/sync" || template == "/v1/devices/pair" {
            continue; // binary rounds and pairing have their own tests above
        }
        let paths: Vec<String> = if template.contains('{') {
            path_values
                .iter()
                .map(|v| {
                    template.split('/').map(|p| if p.starts_with('{') { *v } else { p }).collect::<Vec<_>>().join("/")
                })
                .collect()
        } else {
            vec![template.clone()]
        };
        for method in methods.as_object().unwrap().keys() {
            for path in &paths {
                for token in &tokens {
                    let method = axum::http::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
                    let mut requests = Vec::new();
                    if method == axum::http::Method::GET {
                        requests.push(desk.http.get(desk.url(path)));
                        for query in queries {
                            requests.push(desk.http.get(desk.url(&format!("{path}?{query}"))));
                        }
                    } else {
                        for body in bodies {
                            requests.push(
                                desk.http
                                    .request(method.clone(), desk.url(path))
                                    .header("content-type", "application/json")
                                    .body(body),
                            );
                        }
                    }
                    for request in requests {
                        let reply = request.bearer_auth(token).send().await.unwrap();
                        let status = reply.status();
                        let url = reply.url().clone();
                        tried += 1;
                        assert!(
                            status.is_client_error() || status.is_success(),
                            "{method} {url}: {status} {}",
                            reply.text().await.unwrap_or_default()
                        );
                        if method != axum::http::Method::GET {
                            assert!(!status.is_success(), "{method} {url} took a hostile body");
                        }
                    }
                }
            }
        }
    }
    assert!(tried > 500, "the spec's routes were all tried: {tried}");
    assert_eq!(feed_length(&desk).await, before, "nothing was written");

    let reply = desk.http.get(desk.url("/v1/tickets?q=a%00b")).bearer_auth(&tokens[0]).send().await.unwrap();
    assert_eq!(reply.status(), 400);
    let body: serde_json::Value = reply.json().await.unwrap();
    assert!(body["message"].as_str().unwrap().contains("NUL"), "{body}");
}

/// Every refusal comes in the one JSON shape, and the token is checked
/// before the body is read.
async fn refusals_share_one_shape_and_the_token_comes_first(desk: Desk) {
    let dispatcher = desk.user(desk.service, Role::Dispatcher).await;
    let token = desk.api_token(dispatcher.user).await;
    let send = |method: reqwest::Method, path: &str, token: Option<&str>, content_type: &str, body: &'static str| {
        let mut request = desk.http.request(method, desk.url(path)).header("content-type", content_type).body(body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send()
    };
    /// A request, and the status and error kind it must get.
    struct Case<'a> {
        method: reqwest::Method,
        path: &'a str,
        token: Option<&'a str>,
        content_type: &'a str,
        body: &'static str,
        status: u16,
        kind: &'a str,
    }
    let case = |method, path, token, content_type, body, status, kind| Case {
        method,
        path,
        token,
        content_type,
        body,
        status,
        kind,
    };
    let (post, get, delete) = (reqwest::Method::POST, reqwest::Method::GET, reqwest::Method::DELETE);
    let json = "application/json";
    let cases = [
        case(post.clone(), "/v1/tickets", None, json, "{oops", 401, "unauthorized"),
        case(post.clone(), "/v1/tickets", Some("wrong"), "text/plain", "x", 401, "unauthorized"),
        case(post.clone(), "/v1/tickets", Some(&token), json, "{oops", 400, "bad_request"),
        case(post.clone(), "/v1/tickets", Some(&token), "text/plain", "{}", 415, "unsupported_media_type"),
        case(post, "/v1/tickets", Some(&token), json, "{\"title\": 5}", 422, "unprocessable"),
        case(get, "/v1/no-such-route", Some(&token), json, "", 404, "not_found"),
        case(delete, "/v1/tickets", Some(&token), json, "", 405, "method_not_allowed"),
    ];
    for Case { method, path, token, content_type, body, status, kind } in cases {
        let reply = send(method.clone(), path, token, content_type, body).await.unwrap();
        assert_eq!(reply.status().as_u16(), status, "{method} {path} {body:?}");
        let shape: serde_json::Value = reply.json().await.expect("a JSON body");
        assert_eq!(shape["error"], kind, "{method} {path}: {shape}");
        assert!(!shape["message"].as_str().unwrap_or("").is_empty(), "{method} {path} says what is wrong");
    }
}

on_both_backends!(
    refusals_share_one_shape_and_the_token_comes_first,
    hostile_text_on_every_route_gets_a_4xx,
    sync_requests_without_a_valid_token_or_body_are_refused,
    a_pairing_code_works_once_and_not_after_it_expires,
    malformed_pairing_requests_are_refused,
    desk_actions_name_real_things_and_real_callers,
    an_expired_api_token_is_refused,
);
