//! The database: an embedded SQLite file by default, PostgreSQL when given a
//! `postgres://` URL. One SQL dialect where the two agree (`$n` parameters,
//! `ON CONFLICT`, `RETURNING`); migrations per backend where they do not.

use std::str::FromStr;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, Executor};

/// A transaction that writes (`Db::begin_write`); it holds this process's
/// write turn on SQLite until it commits or is dropped.
pub struct WriteTx {
    tx: sqlx::Transaction<'static, sqlx::Any>,
    _turn: Option<tokio::sync::OwnedMutexGuard<()>>,
}

impl WriteTx {
    pub async fn commit(self) -> Result<(), sqlx::Error> {
        self.tx.commit().await
    }

    pub async fn rollback(self) -> Result<(), sqlx::Error> {
        self.tx.rollback().await
    }
}

impl std::ops::Deref for WriteTx {
    type Target = sqlx::Transaction<'static, sqlx::Any>;
    fn deref(&self) -> &Self::Target {
        &self.tx
    }
}

impl std::ops::DerefMut for WriteTx {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.tx
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("database url must start with sqlite: or postgres://, got {0:?}")]
    UnsupportedUrl(String),
    #[error(transparent)]
    Sql(#[from] sqlx::Error),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}

/// Migrations: (version, name, SQLite text, PostgreSQL text); `shared/` holds
/// those whose SQL is the same on both. Never edit one that shipped.
const MIGRATIONS: &[(i64, &str, &str, &str)] = &[
    (
        1,
        "init",
        include_str!("../migrations/sqlite/0001_init.sql"),
        include_str!("../migrations/postgres/0001_init.sql"),
    ),
    (
        2,
        "ticket_projection",
        include_str!("../migrations/shared/0002_ticket_projection.sql"),
        include_str!("../migrations/shared/0002_ticket_projection.sql"),
    ),
    (
        3,
        "blobs",
        include_str!("../migrations/sqlite/0003_blobs.sql"),
        include_str!("../migrations/postgres/0003_blobs.sql"),
    ),
    (
        4,
        "part_request_projection",
        include_str!("../migrations/shared/0004_part_request_projection.sql"),
        include_str!("../migrations/shared/0004_part_request_projection.sql"),
    ),
    (
        5,
        "equipment_projection",
        include_str!("../migrations/shared/0005_equipment_projection.sql"),
        include_str!("../migrations/shared/0005_equipment_projection.sql"),
    ),
    (
        6,
        "teams",
        include_str!("../migrations/shared/0006_teams.sql"),
        include_str!("../migrations/shared/0006_teams.sql"),
    ),
    (
        7,
        "ticket_search",
        include_str!("../migrations/sqlite/0007_ticket_search.sql"),
        include_str!("../migrations/postgres/0007_ticket_search.sql"),
    ),
    (
        8,
        "trust",
        include_str!("../migrations/shared/0008_trust.sql"),
        include_str!("../migrations/shared/0008_trust.sql"),
    ),
    (
        9,
        "blob_uploads",
        include_str!("../migrations/sqlite/0009_blob_uploads.sql"),
        include_str!("../migrations/postgres/0009_blob_uploads.sql"),
    ),
    (
        10,
        "withdrawals",
        include_str!("../migrations/shared/0010_withdrawals.sql"),
        include_str!("../migrations/shared/0010_withdrawals.sql"),
    ),
    (
        11,
        "reports",
        include_str!("../migrations/shared/0011_reports.sql"),
        include_str!("../migrations/shared/0011_reports.sql"),
    ),
    (
        12,
        "one_spelling",
        include_str!("../migrations/shared/0012_one_spelling.sql"),
        include_str!("../migrations/shared/0012_one_spelling.sql"),
    ),
    (
        13,
        "ticket_search_rows",
        include_str!("../migrations/sqlite/0013_ticket_search_rows.sql"),
        include_str!("../migrations/postgres/0013_ticket_search_rows.sql"),
    ),
    (
        14,
        "live",
        include_str!("../migrations/sqlite/0014_live.sql"),
        include_str!("../migrations/postgres/0014_live.sql"),
    ),
    (
        15,
        "device_clock",
        include_str!("../migrations/shared/0015_device_clock.sql"),
        include_str!("../migrations/shared/0015_device_clock.sql"),
    ),
    (
        16,
        "handoff",
        include_str!("../migrations/shared/0016_handoff.sql"),
        include_str!("../migrations/shared/0016_handoff.sql"),
    ),
    (
        17,
        "device_policies",
        include_str!("../migrations/shared/0017_device_policies.sql"),
        include_str!("../migrations/shared/0017_device_policies.sql"),
    ),
];

/// The migration after which the desk recomputes every grant from the documents.
const READERS_BY_SOURCE: i64 = 10;
/// The migration after which the desk projects every ticket again (labour, points).
const TICKET_LABOUR: i64 = 11;

#[derive(Clone, Debug)]
pub struct Db {
    pub pool: AnyPool,
    pub backend: Backend,
    /// SQLite takes one writer at a time: this process's writers queue here,
    /// in order and without holding a connection, instead of in SQLite's
    /// busy handler, which sleeps for milliseconds at a time and meanwhile
    /// holds one of the pool's few connections that readers need.
    write_turn: std::sync::Arc<tokio::sync::Mutex<()>>,
    /// What it was opened with (a live follower on PostgreSQL LISTENs on a connection of its own).
    pub url: String,
}

impl Db {
    /// Opens (creating a SQLite file if needed) and migrates the database.
    pub async fn open(url: &str) -> Result<Self, DbError> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres
        } else if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else {
            return Err(DbError::UnsupportedUrl(url.to_owned()));
        };
        let url = match backend {
            Backend::Sqlite if !url.contains("mode=") && !url.contains(":memory:") => {
                let sep = if url.contains('?') { '&' } else { '?' };
                format!("{url}{sep}mode=rwc")
            }
            _ => url.to_owned(),
        };
        let options = AnyConnectOptions::from_str(&url)?;
        let opened_with = url.clone();
        let pool = AnyPoolOptions::new()
            .max_connections(if backend == Backend::Sqlite { 4 } else { 16 })
            .acquire_timeout(Duration::from_secs(10))
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        // Writers queue instead of failing; WAL lets readers go on meanwhile.
                        // synchronous=FULL syncs the WAL at every commit: what a device was
                        // told is stored survives a power loss (NORMAL may lose the last
                        // commits, and the device never sends them again).
                        conn.execute(
                            "PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 10000; PRAGMA synchronous = FULL;",
                        )
                        .await?;
                    }
                    Ok(())
                })
            })
            .connect_with(options)
            .await?;
        if backend == Backend::Sqlite {
            pool.execute("PRAGMA journal_mode = WAL;").await?;
        }
        let db = Self { pool, backend, url: opened_with, write_turn: Default::default() };
        db.migrate().await?;
        Ok(db)
    }

    /// A transaction that will write. On SQLite it takes the write lock at
    /// once (`BEGIN IMMEDIATE`): a transaction that reads first and writes
    /// later fails outright in WAL mode if another writer committed in
    /// between, whatever the busy timeout. On PostgreSQL writers queue on
    /// the feed counter's row, locked by the first statement: what a writer
    /// reads after it (a document's heads, who may read what) stays so
    /// until it commits. Locking only when the counter is bumped let two
    /// writers read the same heads, and the second wrote heads lacking the
    /// first's change, so devices were told they were current when not.
    pub async fn begin_write(&self) -> Result<WriteTx, sqlx::Error> {
        match self.backend {
            Backend::Sqlite => {
                let turn = std::sync::Arc::clone(&self.write_turn).lock_owned().await;
                Ok(WriteTx { tx: self.pool.begin_with("BEGIN IMMEDIATE").await?, _turn: Some(turn) })
            }
            Backend::Postgres => {
                let mut tx = self.pool.begin().await?;
                sqlx::query("SELECT seq FROM feed_counter WHERE id = 1 FOR UPDATE").execute(&mut *tx).await?;
                Ok(WriteTx { tx, _turn: None })
            }
        }
    }

    /// A transaction whose reads all see one snapshot (PostgreSQL's default,
    /// read committed, gives each statement its own; SQLite's read
    /// transactions are snapshots already).
    pub async fn begin_snapshot(&self) -> Result<sqlx::Transaction<'static, sqlx::Any>, sqlx::Error> {
        match self.backend {
            Backend::Sqlite => self.pool.begin().await,
            Backend::Postgres => self.pool.begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY").await,
        }
    }

    async fn migrate(&self) -> Result<(), DbError> {
        self.migrate_up_to(i64::MAX).await
    }

    /// Applies the migrations not yet applied, up to version `last`.
    async fn migrate_up_to(&self, last: i64) -> Result<(), DbError> {
        self.pool
            .execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)",
            )
            .await?;
        for (version, name, sqlite, postgres) in MIGRATIONS.iter().filter(|m| m.0 <= last) {
            let applied: Option<(i64,)> = sqlx::query_as("SELECT version FROM schema_migrations WHERE version = $1")
                .bind(version)
                .fetch_optional(&self.pool)
                .await?;
            if applied.is_some() {
                continue;
            }
            let sql = match self.backend {
                Backend::Sqlite => sqlite,
                Backend::Postgres => postgres,
            };
            let mut tx = self.pool.begin().await?;
            sqlx::raw_sql(sql).execute(&mut *tx).await?;
            match *version {
                READERS_BY_SOURCE => crate::store::rebuild_readers(&mut tx).await?,
                TICKET_LABOUR => crate::store::reproject(&mut tx, outpost_sync::model::DocKind::Ticket).await?,
                _ => {}
            }
            sqlx::query("INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)")
                .bind(version)
                .bind(name)
                .bind(chrono::Utc::now().timestamp_millis())
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use outpost_sync::model::{Document, Ticket};
    use outpost_sync::permissions::Reader;
    use outpost_sync::sample::{worked_ticket, Cast, Rng};

    use super::*;

    /// A desk from before grants were kept by source: its readers are
    /// rebuilt from the documents, so what a ticket no longer grants can be
    /// withdrawn later.
    #[tokio::test]
    async fn readers_from_an_older_desk_are_rebuilt_by_source() {
        sqlx::any::install_default_drivers();
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite:{}?mode=rwc", dir.path().join("desk.db").display());
        let pool = AnyPoolOptions::new().max_connections(1).connect(&url).await.unwrap();
        let db = Db { pool, backend: Backend::Sqlite, url, write_turn: Default::default() };
        db.migrate_up_to(READERS_BY_SOURCE - 1).await.unwrap();

        let cast = Cast::default();
        let ticket: Ticket = worked_ticket(&mut Rng::new(3), &cast, 1, outpost_sync::ids::Timestamp(0));
        let document = Document::Ticket(ticket.clone());
        let mut doc = outpost_sync::model::new_document(&document, automerge::ActorId::random()).unwrap();
        sqlx::query(
            "INSERT INTO documents (id, kind, snapshot, heads, seq, pending_changes, updated_at) VALUES ($1, 'ticket', $2, '', 1, 0, 0)",
        )
        .bind(ticket.id.to_string())
        .bind(doc.save())
        .execute(&db.pool)
        .await
        .unwrap();
        // An old grant the ticket no longer makes (a reader from a former assignment).
        sqlx::query("INSERT INTO document_readers (doc_id, reader, granted_seq) VALUES ($1, 'user:someone', 1)")
            .bind(ticket.id.to_string())
            .execute(&db.pool)
            .await
            .unwrap();

        db.migrate().await.unwrap();
        let rows: Vec<(String, String, String)> =
            sqlx::query_as("SELECT doc_id, reader, source_id FROM document_readers ORDER BY doc_id, reader")
                .fetch_all(&db.pool)
                .await
                .unwrap();
        let mut expected: Vec<(String, String, String)> = outpost_sync::permissions::grants(&document)
            .into_iter()
            .filter(|(doc, _)| *doc == ticket.id) // the ticket's references name nothing stored here
            .map(|(doc, reader)| (doc.to_string(), reader.key(), ticket.id.to_string()))
            .collect();
        expected.sort();
        assert!(expected.iter().any(|(_, r, _)| *r == Reader::User(cast.engineer.user).key()));
        assert_eq!(rows, expected, "every grant the ticket makes now, under the ticket, and nothing else");
    }
}
