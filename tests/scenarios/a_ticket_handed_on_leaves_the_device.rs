//! A ticket the desk hands to another engineer leaves the first engineer's
//! device, but only after everything they did on it offline (a note, a
//! photo) has reached the desk; the new engineer gets all of it. What the
//! ticket alone made readable (its client and site) goes with it, and the
//! engineer is told which ticket went.

use outpost_core::work::TicketAction;
use outpost_core::TicketFilter;
use outpost_scenarios::{job_for, photo, sync_until_ok, Desk};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ticket_handed_on_leaves_the_device_once_its_work_has_reached_the_desk() {
    let root = tempfile::tempdir().unwrap();
    let desk = Desk::start(root.path()).await;
    let first = desk.engineer("Олег").await;
    let second = desk.engineer("Ирина").await;
    let job = job_for(&desk, &first, 1).await;
    let ticket = job.ticket.to_string();
    let tablet = desk.paired_device(&first, &root.path().join("first"), None).await;
    let other = desk.paired_device(&second, &root.path().join("second"), None).await;
    sync_until_ok(&tablet, 3).await;
    sync_until_ok(&other, 3).await;
    let client_name = "Client 1";
    let everything = TicketFilter { search: Some(client_name.into()), ..TicketFilter::default() };
    assert_eq!(tablet.tickets(&everything).await.unwrap().len(), 1, "found through its client");
    assert!(other.ticket(&ticket).await.is_err(), "not the second engineer's yet");

    // Offline, the first engineer writes a note and takes a photo; the desk
    // meanwhile hands the ticket to the second engineer.
    tablet.act(&ticket, TicketAction::AddNote { text: "shelf 2 reseated".into() }).await.unwrap();
    let shot = tablet.attach_photo(&ticket, &photo(7, 1200, 900), "shelf.jpg", false).await.unwrap();
    desk.assign(job.ticket, &second).await;

    // The note goes in the rounds and the photo after them: the ticket stays
    // until the photo is up, and goes at the next sync.
    sync_until_ok(&tablet, 3).await;
    assert!(tablet.ticket(&ticket).await.is_ok(), "kept while its photo waits for the desk");
    assert!(desk.has_blob(&shot.hash).await, "the photo reached the desk");
    sync_until_ok(&tablet, 3).await;
    assert!(tablet.ticket(&ticket).await.is_err(), "gone once nothing of the engineer's waits");
    assert!(tablet.tickets(&everything).await.unwrap().is_empty(), "and not found through its client either");
    assert!(tablet.local_blob(&shot.hash).await.unwrap().is_none(), "its photo's bytes are gone too");
    let notices = tablet.notices().await.unwrap();
    assert!(
        notices.iter().any(|n| n.kind == "withdrawn" && n.explanation.contains("T-2026-000001")),
        "the engineer is told which ticket went: {notices:?}"
    );

    let on_desk = desk.ticket(job.ticket).await;
    assert!(on_desk.work_log.iter().any(|n| n.text == "shelf 2 reseated"), "the note reached the desk");
    sync_until_ok(&other, 3).await;
    let handed = other.ticket(&ticket).await.expect("the second engineer has the ticket");
    let note = handed.work_log.iter().find(|n| n.text == "shelf 2 reseated").expect("with the first engineer's note");
    assert_eq!(note.by, "Олег", "by name, from the desk's directory");
    assert!(handed.attachments.iter().any(|a| a.hash == shot.hash), "and photo");
    let bytes = other.blob(&shot.hash).await.expect("the photo's bytes reach the new engineer");
    assert!(!bytes.is_empty());
}
