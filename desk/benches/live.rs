//! Live channels, against the real `outpost-desk` binary on an SQLite file:
//! with DEVICES devices holding their live channel open, a dispatcher adds
//! NOTES notes one by one, each to a random engineer's ticket; for each, the
//! time from the request to the engineer's poke, and to the note being on
//! the engineer's device after the round the poke starts. Then IDLE more
//! devices open a channel and sit idle: the desk process's memory per
//! open channel (its resident set before and after).
//!
//! Run: `cargo bench -p outpost-desk --bench live` (DEVICES=1000 NOTES=200 IDLE=10000 by default).

use std::time::Instant;

use outpost_desk::{accounts, Db};
use outpost_sync::model::{Document, Role};
use outpost_sync::sample::Rng;
use tokio::sync::mpsc;

mod fleet;
use fleet::{first_contact, quantile_ms, round, DeskProcess, T0};

fn env_count(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.trim().parse().ok()).unwrap_or(default)
}

/// Opens a device's live channel and reports each poke after the first
/// (which only says where the feed is) as `(device, when)`.
async fn open_channel(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    device: usize,
    pokes: mpsc::UnboundedSender<(usize, Instant)>,
) {
    let mut response =
        http.get(format!("{base}/v1/sync/live")).bearer_auth(token).send().await.expect("the desk answers");
    assert!(response.status().is_success(), "the channel opens: {}", response.status());
    let mut first = true;
    tokio::spawn(async move {
        while let Ok(Some(chunk)) = response.chunk().await {
            for _ in String::from_utf8_lossy(&chunk).matches("event: poke") {
                if !std::mem::take(&mut first) {
                    let _ = pokes.send((device, Instant::now()));
                } else {
                    let _ = pokes.send((usize::MAX, Instant::now()));
                }
            }
        }
    });
}

/// Waits for the first event of `count` channels.
async fn opened(pokes: &mut mpsc::UnboundedReceiver<(usize, Instant)>, count: usize) {
    let mut seen = 0;
    while seen < count {
        let (device, _) = pokes.recv().await.expect("channels stay open");
        seen += usize::from(device == usize::MAX);
    }
}

#[tokio::main]
async fn main() {
    let (devices, notes, idle) = (env_count("DEVICES", 1000), env_count("NOTES", 200), env_count("IDLE", 10_000));
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:{}", dir.path().join("desk.db").display());
    let db = Db::open(&url).await.expect("database opens");
    let (org, dispatcher) = fleet::company(&db, "Service").await;
    let mut fleet = fleet::fleet(&db, org, dispatcher, devices).await;
    let token = accounts::issue_api_token(&db.pool, dispatcher.user, "bench", T0, None).await.unwrap();
    let mut idle_tokens = Vec::with_capacity(idle);
    for n in 0..idle {
        let user = accounts::create_user(&db.pool, org, &format!("Idle {n}"), Role::Engineer, T0).await.unwrap();
        idle_tokens.push(fleet::pair(&db, user).await);
    }
    db.pool.close().await;

    let desk = DeskProcess::start(&url).await;
    let http = reqwest::Client::builder().pool_max_idle_per_host(devices).build().unwrap();
    let sync_url = format!("{}/v1/sync", desk.base);
    first_contact(&http, &sync_url, &mut fleet).await;
    let (sender, mut pokes) = mpsc::unbounded_channel();
    for (n, device) in fleet.iter().enumerate() {
        open_channel(&http, &desk.base, &device.token, n, sender.clone()).await;
    }
    opened(&mut pokes, devices).await;

    let mut rng = Rng::new(11);
    let (mut to_poke, mut to_device) = (Vec::new(), Vec::new());
    for k in 0..notes {
        let n = rng.below(devices as u64) as usize;
        let text = format!("note {k}");
        let started = Instant::now();
        let reply = http
            .post(format!("{}/v1/tickets/{}/notes", desk.base, fleet[n].ticket))
            .bearer_auth(&token)
            .json(&serde_json::json!({ "text": text }))
            .send()
            .await
            .unwrap();
        assert!(reply.status().is_success(), "the note is taken: {}", reply.status());
        loop {
            let (device, at) = pokes.recv().await.expect("channels stay open");
            assert_ne!(device, usize::MAX, "no channel opens twice");
            if device == n {
                to_poke.push(at - started);
                break;
            }
        }
        let has_note = |device: &fleet::BenchDevice| match device.local.document(device.ticket) {
            Some(Document::Ticket(t)) => t.work_log.iter().any(|e| e.text == text),
            _ => false,
        };
        while !has_note(&fleet[n]) {
            round(&http, &sync_url, &mut fleet[n]).await;
        }
        to_device.push(started.elapsed());
    }
    to_poke.sort();
    to_device.sort();
    println!(
        "{devices:>6} devices live, {notes} notes: to the poke p50 {:.1} ms p99 {:.1} ms; to the note on the device p50 {:.1} ms p99 {:.1} ms",
        quantile_ms(&to_poke, 0.5),
        quantile_ms(&to_poke, 0.99),
        quantile_ms(&to_device, 0.5),
        quantile_ms(&to_device, 0.99),
    );

    let before = desk.rss_kib();
    let idle_http = reqwest::Client::new();
    for (n, token) in idle_tokens.iter().enumerate() {
        open_channel(&idle_http, &desk.base, token, devices + n, sender.clone()).await;
    }
    opened(&mut pokes, idle).await;
    let after = desk.rss_kib();
    let per = if idle > 0 { after.saturating_sub(before) as f64 * 1024.0 / idle as f64 } else { 0.0 };
    println!(
        "{:>6} channels open: desk resident memory {:.1} MiB (was {:.1} MiB with {devices}); {:.1} KiB per idle channel",
        devices + idle,
        after as f64 / 1024.0,
        before as f64 / 1024.0,
        per / 1024.0
    );
}
