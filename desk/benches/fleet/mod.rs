//! A fleet of paired engineers' devices, each with one ticket assigned to
//! it, for the desk's benchmarks; and one sync round of a device over HTTP.
#![allow(dead_code, unreachable_pub)] // each benchmark uses its part

use std::time::{Duration, Instant};

use automerge::ActorId;
use outpost_desk::{accounts, store, Db, SYNC_CONTENT_TYPE};
use outpost_sync::ids::{DocId, OrgId, Timestamp};
use outpost_sync::limits::WireLimits;
use outpost_sync::memory::MemoryDevice;
use outpost_sync::model::{new_document, Actor, Assignee, Document, Role};
use outpost_sync::sample::{worked_ticket, Cast, Rng};
use outpost_sync::wire::RoundId;

pub const T0: Timestamp = Timestamp(1_790_000_000_000);

pub struct BenchDevice {
    pub token: String,
    pub local: MemoryDevice,
    pub ticket: DocId,
    pub actor: Actor,
    rounds: u64,
}

/// One sync round over HTTP; its latency.
pub async fn round(http: &reqwest::Client, url: &str, device: &mut BenchDevice) -> Duration {
    let started = Instant::now();
    device.rounds += 1;
    let id = RoundId(device.rounds);
    let request = device.local.start_round(T0, id).expect("no round in flight");
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

/// A company with a dispatcher.
pub async fn company(db: &Db, name: &str) -> (OrgId, Actor) {
    let org = accounts::create_org(&db.pool, name, true).await.unwrap();
    let user = accounts::create_user(&db.pool, org, "Dispatcher", Role::Dispatcher, T0).await.unwrap();
    (org, Actor { user, org, role: Role::Dispatcher })
}

/// `count` engineers of `org`, each with a worked ticket assigned and a paired device.
pub async fn fleet(db: &Db, org: OrgId, dispatcher: Actor, count: usize) -> Vec<BenchDevice> {
    let desk_actor = outpost_desk::desk_actor();
    let mut rng = Rng::new(7);
    let mut fleet = Vec::with_capacity(count);
    for n in 0..count {
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
        let token = pair(db, user).await;
        let mut id = [0u8; 16];
        id[..8].copy_from_slice(&(n as u64 + 1).to_le_bytes());
        let local = MemoryDevice::new(actor, ActorId::from(id), WireLimits::default());
        fleet.push(BenchDevice { token, local, ticket: ticket.id, actor, rounds: 0 });
    }
    fleet
}

/// Pairs a new device for `user`; its token.
pub async fn pair(db: &Db, user: outpost_sync::ids::UserId) -> String {
    let code = accounts::issue_pairing_code(&db.pool, user, outpost_desk::now(), 60_000).await.unwrap();
    accounts::pair_device(&db.pool, &code, "bench", None, outpost_desk::now()).await.unwrap().token
}

/// Each device fetches its ticket (not measured).
pub async fn first_contact(http: &reqwest::Client, url: &str, fleet: &mut [BenchDevice]) {
    for device in fleet {
        for _ in 0..5 {
            round(http, url, device).await;
            if device.local.document(device.ticket).is_some() {
                break;
            }
        }
    }
}

/// The `q` quantile of sorted latencies, in milliseconds.
pub fn quantile_ms(sorted: &[Duration], q: f64) -> f64 {
    let at = ((sorted.len() as f64 * q) as usize).min(sorted.len().saturating_sub(1));
    sorted.get(at).map_or(0.0, |d| d.as_secs_f64() * 1000.0)
}

#[path = "../../tests/support/process.rs"]
mod process;
pub use process::DeskProcess;
