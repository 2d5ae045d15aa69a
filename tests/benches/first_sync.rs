//! A device's first sync: N worked tickets assigned to one engineer, from a
//! real desk (SQLite) to a real, empty device store, over loopback HTTP, as
//! `outpost sync` does it. With `node` and the packages in
//! `bench/pouchdb` installed (`npm ci --prefix bench/pouchdb`), the same
//! records are replicated from pouchdb-server to an empty pouchdb-node
//! database in the same run, and the ratio is printed.
//!
//! Run: `cargo bench -p outpost-scenarios --bench first_sync`
//! (`TICKETS=N`, 10,000 by default; `POUCHDB=0` skips the peer,
//! `POUCHDB=required` fails the run if the peer cannot run).

use std::path::Path;
use std::time::{Duration, Instant};

use outpost_desk::store;
use outpost_scenarios::{Desk, T0};
use outpost_sync::model::{new_document, Actor, Document, Role};
use outpost_sync::sample::{worked_ticket, Cast, Rng};

fn count(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// Writes `n` worked tickets for `engineer` into the desk, in one transaction.
async fn seed(desk: &Desk, engineer: Actor, n: u64) -> Vec<Document> {
    let dispatcher = Actor { user: outpost_sync::ids::UserId::from_u128(1), org: desk.service, role: Role::Dispatcher };
    let cast = Cast { service: desk.service, engineer, dispatcher, ..Cast::default() };
    let mut rng = Rng::new(7);
    let mut tickets = Vec::with_capacity(n as usize);
    let mut tx = desk.db.begin_write().await.unwrap();
    for number in 0..n {
        let document = Document::Ticket(worked_ticket(&mut rng, &cast, number, T0));
        let mut doc = new_document(&document, outpost_desk::desk_actor()).unwrap();
        store::insert_new(&mut tx, &document, &mut doc, T0).await.unwrap();
        tickets.push(document);
    }
    tx.commit().await.unwrap();
    tickets
}

/// The peer: pouchdb-server on loopback holding the same records, replicated
/// to an empty pouchdb-node database. `None` if it cannot run here.
fn pouchdb(records: &[Document], dir: &Path) -> Option<Duration> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../bench/pouchdb/first_sync.mjs");
    if std::env::var("POUCHDB").as_deref() == Ok("0") || !script.with_file_name("node_modules").exists() {
        println!("pouchdb: skipped (run `npm ci --prefix bench/pouchdb` to compare)");
        return None;
    }
    let file = dir.join("records.json");
    let json: Vec<serde_json::Value> = records
        .iter()
        .map(|d| {
            let mut value = serde_json::to_value(d).unwrap();
            value["_id"] = d.id().to_string().into();
            value
        })
        .collect();
    std::fs::write(&file, serde_json::to_vec(&json).unwrap()).unwrap();
    let output = std::process::Command::new("node").arg(&script).arg(&file).arg(dir).output().ok()?;
    if !output.status.success() {
        println!("pouchdb: failed: {}", String::from_utf8_lossy(&output.stderr));
        return None;
    }
    let text = String::from_utf8_lossy(&output.stdout);
    let millis: f64 =
        text.lines().find_map(|l| l.strip_prefix("replicated_ms ")).and_then(|v| v.trim().parse().ok())?;
    Some(Duration::from_secs_f64(millis / 1000.0))
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let n = count("TICKETS", 10_000);
    let dir = tempfile::tempdir().unwrap();
    let desk = Desk::start(dir.path()).await;
    let engineer = desk.engineer("Vera Engineer").await;
    let started = Instant::now();
    let records = seed(&desk, engineer, n).await;
    println!("seeded {n} tickets on the desk in {:.1} s", started.elapsed().as_secs_f64());

    let device = desk.paired_device(&engineer, &dir.path().join("device"), None).await;
    let started = Instant::now();
    let report = device.sync_now().await.expect("the first sync completes");
    let ours = started.elapsed();
    let p = &report.progress;
    println!(
        "outpost first sync: {n} tickets, {} documents in {} rounds, {:.1} KiB down, {:.2} s ({:.0} documents/s)",
        p.documents_received,
        p.rounds,
        p.bytes_received as f64 / 1024.0,
        ours.as_secs_f64(),
        p.documents_received as f64 / ours.as_secs_f64()
    );
    let peer = pouchdb(&records, dir.path());
    if peer.is_none() && std::env::var("POUCHDB").as_deref() == Ok("required") {
        eprintln!("the PouchDB peer is required (POUCHDB=required) but did not run");
        std::process::exit(1);
    }
    if let Some(peer) = peer {
        println!(
            "pouchdb replication: {n} records, {:.2} s; outpost / pouchdb = {:.2}",
            peer.as_secs_f64(),
            ours.as_secs_f64() / peer.as_secs_f64()
        );
    }
}
