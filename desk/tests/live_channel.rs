//! The live channel (`GET /v1/sync/live`): a change pokes the devices that
//! may read it and no one else; a revocation asks the device for a round;
//! callers without a device token, and a device holding too many
//! channels, are refused in the one JSON error shape.

mod support;

use std::time::Duration;

use outpost_sync::model::{Client, Role};
use serde_json::json;
use support::*;

/// One open live channel, read event by event.
struct Channel {
    response: reqwest::Response,
    buffer: String,
}

impl Channel {
    async fn open(desk: &Desk, token: &str) -> Self {
        let response = desk.http.get(desk.url("/v1/sync/live")).bearer_auth(token).send().await.unwrap();
        assert_eq!(response.status(), 200);
        let kind = response.headers()["content-type"].to_str().unwrap().to_owned();
        assert!(kind.starts_with("text/event-stream"), "{kind}");
        Self { response, buffer: String::new() }
    }

    /// The next event's name and data, skipping comments; guarded against hanging.
    async fn next(&mut self) -> (String, serde_json::Value) {
        let read = async {
            loop {
                if let Some(end) = self.buffer.find("\n\n") {
                    let block: String = self.buffer.drain(..end + 2).collect();
                    let field = |name: &str| {
                        block
                            .lines()
                            .find_map(|l| l.strip_prefix(name))
                            .map(|v| v.trim().to_owned())
                            .unwrap_or_default()
                    };
                    let (event, data) = (field("event:"), field("data:"));
                    if !event.is_empty() {
                        return (event, serde_json::from_str(&data).unwrap());
                    }
                    continue;
                }
                let chunk = self.response.chunk().await.unwrap().expect("the channel stays open");
                self.buffer.push_str(std::str::from_utf8(&chunk).unwrap());
            }
        };
        tokio::time::timeout(Duration::from_secs(30), read).await.expect("an event came")
    }

    /// The feed position of the next event, which must be a poke.
    async fn poke(&mut self) -> i64 {
        let (event, data) = self.next().await;
        assert_eq!(event, "poke", "{data}");
        data["seq"].as_i64().unwrap()
    }
}

async fn feed_position(desk: &Desk) -> i64 {
    let (seq,): (i64,) =
        sqlx::query_as("SELECT seq FROM feed_counter WHERE id = 1").fetch_one(&desk.db.pool).await.unwrap();
    seq
}

async fn client_and_dispatcher(desk: &Desk) -> (Client, String) {
    let client = desk.contract_client().await;
    let dispatcher = desk.user(desk.service, Role::Dispatcher).await;
    (client, desk.api_token(dispatcher.user).await)
}

async fn ticket_for(desk: &Desk, token: &str, client: &Client, engineer: &outpost_sync::model::Actor) -> String {
    let (status, created) = desk.post_json("/v1/tickets", token, json!({ "title": "Till", "client": client.id })).await;
    assert_eq!(status, 200, "{created}");
    let id = created["id"].as_str().unwrap().to_owned();
    let (status, reply) =
        desk.post_json(&format!("/v1/tickets/{id}/assign"), token, json!({ "engineer": engineer.user })).await;
    assert_eq!(status, 200, "{reply}");
    id
}

async fn a_change_pokes_the_devices_that_may_read_it_and_no_one_else(desk: Desk) {
    let (client, token) = client_and_dispatcher(&desk).await;
    let engineer = desk.user(desk.service, Role::Engineer).await;
    let partner = desk.user(desk.partner, Role::PartnerEngineer).await;
    let rival = desk.user(desk.other_partner, Role::PartnerEngineer).await;
    let ours = ticket_for(&desk, &token, &client, &engineer).await;
    let theirs = ticket_for(&desk, &token, &client, &partner).await;
    let (e, p, r) = (desk.pair(&engineer, 1).await, desk.pair(&partner, 2).await, desk.pair(&rival, 3).await);
    let mut channels = Vec::new();
    for device in [&e, &p, &r] {
        let mut channel = Channel::open(&desk, &device.paired.token).await;
        assert_eq!(channel.poke().await, feed_position(&desk).await, "the first event says where the feed is");
        channels.push(channel);
    }

    desk.post_json(&format!("/v1/tickets/{ours}/notes"), &token, json!({ "text": "for ours" })).await;
    let first = feed_position(&desk).await;
    assert!(channels[0].poke().await >= first, "the assigned engineer hears of a note on their ticket");
    desk.post_json(&format!("/v1/tickets/{theirs}/notes"), &token, json!({ "text": "for the partner" })).await;
    let second = feed_position(&desk).await;
    assert!(channels[1].poke().await >= second, "so does the partner on theirs");

    // Had the rival company's device been poked for either note, its next
    // event would carry that position; its first is for its own ticket.
    let own = ticket_for(&desk, &token, &client, &rival).await;
    let third = feed_position(&desk).await;
    assert!(channels[2].poke().await >= third, "the rival heard only of its own ticket {own}");
    assert!(channels[0].poke().await > second, "and ours was not poked for the partner's note");
}

async fn a_revoked_device_is_asked_for_a_round_and_bad_callers_are_refused(desk: Desk) {
    let engineer = desk.user(desk.service, Role::Engineer).await;
    let device = desk.pair(&engineer, 1).await;
    let dispatcher = desk.user(desk.service, Role::Dispatcher).await;
    let api_token = desk.api_token(dispatcher.user).await;
    for (token, what) in [("", "no token"), ("not-a-token", "an unknown token"), (api_token.as_str(), "an API token")] {
        let response = desk.http.get(desk.url("/v1/sync/live")).bearer_auth(token).send().await.unwrap();
        assert_eq!(response.status(), 401, "{what}");
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body["error"], "unauthorized", "{what}: {body}");
    }

    let mut open = Vec::new();
    for _ in 0..outpost_desk::live::MAX_CHANNELS_PER_DEVICE {
        let mut channel = Channel::open(&desk, &device.paired.token).await;
        channel.poke().await;
        open.push(channel);
    }
    let response = desk.http.get(desk.url("/v1/sync/live")).bearer_auth(&device.paired.token).send().await.unwrap();
    assert_eq!(response.status(), 429, "one device cannot hold channels without end");
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["error"], "too_many_requests", "{body}");
    drop(open.pop());
    // The closed channel leaves the registry once the desk notices the hang-up.
    let mut reopened = None;
    for _ in 0..100 {
        let response = desk.http.get(desk.url("/v1/sync/live")).bearer_auth(&device.paired.token).send().await.unwrap();
        if response.status() == 200 {
            reopened = Some(Channel { response, buffer: String::new() });
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let mut channel = reopened.expect("a closed channel makes room for another");
    channel.poke().await;

    let (status, reply) =
        desk.post_json(&format!("/v1/devices/{}/revoke", device.paired.id), &api_token, json!({})).await;
    assert_eq!(status, 200, "{reply}");
    for channel in open.iter_mut().chain([&mut channel]) {
        assert_eq!(channel.next().await.0, "round", "each channel asks its device for the round that wipes it");
    }
}

on_both_backends!(
    a_change_pokes_the_devices_that_may_read_it_and_no_one_else,
    a_revoked_device_is_asked_for_a_round_and_bad_callers_are_refused
);
