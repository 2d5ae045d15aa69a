//! Two `outpost-desk serve` processes on one PostgreSQL, devices spread
//! across them. A change made through one process pokes a device whose live
//! channel is open on the other (PostgreSQL LISTEN/NOTIFY), both ways; and
//! when one process is killed (SIGKILL) while its devices are in the middle
//! of rounds, they go on with the other and everything converges: every
//! device's copy equals the desk's, and every edit any device made is there.

mod support;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use outpost_desk::{accounts, store, Backend, SYNC_CONTENT_TYPE};
use outpost_sync::ids::{DocId, EntryId};
use outpost_sync::model::{BusinessHours, Client, Document, Role, WorkLogEntry};
use outpost_sync::wire::RoundId;
use support::process::DeskProcess;
use support::T0;

struct Engineer {
    device: support::Device,
    ticket: DocId,
    /// The process this device talks to.
    home: String,
}

/// Syncs until the device has nothing more to say; `Err` when the process
/// could not be reached or died mid-round (the round is then forgotten).
async fn sync(http: &reqwest::Client, base: &str, device: &mut support::Device) -> Result<(), String> {
    for _ in 0..50 {
        device.round += 1;
        let request = device.local.start_round(T0, RoundId(device.round)).unwrap();
        let sent = http
            .post(format!("{base}/v1/sync"))
            .bearer_auth(&device.paired.token)
            .header(reqwest::header::CONTENT_TYPE, SYNC_CONTENT_TYPE)
            .body(request)
            .send()
            .await;
        let bytes = match sent {
            Ok(response) => response.bytes().await,
            Err(err) => Err(err),
        };
        let bytes = match bytes {
            Ok(bytes) => bytes,
            Err(err) => {
                device.local.transport_failed();
                return Err(err.to_string());
            }
        };
        match device.local.handle_response(T0, &bytes) {
            Ok(true) => {}
            Ok(false) => return Ok(()),
            Err(err) => panic!("a desk process answered garbage: {err}"),
        }
    }
    panic!("sync did not settle in 50 rounds");
}

/// Opens a live channel and waits for its first event.
async fn channel(http: &reqwest::Client, base: &str, token: &str) -> reqwest::Response {
    let mut response = http.get(format!("{base}/v1/sync/live")).bearer_auth(token).send().await.unwrap();
    assert_eq!(response.status(), 200);
    next_poke(&mut response).await;
    response
}

/// Waits for the next poke on a channel, guarded against hanging.
async fn next_poke(channel: &mut reqwest::Response) {
    let wait = async {
        loop {
            let chunk = channel.chunk().await.unwrap().expect("the channel stays open");
            if String::from_utf8_lossy(&chunk).contains("event: poke") {
                return;
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(30), wait).await.expect("a poke came");
}

async fn desk_copy(db: &outpost_desk::Db, id: DocId) -> Document {
    let mut tx = db.pool.begin().await.unwrap();
    let stored = store::load(&mut tx, id).await.unwrap().expect("the desk has it");
    let doc = automerge::AutoCommit::load(&stored.bytes).unwrap();
    Document::hydrate_as(&doc, id, stored.kind).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_share_pokes_and_one_killed_mid_round_loses_nothing() {
    let Some((db, _dir)) = support::fresh_database(Backend::Postgres).await else { return };
    let org = accounts::create_org(&db.pool, "Service Co", true).await.unwrap();
    let dispatcher = accounts::create_user(&db.pool, org, "Dispatcher", Role::Dispatcher, T0).await.unwrap();
    let token = accounts::issue_api_token(&db.pool, dispatcher, "test", T0, None).await.unwrap();
    let client = DocId(accounts::new_id());
    let hours = BusinessHours { always: true, weekly: vec![], holidays: vec![] };
    let client_doc = Client {
        id: client,
        name: "Client".into(),
        contract: Some("SLA-1".into()),
        business_hours: hours,
        points_balance: None,
        language: None,
    };
    let mut doc =
        outpost_sync::model::new_document(&Document::Client(client_doc.clone()), outpost_desk::desk_actor()).unwrap();
    let mut tx = db.pool.begin().await.unwrap();
    store::insert_new(&mut tx, &Document::Client(client_doc), &mut doc, T0).await.unwrap();
    tx.commit().await.unwrap();

    let mut processes = [DeskProcess::start(&db.url).await, DeskProcess::start(&db.url).await];
    let bases: Vec<String> = processes.iter().map(|p| p.base.clone()).collect();
    let http = reqwest::Client::new();
    let mut engineers = Vec::new();
    for n in 0..6u8 {
        let user = accounts::create_user(&db.pool, org, &format!("Engineer {n}"), Role::Engineer, T0).await.unwrap();
        let home = bases[usize::from(n % 2)].clone();
        let call = |path: String, body: serde_json::Value| {
            http.post(format!("{home}{path}")).bearer_auth(&token).json(&body).send()
        };
        let created: serde_json::Value =
            call("/v1/tickets".into(), serde_json::json!({ "title": "Till", "client": client }))
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
        let ticket: DocId = created["id"].as_str().expect("a ticket").parse().unwrap();
        let assigned =
            call(format!("/v1/tickets/{ticket}/assign"), serde_json::json!({ "engineer": user })).await.unwrap();
        assert!(assigned.status().is_success());
        let code = accounts::issue_pairing_code(&db.pool, user, outpost_desk::now(), 60_000).await.unwrap();
        let paired = accounts::pair_device(&db.pool, &code, "tablet", None, outpost_desk::now()).await.unwrap();
        let local = outpost_sync::memory::MemoryDevice::new(
            paired.actor,
            automerge::ActorId::from([n + 1; 16]),
            outpost_sync::limits::WireLimits::default(),
        );
        let mut device = support::Device { paired, local, round: u64::from(n) * 1_000_000, clock_skew_ms: None };
        sync(&http, &home, &mut device).await.unwrap();
        assert!(device.local.document(ticket).is_some(), "the device has its ticket");
        engineers.push(Engineer { device, ticket, home });
    }

    // Pokes cross processes: a note written through one process reaches a
    // channel open on the other, both ways.
    for (listener, writer) in [(1, 0), (0, 1)] {
        let engineer = &engineers[listener];
        let mut open = channel(&http, &bases[listener % 2], &engineer.device.paired.token).await;
        let note = http
            .post(format!("{}/v1/tickets/{}/notes", bases[writer % 2], engineer.ticket))
            .bearer_auth(&token)
            .json(&serde_json::json!({ "text": format!("written through process {writer}") }))
            .send()
            .await
            .unwrap();
        assert!(note.status().is_success());
        next_poke(&mut open).await;
    }

    // Every device edits and syncs with its process over and over; the
    // second process is killed while that goes on, and its devices move to
    // the first.
    let rounds = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    for mut engineer in engineers {
        let (http, rounds, survivor) = (http.clone(), Arc::clone(&rounds), bases[0].clone());
        tasks.push(tokio::spawn(async move {
            let (mut written, mut moved) = (Vec::new(), false);
            for k in 0..15u32 {
                let text = format!("{} edit {k}", engineer.device.paired.actor.user);
                let by = engineer.device.paired.actor;
                let entry = EntryId::from_u128((u128::from(by.user.0.as_u128() as u64) << 32) + u128::from(k));
                engineer
                    .device
                    .local
                    .edit(engineer.ticket, T0, |d| {
                        if let Document::Ticket(t) = d {
                            t.work_log.push(WorkLogEntry { id: entry, at: T0, by, text: text.clone() });
                        }
                    })
                    .unwrap();
                written.push(text);
                if sync(&http, &engineer.home, &mut engineer.device).await.is_err() {
                    engineer.home = survivor.clone();
                    moved = true;
                }
                rounds.fetch_add(1, Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            (engineer, written, moved)
        }));
    }
    while rounds.load(Ordering::Relaxed) < 20 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    processes[1].kill();
    let mut moved = 0;
    for task in tasks {
        let (mut engineer, written, has_moved) = task.await.unwrap();
        moved += usize::from(has_moved);
        sync(&http, &bases[0], &mut engineer.device).await.expect("the surviving process answers");
        let ours = engineer.device.local.document(engineer.ticket).unwrap();
        let desk = desk_copy(&db, engineer.ticket).await;
        assert_eq!(ours, desk, "the device's copy equals the desk's");
        let Document::Ticket(ticket) = desk else { panic!("a ticket") };
        for text in written {
            assert!(ticket.work_log.iter().any(|e| e.text == text), "{text} reached the desk");
        }
    }
    assert_eq!(moved, 3, "the killed process's three devices went on with the other");
}

/// What the processes' followers listen to: a transaction that moves the
/// feed notifies once, at commit; one rolled back says nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_committed_feed_move_notifies_once_and_a_rolled_back_one_not_at_all() {
    let Some((db, _dir)) = support::fresh_database(Backend::Postgres).await else { return };
    let mut listener = sqlx::postgres::PgListener::connect(&db.url).await.unwrap();
    listener.listen_all(["outpost_feed", "outpost_marker"]).await.unwrap();
    let bump = "UPDATE feed_counter SET seq = seq + 1 WHERE id = 1";

    let mut tx = db.pool.begin().await.unwrap();
    sqlx::query(bump).execute(&mut *tx).await.unwrap();
    tx.rollback().await.unwrap();
    for moves in [3, 1] {
        let mut tx = db.pool.begin().await.unwrap();
        for _ in 0..moves {
            sqlx::query(bump).execute(&mut *tx).await.unwrap();
        }
        tx.commit().await.unwrap();
    }
    sqlx::query("SELECT pg_notify('outpost_marker', '')").execute(&db.pool).await.unwrap();
    let mut heard = Vec::new();
    while heard.last().is_none_or(|c| c != "outpost_marker") {
        let next =
            tokio::time::timeout(Duration::from_secs(30), listener.recv()).await.expect("a notification").unwrap();
        heard.push(next.channel().to_owned());
    }
    assert_eq!(heard, ["outpost_feed", "outpost_feed", "outpost_marker"], "one per committed transaction");
}

/// Ctrl-C stops a desk that devices hold live channels open on: the
/// channels end, so the graceful shutdown does not wait for ever.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_stops_a_desk_with_live_channels_open() {
    let Some((db, _dir)) = support::fresh_database(Backend::Sqlite).await else { return };
    let org = accounts::create_org(&db.pool, "Service Co", true).await.unwrap();
    let user = accounts::create_user(&db.pool, org, "Engineer", Role::Engineer, T0).await.unwrap();
    let code = accounts::issue_pairing_code(&db.pool, user, outpost_desk::now(), 60_000).await.unwrap();
    let paired = accounts::pair_device(&db.pool, &code, "tablet", None, outpost_desk::now()).await.unwrap();
    let mut desk = DeskProcess::start(&db.url).await;
    let http = reqwest::Client::new();
    let mut open = channel(&http, &desk.base, &paired.token).await;
    desk.interrupt();
    let status = desk.exited_within(Duration::from_secs(30)).await.expect("the desk stopped");
    assert!(status.success(), "and cleanly: {status}");
    let ended =
        tokio::time::timeout(Duration::from_secs(30), async { while let Ok(Some(_)) = open.chunk().await {} }).await;
    assert!(ended.is_ok(), "the device sees its channel end, and will reconnect");
}
