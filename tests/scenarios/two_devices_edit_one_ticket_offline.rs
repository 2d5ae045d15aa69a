//! One engineer's two devices (a tablet and a laptop) work on the same
//! ticket with no signal: status, notes, checklist, description text and a
//! photo each. They sync in either order; the desk and both devices end
//! identical, with nothing either of them did lost.

use outpost_core::work::{TicketAction, Timer};
use outpost_core::{Device, TicketDetail};
use outpost_scenarios::{job_for, photo, signature_png, sync_until_ok, Desk};
use outpost_sync::model::Ticket;
use outpost_sync::workflow::fold_ticket;

/// What must agree everywhere, with the device-only `local` flags left out.
fn comparable(detail: &TicketDetail) -> TicketDetail {
    let mut detail = detail.clone();
    for a in &mut detail.attachments {
        a.local = false;
    }
    detail
}

fn assert_desk_matches(desk: &Ticket, device: &TicketDetail) {
    assert_eq!(fold_ticket(desk).status.code(), device.status);
    assert_eq!(desk.description.as_str(), device.description);
    let notes: Vec<&str> = desk.work_log.iter().map(|n| n.text.as_str()).collect();
    let device_notes: Vec<&str> = device.work_log.iter().map(|n| n.text.as_str()).collect();
    assert_eq!(notes, device_notes, "the work log, in the same order");
    let ticked: Vec<&String> = desk.checklist.iter().filter(|(_, s)| s.done).map(|(k, _)| k).collect();
    let mut device_ticked: Vec<&String> = device.checklist.iter().filter(|c| c.done).map(|c| &c.key).collect();
    device_ticked.sort();
    assert_eq!(ticked, device_ticked);
    let hashes: Vec<&str> = desk.attachments.iter().map(|a| a.hash.0.as_str()).collect();
    let device_hashes: Vec<&str> = device.attachments.iter().map(|a| a.hash.as_str()).collect();
    assert_eq!(hashes, device_hashes);
}

async fn work_offline(tablet: &Device, laptop: &Device, ticket: &str) -> (String, String) {
    // The tablet takes the job and goes on site.
    tablet.act(ticket, TicketAction::Accept).await.unwrap();
    tablet.act(ticket, TicketAction::EnRoute).await.unwrap();
    tablet.act(ticket, TicketAction::Arrive { coordinates: None }).await.unwrap();
    tablet.act(ticket, TicketAction::StartTimer { kind: Timer::Work }).await.unwrap();
    tablet.act(ticket, TicketAction::AddNote { text: "tablet: pulled disk 3".into() }).await.unwrap();
    tablet.act(ticket, TicketAction::Tick { item: "power".into(), done: true }).await.unwrap();
    tablet.act(ticket, TicketAction::EditDescription { text: "URGENT: Disk failed in shelf 2.".into() }).await.unwrap();
    let tablet_photo = tablet.attach_photo(ticket, &photo(1, 1600, 1200), "shelf.jpg", false).await.unwrap();
    tablet.sign(ticket, &signature_png(), "Олег Иванов").await.unwrap();

    // Meanwhile the laptop, which also saw the ticket as assigned, accepts it too.
    laptop.act(ticket, TicketAction::Accept).await.unwrap();
    laptop.act(ticket, TicketAction::AddNote { text: "laptop: firmware 4.2 downloaded".into() }).await.unwrap();
    laptop.act(ticket, TicketAction::Tick { item: "firmware".into(), done: true }).await.unwrap();
    laptop
        .act(
            ticket,
            TicketAction::EditDescription { text: "Disk failed in shelf 2. Customer wants a call back.".into() },
        )
        .await
        .unwrap();
    let laptop_photo = laptop.attach_photo(ticket, &photo(2, 800, 600), "rack.png", false).await.unwrap();
    (tablet_photo.hash, laptop_photo.hash)
}

async fn scenario(tablet_first: bool) {
    let root = tempfile::tempdir().unwrap();
    let desk = Desk::start(root.path()).await;
    let engineer = desk.engineer("Олег").await;
    let job = job_for(&desk, &engineer, 1).await;
    let tablet = desk.paired_device(&engineer, &root.path().join("tablet"), None).await;
    let laptop = desk.paired_device(&engineer, &root.path().join("laptop"), None).await;
    sync_until_ok(&tablet, 3).await;
    sync_until_ok(&laptop, 3).await;
    let ticket = job.ticket.to_string();
    assert_eq!(tablet.ticket(&ticket).await.unwrap().status, "assigned");

    let (tablet_photo, laptop_photo) = work_offline(&tablet, &laptop, &ticket).await;
    let (first, second) = if tablet_first { (&tablet, &laptop) } else { (&laptop, &tablet) };
    sync_until_ok(first, 3).await;
    sync_until_ok(second, 3).await;
    sync_until_ok(first, 3).await;

    let on_tablet = tablet.ticket(&ticket).await.unwrap();
    let on_laptop = laptop.ticket(&ticket).await.unwrap();
    assert_eq!(comparable(&on_tablet), comparable(&on_laptop), "both devices hold the same ticket");
    let on_desk = desk.ticket(job.ticket).await;
    assert_desk_matches(&on_desk, &on_tablet);

    assert_eq!(on_tablet.status, "on_site", "the tablet's later moves stand");
    assert_eq!(on_tablet.work_log.len(), 2, "both notes are kept");
    assert_eq!(on_tablet.checklist.iter().filter(|c| c.done).count(), 2, "both ticks are kept");
    assert!(on_tablet.description.contains("URGENT:"), "{}", on_tablet.description);
    assert!(on_tablet.description.contains("Customer wants a call back."), "{}", on_tablet.description);
    assert_eq!(on_tablet.attachments.len(), 3, "two photos and the signature");
    assert!(on_tablet.signature.is_some());
    for hash in [&tablet_photo, &laptop_photo, &on_tablet.signature.as_ref().unwrap().hash] {
        assert!(desk.has_blob(hash).await, "the desk holds every file whole");
    }
    // The laptop reads the tablet's photo through the desk.
    let fetched = laptop.blob(&tablet_photo).await.unwrap();
    assert_eq!(outpost_core::media::content_hash(&fetched).0, tablet_photo);
    assert_eq!(desk.audit_count().await, 0, "nothing either device did was refused");
    for device in [&tablet, &laptop] {
        let status = device.status().await.unwrap();
        assert_eq!((status.pending_documents, status.pending_blobs), (0, 0), "nothing waits");
    }
}

#[tokio::test]
async fn the_tablet_syncs_first() {
    scenario(true).await;
}

#[tokio::test]
async fn the_laptop_syncs_first() {
    scenario(false).await;
}
