//! The device's SQLite store: automerge documents as a snapshot plus
//! appended changes, their projections, and sync state.
//!
//! Every write is one `BEGIN IMMEDIATE` transaction in WAL mode with
//! `synchronous = FULL`, so an edit is on disk when the call returns and a
//! killed process leaves either all of a write or none of it.

mod cipher;
mod durable;
pub(crate) mod keys;
mod projection;
pub(crate) mod queries;

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use automerge::{AutoCommit, ChangeHash};
use outpost_sync::ids::{DocId, Timestamp};
use outpost_sync::model::{DocKind, Document};
use sqlx::sqlite::{SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Sqlite, SqliteConnection, SqlitePool, Transaction};

use crate::error::{CoreError, CoreResult};
use cipher::FileState;
use keys::{KeyStore, StoreKey};

/// Changes appended to a document before they are folded into its snapshot.
const COMPACT_EVERY: i64 = 32;

const MIGRATIONS: &[&str] = &[
    include_str!("store/0001_init.sql"),
    include_str!("store/0002_people.sql"),
    include_str!("store/0003_one_spelling.sql"),
    include_str!("store/0004_search_rows.sql"),
];

/// SQLite's page cache per connection, in KiB (decrypted pages, with SQLCipher).
const PAGE_CACHE_KIB: u32 = 16 * 1024;

/// The file name of the store inside the data directory.
pub const STORE_FILE: &str = "outpost.db";

#[derive(Clone)]
pub(crate) struct Store {
    pool: SqlitePool,
    path: PathBuf,
}

/// A document as loaded for a change: its automerge state and what the desk has of it.
pub(crate) struct LoadedDoc {
    pub(crate) kind: DocKind,
    pub(crate) doc: AutoCommit,
    pub(crate) acked: Vec<ChangeHash>,
    pub(crate) dirty: bool,
}

pub(crate) type WriteTx = Transaction<'static, Sqlite>;

impl Store {
    /// Opens (creating if needed) the encrypted store in `dir`, its key in
    /// `keys`; a plain store from an earlier version is encrypted first.
    pub(crate) async fn open(dir: &Path, keys: &KeyStore) -> CoreResult<Self> {
        Self::open_with(dir, Some(keys)).await
    }

    /// Opens a plain store, as earlier versions wrote them: for the tests of
    /// their encryption, and for benchmarks that show what encryption costs.
    #[cfg(any(test, feature = "seeding"))]
    pub(crate) async fn open_plain(dir: &Path) -> CoreResult<Self> {
        Self::open_with(dir, None).await
    }

    async fn open_with(dir: &Path, keys: Option<&KeyStore>) -> CoreResult<Self> {
        std::fs::create_dir_all(dir)
            .map_err(|e| CoreError::Invalid(format!("cannot create data directory {}: {e}", dir.display())))?;
        let path = dir.join(STORE_FILE);
        let (options, keys_named) = match keys {
            Some(keys) => (cipher::options(&path, &store_key(dir, &path, keys).await?)?, keys.describe()),
            None => (sqlx::sqlite::SqliteConnectOptions::from_str("sqlite://")?.filename(&path), String::new()),
        };
        let options = options
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            // SQLCipher decrypts a page each time it enters SQLite's page
            // cache; at the default 2 MiB a field store's queries decrypted
            // the same pages over and over (reads 27–57% slower than plain).
            .pragma("cache_size", format!("-{}", PAGE_CACHE_KIB))
            .busy_timeout(Duration::from_secs(10));
        let pool = SqlitePoolOptions::new().max_connections(4).connect_with(options).await.map_err(|e| match e {
            // SQLCipher reads a page it cannot decrypt as "not a database".
            sqlx::Error::Database(db) if db.code().as_deref() == Some("26") => CoreError::Locked(format!(
                "the store in {} does not open with its key from {keys_named}",
                dir.display()
            )),
            other => other.into(),
        })?;
        let store = Self { pool, path };
        store.migrate().await?;
        Ok(store)
    }

    /// Rewrites the store without its free pages and empties its
    /// write-ahead log: after an erase, nothing erased is left in any file,
    /// even encrypted.
    pub(crate) async fn shred(&self) -> CoreResult<()> {
        sqlx::query("VACUUM").execute(&self.pool).await?;
        sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)").execute(&self.pool).await?;
        Ok(())
    }

    pub(crate) fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    async fn migrate(&self) -> CoreResult<()> {
        let mut tx = self.begin_write().await?;
        let (version,): (i64,) = sqlx::query_as("PRAGMA user_version").fetch_one(&mut *tx).await?;
        for (n, sql) in MIGRATIONS.iter().enumerate().skip(usize::try_from(version).unwrap_or(0)) {
            sqlx::raw_sql(sql).execute(&mut *tx).await?;
            sqlx::query(&format!("PRAGMA user_version = {}", n + 1)).execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// A write transaction that holds SQLite's write lock from its first
    /// statement, so it never fails half-way on a stale read snapshot.
    pub(crate) async fn begin_write(&self) -> CoreResult<WriteTx> {
        Ok(self.pool.begin_with("BEGIN IMMEDIATE").await?)
    }

    pub(crate) async fn setting(&self, key: &str) -> CoreResult<Option<String>> {
        let row: Option<(String,)> =
            sqlx::query_as("SELECT value FROM device WHERE key = ?").bind(key).fetch_optional(&self.pool).await?;
        Ok(row.map(|r| r.0))
    }

    /// Several settings in one query, in the order of `keys` (none where unset).
    pub(crate) async fn settings<const N: usize>(&self, keys: [&str; N]) -> CoreResult<[Option<String>; N]> {
        let marks = vec!["?"; N].join(", ");
        let query = format!("SELECT key, value FROM device WHERE key IN ({marks})");
        let mut select = sqlx::query_as::<_, (String, String)>(&query);
        for key in keys {
            select = select.bind(key);
        }
        let rows = select.fetch_all(&self.pool).await?;
        Ok(keys.map(|key| rows.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone())))
    }

    /// Bytes the store takes on disk (database and its write-ahead log).
    pub(crate) fn size_on_disk(&self) -> u64 {
        let wal = self.path.with_extension("db-wal");
        [&self.path, &wal].iter().filter_map(|p| std::fs::metadata(p).ok()).map(|m| m.len()).sum()
    }
}

/// The store's key from `keys`, made and kept first if the store is new or
/// plain (and a plain store encrypted with it).
async fn store_key(dir: &Path, path: &Path, keys: &KeyStore) -> CoreResult<StoreKey> {
    keys.check_apart_from(dir)?;
    let id = store_id(dir)?;
    let state = cipher::file_state(path)?;
    let key = match keys.load(&id)? {
        Some(key) => key,
        None if state == FileState::Encrypted => {
            return Err(CoreError::Locked(format!(
                "the key of the store in {} is not in {}; without it the store cannot be opened",
                dir.display(),
                keys.describe()
            )))
        }
        None => {
            let key = StoreKey::random();
            keys.save(&id, &key)?;
            key
        }
    };
    if state == FileState::Plain {
        tracing::info!(store = %path.display(), "encrypting the store of an earlier version");
        cipher::encrypt_plain_store(path, &key).await?;
    }
    Ok(key)
}

/// The file in the data directory naming the store's key in the key store (not secret).
const ID_FILE: &str = "store-id";

/// The store's id, made once: the name its key is kept under.
fn store_id(dir: &Path) -> CoreResult<String> {
    let path = dir.join(ID_FILE);
    match std::fs::read_to_string(&path) {
        Ok(text) if !text.trim().is_empty() => return Ok(text.trim().to_string()),
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(CoreError::Invalid(format!("{}: {e}", path.display()))),
    }
    let id = uuid::Uuid::now_v7().to_string();
    durable::replace_file(&path, id.as_bytes(), false)
        .map_err(|e| CoreError::Invalid(format!("{}: {e}", path.display())))?;
    Ok(id)
}

pub(crate) async fn put_setting(tx: &mut WriteTx, key: &str, value: &str) -> CoreResult<()> {
    sqlx::query("INSERT INTO device (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value")
        .bind(key)
        .bind(value)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

pub(crate) fn kind_from_str(text: &str) -> CoreResult<DocKind> {
    DocKind::ALL
        .into_iter()
        .find(|k| k.as_str() == text)
        .ok_or_else(|| CoreError::Damaged(format!("unknown document kind {text:?}")))
}

fn heads_to_bytes(heads: &[ChangeHash]) -> Vec<u8> {
    heads.iter().flat_map(|h| h.0).collect()
}

fn heads_from_bytes(bytes: &[u8]) -> Vec<ChangeHash> {
    bytes
        .chunks_exact(32)
        .map(|c| {
            let mut hash = [0; 32];
            hash.copy_from_slice(c);
            ChangeHash(hash)
        })
        .collect()
}

/// Loads a document on `conn` (a transaction's or the pool's).
pub(crate) async fn load(conn: &mut SqliteConnection, id: DocId) -> CoreResult<Option<LoadedDoc>> {
    type Row = (String, Vec<u8>, Vec<u8>, i64);
    let row: Option<Row> = sqlx::query_as("SELECT kind, snapshot, acked, dirty FROM documents WHERE id = ?")
        .bind(id.to_string())
        .fetch_optional(&mut *conn)
        .await?;
    let Some((kind, snapshot, acked, dirty)) = row else {
        return Ok(None);
    };
    let changes: Vec<(Vec<u8>,)> = sqlx::query_as("SELECT bytes FROM document_changes WHERE doc_id = ? ORDER BY seq")
        .bind(id.to_string())
        .fetch_all(&mut *conn)
        .await?;
    let damaged = |e: automerge::AutomergeError| CoreError::Damaged(format!("document {id}: {e}"));
    let mut doc = AutoCommit::load(&snapshot).map_err(damaged)?;
    for (bytes,) in changes {
        doc.load_incremental(&bytes).map_err(damaged)?;
    }
    Ok(Some(LoadedDoc { kind: kind_from_str(&kind)?, doc, acked: heads_from_bytes(&acked), dirty: dirty != 0 }))
}

/// What a write did to a document's sync bookkeeping.
pub(crate) struct Bookkeeping<'a> {
    /// Heads the desk now has (replacing what was stored).
    pub(crate) acked: &'a [ChangeHash],
    /// Whether the document may hold changes the desk lacks.
    pub(crate) dirty: bool,
}

/// Writes what changed in `doc` since `heads_before` (everything for a new
/// document), its bookkeeping and its projection, inside `tx`.
pub(crate) async fn save(
    tx: &mut WriteTx,
    doc: &mut AutoCommit,
    heads_before: Option<&[ChangeHash]>,
    document: &Document,
    bookkeeping: Bookkeeping<'_>,
    now: Timestamp,
) -> CoreResult<()> {
    let mut batch = Batch::default();
    batch.save(tx, doc, heads_before, document, bookkeeping, now).await?;
    batch.write(tx).await
}

/// Documents saved in one transaction whose rows are written together: new
/// documents and every projection wait in the batch until `write`, so a
/// page of hundreds of documents takes a few statements per table.
/// Whatever reads the store inside the same transaction comes after `write`.
#[derive(Default)]
pub(crate) struct Batch {
    new: Vec<NewDocument>,
    ids: std::collections::BTreeSet<DocId>,
    rows: projection::Rows,
}

struct NewDocument {
    id: String,
    kind: &'static str,
    snapshot: Vec<u8>,
    acked: Vec<u8>,
    dirty: bool,
    at: i64,
}

impl Batch {
    /// Whether `id` waits in this batch (write it before reading that document).
    pub(crate) fn holds(&self, id: DocId) -> bool {
        self.ids.contains(&id)
    }

    /// Saves a document as `save` does; a new one, and the projection, are written by `write`.
    pub(crate) async fn save(
        &mut self,
        tx: &mut WriteTx,
        doc: &mut AutoCommit,
        heads_before: Option<&[ChangeHash]>,
        document: &Document,
        bookkeeping: Bookkeeping<'_>,
        now: Timestamp,
    ) -> CoreResult<()> {
        if !self.ids.insert(document.id()) {
            return Err(CoreError::Damaged(format!("document {} saved twice in one batch", document.id())));
        }
        let id = document.id().to_string();
        match heads_before {
            None => self.new.push(NewDocument {
                id,
                kind: document.kind().as_str(),
                snapshot: outpost_sync::session::stored_form(doc),
                acked: heads_to_bytes(bookkeeping.acked),
                dirty: bookkeeping.dirty,
                at: now.0,
            }),
            Some(before) => {
                let changes = doc.save_after(before);
                let (count,): (i64,) = sqlx::query_as("SELECT change_count FROM documents WHERE id = ?")
                    .bind(&id)
                    .fetch_one(&mut **tx)
                    .await?;
                if changes.is_empty() {
                    // Only the bookkeeping moved.
                } else if count + 1 >= COMPACT_EVERY {
                    sqlx::query("DELETE FROM document_changes WHERE doc_id = ?").bind(&id).execute(&mut **tx).await?;
                    sqlx::query("UPDATE documents SET snapshot = ?, change_count = 0 WHERE id = ?")
                        .bind(outpost_sync::session::stored_form(doc))
                        .bind(&id)
                        .execute(&mut **tx)
                        .await?;
                } else {
                    sqlx::query("INSERT INTO document_changes (doc_id, bytes) VALUES (?, ?)")
                        .bind(&id)
                        .bind(changes)
                        .execute(&mut **tx)
                        .await?;
                    sqlx::query("UPDATE documents SET change_count = change_count + 1 WHERE id = ?")
                        .bind(&id)
                        .execute(&mut **tx)
                        .await?;
                }
                set_bookkeeping(tx, document.id(), bookkeeping, now).await?;
            }
        }
        self.rows.add(document);
        Ok(())
    }

    /// Writes what waits: the new documents, then every projection.
    pub(crate) async fn write(&mut self, tx: &mut WriteTx) -> CoreResult<()> {
        let batch = std::mem::take(self);
        for chunk in batch.new.chunks(MAX_BINDS / 7) {
            let mut q = sqlx::QueryBuilder::<Sqlite>::new(
                "INSERT INTO documents (id, kind, snapshot, change_count, acked, dirty, updated_at) ",
            );
            q.push_values(chunk, |mut row, d| {
                row.push_bind(d.id.as_str())
                    .push_bind(d.kind)
                    .push_bind(d.snapshot.as_slice())
                    .push_bind(0_i64)
                    .push_bind(d.acked.as_slice())
                    .push_bind(i64::from(d.dirty))
                    .push_bind(d.at);
            });
            q.build().execute(&mut **tx).await?;
        }
        batch.rows.write(tx).await
    }
}

/// Which of `ids` the store holds.
pub(crate) async fn existing(
    conn: &mut SqliteConnection,
    ids: &[DocId],
) -> CoreResult<std::collections::HashSet<DocId>> {
    let mut found = std::collections::HashSet::new();
    for chunk in ids.chunks(MAX_BINDS) {
        let mut q = sqlx::QueryBuilder::<Sqlite>::new("SELECT id FROM documents WHERE id IN (");
        let mut list = q.separated(", ");
        for id in chunk {
            list.push_bind(id.to_string());
        }
        let rows: Vec<(String,)> = q.push(")").build_query_as().fetch_all(&mut *conn).await?;
        found.extend(rows.into_iter().filter_map(|(id,)| id.parse::<DocId>().ok()));
    }
    Ok(found)
}

/// Statements bind at most this many values: far under SQLite's limit
/// (32,766), and a page of documents still takes a few statements per table.
const MAX_BINDS: usize = 8_000;

/// Records what the desk has of a document, its content unchanged (so its projection stands).
pub(crate) async fn set_bookkeeping(
    tx: &mut WriteTx,
    id: DocId,
    bookkeeping: Bookkeeping<'_>,
    now: Timestamp,
) -> CoreResult<()> {
    sqlx::query("UPDATE documents SET acked = ?, dirty = ?, updated_at = ? WHERE id = ?")
        .bind(heads_to_bytes(bookkeeping.acked))
        .bind(i64::from(bookkeeping.dirty))
        .bind(now.0)
        .bind(id.to_string())
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Every table that holds a document or what is made from it, with the
/// column naming the document.
const DOCUMENT_TABLES: &[(&str, &str)] = &[
    ("document_changes", "doc_id"),
    ("documents", "id"),
    ("tickets", "id"),
    ("ticket_equipment", "ticket_id"),
    ("ticket_visits", "ticket_id"),
    ("conflicts", "doc_id"),
    ("equipment", "id"),
    ("part_requests", "id"),
    ("reference", "id"),
    ("search_rows", "doc_id"),
    ("notices", "doc_id"),
    ("blobs", "doc_id"),
    ("people", "doc_id"),
];

/// Erases every document and setting: a revoked device's wipe, or sign-out.
pub(crate) async fn erase_all(tx: &mut WriteTx) -> CoreResult<()> {
    for table in DOCUMENT_TABLES.iter().map(|(table, _)| *table).chain(["device"]) {
        sqlx::query(&format!("DELETE FROM {table}")).execute(&mut **tx).await?;
    }
    Ok(())
}

/// Erases one document and everything made from it (its projections, its
/// search rows, its notices, the files it holds): a document the desk
/// withdrew from this device.
pub(crate) async fn erase_document(tx: &mut WriteTx, id: DocId) -> CoreResult<()> {
    let id = id.to_string();
    for (table, column) in DOCUMENT_TABLES {
        sqlx::query(&format!("DELETE FROM {table} WHERE {column} = ?")).bind(&id).execute(&mut **tx).await?;
    }
    Ok(())
}

/// Whether the document holds work of this device that the desk lacks:
/// unacknowledged changes, or a file not uploaded yet.
pub(crate) async fn has_unsent_work(tx: &mut WriteTx, id: DocId) -> CoreResult<bool> {
    let id = id.to_string();
    let (waiting,): (i64,) = sqlx::query_as(
        "SELECT EXISTS (SELECT 1 FROM documents WHERE id = ?1 AND dirty = 1)
             OR EXISTS (SELECT 1 FROM blobs WHERE doc_id = ?1 AND uploaded = 0)",
    )
    .bind(&id)
    .fetch_one(&mut **tx)
    .await?;
    Ok(waiting != 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use outpost_sync::sample::{worked_ticket, Cast, Rng};

    /// A store in `root/data`, its key in `root/keys`.
    async fn open_in(root: &Path) -> CoreResult<Store> {
        Store::open(&root.join("data"), &KeyStore::Directory(root.join("keys"))).await
    }

    async fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = open_in(dir.path()).await.unwrap();
        (dir, store)
    }

    #[tokio::test]
    async fn a_document_survives_compaction_and_reopening() {
        let (dir, store) = store().await;
        let cast = Cast::default();
        let mut ticket = worked_ticket(&mut Rng::new(7), &cast, 1, Timestamp(1_700_000_000_000));
        let mut doc =
            outpost_sync::model::new_document(&Document::Ticket(ticket.clone()), automerge::ActorId::random()).unwrap();
        let mut tx = store.begin_write().await.unwrap();
        let document = Document::Ticket(ticket.clone());
        save(&mut tx, &mut doc, None, &document, Bookkeeping { acked: &[], dirty: true }, Timestamp(1)).await.unwrap();
        tx.commit().await.unwrap();
        for n in 0..(COMPACT_EVERY * 2 + 3) {
            let before = doc.get_heads();
            ticket.title = format!("title {n}");
            let document = Document::Ticket(ticket.clone());
            document.reconcile_into(&mut doc).unwrap();
            let mut tx = store.begin_write().await.unwrap();
            save(&mut tx, &mut doc, Some(&before), &document, Bookkeeping { acked: &[], dirty: true }, Timestamp(2))
                .await
                .unwrap();
            tx.commit().await.unwrap();
        }
        let (pending,): (i64,) =
            sqlx::query_as("SELECT count(*) FROM document_changes").fetch_one(store.pool()).await.unwrap();
        assert!(pending < COMPACT_EVERY, "changes are folded into the snapshot from time to time ({pending} left)");
        store.pool().close().await;
        let store = open_in(dir.path()).await.unwrap();
        let mut conn = store.pool().acquire().await.unwrap();
        let loaded = load(&mut conn, ticket.id).await.unwrap().expect("the ticket is stored");
        let read = Document::hydrate_as(&loaded.doc, ticket.id, DocKind::Ticket).unwrap();
        assert_eq!(read, Document::Ticket(ticket), "the reopened document is the last one written");
        assert!(loaded.dirty, "the ticket still waits for the desk");
    }

    #[tokio::test]
    async fn reopening_a_store_does_not_run_migrations_twice() {
        let (dir, store) = store().await;
        store.pool().close().await;
        let store = open_in(dir.path()).await.unwrap();
        let (version,): (i64,) = sqlx::query_as("PRAGMA user_version").fetch_one(store.pool()).await.unwrap();
        assert_eq!(version, MIGRATIONS.len() as i64);
    }

    /// A store from before search rows had a table of their own keeps its
    /// index, and replacing a document's row leaves no stale words behind.
    #[tokio::test]
    async fn the_search_index_moves_to_its_rows_table() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("data")).unwrap();
        let options = sqlx::sqlite::SqliteConnectOptions::from_str("sqlite://")
            .unwrap()
            .filename(dir.path().join("data").join(STORE_FILE));
        let pool = SqlitePoolOptions::new().connect_with(options.create_if_missing(true)).await.unwrap();
        for sql in &MIGRATIONS[..3] {
            sqlx::raw_sql(sql).execute(&pool).await.unwrap();
        }
        sqlx::query("PRAGMA user_version = 3").execute(&pool).await.unwrap();
        sqlx::query("INSERT INTO search (doc_id, kind, title, body) VALUES ('a', 'client', 'Северсталь', 'pumps')")
            .execute(&pool)
            .await
            .unwrap();
        pool.close().await;
        let store = open_in(dir.path()).await.unwrap();
        let find = |word: &'static str| {
            let pool = store.pool().clone();
            async move {
                let rows: Vec<(String,)> = sqlx::query_as("SELECT doc_id FROM search WHERE search MATCH ?")
                    .bind(word)
                    .fetch_all(&pool)
                    .await
                    .unwrap();
                rows.into_iter().map(|r| r.0).collect::<Vec<_>>()
            }
        };
        assert_eq!(find("северсталь").await, ["a"], "the old index is carried over");
        let mut tx = store.begin_write().await.unwrap();
        sqlx::query("UPDATE search_rows SET body = 'valves' WHERE doc_id = 'a'").execute(&mut *tx).await.unwrap();
        tx.commit().await.unwrap();
        assert!(find("pumps").await.is_empty(), "replaced words are gone from the index");
        assert_eq!(find("valves").await, ["a"]);
        sqlx::query("INSERT INTO search (search) VALUES ('integrity-check')").execute(store.pool()).await.unwrap();
    }

    #[tokio::test]
    async fn a_damaged_document_is_reported_not_panicked_on() {
        let (_dir, store) = store().await;
        let id = DocId::from_u128(9);
        sqlx::query("INSERT INTO documents (id, kind, snapshot, updated_at) VALUES (?, 'ticket', x'00ff', 0)")
            .bind(id.to_string())
            .execute(store.pool())
            .await
            .unwrap();
        let mut conn = store.pool().acquire().await.unwrap();
        let err = load(&mut conn, id).await.err().expect("garbage bytes do not load");
        assert!(matches!(err, CoreError::Damaged(_)), "{err}");
    }
}
