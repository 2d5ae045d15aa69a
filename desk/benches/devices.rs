//! N devices syncing with one desk at once, each pushing one edit and
//! pulling what changed for it: rounds per second and p50/p99 latency, on
//! SQLite and (with OUTPOST_BENCH_POSTGRES_URL) on PostgreSQL.
//!
//! Run: `cargo bench -p outpost-desk --bench devices` (DEVICES=100,500,1000 to pick the counts).

use std::time::{Duration, Instant};

use automerge::ActorId;
use outpost_desk::accounts;
use outpost_desk::{service, store, AppState, Db, SYNC_CONTENT_TYPE};
use outpost_sync::ids::{EntryId, Timestamp};
use outpost_sync::limits::WireLimits;
use outpost_sync::memory::MemoryDevice;
use outpost_sync::model::{new_document, Actor, Assignee, Document, Role, WorkLogEntry};
use outpost_sync::sample::{worked_ticket, Cast, Rng};
use outpost_sync::wire::RoundId;
use sqlx::Executor;

const T0: Timestamp = Timestamp(1_790_000_000_000);

struct BenchDevice {
    token: String,
    local: MemoryDevice,
    ticket: outpost_sync::ids::DocId,
    actor: Actor,
}

async fn round(http: &reqwest::Client, url: &str, device: &mut BenchDevice, n: u64) -> Duration {
    let started = Instant::now();
    let request = device.local.start_round(T0, RoundId(n)).expect("no round in flight");
    let reply = http
        .post(url)
        .bearer_auth(&device.token)
        .header(reqwest::header::CONTENT_TYPE, SYNC_CONTENT_TYPE)
        .body(request)
        .send()
        .await
        .expect("the desk answers");
    let bytes = reply.bytes().await.expect("a body");
    device.local.handle_response(T0, &bytes).expect("a well-formed response");
    started.elapsed()
}

async fn run(url: &str, label: &str, devices: usize) {
    let db = Db::open(url).await.expect("database opens");
    let org = accounts::create_org(&db.pool, &format!("Service {devices}"), true).await.unwrap();
    let dispatcher = Actor {
        user: accounts::create_user(&db.pool, org, "Dispatcher", Role::Dispatcher, T0).await.unwrap(),
        org,
        role: Role::Dispatcher,
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let state = AppState::new(db.clone());
    let desk_actor = state.sync.desk_actor.clone();
    tokio::spawn(async move { axum::serve(listener, service(state)).await.unwrap() });
    let sync_url = format!("http://{addr}/v1/sync");

    let mut rng = Rng::new(7);
    let mut fleet = Vec::new();
    for n in 0..devices {
        let user = accounts::create_user(&db.pool, org, &format!("Engineer {n}"), Role::Engineer, T0).await.unwrap();
        let actor = Actor { user, org, role: Role::Engineer };
        let cast = Cast { dispatcher, engineer: actor, ..Cast::default() };
        let mut ticket = worked_ticket(&mut rng, &cast, n as u64, T0);
        ticket.transitions[0].assignee = Some(Assignee { engineer: Some(user), partner_org: None });
        let document = Document::Ticket(ticket.clone());
        let mut doc = new_document(&document, desk_actor.clone()).unwrap();
        let mut tx = db.pool.begin().await.unwrap();
        store::insert_new(&mut tx, &document, &mut doc, T0).await.unwrap();
        tx.commit().await.unwrap();
        let code = accounts::issue_pairing_code(&db.pool, user, outpost_desk::now(), 60_000).await.unwrap();
        let paired = accounts::pair_device(&db.pool, &code, "bench", outpost_desk::now()).await.unwrap();
        let mut id = [0u8; 16];
        id[..8].copy_from_slice(&(n as u64 + 1).to_le_bytes());
        fleet.push(BenchDevice {
            token: paired.token,
            local: MemoryDevice::new(actor, ActorId::from(id), WireLimits::default()),
            ticket: ticket.id,
            actor,
        });
    }
    let http = reqwest::Client::builder().pool_max_idle_per_host(devices).build().unwrap();
    // First contact, not measured: each device fetches its ticket.
    for (n, device) in fleet.iter_mut().enumerate() {
        for attempt in 0..5 {
            round(&http, &sync_url, device, (n * 10 + attempt) as u64).await;
            if device.local.document(device.ticket).is_some() {
                break;
            }
        }
    }
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
    let started = Instant::now();
    let tasks: Vec<_> = fleet
        .into_iter()
        .enumerate()
        .map(|(n, mut device)| {
            let http = http.clone();
            let url = sync_url.clone();
            tokio::spawn(async move { round(&http, &url, &mut device, 1_000_000 + n as u64).await })
        })
        .collect();
    let mut latencies = Vec::new();
    for task in tasks {
        latencies.push(task.await.unwrap());
    }
    let wall = started.elapsed();
    latencies.sort();
    let pick = |q: f64| latencies[((latencies.len() as f64 * q) as usize).min(latencies.len() - 1)];
    println!(
        "{label:<10} {devices:>5} devices  {:>8.1} rounds/s  p50 {:>8.1} ms  p99 {:>8.1} ms  (all done in {:.2} s)",
        devices as f64 / wall.as_secs_f64(),
        pick(0.5).as_secs_f64() * 1000.0,
        pick(0.99).as_secs_f64() * 1000.0,
        wall.as_secs_f64()
    );
    db.pool.close().await;
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
