//! An engineer's tablet whose clock jumps mid-day: set three hours ahead by
//! a wrong time zone, then two hours behind by hand. The times entered
//! offline are kept as entered; the desk takes the SLA's moments corrected
//! by the offset each round measured, and audits each jump. Alone in its
//! binary: the device clock it moves is the whole process's.

use outpost_core::seeding::set_clock_skew_ms;
use outpost_core::work::TicketAction;
use outpost_scenarios::{job_for, sync_until_ok, Desk};

const HOUR: i64 = 3_600_000;
/// Network and scheduling between the device's clock reading and the desk's.
const SLACK_MS: i64 = 60_000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn times_entered_under_a_jumping_clock_reach_the_sla_corrected() {
    let root = tempfile::tempdir().unwrap();
    let desk = Desk::start(root.path()).await;
    let engineer = desk.engineer("Арсений").await;
    let job = job_for(&desk, &engineer, 1).await;
    let ticket = job.ticket.to_string();
    let tablet = desk.paired_device(&engineer, &root.path().join("tablet"), None).await;
    sync_until_ok(&tablet, 3).await;
    let offset = tablet.status().await.unwrap().clock_offset_ms.expect("measured at the first sync");
    assert!(offset.abs() < 5_000, "one machine, one clock: {offset} ms");

    // A wrong time zone: the tablet reads three hours ahead when the engineer arrives.
    set_clock_skew_ms(3 * HOUR);
    tablet.act(&ticket, TicketAction::Accept).await.unwrap();
    tablet.act(&ticket, TicketAction::Arrive { coordinates: None }).await.unwrap();
    let arrived_real = outpost_desk::now().0;
    sync_until_ok(&tablet, 3).await;
    let offset = tablet.status().await.unwrap().clock_offset_ms.unwrap();
    assert!((offset + 3 * HOUR).abs() < 5_000, "the tablet knows it runs three hours ahead: {offset} ms");
    let on_desk = desk.ticket(job.ticket).await;
    let entered = on_desk.visits.last().expect("the visit reached the desk").arrived.0;
    assert!((entered - (arrived_real + 3 * HOUR)).abs() < SLACK_MS, "kept as entered, three hours ahead");
    let first_response = on_desk.sla.first_response_at.expect("arriving is the first response").0;
    assert!(
        (first_response - arrived_real).abs() < SLACK_MS,
        "the SLA counts the real moment: {}",
        first_response - arrived_real
    );

    // Corrected by hand, too far: now two hours behind when the work is resolved.
    set_clock_skew_ms(-2 * HOUR);
    tablet.act(&ticket, TicketAction::SetResolution { code: None, notes: "Fan replaced".into() }).await.unwrap();
    tablet.act(&ticket, TicketAction::Resolve).await.unwrap();
    let resolved_real = outpost_desk::now().0;
    sync_until_ok(&tablet, 3).await;
    let offset = tablet.status().await.unwrap().clock_offset_ms.unwrap();
    assert!((offset - 2 * HOUR).abs() < 5_000, "and then two hours behind: {offset} ms");
    let on_desk = desk.ticket(job.ticket).await;
    let resolved = on_desk.sla.resolved_at.expect("resolved").0;
    assert!((resolved - resolved_real).abs() < SLACK_MS, "the real moment again: {}", resolved - resolved_real);
    assert!(resolved >= first_response, "resolved after the first response, as it happened");
    let (jumps,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM audit_log WHERE action = 'clock_changed'")
        .fetch_one(&desk.db.pool)
        .await
        .unwrap();
    assert_eq!(jumps, 2, "each jump is audited");
    set_clock_skew_ms(0);
}
