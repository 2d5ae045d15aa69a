//! The SQL desk behind `outpost_sync::memory::DeskStore`, driven without
//! HTTP and without an async caller: rounds go through the same
//! `outpost_desk::sync::run_round` the sync route runs, in its transaction,
//! so the suites written for the memory desk run on SQLite and PostgreSQL.

use automerge::{AutoCommit, ChangeHash};
use outpost_desk::accounts::{Caller, DeviceStanding};
use outpost_desk::store::{self, StoreError};
use outpost_desk::{Backend, Db};
use outpost_sync::ids::{DocId, Timestamp};
use outpost_sync::memory::{AuditedRefusal, DeskStore};
use outpost_sync::model::{new_document, Actor, Document};
use outpost_sync::session::ServerConfig;
use outpost_sync::wire::Cursor;

use super::{fresh_database, TempDir, T0};

pub struct SqlDesk {
    runtime: tokio::runtime::Runtime,
    pub db: Db,
    config: ServerConfig,
    /// Whom the desk's own edits are made as.
    desk_person: Actor,
    _dir: Option<TempDir>,
}

impl SqlDesk {
    /// A desk on a fresh database; `None` when the backend is not available here.
    pub fn open(backend: Backend, desk_person: Actor) -> Option<Self> {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let (db, dir) = runtime.block_on(fresh_database(backend))?;
        let config = outpost_desk::AppState::new(db.clone()).sync;
        Some(Self { runtime, db, config, desk_person, _dir: dir })
    }

    /// Runs `work` on the desk's runtime.
    pub fn block_on<T>(&self, work: impl std::future::Future<Output = T>) -> T {
        self.runtime.block_on(work)
    }
}

impl DeskStore for SqlDesk {
    fn round(&mut self, now: Timestamp, author: &Actor, request: &[u8]) -> Vec<u8> {
        let device = DeviceStanding {
            caller: Caller { actor: *author, device: None },
            revoked: false,
            clock: Default::default(),
            last_clock_offset_ms: None,
            policy: Default::default(),
        };
        let (reply, _) = self
            .runtime
            .block_on(outpost_desk::sync::run_round(&self.db, &self.config, &device, request, now))
            .expect("the desk's store answers");
        reply
    }

    fn create(&mut self, document: &Document) {
        let mut doc = new_document(document, self.config.desk_actor.clone()).expect("the document is valid");
        self.runtime.block_on(async {
            let mut tx = self.db.begin_write().await.unwrap();
            store::insert_new(&mut tx, document, &mut doc, T0).await.unwrap();
            tx.commit().await.unwrap();
        });
    }

    fn edit(&mut self, id: DocId, change: &mut dyn FnMut(&mut Document)) {
        let (db, config, person) = (&self.db, &self.config, self.desk_person);
        self.runtime.block_on(async {
            let mut tx = db.begin_write().await.unwrap();
            store::write_as_desk::<StoreError>(&mut tx, id, &person, &config.desk_actor, T0, |d| {
                change(d);
                Ok(())
            })
            .await
            .unwrap()
            .expect("the desk holds the document");
            tx.commit().await.unwrap();
        });
    }

    fn document(&self, id: DocId) -> Option<Document> {
        let doc = self.load(id)?;
        Some(Document::hydrate_as(&doc.0, id, doc.1).unwrap())
    }

    fn heads(&self, id: DocId) -> Option<Vec<ChangeHash>> {
        self.load(id).map(|(mut doc, _)| doc.get_heads())
    }

    fn bytes(&self, id: DocId) -> Option<Vec<u8>> {
        self.block_on(async {
            let mut tx = self.db.pool.begin().await.unwrap();
            store::load(&mut tx, id).await.unwrap().map(|stored| stored.bytes)
        })
    }

    fn latest(&self) -> Cursor {
        let (seq,): (i64,) = self
            .block_on(sqlx::query_as("SELECT seq FROM feed_counter WHERE id = 1").fetch_one(&self.db.pool))
            .unwrap();
        Cursor(u64::try_from(seq).unwrap())
    }

    fn refusals(&self) -> Vec<AuditedRefusal> {
        let rows: Vec<(String, String, String)> = self
            .block_on(
                sqlx::query_as(
                    "SELECT doc_id, user_id, detail FROM audit_log
                     WHERE action IN ('refused_change', 'refused_document') ORDER BY id",
                )
                .fetch_all(&self.db.pool),
            )
            .unwrap();
        rows.into_iter()
            .map(|(doc, user, detail)| AuditedRefusal {
                doc: doc.parse().unwrap(),
                user: user.parse().unwrap(),
                detail,
            })
            .collect()
    }
}

impl SqlDesk {
    fn load(&self, id: DocId) -> Option<(AutoCommit, outpost_sync::model::DocKind)> {
        self.runtime.block_on(async {
            let mut tx = self.db.pool.begin().await.unwrap();
            let stored = store::load(&mut tx, id).await.unwrap()?;
            Some((AutoCommit::load(&stored.bytes).unwrap(), stored.kind))
        })
    }
}
