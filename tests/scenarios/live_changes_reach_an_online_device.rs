//! An online device hears of the desk's changes at once: the app core's
//! background loop keeps the desk's live channel open, and a dispatcher's
//! note, a write made by another process on the desk's database, and a
//! revocation each reach it without waiting for the periodic sync (set to
//! an hour here, so nothing but the live channel can explain a sync).

use std::time::Duration;

use outpost_core::sync::{Schedule, SyncLoop};
use outpost_core::{Device, DeviceEvent};
use outpost_scenarios::{job_for, Desk};
use outpost_sync::model::{Document, Role};
use tokio::sync::broadcast::Receiver;

/// Polling so rare that only the live channel makes the device sync.
fn hourly() -> Schedule {
    Schedule {
        after_edit: Duration::from_millis(100),
        periodic: Duration::from_secs(3_600),
        first_retry: Duration::from_millis(200),
        max_retry: Duration::from_secs(1),
    }
}

/// The next event `wanted` picks, within a guard against hanging for ever.
async fn next_event(events: &mut Receiver<DeviceEvent>, what: &str, wanted: impl Fn(&DeviceEvent) -> bool) {
    let wait = async {
        loop {
            match events.recv().await {
                Ok(event) if wanted(&event) => return,
                Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                Err(err) => panic!("the device's events ended waiting for {what}: {err}"),
            }
        }
    };
    if tokio::time::timeout(Duration::from_secs(30), wait).await.is_err() {
        panic!("{what} never came (the periodic sync is an hour away)");
    }
}

/// Waits, sync by sync, until `check` holds on the device.
async fn until_synced(events: &mut Receiver<DeviceEvent>, what: &str, check: impl AsyncFn() -> bool) {
    while !check().await {
        next_event(events, what, |e| matches!(e, DeviceEvent::RemoteChange { .. })).await;
    }
}

async fn notes_on_device(device: &Device, ticket: &str) -> Vec<String> {
    device.ticket(ticket).await.unwrap().work_log.into_iter().map(|n| n.text).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dispatchers_note_another_processs_write_and_a_revocation_reach_a_live_device() {
    let root = tempfile::tempdir().unwrap();
    let mut desk = Desk::start(root.path()).await;
    let engineer = desk.engineer("Oleg").await;
    let job = job_for(&desk, &engineer, 1).await;
    let ticket = job.ticket.to_string();
    let device = desk.paired_device(&engineer, &root.path().join("tablet"), None).await;
    let mut events = device.events();
    let sync = SyncLoop::spawn(device.clone(), hourly());
    next_event(&mut events, "the live channel", |e| matches!(e, DeviceEvent::Live { connected: true })).await;
    assert!(device.status().await.unwrap().live, "the status says the device is live");

    // A dispatcher's note through the desk's API.
    let dispatcher = desk.api_token(Role::Dispatcher).await;
    let (status, reply) = desk
        .call(
            reqwest::Method::POST,
            &dispatcher,
            &format!("/v1/tickets/{ticket}/notes"),
            serde_json::json!({"text": "client calls at 10"}),
        )
        .await;
    assert_eq!(status, 200, "{reply}");
    until_synced(&mut events, "the note", async || {
        notes_on_device(&device, &ticket).await.contains(&"client calls at 10".to_owned())
    })
    .await;

    // A write no request of this desk process made (another process on the
    // same database): the follower's fallback look at the feed finds it.
    desk.edit(job.ticket, |d| {
        if let Document::Ticket(t) = d {
            t.title = "Till 4 is dead too".into();
        }
    })
    .await;
    until_synced(&mut events, "the other process's write", async || {
        device.ticket(&ticket).await.unwrap().title == "Till 4 is dead too"
    })
    .await;

    // The desk goes away: the channel closes, and opens again when it is back.
    desk.stop();
    next_event(&mut events, "the channel closing", |e| matches!(e, DeviceEvent::Live { connected: false })).await;
    desk.start_again().await;
    next_event(&mut events, "the channel again", |e| matches!(e, DeviceEvent::Live { connected: true })).await;

    // Revoked, the device hears of it at once and wipes itself.
    let admin = desk.api_token(Role::Admin).await;
    let (_, devices) = desk.call(reqwest::Method::GET, &admin, "/v1/devices", serde_json::Value::Null).await;
    let id = devices.as_array().and_then(|d| d.first()).and_then(|d| d["id"].as_str()).expect("the device is listed");
    let (status, reply) =
        desk.call(reqwest::Method::POST, &admin, &format!("/v1/devices/{id}/revoke"), serde_json::Value::Null).await;
    assert_eq!(status, 200, "{reply}");
    next_event(&mut events, "the wipe", |e| matches!(e, DeviceEvent::Wiped)).await;
    assert!(device.pairing_info().await.unwrap().is_none(), "nothing of the desk is left on the device");
    sync.stop().await;
}
