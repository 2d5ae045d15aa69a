//! The OpenAPI document lists only routes the desk serves, with the method
//! it serves them by, and the desk answers as the document says on the
//! points the document promises: page sizes, enums, credentials first.

mod support;

use outpost_sync::model::Role;
use support::*;

async fn every_documented_route_exists(desk: Desk) {
    let doc: serde_json::Value =
        desk.http.get(desk.url("/api/openapi.json")).send().await.unwrap().json().await.unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    assert!(doc.get("servers").is_none(), "the document names no server");
    let dispatcher = desk.user(desk.service, Role::Dispatcher).await;
    let token = desk.api_token(dispatcher.user).await;
    let paths = doc["paths"].as_object().expect("paths");
    assert!(paths.len() >= 30, "the document lists the desk's routes");
    for (path, operations) in paths {
        let concrete = path
            .replace("{hash}", &"a".repeat(64))
            .replace("{id}", "0190a000-0000-7000-8000-000000000001")
            .replace("{action}", "approve");
        for method in operations.as_object().unwrap().keys() {
            let method = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let reply =
                desk.http.request(method.clone(), desk.url(&concrete)).bearer_auth(&token).send().await.unwrap();
            let status = reply.status().as_u16();
            let body = reply.text().await.unwrap();
            assert_ne!(status, 405, "{method} {path} is documented but the router does not take that method");
            if status == 404 {
                assert!(body.contains("\"error\""), "{method} {path} is documented but the router does not know it");
            }
            let documented = &doc["paths"][path][method.as_str().to_lowercase()]["responses"];
            assert!(
                documented.get(status.to_string()).is_some(),
                "{method} {path} answered {status}, which its document does not list: {body}"
            );
        }
    }
}

on_both_backends!(every_documented_route_exists);

/// What the document says of page sizes and enums, the desk enforces: a
/// size out of range is refused, not quietly clamped; a move the desk does
/// not make is a body of the wrong shape.
async fn the_desk_refuses_what_its_document_rules_out(desk: Desk) {
    let admin = desk.user(desk.service, Role::Admin).await;
    let token = desk.api_token(admin.user).await;
    for query in ["limit=0", "limit=1001", "offset=1000001", "due_within_hours=9000", "status=flying"] {
        let (status, body) = desk.get_json(&format!("/v1/tickets?{query}"), &token).await;
        assert_eq!(status, 400, "{query}: {body}");
        assert_eq!(body["error"], "bad_request");
    }
    assert_eq!(desk.get_json("/v1/tickets?limit=1000", &token).await.0, 200, "the documented maximum is taken");
    assert_eq!(desk.get_json("/v1/clients?limit=5001", &token).await.0, 400);
    assert_eq!(desk.get_json("/v1/reports/sla?from=0&to=1&by=weather", &token).await.0, 400);
    // Without a token the sync route says so before it looks at the body's type.
    let reply = desk.http.post(desk.url("/v1/sync")).body("x").send().await.unwrap();
    assert_eq!(reply.status(), 401);
}

on_both_backends!(the_desk_refuses_what_its_document_rules_out);

/// An admin cannot lock themselves out; another admin can revoke them.
async fn an_admin_cannot_revoke_themselves(desk: Desk) {
    let admin = desk.user(desk.service, Role::Admin).await;
    let other = desk.user(desk.service, Role::Admin).await;
    let token = desk.api_token(admin.user).await;
    let (status, body) =
        desk.post_json(&format!("/v1/users/{}/revoke", admin.user), &token, serde_json::json!({})).await;
    assert_eq!((status, body["error"].as_str()), (409, Some("conflict")), "{body}");
    assert_eq!(desk.get_json("/v1/users", &token).await.0, 200, "the token still works");
    let other_token = desk.api_token(other.user).await;
    let (status, revoked) =
        desk.post_json(&format!("/v1/users/{}/revoke", admin.user), &other_token, serde_json::json!({})).await;
    assert_eq!(status, 200, "{revoked}");
    assert!(revoked["api_tokens"].as_u64().unwrap() >= 1);
    assert_eq!(desk.get_json("/v1/users", &token).await.0, 401);
}

on_both_backends!(an_admin_cannot_revoke_themselves);
