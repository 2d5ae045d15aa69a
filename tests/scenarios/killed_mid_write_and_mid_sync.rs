//! The app is killed (SIGKILL) at random moments while it writes and while
//! it syncs, 100 times. After every kill the store opens, passes SQLite's
//! integrity check and holds every edit the app had reported committed; at
//! the end one sync brings the desk every one of them.
//!
//! The app here is this test binary re-run as a child (`child_works_until_killed`),
//! which drives the real core against the real store and desk.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use outpost_core::work::TicketAction;
use outpost_scenarios::{job_for, photo, sync_until_ok, Desk};

const CHILD_DIR: &str = "OUTPOST_CRASH_DATA_DIR";
const CHILD_TICKET: &str = "OUTPOST_CRASH_TICKET";
const CHILD_RUN: &str = "OUTPOST_CRASH_RUN";
const RUNS: u64 = 100;

/// The child: works on the ticket and syncs, reporting each committed edit, until killed.
#[tokio::test]
async fn child_works_until_killed() {
    let (Ok(dir), Ok(ticket), Ok(run)) =
        (std::env::var(CHILD_DIR), std::env::var(CHILD_TICKET), std::env::var(CHILD_RUN))
    else {
        return; // Run by the harness as an ordinary test: nothing to do.
    };
    let device = outpost_scenarios::open_device(std::path::Path::new(&dir)).await;
    for n in 0u32.. {
        let text = format!("run {run} note {n}");
        device.act(&ticket, TicketAction::AddNote { text: text.clone() }).await.unwrap();
        println!("committed {text}");
        if n % 5 == 2 {
            let seed = run.parse::<u8>().unwrap_or(0).wrapping_mul(31).wrapping_add(n as u8);
            let attached = device.attach_photo(&ticket, &photo(seed, 640, 480), "p.jpg", false).await.unwrap();
            println!("photo {}", attached.hash);
        }
        if n % 3 == 1 {
            println!("sync start");
            let outcome = device.sync_now().await;
            println!("sync end {}", outcome.is_ok());
        }
    }
}

struct Tally {
    committed: Vec<String>,
    photos: Vec<String>,
    killed_mid_sync: u32,
}

fn run_child_and_kill(dir: &std::path::Path, ticket: &str, run: u64, after: Duration, tally: &mut Tally) {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "child_works_until_killed", "--nocapture", "--test-threads=1"])
        .env(CHILD_DIR, dir)
        .env(CHILD_TICKET, ticket)
        .env(CHILD_RUN, run.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || BufReader::new(stdout).lines().map_while(Result::ok).collect::<Vec<_>>());
    std::thread::sleep(after);
    child.kill().unwrap(); // SIGKILL: no destructors, no flushing, no goodbye
    child.wait().unwrap();
    let lines = reader.join().unwrap();
    if lines.last().is_some_and(|l| l == "sync start") {
        tally.killed_mid_sync += 1;
    }
    for line in lines {
        if let Some(text) = line.strip_prefix("committed ") {
            tally.committed.push(text.to_owned());
        } else if let Some(hash) = line.strip_prefix("photo ") {
            tally.photos.push(hash.to_owned());
        }
    }
}

async fn integrity(dir: &std::path::Path) -> String {
    let pool = outpost_scenarios::device_store(dir).await;
    let (result,): (String,) = sqlx::query_as("PRAGMA integrity_check").fetch_one(&pool).await.unwrap();
    // SQLCipher's own check: every page's authentication code holds (no rows when all do).
    let damaged: Vec<(String,)> = sqlx::query_as("PRAGMA cipher_integrity_check").fetch_all(&pool).await.unwrap();
    pool.close().await;
    if damaged.is_empty() {
        result
    } else {
        format!("{result}; pages failing their authentication code: {damaged:?}")
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_committed_edit_is_lost_when_the_app_is_killed_mid_write_or_mid_sync() {
    let root = tempfile::tempdir().unwrap();
    let desk = Desk::start(root.path()).await;
    let engineer = desk.engineer("Pavel").await;
    let job = job_for(&desk, &engineer, 7).await;
    let ticket = job.ticket.to_string();
    let dir = root.path().join("tablet");
    let device = desk.paired_device(&engineer, &dir, None).await;
    sync_until_ok(&device, 3).await;
    device.act(&ticket, TicketAction::Accept).await.unwrap();
    device.close().await;

    let mut tally = Tally { committed: Vec::new(), photos: Vec::new(), killed_mid_sync: 0 };
    // A fixed sequence of kill times between 40 ms and 600 ms.
    let mut state: u64 = 0x5EED;
    for run in 0..RUNS {
        state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        let after = Duration::from_millis(40 + (state >> 33) % 560);
        let child_dir = dir.clone();
        let ticket_id = ticket.clone();
        let mut run_tally = Tally { committed: Vec::new(), photos: Vec::new(), killed_mid_sync: 0 };
        run_tally = tokio::task::spawn_blocking(move || {
            run_child_and_kill(&child_dir, &ticket_id, run, after, &mut run_tally);
            run_tally
        })
        .await
        .unwrap();
        tally.committed.extend(run_tally.committed);
        tally.photos.extend(run_tally.photos);
        tally.killed_mid_sync += run_tally.killed_mid_sync;

        assert_eq!(integrity(&dir).await, "ok", "run {run}: the store is not corrupt");
        let reopened = outpost_scenarios::open_device(&dir).await;
        let notes: Vec<String> = reopened.ticket(&ticket).await.unwrap().work_log.into_iter().map(|n| n.text).collect();
        for text in &tally.committed {
            assert!(notes.contains(text), "run {run}: {text:?} was reported committed and is gone");
        }
        reopened.close().await;
    }
    eprintln!(
        "{RUNS} kills: {} edits committed, {} photos, {} kills during a sync",
        tally.committed.len(),
        tally.photos.len(),
        tally.killed_mid_sync
    );
    assert!(!tally.committed.is_empty(), "the children got some work done");

    let device = outpost_scenarios::open_device(&dir).await;
    sync_until_ok(&device, 5).await;
    let on_desk = desk.ticket(job.ticket).await;
    let desk_notes: Vec<&str> = on_desk.work_log.iter().map(|n| n.text.as_str()).collect();
    for text in &tally.committed {
        assert_eq!(desk_notes.iter().filter(|n| **n == text).count(), 1, "{text:?} reached the desk exactly once");
    }
    let on_device: Vec<String> = device.ticket(&ticket).await.unwrap().work_log.into_iter().map(|n| n.text).collect();
    assert_eq!(desk_notes, on_device, "the device and the desk agree");
    for hash in &tally.photos {
        assert!(desk.has_blob(hash).await, "photo {hash} reached the desk whole");
    }
    assert_eq!(device.status().await.unwrap().pending_documents, 0);
}
