//! Content-addressed blobs, uploaded in resumable chunks after the documents
//! that name them. Naming a hash proves nothing: a blob is reachable through
//! a document the caller may read only if the entry naming it was written by
//! someone who holds the blob, that is who uploaded its bytes or could
//! already reach it. Each person's upload is staged apart from everyone
//! else's; bytes must hash to the blob's name or are discarded; the desk
//! stores a blob once, and a second uploader's bytes only prove they hold it.

use outpost_sync::ids::{ContentHash, DocId, Timestamp};
use outpost_sync::model::Actor;
use sha2::{Digest, Sha256};
use sqlx::{Any, AnyPool, Transaction};

/// Largest blob, as the protocol bounds it.
pub const MAX_BLOB: i64 = outpost_sync::limits::MAX_BLOB_BYTES as i64;
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

/// How much of a blob the desk holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct BlobStatus {
    /// Bytes received so far: where the next chunk starts.
    pub received: i64,
    /// Every byte is in and the hash checked.
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

/// Whether `actor` may reach the blob: they hold it, or a document they may
/// read names it in an entry whose author holds it. The service company's
/// desk people read every document, so any document naming it will do.
async fn may_reach(tx: &mut Transaction<'_, Any>, actor: &Actor, hash: &ContentHash) -> Result<bool, sqlx::Error> {
    Ok(holds(tx, actor, hash).await? || readable_document_names(tx, actor, hash, Naming::ByHolder).await?)
}

/// Which entries naming a blob count when asking whether a readable document names it.
#[derive(Clone, Copy)]
enum Naming {
    /// Only entries whose author holds the blob (and references from before authors were kept).
    ByHolder,
    /// Any entry, whoever wrote it.
    ByAnyone,
}

/// Whether a document `actor` may read names the blob in an entry `naming`
/// counts. The service company's desk people read every document, so for
/// them any document will do (and any entry grants them nothing new).
async fn readable_document_names(
    tx: &mut Transaction<'_, Any>,
    actor: &Actor,
    hash: &ContentHash,
    naming: Naming,
) -> Result<bool, sqlx::Error> {
    let (field_docs, desk_docs) = match naming {
        Naming::ByHolder => (
            "SELECT doc_id FROM blob_refs WHERE hash = $1
             UNION SELECT l.doc_id FROM blob_links l
                 JOIN blob_holders h ON h.hash = l.hash AND h.user_id = l.author WHERE l.hash = $1",
            "SELECT doc_id FROM blob_links WHERE hash = $1 UNION SELECT doc_id FROM blob_refs WHERE hash = $1",
        ),
        Naming::ByAnyone => {
            ("SELECT doc_id FROM blob_links WHERE hash = $1", "SELECT doc_id FROM blob_links WHERE hash = $1")
        }
    };
    let row: Option<(i64,)> = if !actor.role.reads_everything() {
        let (user, org) = crate::store::reader_keys(actor);
        sqlx::query_as(&format!(
            "SELECT 1 FROM document_readers r WHERE r.reader IN ($2, $3, 'all') AND r.doc_id IN ({field_docs}) LIMIT 1"
        ))
        .bind(&hash.0)
        .bind(user)
        .bind(org)
        .fetch_optional(&mut **tx)
        .await?
    } else {
        sqlx::query_as(&format!("SELECT 1 FROM ({desk_docs}) AS named LIMIT 1"))
            .bind(&hash.0)
            .fetch_optional(&mut **tx)
            .await?
    };
    Ok(row.is_some())
}

async fn holds(tx: &mut Transaction<'_, Any>, actor: &Actor, hash: &ContentHash) -> Result<bool, sqlx::Error> {
    let row: Option<(i64,)> = sqlx::query_as("SELECT 1 FROM blob_holders WHERE hash = $1 AND user_id = $2")
        .bind(&hash.0)
        .bind(actor.user.to_string())
        .fetch_optional(&mut **tx)
        .await?;
    Ok(row.is_some())
}

async fn record_holder(tx: &mut Transaction<'_, Any>, actor: &Actor, hash: &ContentHash) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO blob_holders (hash, user_id) VALUES ($1, $2) ON CONFLICT DO NOTHING")
        .bind(&hash.0)
        .bind(actor.user.to_string())
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Whether `actor` holds the blob, counting as held a complete blob they
/// can reach now (and recording it: what they name later shares nothing
/// they could not already read).
async fn holds_or_reaches(
    tx: &mut Transaction<'_, Any>,
    actor: &Actor,
    hash: &ContentHash,
) -> Result<bool, sqlx::Error> {
    if holds(tx, actor, hash).await? {
        return Ok(true);
    }
    if stored_size(tx, hash).await?.is_some() && may_reach(tx, actor, hash).await? {
        record_holder(tx, actor, hash).await?;
        return Ok(true);
    }
    Ok(false)
}

/// Whether a document `actor` may read names the blob, whoever wrote the entry.
async fn named_where_readable(
    tx: &mut Transaction<'_, Any>,
    actor: &Actor,
    hash: &ContentHash,
) -> Result<bool, sqlx::Error> {
    Ok(readable_document_names(tx, actor, hash, Naming::ByAnyone).await? || named_by(tx, actor, hash).await?)
}

/// Whether `actor` named the blob in a stored document: then they may upload it.
async fn named_by(tx: &mut Transaction<'_, Any>, actor: &Actor, hash: &ContentHash) -> Result<bool, sqlx::Error> {
    let row: Option<(i64,)> = sqlx::query_as("SELECT 1 FROM blob_links WHERE hash = $1 AND author = $2 LIMIT 1")
        .bind(&hash.0)
        .bind(actor.user.to_string())
        .fetch_optional(&mut **tx)
        .await?;
    Ok(row.is_some())
}

/// Records the blobs a ticket names, each with its entry's author, in the
/// transaction that stores the ticket. An author who can reach a blob
/// already is recorded as holding it.
pub(crate) async fn link(
    tx: &mut Transaction<'_, Any>,
    doc: DocId,
    links: impl Iterator<Item = (&ContentHash, &Actor)>,
) -> Result<(), sqlx::Error> {
    for (hash, author) in links {
        let added =
            sqlx::query("INSERT INTO blob_links (hash, doc_id, author) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING")
                .bind(&hash.0)
                .bind(doc.to_string())
                .bind(author.user.to_string())
                .execute(&mut **tx)
                .await?
                .rows_affected();
        if added > 0 {
            holds_or_reaches(tx, author, hash).await?;
        }
    }
    Ok(())
}

/// The size of a complete blob, if the desk has it.
async fn stored_size(tx: &mut Transaction<'_, Any>, hash: &ContentHash) -> Result<Option<i64>, sqlx::Error> {
    let row: Option<(i64,)> = sqlx::query_as("SELECT received FROM blobs WHERE hash = $1 AND complete = 1")
        .bind(&hash.0)
        .fetch_optional(&mut **tx)
        .await?;
    Ok(row.map(|(size,)| size))
}

/// How far `actor`'s own upload of the blob stands.
async fn staged(tx: &mut Transaction<'_, Any>, actor: &Actor, hash: &ContentHash) -> Result<i64, sqlx::Error> {
    let row: Option<(i64,)> = sqlx::query_as("SELECT received FROM blob_uploads WHERE hash = $1 AND user_id = $2")
        .bind(&hash.0)
        .bind(actor.user.to_string())
        .fetch_optional(&mut **tx)
        .await?;
    Ok(row.map_or(0, |(received,)| received))
}

async fn drop_staging(tx: &mut Transaction<'_, Any>, actor: &Actor, hash: &ContentHash) -> Result<(), sqlx::Error> {
    for table in ["blob_upload_chunks", "blob_uploads"] {
        sqlx::query(&format!("DELETE FROM {table} WHERE hash = $1 AND user_id = $2"))
            .bind(&hash.0)
            .bind(actor.user.to_string())
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

/// Where `actor` stands with the blob: complete once they hold it (or can
/// reach it whole), otherwise how much of their own upload the desk has.
async fn standing(tx: &mut Transaction<'_, Any>, actor: &Actor, hash: &ContentHash) -> Result<BlobStatus, BlobError> {
    if !named_by(tx, actor, hash).await? && !may_reach(tx, actor, hash).await? {
        return Err(BlobError::NotFound);
    }
    if holds_or_reaches(tx, actor, hash).await? {
        if let Some(size) = stored_size(tx, hash).await? {
            return Ok(BlobStatus { received: size, complete: true });
        }
    }
    Ok(BlobStatus { received: staged(tx, actor, hash).await?, complete: false })
}

/// How much of a blob the desk holds for this caller, to resume an upload.
pub async fn status(db: &crate::Db, actor: &Actor, hash: &ContentHash) -> Result<BlobStatus, BlobError> {
    let mut tx = db.begin_write().await?;
    let standing = standing(&mut tx, actor, hash).await?;
    tx.commit().await?;
    Ok(standing)
}

/// Appends a chunk at `offset` to the caller's own upload; with `last`,
/// checks the hash: the bytes become the blob (or, if the desk has it
/// already, prove the caller holds it), or are discarded on a mismatch.
/// Someone who holds a complete blob sends no bytes.
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
    let current = standing(&mut tx, actor, hash).await?;
    if current.complete {
        tx.commit().await?;
        return Ok(current);
    }
    if offset != current.received {
        return Err(BlobError::WrongOffset { received: current.received, offset });
    }
    let received = current.received + bytes.len() as i64;
    if received > MAX_BLOB {
        return Err(BlobError::TooLarge);
    }
    let user = actor.user.to_string();
    sqlx::query(
        "INSERT INTO blob_uploads (hash, user_id, received) VALUES ($1, $2, $3)
         ON CONFLICT (hash, user_id) DO UPDATE SET received = excluded.received",
    )
    .bind(&hash.0)
    .bind(&user)
    .bind(received)
    .execute(&mut **tx)
    .await?;
    if !bytes.is_empty() {
        sqlx::query("INSERT INTO blob_upload_chunks (hash, user_id, at, bytes) VALUES ($1, $2, $3, $4)")
            .bind(&hash.0)
            .bind(&user)
            .bind(offset)
            .bind(bytes)
            .execute(&mut **tx)
            .await?;
    }
    if !last {
        tx.commit().await?;
        return Ok(BlobStatus { received, complete: false });
    }
    let chunks: Vec<(Vec<u8>,)> =
        sqlx::query_as("SELECT bytes FROM blob_upload_chunks WHERE hash = $1 AND user_id = $2 ORDER BY at")
            .bind(&hash.0)
            .bind(&user)
            .fetch_all(&mut **tx)
            .await?;
    let mut digest = Sha256::new();
    chunks.iter().for_each(|(chunk,)| digest.update(chunk));
    let found = hex::encode(digest.finalize());
    if found != hash.0 {
        drop_staging(&mut tx, actor, hash).await?;
        tx.commit().await?;
        return Err(BlobError::HashMismatch { found });
    }
    let stored = sqlx::query(
        "INSERT INTO blobs (hash, received, complete, created_at) VALUES ($1, $2, 1, $3) ON CONFLICT (hash) DO NOTHING",
    )
    .bind(&hash.0)
    .bind(received)
    .bind(now.0)
    .execute(&mut **tx)
    .await?
    .rows_affected();
    if stored > 0 {
        sqlx::query(
            "INSERT INTO blob_chunks (hash, at, bytes)
             SELECT hash, at, bytes FROM blob_upload_chunks WHERE hash = $1 AND user_id = $2",
        )
        .bind(&hash.0)
        .bind(&user)
        .execute(&mut **tx)
        .await?;
    }
    drop_staging(&mut tx, actor, hash).await?;
    record_holder(&mut tx, actor, hash).await?;
    tx.commit().await?;
    Ok(BlobStatus { received, complete: true })
}

async fn read_chunks(tx: &mut Transaction<'_, Any>, hash: &ContentHash) -> Result<Vec<u8>, sqlx::Error> {
    let chunks: Vec<(Vec<u8>,)> = sqlx::query_as("SELECT bytes FROM blob_chunks WHERE hash = $1 ORDER BY at")
        .bind(&hash.0)
        .fetch_all(&mut **tx)
        .await?;
    Ok(chunks.into_iter().flat_map(|(bytes,)| bytes).collect())
}

/// A complete blob's bytes, for a caller who may reach it.
pub async fn download(pool: &AnyPool, actor: &Actor, hash: &ContentHash) -> Result<Vec<u8>, BlobError> {
    let mut tx = pool.begin().await?;
    if may_reach(&mut tx, actor, hash).await? && stored_size(&mut tx, hash).await?.is_some() {
        return Ok(read_chunks(&mut tx, hash).await?);
    }
    // Named where the caller can see it, but nobody who holds it has
    // uploaded it yet: whether some other company's upload exists stays unsaid.
    if named_where_readable(&mut tx, actor, hash).await? {
        return Err(BlobError::Incomplete);
    }
    Err(BlobError::NotFound)
}
