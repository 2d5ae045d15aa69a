//! The OpenAPI document lists only routes the desk serves, with the method
//! it serves them by.

mod support;

use outpost_sync::model::Role;
use support::*;

async fn every_documented_route_exists(desk: Desk) {
    let doc: serde_json::Value =
        desk.http.get(desk.url("/api/openapi.json")).send().await.unwrap().json().await.unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    let dispatcher = desk.user(desk.service, Role::Dispatcher).await;
    let token = desk.api_token(dispatcher.user).await;
    let paths = doc["paths"].as_object().expect("paths");
    assert!(paths.len() >= 15, "the document lists the desk's routes");
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
        }
    }
}

on_both_backends!(every_documented_route_exists);
