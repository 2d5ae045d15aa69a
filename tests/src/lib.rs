//! The harness for end-to-end scenarios: a real desk on loopback (in its
//! own runtime, so a restart drops its in-flight work as a crash would),
//! devices running the app core against real SQLite files, and a
//! fault-injecting HTTP proxy between them.
#![allow(unreachable_pub)]

mod proxy;

use std::io::Cursor;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use outpost_core::Device;
use outpost_desk::{accounts, service, store, AppState, Db};
use outpost_sync::ids::{DocId, EntryId, OrgId, Timestamp};
use outpost_sync::model::{
    new_document, Actor, Assignee, BusinessHours, ChecklistTemplate, ChecklistTemplateItem, Client, Document, Role,
    Site, Ticket, TicketStatus, Transition,
};
use outpost_sync::session::ServerConfig;

pub use proxy::{Fault, Link, Proxy, Traffic};

pub const T0: Timestamp = Timestamp(1_790_000_000_000);

/// A desk serving an SQLite file on a fixed loopback port.
pub struct Desk {
    pub db: Db,
    pub addr: SocketAddr,
    pub service: OrgId,
    db_url: String,
    /// Most documents in one page of a sync round.
    max_page: usize,
    server: Option<tokio::runtime::Runtime>,
}

/// Serves the desk in a runtime of its own (the pool is opened by the caller:
/// sqlx's connection futures are not `Send` through the Any driver).
fn serve(db: Db, listener: std::net::TcpListener, max_page: usize) -> tokio::runtime::Runtime {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime for the desk");
    runtime.spawn(async move {
        listener.set_nonblocking(true).expect("a non-blocking listener");
        let listener = tokio::net::TcpListener::from_std(listener).expect("a tokio listener");
        let mut state = AppState::new(db);
        state.sync.max_page = max_page;
        axum::serve(listener, service(state)).await.expect("the desk serves");
    });
    runtime
}

impl Desk {
    pub async fn start(dir: &Path) -> Self {
        Self::start_with_pages_of(dir, ServerConfig::new(outpost_desk::desk_actor()).max_page).await
    }

    /// A desk that sends at most `max_page` documents a round, so a first
    /// sync of a few dozen documents takes several rounds.
    pub async fn start_with_pages_of(dir: &Path, max_page: usize) -> Self {
        let db_url = format!("sqlite:{}", dir.join("desk.db").display());
        let db = Db::open(&db_url).await.expect("the desk's database opens");
        let service = accounts::create_org(&db.pool, "Service Co", true).await.unwrap();
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let server = Some(serve(Db::open(&db_url).await.expect("the desk's database opens"), listener, max_page));
        Self { db, addr, service, db_url, max_page, server }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops the desk at once, dropping whatever it was doing (open
    /// transactions roll back), as a crashed process would.
    pub fn stop(&mut self) {
        if let Some(server) = self.server.take() {
            server.shutdown_background();
        }
    }

    /// Starts the desk again on the same port and database.
    pub async fn start_again(&mut self) {
        self.stop();
        let db = Db::open(&self.db_url).await.expect("the desk's database opens");
        // The port was just freed; another process could take it, so retry briefly.
        for _ in 0..100 {
            if let Ok(listener) = std::net::TcpListener::bind(self.addr) {
                self.server = Some(serve(db, listener, self.max_page));
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        panic!("port {} did not come free", self.addr);
    }

    pub async fn engineer(&self, name: &str) -> Actor {
        let user = accounts::create_user(&self.db.pool, self.service, name, Role::Engineer, T0).await.unwrap();
        outpost_desk::directory::publish(&self.db, self.service, &outpost_desk::desk_actor(), T0).await.unwrap();
        Actor { user, org: self.service, role: Role::Engineer }
    }

    /// A new device for `actor`, paired through the desk's HTTP endpoint (`via` another URL if given).
    pub async fn paired_device(&self, actor: &Actor, dir: &Path, via: Option<&str>) -> Device {
        let code = accounts::issue_pairing_code(&self.db.pool, actor.user, outpost_desk::now(), 600_000).await.unwrap();
        let device = open_device(dir).await;
        device.pair(via.unwrap_or(&self.url()), &code, "test tablet").await.unwrap();
        device
    }

    /// Creates a document as the desk.
    pub async fn create(&self, document: &Document) {
        let mut doc = new_document(document, automerge::ActorId::from(*b"outpost-desk-v1!")).unwrap();
        let mut tx = self.db.pool.begin().await.unwrap();
        store::insert_new(&mut tx, document, &mut doc, T0).await.unwrap();
        tx.commit().await.unwrap();
    }

    /// The desk's current copy of a document.
    pub async fn document(&self, id: DocId) -> Document {
        let mut tx = self.db.pool.begin().await.unwrap();
        let stored = store::load(&mut tx, id).await.unwrap().expect("the desk has the document");
        let doc = automerge::AutoCommit::load(&stored.bytes).unwrap();
        Document::hydrate_as(&doc, id, stored.kind).unwrap()
    }

    /// The desk's copy of a document, its automerge heads sorted, to compare structure and all.
    pub async fn heads_and_document(&self, id: DocId) -> (Vec<automerge::ChangeHash>, Document) {
        let mut tx = self.db.pool.begin().await.unwrap();
        let stored = store::load(&mut tx, id).await.unwrap().expect("the desk has the document");
        let mut doc = automerge::AutoCommit::load(&stored.bytes).unwrap();
        let mut heads = doc.get_heads();
        heads.sort();
        (heads, Document::hydrate_as(&doc, id, stored.kind).unwrap())
    }

    pub async fn ticket(&self, id: DocId) -> Ticket {
        match self.document(id).await {
            Document::Ticket(t) => t,
            other => panic!("{id} is a {:?}", other.kind()),
        }
    }

    /// Whether the desk holds the whole blob.
    pub async fn has_blob(&self, hash: &str) -> bool {
        let row: Option<(i64,)> = sqlx::query_as("SELECT complete FROM blobs WHERE hash = $1")
            .bind(hash)
            .fetch_optional(&self.db.pool)
            .await
            .unwrap();
        row.is_some_and(|r| r.0 != 0)
    }

    /// Changes a document as a dispatcher does, through the desk's store.
    pub async fn edit(&self, id: DocId, change: impl FnOnce(&mut Document)) {
        let desk_actor = automerge::ActorId::from(*b"outpost-desk-v1!");
        let mut tx = self.db.begin_write().await.unwrap();
        store::write_as_desk(&mut tx, id, &dispatcher(self.service), &desk_actor, T0, |document| {
            change(document);
            Ok::<(), store::StoreError>(())
        })
        .await
        .unwrap()
        .expect("the desk has the document");
        tx.commit().await.unwrap();
    }

    /// Assigns the ticket to `engineer`, as a dispatcher does.
    pub async fn assign(&self, id: DocId, engineer: &Actor) {
        let dispatcher = dispatcher(self.service);
        self.edit(id, |document| {
            if let Document::Ticket(ticket) = document {
                let from = outpost_sync::workflow::fold_ticket(ticket).status;
                ticket.transitions.push(Transition {
                    id: EntryId::from_u128(0xa551_0000 + ticket.transitions.len() as u128),
                    from,
                    to: TicketStatus::Assigned,
                    at: T0,
                    by: dispatcher,
                    assignee: Some(Assignee { engineer: Some(engineer.user), partner_org: None }),
                    reason: None,
                });
            }
        })
        .await;
    }

    /// An API token of a new person of the service company in `role`.
    pub async fn api_token(&self, role: Role) -> String {
        let user = accounts::create_user(&self.db.pool, self.service, &format!("{role:?}"), role, T0).await.unwrap();
        accounts::issue_api_token(&self.db.pool, user, "test", T0, None).await.unwrap()
    }

    /// Calls the desk's REST API; the status and the JSON answer (null if none).
    pub async fn call(
        &self,
        method: reqwest::Method,
        token: &str,
        path: &str,
        body: serde_json::Value,
    ) -> (u16, serde_json::Value) {
        let mut request =
            reqwest::Client::new().request(method.clone(), format!("{}{path}", self.url())).bearer_auth(token);
        if method != reqwest::Method::GET {
            request = request.json(&body);
        }
        let reply = request.send().await.unwrap();
        let status = reply.status().as_u16();
        (status, reply.json().await.unwrap_or(serde_json::Value::Null))
    }

    pub async fn audit_count(&self) -> i64 {
        let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM audit_log").fetch_one(&self.db.pool).await.unwrap();
        n
    }
}

impl Drop for Desk {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A client, a site, a checklist template and one ticket assigned to `engineer`.
pub struct Job {
    pub ticket: DocId,
}

/// The dispatcher the scenarios' desk acts as.
pub fn dispatcher(service: OrgId) -> Actor {
    Actor { user: outpost_sync::ids::UserId::from_u128(1), org: service, role: Role::Dispatcher }
}

pub async fn job_for(desk: &Desk, engineer: &Actor, n: u128) -> Job {
    let dispatcher = dispatcher(desk.service);
    let id = |k: u128| DocId::from_u128(0x0190_0000_0000_7000_8000_0000_0B00_0000 + n * 100 + k);
    let hours = BusinessHours { always: true, weekly: vec![], holidays: vec![] };
    desk.create(&Document::Client(Client {
        id: id(1),
        name: format!("Client {n}"),
        contract: None,
        business_hours: hours,
        points_balance: None,
        language: None,
    }))
    .await;
    desk.create(&Document::Site(Site {
        id: id(2),
        client: id(1),
        name: "Server room".into(),
        address: "Novosibirsk, Krasny pr. 1".into(),
        region: "Novosibirsk".into(),
        time_zone: "Asia/Novosibirsk".into(),
        coordinates: None,
    }))
    .await;
    desk.create(&Document::ChecklistTemplate(ChecklistTemplate {
        id: id(3),
        name: "Visit".into(),
        items: ["power", "logs", "firmware"]
            .iter()
            .map(|k| ChecklistTemplateItem { key: (*k).into(), label: format!("Check {k}") })
            .collect(),
    }))
    .await;
    let mut ticket = Ticket::new(id(10), dispatcher, T0, format!("T-2026-{n:06}"), "Array degraded".into(), id(1));
    ticket.description = autosurgeon::Text::with_value("Disk failed in shelf 2.");
    ticket.site.site = Some(id(2));
    ticket.checklist_template = Some(id(3));
    ticket.transitions.push(Transition {
        id: EntryId::from_u128(n),
        from: TicketStatus::New,
        to: TicketStatus::Assigned,
        at: T0,
        by: dispatcher,
        assignee: Some(Assignee { engineer: Some(engineer.user), partner_org: None }),
        reason: None,
    });
    desk.create(&Document::Ticket(ticket)).await;
    Job { ticket: id(10) }
}

/// A camera-sized JPEG whose pixels depend on `seed`.
pub fn photo(seed: u8, width: u32, height: u32) -> Vec<u8> {
    let img = image::ImageBuffer::from_fn(width, height, |x, y| {
        image::Rgb([(x as u8).wrapping_add(seed), (y as u8).wrapping_mul(seed | 1), seed])
    });
    let mut bytes = Vec::new();
    image::DynamicImage::ImageRgb8(img).write_to(&mut Cursor::new(&mut bytes), image::ImageFormat::Jpeg).unwrap();
    bytes
}

/// A signature as the UI draws it: black strokes on white, PNG.
pub fn signature_png() -> Vec<u8> {
    let img = image::ImageBuffer::from_fn(400, 120, |x, y| {
        let on_stroke = (y as i64 - 60 - ((x as f64 / 20.0).sin() * 30.0) as i64).abs() < 3;
        image::Luma([if on_stroke { 0u8 } else { 255 }])
    });
    let mut bytes = Vec::new();
    image::DynamicImage::ImageLuma8(img).write_to(&mut Cursor::new(&mut bytes), image::ImageFormat::Png).unwrap();
    bytes
}

/// Syncs `device` until it reports success, at most `attempts` times; returns the failures seen.
pub async fn sync_until_ok(device: &Device, attempts: u32) -> Vec<String> {
    let mut failures = Vec::new();
    for _ in 0..attempts {
        match device.sync_now().await {
            Ok(report) if report.blobs_waiting == 0 => return failures,
            Ok(_) => failures.push("blobs waiting".into()),
            Err(err) => failures.push(err.to_string()),
        }
    }
    panic!("no successful sync in {attempts} attempts: {failures:?}");
}

/// A directory per device inside the scenario's temporary directory.
/// Where the devices of a scenario keep their stores' keys: beside their
/// data directories (`root/<device>`), never inside one.
pub fn keys_beside(data_dir: &Path) -> outpost_core::KeyStore {
    outpost_core::KeyStore::Directory(data_dir.parent().expect("a device's data directory has a parent").join("keys"))
}

/// Opens (creating if needed) the device whose data is in `data_dir`.
pub async fn open_device(data_dir: &Path) -> Device {
    Device::open_with_keys(data_dir, &keys_beside(data_dir)).await.unwrap()
}

/// The connection pool of that device's store, to read its rows as a file.
pub async fn device_store(data_dir: &Path) -> sqlx::SqlitePool {
    outpost_core::seeding::store_pool(data_dir, &keys_beside(data_dir)).await.unwrap()
}

pub fn device_dir(root: &Path, name: &str) -> PathBuf {
    root.join(name)
}
