//! Two devices sync through a proxy that cuts connections mid-request and
//! mid-reply, delays replies and sends requests to the desk twice, while
//! the desk itself is killed and restarted in the middle of syncs. Once the
//! network behaves, everything converges: every note arrives exactly once,
//! every photo arrives whole, and both devices match the desk.

use std::time::Duration;

use outpost_core::work::TicketAction;
use outpost_core::Device;
use outpost_scenarios::{job_for, photo, sync_until_ok, Desk, Fault, Proxy};

async fn edit(device: &Device, ticket: &str, name: &str, step: u32) -> Option<String> {
    device.act(ticket, TicketAction::AddNote { text: format!("{name} note {step}") }).await.unwrap();
    if step % 7 == 3 {
        let attached = device.attach_photo(ticket, &photo(step as u8, 900, 700), "p.jpg", false).await.unwrap();
        return Some(attached.hash);
    }
    None
}

async fn scenario(seed: u64) {
    let root = tempfile::tempdir().unwrap();
    let mut desk = Desk::start(root.path()).await;
    let engineer = desk.engineer("Anna").await;
    let job = job_for(&desk, &engineer, seed as u128).await;
    let ticket = job.ticket.to_string();
    let proxy = Proxy::start(desk.addr, seed, 45).await;
    let a = desk.paired_device(&engineer, &root.path().join("a"), Some(&proxy.url())).await;
    let b = desk.paired_device(&engineer, &root.path().join("b"), Some(&proxy.url())).await;
    proxy.set_fault_percent(0);
    sync_until_ok(&a, 3).await;
    sync_until_ok(&b, 3).await;
    a.act(&ticket, TicketAction::Accept).await.unwrap();
    proxy.set_fault_percent(45);

    let mut photos = Vec::new();
    let mut failures = 0;
    for step in 0..24u32 {
        let (device, name) = if step % 2 == 0 { (&a, "a") } else { (&b, "b") };
        photos.extend(edit(device, &ticket, name, step).await);
        if step % 8 == 5 {
            // Kill the desk while this device's sync is in flight, then bring it back.
            let syncing = tokio::spawn({
                let device = device.clone();
                async move { device.sync_now().await }
            });
            tokio::time::sleep(Duration::from_millis(u64::from(step) * 3)).await;
            desk.stop();
            failures += usize::from(syncing.await.unwrap().is_err());
            desk.start_again().await;
        } else if device.sync_now().await.is_err() {
            failures += 1;
        }
    }
    let faults = proxy.faults();
    assert!(faults.iter().any(|f| *f != Fault::None), "the network misbehaved: {faults:?}");
    assert!(failures > 0, "some syncs failed on the way");
    eprintln!(
        "seed {seed}: {failures} failed syncs; faults {:?}",
        faults.iter().filter(|f| **f != Fault::None).collect::<Vec<_>>()
    );

    proxy.set_fault_percent(0);
    for device in [&a, &b, &a] {
        sync_until_ok(device, 5).await;
    }
    let on_a = a.ticket(&ticket).await.unwrap();
    let on_b = b.ticket(&ticket).await.unwrap();
    let on_desk = desk.ticket(job.ticket).await;
    let notes = |texts: Vec<&str>| {
        let mut texts: Vec<String> = texts.into_iter().map(str::to_owned).collect();
        texts.sort();
        texts
    };
    let expected: Vec<String> = notes(
        (0..24u32)
            .map(|s| format!("{} note {s}", if s % 2 == 0 { "a" } else { "b" }))
            .collect::<Vec<_>>()
            .iter()
            .map(String::as_str)
            .collect(),
    );
    assert_eq!(
        notes(on_desk.work_log.iter().map(|n| n.text.as_str()).collect()),
        expected,
        "each note once at the desk"
    );
    assert_eq!(notes(on_a.work_log.iter().map(|n| n.text.as_str()).collect()), expected);
    assert_eq!(
        on_a.work_log.iter().map(|n| &n.id).collect::<Vec<_>>(),
        on_b.work_log.iter().map(|n| &n.id).collect::<Vec<_>>(),
        "both devices hold the same log in the same order"
    );
    assert_eq!(on_desk.attachments.len(), photos.len());
    for hash in &photos {
        assert!(desk.has_blob(hash).await, "photo {hash} arrived whole");
    }
    assert_eq!(on_a.status, "accepted");
    assert_eq!(desk.audit_count().await, 0, "no edit was refused");
}

#[tokio::test]
async fn sync_converges_through_cuts_delays_duplicates_and_desk_restarts() {
    for seed in [11, 2026, 4242] {
        scenario(seed).await;
    }
}

/// A photo whose upload the link cuts part-way through resumes from the
/// byte the desk got, not from the start of its chunk or of the photo.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_photo_cut_mid_upload_resumes_from_the_byte_the_desk_got() {
    let root = tempfile::tempdir().unwrap();
    let desk = Desk::start(root.path()).await;
    let engineer = desk.engineer("Lev").await;
    let job = job_for(&desk, &engineer, 77).await;
    let ticket = job.ticket.to_string();
    let proxy = Proxy::start(desk.addr, 77, 0).await;
    let device = desk.paired_device(&engineer, &root.path().join("tablet"), Some(&proxy.url())).await;
    sync_until_ok(&device, 3).await;
    let attached = device.attach_photo(&ticket, &photo(77, 1600, 1200), "p.jpg", false).await.unwrap();
    let cut_at = 40_000;
    assert!(attached.bytes > 2 * cut_at as u64, "the photo is larger than the part that gets through");

    proxy.cut_next_body_at(cut_at);
    assert!(device.sync_now().await.is_err(), "the sync in which the link dropped fails");
    let (received,): (i64,) = sqlx::query_as("SELECT received FROM blob_uploads WHERE hash = $1")
        .bind(&attached.hash)
        .fetch_one(&desk.db.pool)
        .await
        .expect("the desk kept the part that got through");
    assert_eq!(received, cut_at as i64, "every byte that got through is kept");

    sync_until_ok(&device, 3).await;
    assert!(desk.has_blob(&attached.hash).await, "the photo is whole at the desk");
    let resumed = format!("PUT /v1/blobs/{}?offset={cut_at}&", attached.hash);
    let lines = proxy.request_lines();
    assert!(lines.iter().any(|l| l.starts_with(&resumed)), "the upload went on from byte {cut_at}: {lines:?}");
    let (stored,): (i64,) = sqlx::query_as("SELECT SUM(LENGTH(bytes)) FROM blob_chunks WHERE hash = $1")
        .bind(&attached.hash)
        .fetch_one(&desk.db.pool)
        .await
        .unwrap();
    assert_eq!(stored as u64, attached.bytes, "its hash checked out over every byte, none twice");
}

/// How many documents a device's store holds, read from its SQLite file.
async fn documents_on(dir: &std::path::Path) -> i64 {
    let pool = outpost_scenarios::device_store(dir).await;
    let (count,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM documents").fetch_one(&pool).await.unwrap();
    pool.close().await;
    count
}

/// A first sync whose link dies after two pages keeps those pages; the
/// next sync goes on from where they ended and fetches none of them again.
/// The device asks for the next page while it applies the last one, so the
/// cut also lands on a request made during an apply.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_first_sync_cut_part_way_keeps_its_finished_pages_and_fetches_only_the_rest() {
    let root = tempfile::tempdir().unwrap();
    let desk = Desk::start_with_pages_of(root.path(), 10).await;
    let engineer = desk.engineer("Pavel").await;
    for n in 0..12 {
        job_for(&desk, &engineer, n).await;
    }
    // A device that syncs whole: what a first sync brings, in how many rounds.
    let whole = desk.paired_device(&engineer, &root.path().join("laptop"), None).await;
    let first = whole.sync_now().await.unwrap().progress;
    let rounds = first.rounds;
    assert!(rounds >= 5, "the desk sends pages of 10 feed entries: {rounds} rounds");
    let total = documents_on(&root.path().join("laptop")).await;
    // Each document comes once: a ticket's client, site and checklist are
    // not sent at their own feed entries and again with the ticket that grants them.
    assert_eq!(first.documents_received, total as u64, "no document is sent twice in a first sync");

    let proxy = Proxy::start(desk.addr, 5, 0).await;
    let tablet = root.path().join("tablet");
    let device = desk.paired_device(&engineer, &tablet, Some(&proxy.url())).await;
    // Two rounds get their replies; the link is dead from the third request on.
    proxy.cut_replies_from(Some(proxy.traffic().requests + 3));
    assert!(device.sync_now().await.is_err(), "the sync the link died in fails");
    let kept = documents_on(&tablet).await;
    assert!(kept > 0 && kept < total, "the two finished pages are kept: {kept} of {total}");

    proxy.cut_replies_from(None);
    let resumed = device.sync_now().await.unwrap();
    assert_eq!(resumed.progress.rounds, rounds - 2, "the resumed sync starts after the two finished pages");
    assert_eq!(documents_on(&tablet).await, total, "and ends with all of it");
}
