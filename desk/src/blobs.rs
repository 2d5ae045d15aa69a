//! Content-addressed blobs, uploaded in resumable chunks after the documents
//! that reference them. A blob is reachable only through a document that
//! references it and that the caller may read; a complete blob is never
//! uploaded again; the bytes must hash to the blob's name or are discarded.

use outpost_sync::ids::{ContentHash, Timestamp};
use outpost_sync::model::Actor;
use sha2::{Digest, Sha256};
use sqlx::{Any, AnyPool, Transaction};

/// Largest blob: a downscaled photo is far smaller; a diagnostic file may not be.
pub const MAX_BLOB: i64 = 64 * 1024 * 1024;
/// Largest chunk in one request.
pub const MAX_CHUNK: usize = 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    #[error("{0:?} is not a SHA-256 hex digest")]
    BadHash(String),
    #[error("no such blob")]
    NotFound,
    #[error("the upload stands at byte {received}, not {offset}")]
    WrongOffset { received: i64, offset: i64 },
    #[error("a blob is at most {MAX_BLOB} bytes")]
    TooLarge,
    #[error("the bytes hash to {found}, not to the blob's name")]
    HashMismatch { found: String },
    #[error("the blob is not complete yet")]
    Incomplete,
    #[error(transparent)]
    Sql(#[from] sqlx::Error),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct BlobStatus {
    pub received: i64,
    pub complete: bool,
}

pub fn parse_hash(text: &str) -> Result<ContentHash, BlobError> {
    let hash = ContentHash(text.to_owned());
    if hash.is_well_formed() {
        Ok(hash)
    } else {
        Err(BlobError::BadHash(text.to_owned()))
    }
}

/// Whether `actor` may reach the blob: some document they may read references it.
async fn may_access(tx: &mut Transaction<'_, Any>, actor: &Actor, hash: &ContentHash) -> Result<bool, BlobError> {
    let row: Option<(i64,)> = if actor.role.is_field() {
        sqlx::query_as(
            "SELECT 1 FROM blob_refs b JOIN document_readers r ON r.doc_id = b.doc_id
             WHERE b.hash = $1 AND r.reader IN ($2, $3, 'all') LIMIT 1",
        )
        .bind(&hash.0)
        .bind(format!("user:{}", actor.user))
        .bind(format!("org:{}", actor.org))
        .fetch_optional(&mut **tx)
        .await?
    } else {
        sqlx::query_as("SELECT 1 FROM blob_refs WHERE hash = $1 LIMIT 1")
            .bind(&hash.0)
            .fetch_optional(&mut **tx)
            .await?
    };
    Ok(row.is_some())
}

async fn status_in(tx: &mut Transaction<'_, Any>, hash: &ContentHash) -> Result<BlobStatus, BlobError> {
    let row: Option<(i64, i64)> = sqlx::query_as("SELECT received, complete FROM blobs WHERE hash = $1")
        .bind(&hash.0)
        .fetch_optional(&mut **tx)
        .await?;
    Ok(row.map_or(BlobStatus { received: 0, complete: false }, |(received, complete)| BlobStatus {
        received,
        complete: complete != 0,
    }))
}

/// How much of a blob the desk holds, for a caller who may reach it.
pub async fn status(pool: &AnyPool, actor: &Actor, hash: &ContentHash) -> Result<BlobStatus, BlobError> {
    let mut tx = pool.begin().await?;
    if !may_access(&mut tx, actor, hash).await? {
        return Err(BlobError::NotFound);
    }
    status_in(&mut tx, hash).await
}

/// Appends a chunk at `offset`; with `last`, checks the hash and completes
/// the blob (or discards it on a mismatch). A complete blob takes no bytes.
pub async fn upload(
    db: &crate::Db,
    actor: &Actor,
    hash: &ContentHash,
    offset: i64,
    bytes: &[u8],
    last: bool,
    now: Timestamp,
) -> Result<BlobStatus, BlobError> {
    let mut tx = db.begin_write().await?;
    if !may_access(&mut tx, actor, hash).await? {
        return Err(BlobError::NotFound);
    }
    let current = status_in(&mut tx, hash).await?;
    if current.complete {
        return Ok(current);
    }
    if offset != current.received {
        return Err(BlobError::WrongOffset { received: current.received, offset });
    }
    let received = current.received + bytes.len() as i64;
    if received > MAX_BLOB {
        return Err(BlobError::TooLarge);
    }
    sqlx::query(
        "INSERT INTO blobs (hash, received, complete, created_at) VALUES ($1, $2, 0, $3)
         ON CONFLICT (hash) DO UPDATE SET received = excluded.received",
    )
    .bind(&hash.0)
    .bind(received)
    .bind(now.0)
    .execute(&mut *tx)
    .await?;
    if !bytes.is_empty() {
        sqlx::query("INSERT INTO blob_chunks (hash, at, bytes) VALUES ($1, $2, $3)")
            .bind(&hash.0)
            .bind(offset)
            .bind(bytes)
            .execute(&mut *tx)
            .await?;
    }
    if last {
        let found = hex::encode(Sha256::digest(read_chunks(&mut tx, hash).await?));
        if found != hash.0 {
            sqlx::query("DELETE FROM blob_chunks WHERE hash = $1").bind(&hash.0).execute(&mut *tx).await?;
            sqlx::query("DELETE FROM blobs WHERE hash = $1").bind(&hash.0).execute(&mut *tx).await?;
            tx.commit().await?;
            return Err(BlobError::HashMismatch { found });
        }
        sqlx::query("UPDATE blobs SET complete = 1 WHERE hash = $1").bind(&hash.0).execute(&mut *tx).await?;
    }
    tx.commit().await?;
    Ok(BlobStatus { received, complete: last })
}

async fn read_chunks(tx: &mut Transaction<'_, Any>, hash: &ContentHash) -> Result<Vec<u8>, BlobError> {
    let chunks: Vec<(Vec<u8>,)> = sqlx::query_as("SELECT bytes FROM blob_chunks WHERE hash = $1 ORDER BY at")
        .bind(&hash.0)
        .fetch_all(&mut **tx)
        .await?;
    Ok(chunks.into_iter().flat_map(|(bytes,)| bytes).collect())
}

/// A complete blob's bytes, for a caller who may reach it.
pub async fn download(pool: &AnyPool, actor: &Actor, hash: &ContentHash) -> Result<Vec<u8>, BlobError> {
    let mut tx = pool.begin().await?;
    if !may_access(&mut tx, actor, hash).await? {
        return Err(BlobError::NotFound);
    }
    if !status_in(&mut tx, hash).await?.complete {
        return Err(BlobError::Incomplete);
    }
    read_chunks(&mut tx, hash).await
}
