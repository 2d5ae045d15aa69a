//! The company allows its devices 14 days without reaching the desk. A
//! tablet syncs, then stays out of reach: on day 15 its data is locked
//! (nothing is read or changed, the status says why); winding its clock
//! back does not reopen it; one sync does, and nothing written before the
//! lock is lost. Alone in its binary: the device clock it moves is the
//! whole process's.

use outpost_core::seeding::set_clock_skew_ms;
use outpost_core::work::TicketAction;
use outpost_core::{ErrorKind, TicketFilter};
use outpost_scenarios::{job_for, sync_until_ok, Desk};
use outpost_sync::policy::DevicePolicy;

const DAY: i64 = 24 * 3_600_000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn past_its_contact_window_a_device_locks_until_it_syncs() {
    let root = tempfile::tempdir().unwrap();
    let desk = Desk::start(root.path()).await;
    let engineer = desk.engineer("Тимур").await;
    let job = job_for(&desk, &engineer, 1).await;
    let ticket = job.ticket.to_string();
    let policy = DevicePolicy { contact_window_days: Some(14) };
    outpost_desk::accounts::set_device_policy(&desk.db.pool, desk.service, &policy, outpost_desk::now()).await.unwrap();
    let tablet = desk.paired_device(&engineer, &root.path().join("tablet"), None).await;
    sync_until_ok(&tablet, 3).await;
    assert_eq!(tablet.status().await.unwrap().locked, None);

    // Day 10 out of reach: work goes on.
    set_clock_skew_ms(10 * DAY);
    tablet.act(&ticket, TicketAction::AddNote { text: "day 10, offline".into() }).await.unwrap();
    assert_eq!(tablet.tickets(&TicketFilter::default()).await.unwrap().len(), 1);

    // Day 15: locked. Nothing is read or written; the status says why.
    set_clock_skew_ms(15 * DAY);
    let refused = tablet.tickets(&TicketFilter::default()).await.unwrap_err();
    assert_eq!(refused.kind(), ErrorKind::Locked, "{refused}");
    assert!(refused.to_string().contains("15 days") && refused.to_string().contains("14"), "{refused}");
    let refused = tablet.act(&ticket, TicketAction::AddNote { text: "day 15".into() }).await.unwrap_err();
    assert_eq!(refused.kind(), ErrorKind::Locked, "{refused}");
    assert_eq!(tablet.ticket(&ticket).await.unwrap_err().kind(), ErrorKind::Locked);
    assert_eq!(tablet.export_outbox().await.unwrap_err().kind(), ErrorKind::Locked, "no copy out by file either");
    let status = tablet.status().await.unwrap();
    assert!(status.locked.as_deref().is_some_and(|r| r.contains("until it syncs")), "{:?}", status.locked);

    // The clock wound back to the day of the last sync: still locked.
    set_clock_skew_ms(0);
    assert_eq!(tablet.tickets(&TicketFilter::default()).await.unwrap_err().kind(), ErrorKind::Locked);
    set_clock_skew_ms(-DAY);
    assert_eq!(tablet.tickets(&TicketFilter::default()).await.unwrap_err().kind(), ErrorKind::Locked);

    // A file the desk wrote for the device (a site with no signal) counts as
    // contact at the time it was written: an old one does not reopen it.
    let device_id: uuid::Uuid = tablet.pairing_info().await.unwrap().unwrap().device_id.parse().unwrap();
    let config = outpost_sync::session::ServerConfig::new(outpost_desk::desk_actor());
    let long_ago = outpost_desk::now().plus_millis(-20 * DAY);
    let (old_file, _) = outpost_desk::handoff::export(&desk.db, &config, device_id, None, long_ago).await.unwrap();
    tablet.import_feed(&old_file).await.unwrap();
    assert_eq!(tablet.tickets(&TicketFilter::default()).await.unwrap_err().kind(), ErrorKind::Locked);
    set_clock_skew_ms(15 * DAY);
    let (file, _) =
        outpost_desk::handoff::export(&desk.db, &config, device_id, None, outpost_desk::now().plus_millis(15 * DAY))
            .await
            .unwrap();
    tablet.import_feed(&file).await.unwrap();
    assert_eq!(tablet.status().await.unwrap().locked, None, "a fresh file from the desk opens it");
    set_clock_skew_ms(31 * DAY);
    assert_eq!(
        tablet.tickets(&TicketFilter::default()).await.unwrap_err().kind(),
        ErrorKind::Locked,
        "for another 14 days"
    );
    set_clock_skew_ms(-DAY);

    // One sync, even under the wound-back clock, opens it; the day-10 note is kept. (The
    // desk itself is still at day 0 here, so it takes that note as written in its future.)
    sync_until_ok(&tablet, 3).await;
    assert_eq!(tablet.status().await.unwrap().locked, None);
    let notes: Vec<String> = tablet.ticket(&ticket).await.unwrap().work_log.into_iter().map(|n| n.text).collect();
    assert!(notes.iter().any(|n| n == "day 10, offline"), "{notes:?}");

    // The desk lifts the window: after the next sync, no lock however long the device is away.
    outpost_desk::accounts::set_device_policy(
        &desk.db.pool,
        desk.service,
        &DevicePolicy::default(),
        outpost_desk::now(),
    )
    .await
    .unwrap();
    sync_until_ok(&tablet, 3).await;
    set_clock_skew_ms(300 * DAY);
    assert_eq!(tablet.tickets(&TicketFilter::default()).await.unwrap().len(), 1);
    set_clock_skew_ms(0);
}
