//! Sync cost for 10,000 realistic tickets, beside zstd-compressed JSON.
//!
//! Prints, for one device against the in-memory desk (the same session
//! code the real desk and app run): bytes and time to sync everything to an
//! empty device, to sync one edited field, and for an idle round; and the
//! bytes of the same records as JSON compressed with zstd.
//!
//! Run: `cargo bench -p outpost-sync --bench sync_bench` (TICKETS=N to change the count).

use std::time::{Duration, Instant};

use automerge::ActorId;
use outpost_sync::ids::{EntryId, Timestamp};
use outpost_sync::limits::WireLimits;
use outpost_sync::memory::{MemoryDesk, MemoryDevice};
use outpost_sync::model::{new_document, ChecklistItemState, Document};
use outpost_sync::sample::{worked_ticket, Cast, Rng};
use outpost_sync::session::ServerConfig;
use outpost_sync::wire::RoundId;

const T0: Timestamp = Timestamp(1_790_000_000_000);

#[derive(Default)]
struct Traffic {
    rounds: u64,
    up: usize,
    down: usize,
    elapsed: Duration,
}

/// Runs rounds until the device has nothing more to do.
fn sync(device: &mut MemoryDevice, desk: &mut MemoryDesk, round: &mut u64) -> Traffic {
    let mut traffic = Traffic::default();
    let start = Instant::now();
    loop {
        *round += 1;
        let request = device.start_round(T0, RoundId(*round)).expect("no round in flight");
        let actor = device.actor;
        let response = desk.handle(T0, &actor, &request);
        traffic.rounds += 1;
        traffic.up += request.len();
        traffic.down += response.len();
        if !device.handle_response(T0, &response).expect("a well-formed response") {
            break;
        }
    }
    traffic.elapsed = start.elapsed();
    traffic
}

fn kib(bytes: usize) -> String {
    if bytes < 10 * 1024 {
        format!("{bytes} B")
    } else {
        format!("{:.1} KiB", bytes as f64 / 1024.0)
    }
}

fn report(what: &str, t: &Traffic) {
    println!(
        "{what:<28} {:>4} round(s)  up {:>12}  down {:>12}  total {:>12}  {:>10.3} ms",
        t.rounds,
        kib(t.up),
        kib(t.down),
        kib(t.up + t.down),
        t.elapsed.as_secs_f64() * 1000.0
    );
}

fn main() {
    let count: u64 = std::env::var("TICKETS").ok().and_then(|v| v.parse().ok()).unwrap_or(10_000);
    let cast = Cast::default();
    let mut rng = Rng::new(2026);
    let mut desk = MemoryDesk::new(ServerConfig::new(ActorId::from([0xd5; 16])));
    let mut json = Vec::new();
    let started = Instant::now();
    for n in 0..count {
        let ticket = worked_ticket(&mut rng, &cast, n, T0.plus_millis(n as i64 * 60_000));
        let document = Document::Ticket(ticket);
        let doc = new_document(&document, ActorId::from([0xd5; 16])).expect("sample tickets fit the schema");
        json.push(serde_json::to_value(automerge::AutoSerde::from(&doc)).expect("a document serialises"));
        desk.create(&document).expect("sample tickets fit the schema");
    }
    let json = serde_json::to_vec(&json).expect("json");
    let zstd_json = zstd::bulk::compress(&json, 3).expect("zstd");
    println!("{count} tickets generated in {:.1} s", started.elapsed().as_secs_f64());
    println!("baseline: JSON {} , zstd(JSON, level 3) {}", kib(json.len()), kib(zstd_json.len()));

    let mut device =
        MemoryDevice::new(cast.engineer, ActorId::from([1; 16]), WireLimits::default()).with_page_size(1_000);
    let mut round = 0;
    let full = sync(&mut device, &mut desk, &mut round);
    assert_eq!(device.doc_ids().count() as u64, count, "every ticket must reach the device");
    report("full sync to empty device", &full);
    println!(
        "    full sync / zstd(JSON) = {:.2}  (target <= 1.5)",
        (full.up + full.down) as f64 / zstd_json.len() as f64
    );

    let id = device.doc_ids().nth(count as usize / 2).expect("a ticket in the middle");
    let engineer = cast.engineer;
    device
        .edit(id, T0, |d| {
            if let Document::Ticket(t) = d {
                t.checklist.insert("firmware".into(), ChecklistItemState { done: true, by: engineer, at: T0 });
                t.work_log.push(outpost_sync::model::WorkLogEntry {
                    id: EntryId::from_u128(1),
                    at: T0,
                    by: engineer,
                    text: "Firmware updated".into(),
                });
            }
        })
        .expect("the engineer may tick and note");
    let one_edit = sync(&mut device, &mut desk, &mut round);
    report("one edit (tick + note)", &one_edit);

    let mut field = Traffic::default();
    device
        .edit(id, T0, |d| {
            if let Document::Ticket(t) = d {
                t.resolution.code = Some("HW-REPLACED".into());
            }
        })
        .expect("the engineer may set a resolution code");
    let t = sync(&mut device, &mut desk, &mut round);
    field.rounds += t.rounds;
    field.up += t.up;
    field.down += t.down;
    field.elapsed += t.elapsed;
    report("one edited field", &field);

    let idle = sync(&mut device, &mut desk, &mut round);
    report("idle round", &idle);
    assert_eq!(device.heads(id), desk.heads(id), "the edit must have reached the desk");
}
