//! A store left plain by an earlier version is encrypted at the app's first
//! open after the update. The app is killed (SIGKILL) at a sweep of moments
//! through that first open, each time on a fresh copy of the plain store:
//! after every kill the next open finds every document, photo and setting,
//! and some kills land while the encrypted copy was being written.
//!
//! The app here is this test binary re-run as a child (`child_opens_the_store`).

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use outpost_core::seeding::{open_plain, pair_offline, receive_from_desk};
use outpost_core::{TicketFilter, STORE_FILE};
use outpost_scenarios::{open_device, photo};
use outpost_sync::ids::Timestamp;
use outpost_sync::model::Document;
use outpost_sync::sample::{worked_ticket, Cast, Rng};

const CHILD_DIR: &str = "OUTPOST_MIGRATION_DATA_DIR";
/// Kill moments from 0 to 780 ms after the child starts, 20 ms apart.
const KILL_STEP_MS: u64 = 20;
const KILLS: u64 = 40;

/// The child: opens the store (encrypting it) and says so.
#[tokio::test]
async fn child_opens_the_store() {
    let Ok(dir) = std::env::var(CHILD_DIR) else {
        return; // Run by the harness as an ordinary test: nothing to do.
    };
    let device = open_device(Path::new(&dir)).await;
    device.close().await;
    println!("opened");
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plain_store_killed_while_it_is_encrypted_loses_nothing() {
    let root = tempfile::tempdir().unwrap();
    let plain = root.path().join("plain");
    let cast = Cast::default();
    let mut rng = Rng::new(11);
    let tickets: Vec<Document> =
        (1..=1500).map(|n| Document::Ticket(worked_ticket(&mut rng, &cast, n, Timestamp(1_790_000_000_000)))).collect();
    let first = tickets[0].id().to_string();
    let device = open_plain(&plain).await.unwrap();
    pair_offline(&device, cast.engineer, "http://127.0.0.1:9").await.unwrap();
    receive_from_desk(&device, &tickets).await.unwrap();
    let attached = device.attach_photo(&first, &photo(3, 1600, 1200), "panel.jpg", false).await.unwrap();
    let expected = device.ticket(&first).await.unwrap();
    let listed = device.tickets(&TicketFilter::default()).await.unwrap();
    let status = device.status().await.unwrap();
    device.close().await;
    drop(device);
    // Let the closed pool's last connection fold its log into the file.
    while plain.join(format!("{STORE_FILE}-wal")).exists() {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }

    let mut mid_copy = 0;
    let mut finished = 0;
    for kill in 0..KILLS {
        let dir = root.path().join(format!("run-{kill}"));
        copy_dir(&plain, &dir);
        let after = Duration::from_millis(kill * KILL_STEP_MS);
        let child_dir = dir.clone();
        let opened = tokio::task::spawn_blocking(move || {
            let mut child = Command::new(std::env::current_exe().unwrap())
                .args(["--exact", "child_opens_the_store", "--nocapture", "--test-threads=1"])
                .env(CHILD_DIR, &child_dir)
                .stdout(Stdio::piped())
                .stderr(Stdio::null())
                .spawn()
                .unwrap();
            std::thread::sleep(after);
            child.kill().unwrap(); // SIGKILL: no destructors, no flushing, no goodbye
            let output = child.wait_with_output().unwrap();
            String::from_utf8_lossy(&output.stdout).contains("opened")
        })
        .await
        .unwrap();
        if opened {
            finished += 1;
        } else if dir.join(format!("{STORE_FILE}.encrypting")).exists() {
            mid_copy += 1;
        }

        let device = open_device(&dir).await;
        assert_eq!(device.ticket(&first).await.unwrap(), expected, "kill {kill}: the ticket is whole");
        assert_eq!(device.tickets(&TicketFilter::default()).await.unwrap(), listed, "kill {kill}: the list is whole");
        let now = device.status().await.unwrap();
        assert_eq!(
            (now.pending_documents, now.pending_blobs),
            (status.pending_documents, status.pending_blobs),
            "kill {kill}: what waits for the desk still waits"
        );
        assert_eq!(device.blob(&attached.hash).await.unwrap().len() as u64, attached.bytes, "kill {kill}: the photo");
        assert!(device.pairing_info().await.unwrap().is_some(), "kill {kill}: the pairing is kept");
        device.close().await;
        let header = std::fs::read(dir.join(STORE_FILE)).unwrap();
        assert_ne!(&header[..16], b"SQLite format 3\0", "kill {kill}: the store is encrypted after the next open");
    }
    eprintln!("{KILLS} kills: {mid_copy} while the encrypted copy was written, {finished} after the open finished");
    assert!(mid_copy > 0, "some kill landed while the store was being encrypted (widen the sweep if none did)");
}
