//! What a company asks of its devices out of reach: set by an admin,
//! refused when malformed, and carried on every sync reply to that
//! company's devices only.

mod support;

use outpost_sync::model::Role;
use outpost_sync::policy::{DevicePolicy, POLICY_HEADER};
use serde_json::json;
use support::*;

async fn policy_header(desk: &Desk, token: &str) -> Option<DevicePolicy> {
    let reply = desk.post_sync(token, b"not a round".to_vec()).await;
    let value = reply.headers().get(POLICY_HEADER)?.to_str().unwrap().to_owned();
    Some(DevicePolicy::from_header(&value).expect("the desk sends a valid policy"))
}

async fn an_admin_sets_a_companys_contact_window_and_its_devices_hear_it(desk: Desk) {
    let admin = desk.user(desk.service, Role::Admin).await;
    let admin = desk.api_token(admin.user).await;
    let dispatcher = desk.user(desk.service, Role::Dispatcher).await;
    let dispatcher = desk.api_token(dispatcher.user).await;
    let partner = format!("/v1/orgs/{}/device-policy", desk.partner);

    let (status, policy) = desk.get_json(&partner, &dispatcher).await;
    assert_eq!((status, policy), (200, json!({ "contact_window_days": null })), "none until set");
    let (status, _) = desk.put_json(&partner, &dispatcher, json!({ "contact_window_days": 14 })).await;
    assert_eq!(status, 403, "only an admin sets it");
    for bad in [
        json!({ "contact_window_days": 0 }),
        json!({ "contact_window_days": 366 }),
        json!({ "contact_window_days": -3 }),
        json!({ "contact_window_days": "14" }),
        json!({ "days": 14 }),
        json!([]),
    ] {
        let (status, reply) = desk.put_json(&partner, &admin, bad.clone()).await;
        assert!(matches!(status, 400 | 422), "{bad} is refused in words: {status} {reply}");
    }
    let (status, _) = desk.put_json("/v1/orgs/not-an-id/device-policy", &admin, json!({})).await;
    assert_eq!(status, 400);
    let unknown = format!("/v1/orgs/{}/device-policy", uuid::Uuid::now_v7());
    assert_eq!(desk.put_json(&unknown, &admin, json!({ "contact_window_days": 14 })).await.0, 404);
    assert_eq!(desk.get_json(&unknown, &admin).await.0, 404);
    assert_eq!(desk.get_json(&partner, &admin).await.1, json!({ "contact_window_days": null }), "nothing changed");

    let (status, reply) = desk.put_json(&partner, &admin, json!({ "contact_window_days": 14 })).await;
    assert_eq!((status, reply), (200, json!({ "contact_window_days": 14 })));
    assert_eq!(desk.get_json(&partner, &dispatcher).await.1, json!({ "contact_window_days": 14 }));

    let partner_engineer = desk.user(desk.partner, Role::PartnerEngineer).await;
    let staff_engineer = desk.user(desk.service, Role::Engineer).await;
    let partner_device = desk.pair(&partner_engineer, 1).await;
    let staff_device = desk.pair(&staff_engineer, 2).await;
    assert_eq!(
        policy_header(&desk, &partner_device.paired.token).await,
        Some(DevicePolicy { contact_window_days: Some(14) }),
        "the partner's device hears its company's window"
    );
    assert_eq!(
        policy_header(&desk, &staff_device.paired.token).await,
        Some(DevicePolicy::default()),
        "another company's devices do not"
    );
    assert_eq!(policy_header(&desk, "not-a-token").await, None, "a caller without a device learns nothing");

    let (status, _) = desk.put_json(&partner, &admin, json!({ "contact_window_days": null })).await;
    assert_eq!(status, 200);
    assert_eq!(policy_header(&desk, &partner_device.paired.token).await, Some(DevicePolicy::default()), "lifted");
}

on_both_backends!(an_admin_sets_a_companys_contact_window_and_its_devices_hear_it);
