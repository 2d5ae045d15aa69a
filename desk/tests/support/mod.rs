//! A real desk on loopback, on SQLite or PostgreSQL, and devices that sync
//! with it over HTTP through sync-protocol's client session.
#![allow(dead_code, unreachable_pub)]

use std::net::SocketAddr;

use automerge::ActorId;
use outpost_desk::accounts::{self, PairedDevice};
use outpost_desk::{store, AppState, Backend, Db, SYNC_CONTENT_TYPE};
use outpost_sync::ids::{Timestamp, UserId};
use outpost_sync::limits::WireLimits;
use outpost_sync::memory::MemoryDevice;
use outpost_sync::model::{new_document, Actor, Document, Role};
use outpost_sync::wire::RoundId;
use sqlx::Executor;

pub mod blocking;
pub mod process;

pub const T0: Timestamp = Timestamp(1_790_000_000_000);

/// The PostgreSQL server the test command started, if any.
pub fn postgres_url() -> Option<String> {
    std::env::var("OUTPOST_TEST_POSTGRES_URL").ok().filter(|u| !u.is_empty())
}

pub struct Desk {
    pub db: Db,
    pub addr: SocketAddr,
    pub http: reqwest::Client,
    pub service: outpost_sync::ids::OrgId,
    pub partner: outpost_sync::ids::OrgId,
    pub other_partner: outpost_sync::ids::OrgId,
    _server: tokio::task::JoinHandle<()>,
    _dir: Option<TempDir>,
}

/// A directory removed when dropped.
pub struct TempDir(std::path::PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn unique(prefix: &str) -> String {
    format!("{prefix}_{}", accounts::new_secret()[..12].to_owned())
}

/// A fresh, migrated database of `backend`; `None` when the backend is not available here.
pub async fn fresh_database(backend: Backend) -> Option<(Db, Option<TempDir>)> {
    let (url, dir) = match backend {
        Backend::Sqlite => {
            let dir = std::env::temp_dir().join(unique("outpost-desk-test"));
            std::fs::create_dir_all(&dir).unwrap();
            (format!("sqlite:{}", dir.join("desk.db").display()), Some(TempDir(dir)))
        }
        Backend::Postgres => {
            let Some(base) = postgres_url() else {
                eprintln!("PostgreSQL not available (OUTPOST_TEST_POSTGRES_URL unset): skipped");
                return None;
            };
            let name = unique("outpost_test");
            sqlx::any::install_default_drivers();
            let admin = sqlx::AnyPool::connect(&base).await.expect("the test PostgreSQL answers");
            admin.execute(format!("CREATE DATABASE {name}").as_str()).await.unwrap();
            admin.close().await;
            let (prefix, _) = base.rsplit_once('/').expect("a postgres url names a database");
            (format!("{prefix}/{name}"), None)
        }
    };
    Some((Db::open(&url).await.expect("the desk's database opens"), dir))
}

/// Starts a desk on a fresh database of `backend`; `None` when the backend is not available here.
pub async fn start(backend: Backend) -> Option<Desk> {
    let (db, dir) = fresh_database(backend).await?;
    let service = accounts::create_org(&db.pool, "Service Co", true).await.unwrap();
    let partner = accounts::create_org(&db.pool, "Partner One", false).await.unwrap();
    let other_partner = accounts::create_org(&db.pool, "Partner Two", false).await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let router = outpost_desk::service(AppState::new(db.clone()));
    let server = tokio::spawn(async move {
        axum::serve(listener, router).await.unwrap();
    });
    Some(Desk { db, addr, http: reqwest::Client::new(), service, partner, other_partner, _server: server, _dir: dir })
}

impl Desk {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub async fn user(&self, org: outpost_sync::ids::OrgId, role: Role) -> Actor {
        let user = accounts::create_user(&self.db.pool, org, &unique("person"), role, T0).await.unwrap();
        Actor { user, org, role }
    }

    pub async fn api_token(&self, user: UserId) -> String {
        accounts::issue_api_token(&self.db.pool, user, "test", T0, None).await.unwrap()
    }

    /// Pairs a new device for `actor` through the HTTP endpoint.
    pub async fn pair(&self, actor: &Actor, n: u8) -> Device {
        let code = accounts::issue_pairing_code(&self.db.pool, actor.user, outpost_desk::now(), 60_000).await.unwrap();
        self.pair_with_code(&code, n).await
    }

    /// Spends a pairing code on a new device through the HTTP endpoint.
    pub async fn pair_with_code(&self, code: &str, n: u8) -> Device {
        let (status, reply) = self
            .post_json(
                "/v1/devices/pair",
                "",
                serde_json::json!({ "code": code, "device_name": format!("tablet {n}") }),
            )
            .await;
        assert_eq!(status, 200, "the code pairs: {reply}");
        let token = reply["token"].as_str().expect("pairing returns a token").to_owned();
        let id = reply["device_id"].as_str().unwrap().parse().unwrap();
        let actor = Actor {
            user: reply["user_id"].as_str().unwrap().parse().unwrap(),
            org: reply["org_id"].as_str().unwrap().parse().unwrap(),
            role: outpost_desk::accounts::parse_role(reply["role"].as_str().unwrap()).unwrap(),
        };
        Device {
            paired: PairedDevice { id, token, actor },
            local: MemoryDevice::new(actor, ActorId::from([n; 16]), WireLimits::default()),
            round: u64::from(n) * 1_000_000,
            clock_skew_ms: None,
        }
    }

    /// A client on a contract, open around the clock (its tickets may be assigned at once).
    pub async fn contract_client(&self) -> outpost_sync::model::Client {
        let client = outpost_sync::model::Client {
            id: outpost_sync::ids::DocId(accounts::new_id()),
            name: unique("Client"),
            contract: Some("SLA-1".into()),
            business_hours: outpost_sync::model::BusinessHours { always: true, weekly: vec![], holidays: vec![] },
            points_balance: None,
            language: None,
        };
        self.create(&Document::Client(client.clone())).await;
        client
    }

    /// Creates a document as the desk.
    pub async fn create(&self, document: &Document) {
        let mut doc = new_document(document, ActorId::from(*b"outpost-desk-v1!")).unwrap();
        let mut tx = self.db.pool.begin().await.unwrap();
        store::insert_new(&mut tx, document, &mut doc, T0).await.unwrap();
        tx.commit().await.unwrap();
    }

    /// The desk's current copy of a document.
    pub async fn document(&self, id: outpost_sync::ids::DocId) -> Option<Document> {
        let mut tx = self.db.pool.begin().await.unwrap();
        let stored = store::load(&mut tx, id).await.unwrap()?;
        let doc = automerge::AutoCommit::load(&stored.bytes).unwrap();
        Some(Document::hydrate_as(&doc, id, stored.kind).unwrap())
    }

    pub async fn audit_count(&self) -> i64 {
        let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM audit_log").fetch_one(&self.db.pool).await.unwrap();
        n
    }

    /// A JSON request to the desk's API: the status and the JSON reply (null if none).
    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        token: &str,
        body: Option<serde_json::Value>,
    ) -> (u16, serde_json::Value) {
        let mut request = self.http.request(method, self.url(path)).bearer_auth(token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let reply = request.send().await.unwrap();
        let status = reply.status().as_u16();
        (status, reply.json().await.unwrap_or(serde_json::Value::Null))
    }

    pub async fn get_json(&self, path: &str, token: &str) -> (u16, serde_json::Value) {
        self.call(reqwest::Method::GET, path, token, None).await
    }

    pub async fn post_json(&self, path: &str, token: &str, body: serde_json::Value) -> (u16, serde_json::Value) {
        self.call(reqwest::Method::POST, path, token, Some(body)).await
    }

    pub async fn patch_json(&self, path: &str, token: &str, body: serde_json::Value) -> (u16, serde_json::Value) {
        self.call(reqwest::Method::PATCH, path, token, Some(body)).await
    }

    pub async fn put_json(&self, path: &str, token: &str, body: serde_json::Value) -> (u16, serde_json::Value) {
        self.call(reqwest::Method::PUT, path, token, Some(body)).await
    }

    pub async fn post_sync(&self, token: &str, body: Vec<u8>) -> reqwest::Response {
        self.post_sync_with_clock(token, body, None).await
    }

    /// A round that says what the device's clock reads (the header's raw value).
    pub async fn post_sync_with_clock(&self, token: &str, body: Vec<u8>, clock: Option<String>) -> reqwest::Response {
        let mut request = self
            .http
            .post(self.url("/v1/sync"))
            .bearer_auth(token)
            .header(reqwest::header::CONTENT_TYPE, SYNC_CONTENT_TYPE);
        if let Some(clock) = clock {
            request = request.header(outpost_sync::wire::DEVICE_CLOCK_HEADER, clock);
        }
        request.body(body).send().await.unwrap()
    }
}

/// A paired device: its token and its local documents and session.
pub struct Device {
    pub paired: PairedDevice,
    pub local: MemoryDevice,
    pub round: u64,
    /// How far this device's clock runs from the real one, when its rounds say what it reads.
    pub clock_skew_ms: Option<i64>,
}

impl Device {
    /// Syncs until the device has nothing more to do; returns the rounds run.
    pub async fn sync(&mut self, desk: &Desk) -> u64 {
        for n in 1..=50 {
            self.round += 1;
            let request = self.local.start_round(T0, RoundId(self.round)).unwrap();
            let clock = self.clock_skew_ms.map(|skew| (outpost_desk::now().0 + skew).to_string());
            let response = desk.post_sync_with_clock(&self.paired.token, request, clock).await;
            let bytes = response.bytes().await.unwrap();
            match self.local.handle_response(T0, &bytes) {
                Ok(true) => {}
                Ok(false) | Err(_) => return n,
            }
        }
        panic!("sync did not settle in 50 rounds");
    }
}

/// Runs a test body on SQLite and on PostgreSQL.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn on_sqlite() {
                if let Some(desk) = super::support::start(outpost_desk::Backend::Sqlite).await {
                    super::$name(desk).await;
                }
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn on_postgres() {
                if let Some(desk) = super::support::start(outpost_desk::Backend::Postgres).await {
                    super::$name(desk).await;
                }
            }
        }
    )*};
}

/// A day's-work ticket opened by `dispatcher` and assigned to `engineer` of
/// the partner company (`partner`), with no equipment or part requests.
pub fn partner_ticket(
    seed: u64,
    dispatcher: Actor,
    engineer: Actor,
    partner: outpost_sync::ids::OrgId,
) -> outpost_sync::model::Ticket {
    use outpost_sync::sample::{worked_ticket, Cast, Rng};
    let cast = Cast { dispatcher, engineer, ..Cast::default() };
    let mut ticket = worked_ticket(&mut Rng::new(seed), &cast, seed, T0);
    ticket.transitions.truncate(1);
    ticket.transitions[0].assignee =
        Some(outpost_sync::model::Assignee { engineer: Some(engineer.user), partner_org: Some(partner) });
    ticket.equipment.clear();
    ticket.part_requests.clear();
    ticket
}
