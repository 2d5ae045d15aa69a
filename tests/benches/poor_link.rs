//! The field briefcase over a poor link: an engineer's day (TICKETS tickets
//! worked: moves, notes, the checklist, time, PHOTOS photos each, the
//! resolution) syncs to a real desk through the scenario proxy playing a
//! link of KBIT kbit/s with RTT_MS ms round trips (and LOSS per mille of
//! 20 ms slices lost, each costing a STALL_MS stall). Prints the time, what
//! crossed the link, and the physical limit: the bytes over the bandwidth
//! plus one round trip per request.
//!
//! Run: `cargo bench -p outpost-scenarios --bench poor_link`
//! (TICKETS=8 PHOTOS=2 KBIT=1000 RTT_MS=300 LOSS=0 STALL_MS=600 by default).

use std::io::Cursor;
use std::time::{Duration, Instant};

use outpost_core::work::{TicketAction, Timer};
use outpost_scenarios::{job_for, Desk, Link, Proxy};

fn count(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// A camera-like photo: a 12-megapixel scene with grain, so it compresses
/// as real ones do (the device shrinks it to 2048 px and re-encodes).
fn camera_photo(seed: u32) -> Vec<u8> {
    let mut state = u64::from(seed) * 0x9E37_79B9 + 1;
    let img = image::ImageBuffer::from_fn(4000, 3000, |x, y| {
        state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        let grain = (state >> 59) as u8;
        let base = ((x / 40 + y / 30 + seed) % 200) as u8;
        image::Rgb([base.wrapping_add(grain), base / 2 + grain, 255 - base])
    });
    let mut bytes = Vec::new();
    image::DynamicImage::ImageRgb8(img).write_to(&mut Cursor::new(&mut bytes), image::ImageFormat::Jpeg).unwrap();
    bytes
}

#[tokio::main]
async fn main() {
    let (tickets, photos) = (count("TICKETS", 8), count("PHOTOS", 2));
    let link = Link {
        bytes_per_second: count("KBIT", 1000) * 1000 / 8,
        one_way: Duration::from_millis(count("RTT_MS", 300) / 2),
        loss_per_mille: count("LOSS", 0),
        stall: Duration::from_millis(count("STALL_MS", 600)),
    };
    let root = tempfile::tempdir().unwrap();
    let desk = Desk::start(root.path()).await;
    let engineer = desk.engineer("Nadia").await;
    let mut ids = Vec::new();
    for n in 0..tickets {
        ids.push(job_for(&desk, &engineer, u128::from(n) + 1).await.ticket.to_string());
    }
    let proxy = Proxy::start(desk.addr, 1, 0).await;
    let device = desk.paired_device(&engineer, &root.path().join("tablet"), Some(&proxy.url())).await;
    device.sync_now().await.expect("the morning's sync");

    // The day, offline; every photo a different one.
    for (n, ticket) in ids.iter().enumerate() {
        for action in [TicketAction::Accept, TicketAction::EnRoute, TicketAction::Arrive { coordinates: None }] {
            device.act(ticket, action).await.unwrap();
        }
        device.act(ticket, TicketAction::StartTimer { kind: Timer::Work }).await.unwrap();
        for (k, item) in ["power", "logs", "firmware"].iter().enumerate() {
            device.act(ticket, TicketAction::Tick { item: (*item).into(), done: true }).await.unwrap();
            let text = format!("Step {k} on ticket {n}: checked {item}, all within limits.");
            device.act(ticket, TicketAction::AddNote { text }).await.unwrap();
        }
        for k in 0..photos as u32 {
            let picture = camera_photo(n as u32 * photos as u32 + k);
            device.attach_photo(ticket, &picture, "photo.jpg", false).await.unwrap();
        }
        device.act(ticket, TicketAction::StopTimer).await.unwrap();
        let notes = "Replaced the failed disk; the array rebuilt.".to_owned();
        device.act(ticket, TicketAction::SetResolution { code: Some("replaced".into()), notes }).await.unwrap();
        device.act(ticket, TicketAction::Resolve).await.unwrap();
    }

    proxy.set_link(link);
    let before = proxy.traffic();
    let started = Instant::now();
    let report = device.sync_now().await.expect("the day lands");
    let took = started.elapsed();
    let status = device.status().await.unwrap();
    assert_eq!((status.pending_documents, status.pending_blobs), (0, 0), "everything landed: {report:?}");
    let after = proxy.traffic();
    let (requests, up, down) =
        (after.requests - before.requests, after.bytes_up - before.bytes_up, after.bytes_down - before.bytes_down);
    let rtt = link.one_way * 2;
    let limit = Duration::from_secs_f64((up + down) as f64 / link.bytes_per_second as f64) + rtt * requests as u32;
    println!(
        "{tickets} tickets, {} photos over {} kbit/s, {} ms RTT, {} per mille lost: {:.1} s; {requests} requests, {} KiB up, {} KiB down; physical limit {:.1} s; {:.2}x the limit",
        tickets * photos,
        link.bytes_per_second * 8 / 1000,
        rtt.as_millis(),
        link.loss_per_mille,
        took.as_secs_f64(),
        up / 1024,
        down / 1024,
        limit.as_secs_f64(),
        took.as_secs_f64() / limit.as_secs_f64(),
    );
}
