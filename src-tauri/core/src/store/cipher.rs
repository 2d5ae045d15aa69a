//! The store file encrypted with SQLCipher, and the one-time encryption of
//! a plain store left by an earlier version.
//!
//! SQLCipher encrypts every page of the database and of its write-ahead
//! log, photos and signatures included (they are rows of the store), with
//! the store's key from [`super::keys`].

use std::path::Path;
use std::str::FromStr;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode};
use sqlx::{ConnectOptions, Connection};

use super::durable::beside;
use super::keys::StoreKey;
use crate::error::{CoreError, CoreResult};

/// The first bytes of a plain SQLite file; an encrypted one starts with random salt.
const PLAIN_HEADER: &[u8; 16] = b"SQLite format 3\0";
/// Where the encrypted copy of a plain store is written before it replaces it.
const ENCRYPTING_SUFFIX: &str = ".encrypting";

/// What is on disk at the store's path.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum FileState {
    Missing,
    Plain,
    Encrypted,
}

pub(crate) fn file_state(path: &Path) -> CoreResult<FileState> {
    use std::io::Read;
    let mut header = [0u8; 16];
    let read = match std::fs::File::open(path) {
        Ok(mut file) => file.read(&mut header).map_err(|e| io(path, e))?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(FileState::Missing),
        Err(e) => return Err(io(path, e)),
    };
    Ok(match read {
        0 => FileState::Missing,
        _ if &header == PLAIN_HEADER => FileState::Plain,
        _ => FileState::Encrypted,
    })
}

/// Connection options for the store at `path` opened with `key`; sqlx
/// sends `PRAGMA key` before any other statement.
pub(crate) fn options(path: &Path, key: &StoreKey) -> CoreResult<SqliteConnectOptions> {
    Ok(SqliteConnectOptions::from_str("sqlite://")?.filename(path).pragma("key", key.pragma()))
}

/// Encrypts the plain store at `path` with `key`, in place. The encrypted
/// copy is written beside it, made durable, and renamed over the plain
/// file; a process killed at any point leaves either the whole plain store
/// (the partial copy is thrown away at the next try) or the whole
/// encrypted one. The key must be kept before this starts.
pub(crate) async fn encrypt_plain_store(path: &Path, key: &StoreKey) -> CoreResult<()> {
    let copy = beside(path, ENCRYPTING_SUFFIX);
    for stale in [copy.clone(), beside(&copy, "-journal")] {
        remove_if_present(&stale)?;
    }
    // Rollback-journal mode folds the plain store's write-ahead log into it
    // first, so no log of plain pages is left to pair with the new file.
    // (ATTACH opens files with the connection's flags: it may create one.)
    let mut plain = SqliteConnectOptions::from_str("sqlite://")?
        .filename(path)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Delete)
        .connect()
        .await?;
    let (version,): (i64,) = sqlx::query_as("PRAGMA user_version").fetch_one(&mut plain).await?;
    let copy_name = copy.to_str().ok_or_else(|| CoreError::Invalid(format!("{} is not UTF-8", copy.display())))?;
    sqlx::query(&format!("ATTACH DATABASE ? AS encrypted KEY {}", key.pragma()))
        .bind(copy_name)
        .execute(&mut plain)
        .await?;
    sqlx::query("SELECT sqlcipher_export('encrypted')").execute(&mut plain).await?;
    // sqlcipher_export copies tables, not the schema version the migrations go by.
    sqlx::query(&format!("PRAGMA encrypted.user_version = {version}")).execute(&mut plain).await?;
    sqlx::query("DETACH DATABASE encrypted").execute(&mut plain).await?;
    plain.close().await?;
    for log in [beside(path, "-wal"), beside(path, "-shm")] {
        remove_if_present(&log)?;
    }
    super::durable::rename_durably(&copy, path).map_err(|e| io(path, e))
}

fn remove_if_present(path: &Path) -> CoreResult<()> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(io(path, e)),
        _ => Ok(()),
    }
}

fn io(path: &Path, err: std::io::Error) -> CoreError {
    CoreError::Invalid(format!("{}: {err}", path.display()))
}
