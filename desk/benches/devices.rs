//! N devices syncing with one desk at once, each pushing one edit and
//! pulling what changed for it: rounds per second and p50/p99 latency, on
//! SQLite and (with OUTPOST_BENCH_POSTGRES_URL) on PostgreSQL. The desk is
//! the real `outpost-desk` binary in a process of its own (the devices'
//! work would otherwise share its threads); its CPU time per round is shown.
//!
//! Run: `cargo bench -p outpost-desk --bench devices` (DEVICES=100,500,1000 to pick the counts).

use std::time::Instant;

use outpost_desk::Db;
use outpost_sync::ids::EntryId;
use outpost_sync::model::{Document, WorkLogEntry};
use sqlx::Executor;

mod fleet;
use fleet::{first_contact, quantile_ms, round, DeskProcess, T0};

async fn run(url: &str, label: &str, devices: usize) {
    let db = Db::open(url).await.expect("database opens");
    let (org, dispatcher) = fleet::company(&db, &format!("Service {devices}")).await;
    let mut fleet = fleet::fleet(&db, org, dispatcher, devices).await;
    db.pool.close().await;
    let desk = DeskProcess::start(url).await;
    let sync_url = format!("{}/v1/sync", desk.base);
    let http = reqwest::Client::builder().pool_max_idle_per_host(devices).build().unwrap();
    // First contact, not measured: each device fetches its ticket.
    first_contact(&http, &sync_url, &mut fleet).await;
    // Everyone edits offline, then all sync at once.
    for (n, device) in fleet.iter_mut().enumerate() {
        let by = device.actor;
        device
            .local
            .edit(device.ticket, T0, |d| {
                if let Document::Ticket(t) = d {
                    t.work_log.push(WorkLogEntry {
                        id: EntryId::from_u128(n as u128 + 1),
                        at: T0,
                        by,
                        text: "checked".into(),
                    });
                }
            })
            .unwrap();
    }
    eprintln!("{label}: every device edited; all sync at once");
    let cpu = desk.cpu_seconds();
    let started = Instant::now();
    let tasks: Vec<_> = fleet
        .into_iter()
        .map(|mut device| {
            let http = http.clone();
            let url = sync_url.clone();
            tokio::spawn(async move { round(&http, &url, &mut device).await })
        })
        .collect();
    let mut latencies = Vec::new();
    for task in tasks {
        latencies.push(task.await.unwrap());
    }
    let wall = started.elapsed();
    let desk_cpu_ms = (desk.cpu_seconds() - cpu) * 1000.0 / devices as f64;
    latencies.sort();
    println!(
        "{label:<10} {devices:>5} devices  {:>8.1} rounds/s  p50 {:>8.1} ms  p99 {:>8.1} ms  (all done in {:.2} s; desk CPU {desk_cpu_ms:.1} ms a round)",
        devices as f64 / wall.as_secs_f64(),
        quantile_ms(&latencies, 0.5),
        quantile_ms(&latencies, 0.99),
        wall.as_secs_f64()
    );
}

#[tokio::main]
async fn main() {
    let counts: Vec<usize> = std::env::var("DEVICES")
        .unwrap_or_else(|_| "100,500,1000".into())
        .split(',')
        .filter_map(|n| n.trim().parse().ok())
        .collect();
    let dir = std::env::temp_dir().join(format!("outpost-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for &devices in &counts {
        let file = dir.join(format!("desk-{devices}.db"));
        run(&format!("sqlite:{}", file.display()), "SQLite", devices).await;
    }
    if let Ok(base) = std::env::var("OUTPOST_BENCH_POSTGRES_URL") {
        sqlx::any::install_default_drivers();
        for &devices in &counts {
            let name = format!("outpost_bench_{devices}_{}", std::process::id());
            let admin = sqlx::AnyPool::connect(&base).await.unwrap();
            admin.execute(format!("CREATE DATABASE {name}").as_str()).await.unwrap();
            admin.close().await;
            let (prefix, _) = base.rsplit_once('/').unwrap();
            run(&format!("{prefix}/{name}"), "PostgreSQL", devices).await;
        }
    } else {
        println!("PostgreSQL: set OUTPOST_BENCH_POSTGRES_URL to measure it too");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
