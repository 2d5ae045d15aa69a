//! Rounds merge their pushes before they take the write lock, on a
//! snapshot, and confirm under the lock that nothing they read moved. Four
//! devices of one engineer push to one ticket at once, over and over, until
//! some rounds found their snapshot stale and merged again under the lock:
//! every device ends with the desk's copy and every entry any device wrote.

mod support;

use std::sync::Arc;

use outpost_sync::ids::{DocId, EntryId};
use outpost_sync::model::{Document, Role, WorkLogEntry};
use serde_json::json;
use support::*;

/// Rounds per device at most; collisions come within a few.
const MAX_ROUNDS: u32 = 60;

async fn merged_again(desk: &Desk) -> u64 {
    let text = desk.http.get(desk.url("/metrics")).send().await.unwrap().text().await.unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix("outpost_sync_rounds_merged_again_total "))
        .and_then(|v| v.parse().ok())
        .expect("the counter is exported")
}

async fn pushes_to_one_ticket_at_once_converge_when_a_snapshot_goes_stale(desk: Desk) {
    let client = desk.contract_client().await;
    let dispatcher = desk.user(desk.service, Role::Dispatcher).await;
    let token = desk.api_token(dispatcher.user).await;
    let engineer = desk.user(desk.service, Role::Engineer).await;
    let (_, created) = desk.post_json("/v1/tickets", &token, json!({ "title": "Array", "client": client.id })).await;
    let ticket: DocId = created["id"].as_str().unwrap().parse().unwrap();
    let (status, reply) =
        desk.post_json(&format!("/v1/tickets/{ticket}/assign"), &token, json!({ "engineer": engineer.user })).await;
    assert_eq!(status, 200, "{reply}");

    let desk = Arc::new(desk);
    let mut tasks = Vec::new();
    for n in 1..=4u8 {
        let mut device = desk.pair(&engineer, n).await;
        device.sync(&desk).await;
        let desk = Arc::clone(&desk);
        tasks.push(tokio::spawn(async move {
            let mut written = Vec::new();
            for k in 0..MAX_ROUNDS {
                let text = format!("device {n} entry {k}");
                let entry = EntryId::from_u128((u128::from(n) << 64) + u128::from(k));
                device
                    .local
                    .edit(ticket, T0, |d| {
                        if let Document::Ticket(t) = d {
                            t.work_log.push(WorkLogEntry { id: entry, at: T0, by: engineer, text: text.clone() });
                        }
                    })
                    .unwrap();
                written.push(text);
                device.sync(&desk).await;
                if k >= 5 && merged_again(&desk).await > 0 {
                    break;
                }
            }
            (device, written)
        }));
    }
    let mut finished = Vec::new();
    for task in tasks {
        finished.push(task.await.unwrap());
    }
    assert!(merged_again(&desk).await > 0, "some round found its snapshot stale in {MAX_ROUNDS} rounds a device");
    let mut all_written = Vec::new();
    for (device, written) in &mut finished {
        device.sync(&desk).await;
        all_written.append(written);
    }
    let Some(Document::Ticket(on_desk)) = desk.document(ticket).await else { panic!("the desk has the ticket") };
    for text in &all_written {
        assert!(on_desk.work_log.iter().any(|e| &e.text == text), "{text} reached the desk");
    }
    for (device, _) in &mut finished {
        let rounds = device.sync(&desk).await;
        assert_eq!(
            device.local.document(ticket),
            Some(Document::Ticket(on_desk.clone())),
            "every device converged (this one in {rounds} round(s); its last failed round: {:?})",
            device.local.last_failure()
        );
    }
}

on_both_backends!(pushes_to_one_ticket_at_once_converge_when_a_snapshot_goes_stale);

/// A writer's transaction holds the write lock from its start: a second
/// writer begins only after the first commits, and then reads what it
/// wrote. (On PostgreSQL the lock was once taken only when the feed counter
/// was bumped, so two rounds read the same heads and the later one stored
/// heads lacking the earlier one's change.)
async fn a_second_writer_waits_for_the_first_and_reads_what_it_wrote(desk: Desk) {
    let client = desk.contract_client().await;
    let dispatcher = desk.user(desk.service, Role::Dispatcher).await;
    let token = desk.api_token(dispatcher.user).await;
    let (_, created) = desk.post_json("/v1/tickets", &token, json!({ "title": "Lock", "client": client.id })).await;
    let ticket = created["id"].as_str().unwrap().to_string();

    let mut first = desk.db.begin_write().await.unwrap();
    let began = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let second = {
        let (db, began, ticket) = (desk.db.clone(), Arc::clone(&began), ticket.clone());
        tokio::spawn(async move {
            let mut tx = db.begin_write().await.unwrap();
            began.store(true, std::sync::atomic::Ordering::SeqCst);
            let (heads,): (String,) = sqlx::query_as("SELECT heads FROM documents WHERE id = $1")
                .bind(&ticket)
                .fetch_one(&mut **tx)
                .await
                .unwrap();
            tx.rollback().await.unwrap();
            heads
        })
    };
    // Give the second writer every chance to begin (on PostgreSQL, until it is seen waiting for a lock).
    for _ in 0..50 {
        if began.load(std::sync::atomic::Ordering::SeqCst) || waiting_for_a_lock(&desk).await {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert!(!began.load(std::sync::atomic::Ordering::SeqCst), "a second writer began while the first was open");
    sqlx::query("UPDATE documents SET heads = 'written by the first' WHERE id = $1")
        .bind(&ticket)
        .execute(&mut **first)
        .await
        .unwrap();
    first.commit().await.unwrap();
    assert_eq!(second.await.unwrap(), "written by the first");
}

async fn waiting_for_a_lock(desk: &Desk) -> bool {
    if desk.db.backend != outpost_desk::Backend::Postgres {
        return false;
    }
    let (waiting,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM pg_locks WHERE NOT granted").fetch_one(&desk.db.pool).await.unwrap();
    waiting > 0
}

on_both_backends!(a_second_writer_waits_for_the_first_and_reads_what_it_wrote);
