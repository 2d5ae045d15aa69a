//! What can go wrong in the app's core, sorted by what the user can do about it.

use outpost_sync::model::SchemaError;
use serde::Serialize;

#[derive(Debug, thiserror::Error)]
pub enum CoreError {
    #[error("no {kind} {id} on this device")]
    NotFound { kind: &'static str, id: String },
    /// The edit breaks the workflow or the user's permissions; the desk would refuse it.
    #[error("not allowed: {0}")]
    Refused(String),
    #[error("invalid input: {0}")]
    Invalid(String),
    #[error("this device is not paired with a desk; pair it first")]
    NotPaired,
    #[error("this device is already paired with {0}")]
    AlreadyPaired(String),
    #[error("the desk cannot be reached: {0}")]
    Offline(String),
    #[error("the desk refused the request: {0}")]
    Desk(String),
    #[error("this device was revoked at the desk and its data erased")]
    Wiped,
    #[error("{0} documents have changes the desk has not received yet")]
    Unsynced(u64),
    /// The device's disk (or the store's quota) is full. The failed write
    /// was rolled back whole; everything before it is kept.
    #[error("the device's disk is full: nothing was lost, but nothing more can be saved; free some space and try again ({0})")]
    DiskFull(String),
    /// The store cannot be opened or used now: its key is missing or the
    /// key store does not answer. Nothing was changed.
    #[error("the device's data is locked: {0}")]
    Locked(String),
    #[error("local store: {0}")]
    Store(sqlx::Error),
    #[error("a stored document is damaged: {0}")]
    Damaged(String),
}

/// The kinds of error a user interface or a script switches on.
#[derive(ts_rs::TS, Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum ErrorKind {
    NotFound,
    Refused,
    Invalid,
    NotPaired,
    AlreadyPaired,
    Offline,
    Desk,
    Wiped,
    Unsynced,
    DiskFull,
    Locked,
    Internal,
}

impl CoreError {
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::NotFound { .. } => ErrorKind::NotFound,
            Self::Refused(_) => ErrorKind::Refused,
            Self::Invalid(_) => ErrorKind::Invalid,
            Self::NotPaired => ErrorKind::NotPaired,
            Self::AlreadyPaired(_) => ErrorKind::AlreadyPaired,
            Self::Offline(_) => ErrorKind::Offline,
            Self::Desk(_) => ErrorKind::Desk,
            Self::Wiped => ErrorKind::Wiped,
            Self::Unsynced(_) => ErrorKind::Unsynced,
            Self::DiskFull(_) => ErrorKind::DiskFull,
            Self::Locked(_) => ErrorKind::Locked,
            Self::Store(_) | Self::Damaged(_) => ErrorKind::Internal,
        }
    }

    pub(crate) fn not_found(kind: &'static str, id: impl ToString) -> Self {
        Self::NotFound { kind, id: id.to_string() }
    }
}

impl From<sqlx::Error> for CoreError {
    fn from(err: sqlx::Error) -> Self {
        let code = err.as_database_error().and_then(|e| e.code()).and_then(|c| c.parse::<i32>().ok());
        if code.is_some_and(is_disk_full) {
            return Self::DiskFull(err.to_string());
        }
        Self::Store(err)
    }
}

/// SQLite's result codes for a full disk: `SQLITE_FULL` (a write found no
/// space), and `SQLITE_IOERR_SHMSIZE`, which is what a WAL store reports
/// ("disk I/O error") when the disk is already full as it opens a write.
fn is_disk_full(extended_code: i32) -> bool {
    const SQLITE_FULL: i32 = 13;
    const SQLITE_IOERR_SHMSIZE: i32 = 10 | (19 << 8);
    extended_code & 0xff == SQLITE_FULL || extended_code == SQLITE_IOERR_SHMSIZE
}

impl From<crate::store::keys::KeyError> for CoreError {
    fn from(err: crate::store::keys::KeyError) -> Self {
        Self::Locked(err.to_string())
    }
}

impl From<SchemaError> for CoreError {
    /// Schema errors met while editing are the user's input breaking a limit.
    fn from(err: SchemaError) -> Self {
        Self::Invalid(err.to_string())
    }
}

pub type CoreResult<T> = Result<T, CoreError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_disk_is_told_apart_from_other_store_errors() {
        assert!(is_disk_full(13), "SQLITE_FULL");
        assert!(is_disk_full(4874), "SQLITE_IOERR_SHMSIZE, seen with a full tmpfs");
        assert!(!is_disk_full(10), "a plain I/O error is not a full disk");
        assert!(!is_disk_full(2067), "SQLITE_CONSTRAINT_UNIQUE");
    }

    /// A store that can grow no further, as on a full disk: the write fails
    /// as `DiskFull`, what was written before stays, and once there is room
    /// again the same write succeeds.
    #[tokio::test]
    async fn a_store_that_cannot_grow_reports_a_full_disk_and_loses_nothing() {
        use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
        use std::str::FromStr;
        let dir = tempfile::tempdir().unwrap();
        let options = SqliteConnectOptions::from_str("sqlite://")
            .unwrap()
            .filename(dir.path().join("full.db"))
            .create_if_missing(true)
            .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal);
        let pool = SqlitePoolOptions::new().max_connections(1).connect_with(options).await.unwrap();
        sqlx::query("CREATE TABLE notes (text BLOB)").execute(&pool).await.unwrap();
        sqlx::query("INSERT INTO notes VALUES (x'01')").execute(&pool).await.unwrap();
        let (pages,): (i64,) = sqlx::query_as("PRAGMA page_count").fetch_one(&pool).await.unwrap();
        sqlx::query(&format!("PRAGMA max_page_count = {pages}")).execute(&pool).await.unwrap();
        let big = vec![7u8; 64 * 1024];
        let err: CoreError =
            sqlx::query("INSERT INTO notes VALUES ($1)").bind(&big).execute(&pool).await.unwrap_err().into();
        assert_eq!(err.kind(), ErrorKind::DiskFull, "{err}");
        assert!(err.to_string().contains("nothing was lost"), "{err}");
        let (kept,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM notes").fetch_one(&pool).await.unwrap();
        assert_eq!(kept, 1);
        sqlx::query("PRAGMA max_page_count = 1000000").execute(&pool).await.unwrap();
        sqlx::query("INSERT INTO notes VALUES ($1)").bind(&big).execute(&pool).await.unwrap();
    }
}
