//! The app core and a real desk on loopback: pairing, part requests through
//! the warehouse, conflicts explained, tickets found on site, revocation,
//! and the background sync loop.

use std::time::Duration;

use outpost_core::sync::{Schedule, SyncLoop};
use outpost_core::work::{PartAction, TicketAction};
use outpost_core::{DeviceEvent, ErrorKind, NewTicketInput};
use outpost_desk::accounts;
use outpost_scenarios::{job_for, sync_until_ok, Desk};
use outpost_sync::model::Role;

#[tokio::test]
async fn pairing_refuses_bad_codes_unreachable_desks_and_a_second_pairing() {
    let root = tempfile::tempdir().unwrap();
    let desk = Desk::start(root.path()).await;
    let engineer = desk.engineer("Ilya").await;
    let device = outpost_scenarios::open_device(&root.path().join("d")).await;
    let err = device.pair(&desk.url(), "WRONG-CODE", "tablet").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Desk, "{err}");
    let err = device.pair("http://127.0.0.1:9", "CODE", "tablet").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Offline, "{err}");
    let err = device.pair("desk.example", "CODE", "tablet").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Invalid, "{err}");
    assert!(device.pairing_info().await.unwrap().is_none(), "no failed attempt paired the device");

    let code = accounts::issue_pairing_code(&desk.db.pool, engineer.user, outpost_desk::now(), 60_000).await.unwrap();
    let paired = device.pair(&desk.url(), &code, "tablet").await.unwrap();
    assert_eq!(paired.user_id, engineer.user.to_string());
    assert_eq!(device.pair(&desk.url(), &code, "tablet").await.unwrap_err().kind(), ErrorKind::AlreadyPaired);
    let other = outpost_scenarios::open_device(&root.path().join("other")).await;
    assert_eq!(
        other.pair(&desk.url(), &code, "laptop").await.unwrap_err().kind(),
        ErrorKind::Desk,
        "codes are single-use"
    );
}

#[tokio::test]
async fn a_part_request_goes_through_the_warehouse_and_its_serials_come_back() {
    use outpost_sync::model::{Document, Equipment, InstalledPart};
    let root = tempfile::tempdir().unwrap();
    let desk = Desk::start(root.path()).await;
    let engineer = desk.engineer("Vera").await;
    let job = job_for(&desk, &engineer, 2).await;
    let ticket = job.ticket.to_string();
    // The ticket's machine, with the power supply that failed.
    let client = desk.ticket(job.ticket).await.client;
    let machine = outpost_sync::ids::DocId::from_u128(0x5e7e);
    let mut server = Equipment::new(machine, "SRV-1".into(), "DL380".into(), client);
    server.installed_parts.push(InstalledPart {
        id: outpost_sync::ids::EntryId::from_u128(1),
        part_number: "PSU-750W".into(),
        serial: "PSU-OLD-9".into(),
        installed_at: outpost_sync::ids::Timestamp(0),
        part_request: None,
    });
    desk.create(&Document::Equipment(server)).await;
    desk.edit(job.ticket, |d| {
        if let Document::Ticket(t) = d {
            t.equipment.push(machine);
        }
    })
    .await;
    let device = desk.paired_device(&engineer, &root.path().join("d"), None).await;
    sync_until_ok(&device, 3).await;
    let request = device.request_part(&ticket, "PSU-750W", "redundant PSU", 2).await.unwrap();
    sync_until_ok(&device, 3).await;

    let warehouse = desk.api_token(Role::PartsDesk).await;
    for (action, body) in [
        ("approve", serde_json::json!({})),
        ("pick", serde_json::json!({ "warehouse": "Novosibirsk" })),
        ("ship", serde_json::json!({ "tracking_number": "CDEK-123" })),
    ] {
        let (status, reply) =
            desk.call(reqwest::Method::POST, &warehouse, &format!("/v1/part-requests/{request}/{action}"), body).await;
        assert_eq!(status, 200, "{action}: {reply}");
    }
    sync_until_ok(&device, 3).await;
    let mine = device.my_part_requests().await.unwrap();
    assert_eq!((mine[0].status.as_str(), mine[0].tracking_number.as_deref()), ("shipped", Some("CDEK-123")));
    let (status, reply) = desk
        .call(reqwest::Method::POST, &warehouse, &format!("/v1/part-requests/{request}/deliver"), serde_json::json!({}))
        .await;
    assert_eq!(status, 404, "delivery is the engineer's to confirm, not the warehouse's: {reply}");
    device.act_on_part_request(&request, PartAction::Receive).await.unwrap();
    let serials = PartAction::RecordSerials {
        installed: Some("PSU-NEW-1".into()),
        removed: Some("PSU-OLD-9".into()),
        equipment: None,
    };
    device.act_on_part_request(&request, serials).await.unwrap();
    sync_until_ok(&device, 3).await;
    let Document::PartRequest(on_desk) = desk.document(request.parse().unwrap()).await else {
        panic!("a part request");
    };
    assert_eq!(outpost_sync::workflow::fold_part_request(&on_desk).status.as_str(), "installed");
    assert_eq!(on_desk.removed_serial.as_deref(), Some("PSU-OLD-9"));
    assert_eq!(desk.ticket(job.ticket).await.part_requests.len(), 1, "the ticket links the request");

    // The serials are on the machine's record, at the desk and on the device.
    let Document::Equipment(record) = desk.document(machine).await else { panic!("equipment") };
    let installed: Vec<&str> = record.installed_parts.iter().map(|p| p.serial.as_str()).collect();
    assert_eq!(installed, vec!["PSU-NEW-1"], "the new part is in, the faulty one out");
    let replaced: Vec<(&str, &str)> =
        record.replaced_parts.iter().map(|p| (p.part_number.as_str(), p.serial.as_str())).collect();
    assert_eq!(replaced, vec![("PSU-750W", "PSU-OLD-9")]);
    assert!(record.service_history.contains(&job.ticket), "the ticket is in the machine's service history");
    let detail = device.equipment(&machine.to_string()).await.unwrap();
    let on_device: Vec<&str> = detail.installed_parts.iter().map(|p| p.serial.as_str()).collect();
    assert_eq!(on_device, vec!["PSU-NEW-1"]);
    assert_eq!(detail.replaced_parts.iter().map(|p| p.serial.as_str()).collect::<Vec<_>>(), vec!["PSU-OLD-9"]);
    assert!(detail.service_history.iter().any(|h| h.ticket_id == ticket));

    // The faulty part goes back to the warehouse, which receives it.
    let back = PartAction::SendBack { tracking: Some("RET-77".into()) };
    device.act_on_part_request(&request, back).await.unwrap();
    sync_until_ok(&device, 3).await;
    let (status, reply) = desk
        .call(
            reqwest::Method::POST,
            &warehouse,
            &format!("/v1/part-requests/{request}/receive-return"),
            serde_json::json!({}),
        )
        .await;
    assert_eq!(status, 200, "{reply}");
    sync_until_ok(&device, 3).await;
    let mine = device.my_part_requests().await.unwrap();
    assert_eq!(mine[0].status, "returned");
}

#[tokio::test]
async fn the_desk_cancelling_while_the_engineer_is_on_site_is_explained_and_the_work_kept() {
    let root = tempfile::tempdir().unwrap();
    let desk = Desk::start(root.path()).await;
    let engineer = desk.engineer("Gleb").await;
    let job = job_for(&desk, &engineer, 3).await;
    let ticket = job.ticket.to_string();
    let device = desk.paired_device(&engineer, &root.path().join("d"), None).await;
    sync_until_ok(&device, 3).await;
    device.act(&ticket, TicketAction::Accept).await.unwrap();
    sync_until_ok(&device, 3).await;
    // Offline now: the engineer drives there and starts work.
    device.act(&ticket, TicketAction::EnRoute).await.unwrap();
    device.act(&ticket, TicketAction::Arrive { coordinates: None }).await.unwrap();
    device.act(&ticket, TicketAction::AddNote { text: "customer says it is fine now".into() }).await.unwrap();
    let dispatcher = desk.api_token(Role::Dispatcher).await;
    let (status, reply) = desk
        .call(
            reqwest::Method::POST,
            &dispatcher,
            &format!("/v1/tickets/{ticket}/status"),
            serde_json::json!({ "to": "cancelled", "reason": "duplicate" }),
        )
        .await;
    assert_eq!(status, 200, "{reply}");
    sync_until_ok(&device, 3).await;
    let detail = device.ticket(&ticket).await.unwrap();
    assert_eq!(detail.status, "cancelled", "the desk's cancel stands");
    assert_eq!(detail.work_log.len(), 1, "the engineer's note is kept");
    assert!(detail.next_moves.is_empty(), "nothing left to do on a cancelled ticket");
    let notices = device.notices().await.unwrap();
    assert!(
        notices.iter().any(|n| n.kind == "workflow_conflict" && n.explanation.contains("cancelled")),
        "the conflict is explained: {notices:?}"
    );
}

#[tokio::test]
async fn a_ticket_found_on_site_reaches_the_desk_and_gets_its_deadlines() {
    let root = tempfile::tempdir().unwrap();
    let desk = Desk::start(root.path()).await;
    let engineer = desk.engineer("Nina").await;
    let job = job_for(&desk, &engineer, 4).await;
    let device = desk.paired_device(&engineer, &root.path().join("d"), None).await;
    sync_until_ok(&device, 3).await;
    let (id, number) = device
        .create_ticket(NewTicketInput {
            title: "UPS battery swollen".into(),
            description: "Next to the array".into(),
            priority: Some("p2".into()),
            found_during: Some(job.ticket.to_string()),
            ..NewTicketInput::default()
        })
        .await
        .unwrap();
    sync_until_ok(&device, 3).await;
    let on_desk = desk.ticket(id.parse().unwrap()).await;
    assert_eq!(on_desk.number, number);
    assert!(on_desk.sla.resolution_due.is_some(), "the desk set deadlines on arrival");
    let detail = device.ticket(&id).await.unwrap();
    assert_eq!(detail.resolution_due, on_desk.sla.resolution_due.map(|t| t.0), "and the device heard of them");
}

#[tokio::test]
async fn a_revoked_device_erases_its_data_at_its_next_sync() {
    let root = tempfile::tempdir().unwrap();
    let desk = Desk::start(root.path()).await;
    let engineer = desk.engineer("Oleg").await;
    job_for(&desk, &engineer, 5).await;
    let device = desk.paired_device(&engineer, &root.path().join("d"), None).await;
    sync_until_ok(&device, 3).await;
    assert!(device.status().await.unwrap().documents > 0);
    let device_id: uuid_like::Id = device.pairing_info().await.unwrap().unwrap().device_id.parse().unwrap();
    assert!(accounts::revoke_device(&desk.db.pool, device_id.0, outpost_desk::now()).await.unwrap());
    let mut events = device.events();
    assert_eq!(device.sync_now().await.unwrap_err().kind(), ErrorKind::Wiped);
    let status = device.status().await.unwrap();
    assert_eq!((status.documents, status.paired.is_some()), (0, false), "nothing is left");
    let mut wiped = false;
    while let Ok(event) = events.try_recv() {
        wiped |= event == DeviceEvent::Wiped;
    }
    assert!(wiped, "the UI hears of the wipe");
}

mod uuid_like {
    /// A device id as the desk's accounts take it.
    pub(super) struct Id(pub(super) uuid::Uuid);

    impl std::str::FromStr for Id {
        type Err = uuid::Error;
        fn from_str(text: &str) -> Result<Self, Self::Err> {
            text.parse().map(Id)
        }
    }
}

/// Waits (generously) for the loop to finish a sync.
async fn next_completed_sync(events: &mut tokio::sync::broadcast::Receiver<DeviceEvent>) -> bool {
    let wait = async {
        loop {
            match events.recv().await {
                Ok(DeviceEvent::SyncProgress(p)) if p.done => return true,
                Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                Err(_) => return false,
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(60), wait).await.unwrap_or(false)
}

#[tokio::test]
async fn the_background_loop_syncs_after_edits_and_when_the_desk_comes_back() {
    let root = tempfile::tempdir().unwrap();
    let mut desk = Desk::start(root.path()).await;
    let engineer = desk.engineer("Yuri").await;
    let job = job_for(&desk, &engineer, 6).await;
    let ticket = job.ticket.to_string();
    let device = desk.paired_device(&engineer, &root.path().join("d"), None).await;
    let mut events = device.events();
    let schedule = Schedule {
        after_edit: Duration::from_millis(100),
        periodic: Duration::from_secs(3_600),
        first_retry: Duration::from_secs(3_600),
        max_retry: Duration::from_secs(3_600),
    };
    let sync = SyncLoop::spawn(device.clone(), schedule);
    assert!(next_completed_sync(&mut events).await, "the loop syncs when it starts");
    device.act(&ticket, TicketAction::Accept).await.unwrap();
    // The live channel's first poke may start a round of its own meanwhile;
    // the edit goes in the next one at the latest.
    let accepted =
        async || outpost_sync::workflow::fold_ticket(&desk.ticket(job.ticket).await).status.code() == "accepted";
    for _ in 0..3 {
        if accepted().await {
            break;
        }
        assert!(next_completed_sync(&mut events).await, "an edit is followed by a sync");
    }
    assert!(accepted().await, "the edit reached the desk");

    desk.stop();
    device.act(&ticket, TicketAction::AddNote { text: "written while the desk was down".into() }).await.unwrap();
    let offline = tokio::time::timeout(Duration::from_secs(60), async {
        loop {
            if let Ok(DeviceEvent::Connectivity { online: false }) = events.recv().await {
                return;
            }
        }
    })
    .await;
    assert!(offline.is_ok(), "the loop noticed the desk is gone");
    desk.start_again().await;
    sync.network_up();
    assert!(next_completed_sync(&mut events).await, "the loop syncs when the network is back");
    let notes: Vec<String> = desk.ticket(job.ticket).await.work_log.into_iter().map(|n| n.text).collect();
    assert_eq!(notes, ["written while the desk was down"]);
    sync.stop().await;
}
