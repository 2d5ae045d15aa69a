//! Documents, the change feed, read access and the audit log in SQL: the
//! storage side of a sync round (see `outpost_sync::memory::MemoryDesk` for
//! the same steps in memory).
//!
//! Every write takes the single `feed_counter` row first, so writers are
//! serialised and sequence numbers commit in order: a reader never sees
//! entry 11 while entry 10 is still to come, and so no cursor skips one.

use automerge::{AutoCommit, ChangeHash};
use outpost_sync::ids::{DocId, Timestamp};
use outpost_sync::model::{Actor, DocKind, Document};
use outpost_sync::session::{stored_form, FeedEntry, FeedPage, StoreDocument, StoredDoc, Withdrawal};
use outpost_sync::wire::Cursor;
use sqlx::{Any, Transaction};

/// Change chunks kept beside a document's snapshot before it is compacted.
const COMPACT_AFTER: i64 = 32;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(transparent)]
    Sql(#[from] sqlx::Error),
    #[error("stored document {0} is corrupt: {1}")]
    Corrupt(String, String),
}

type Tx<'c> = Transaction<'c, Any>;

pub fn parse_kind(name: &str) -> Option<DocKind> {
    DocKind::ALL.into_iter().find(|k| k.as_str() == name)
}

pub fn encode_heads(heads: &[ChangeHash]) -> String {
    heads.iter().map(|h| hex::encode(h.0)).collect::<Vec<_>>().join(",")
}

pub fn decode_heads(text: &str) -> Vec<ChangeHash> {
    text.split(',')
        .filter_map(|h| hex::decode(h).ok())
        .filter_map(|bytes| <[u8; 32]>::try_from(bytes).ok())
        .map(ChangeHash)
        .collect()
}

/// Takes the feed's write lock for this transaction and returns the next sequence number.
async fn next_seq(tx: &mut Tx<'_>) -> Result<i64, StoreError> {
    let (seq,): (i64,) =
        sqlx::query_as("UPDATE feed_counter SET seq = seq + 1 WHERE id = 1 RETURNING seq").fetch_one(&mut **tx).await?;
    Ok(seq)
}

/// A document as stored: its snapshot followed by the chunks appended since.
pub async fn load(tx: &mut Tx<'_>, id: DocId) -> Result<Option<StoredDoc>, StoreError> {
    Ok(load_with_heads(tx, id).await?.map(|(stored, _)| stored))
}

/// A document as stored, and its heads as stored with it. The chunks are
/// read only when there are some: every statement crosses to the
/// database's thread and back, and a round reads many documents.
pub async fn load_with_heads(tx: &mut Tx<'_>, id: DocId) -> Result<Option<(StoredDoc, String)>, StoreError> {
    let row: Option<(String, Vec<u8>, String, i64)> =
        sqlx::query_as("SELECT kind, snapshot, heads, pending_changes FROM documents WHERE id = $1")
            .bind(id.to_string())
            .fetch_optional(&mut **tx)
            .await?;
    let Some((kind, mut bytes, heads, pending)) = row else { return Ok(None) };
    let kind = parse_kind(&kind).ok_or_else(|| StoreError::Corrupt(id.to_string(), format!("kind {kind:?}")))?;
    if pending > 0 {
        let chunks: Vec<(Vec<u8>,)> = sqlx::query_as("SELECT bytes FROM document_changes WHERE doc_id = $1 ORDER BY n")
            .bind(id.to_string())
            .fetch_all(&mut **tx)
            .await?;
        for (chunk,) in chunks {
            bytes.extend_from_slice(&chunk);
        }
    }
    Ok(Some((StoredDoc { kind, bytes }, heads)))
}

/// Records what `document`, stored at feed position `seq`, grants now (see
/// `outpost_sync::permissions::grants`), each grant under the document as
/// its source and with the position it was made at: a device whose cursor
/// is older gets the document whole. A document newly readable through this
/// write without being written itself (a ticket's equipment, client or
/// site) gets a feed entry of its own, so the devices that gained it find
/// it past their cursor. What the document granted before and no longer
/// does is taken back, and a reader left with no grant of a document is
/// withdrawn at `seq`.
async fn grant_readers(tx: &mut Tx<'_>, document: &Document, seq: i64, now: Timestamp) -> Result<(), StoreError> {
    use std::collections::{BTreeMap, BTreeSet};
    let source = document.id().to_string();
    let granted: BTreeSet<(String, String)> = outpost_sync::permissions::grants(document)
        .into_iter()
        .map(|(doc, reader)| (doc.to_string(), reader.key()))
        .collect();
    let before: BTreeSet<(String, String)> =
        sqlx::query_as("SELECT doc_id, reader FROM document_readers WHERE source_id = $1")
            .bind(&source)
            .fetch_all(&mut **tx)
            .await?
            .into_iter()
            .collect();
    for (doc, reader) in before.difference(&granted) {
        sqlx::query("DELETE FROM document_readers WHERE doc_id = $1 AND reader = $2 AND source_id = $3")
            .bind(doc)
            .bind(reader)
            .bind(&source)
            .execute(&mut **tx)
            .await?;
        if first_granted_to(tx, doc, [reader.as_str(); 3]).await?.is_none() {
            sqlx::query("INSERT INTO document_withdrawals (seq, doc_id, reader) VALUES ($1, $2, $3)")
                .bind(seq)
                .bind(doc)
                .bind(reader)
                .execute(&mut **tx)
                .await?;
        }
    }
    let mut fed: BTreeMap<String, i64> = BTreeMap::from([(source.clone(), seq)]);
    for (doc, reader) in granted.difference(&before) {
        let granted_at = match (first_granted_to(tx, doc, [reader.as_str(); 3]).await?, fed.get(doc)) {
            (Some(at), _) | (None, Some(&at)) => at,
            (None, None) => {
                let heads: Option<(String,)> = sqlx::query_as("SELECT heads FROM documents WHERE id = $1")
                    .bind(doc)
                    .fetch_optional(&mut **tx)
                    .await?;
                let Some((heads,)) = heads else { continue }; // a reference to nothing grants nothing
                let at = next_seq(tx).await?;
                sqlx::query("INSERT INTO feed (seq, doc_id, heads, at) VALUES ($1, $2, $3, $4)")
                    .bind(at)
                    .bind(doc)
                    .bind(&heads)
                    .bind(now.0)
                    .execute(&mut **tx)
                    .await?;
                fed.insert(doc.clone(), at);
                at
            }
        };
        sqlx::query("INSERT INTO document_readers (doc_id, reader, source_id, granted_seq) VALUES ($1, $2, $3, $4)")
            .bind(doc)
            .bind(reader)
            .bind(&source)
            .bind(granted_at)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

/// A stored document of `kind`, as it reads now; `None` if there is none
/// of that kind under `id`.
pub async fn read(tx: &mut Tx<'_>, id: DocId, kind: DocKind) -> Result<Option<Document>, StoreError> {
    let Some(stored) = load(tx, id).await? else { return Ok(None) };
    if stored.kind != kind {
        return Ok(None);
    }
    let corrupt = |e: String| StoreError::Corrupt(id.to_string(), e);
    let doc = AutoCommit::load(&stored.bytes).map_err(|e| corrupt(e.to_string()))?;
    Document::hydrate_as(&doc, id, kind).map(Some).map_err(|e| corrupt(e.to_string()))
}

/// Every stored document (of `kind`, if given) as it reads now, oldest
/// write first; for the migrations that derive something new from them.
/// One that does not read is left out: a round refuses such a document too.
async fn stored_documents(tx: &mut Tx<'_>, kind: Option<DocKind>) -> Result<Vec<Document>, StoreError> {
    let rows: Vec<(String, String)> =
        sqlx::query_as("SELECT id, kind FROM documents ORDER BY seq").fetch_all(&mut **tx).await?;
    let mut documents = Vec::new();
    for (id, stored_kind) in rows {
        let (Ok(id), Some(stored_kind)) = (id.parse::<DocId>(), parse_kind(&stored_kind)) else { continue };
        if kind.is_some_and(|k| k != stored_kind) {
            continue;
        }
        if let Ok(Some(document)) = read(tx, id, stored_kind).await {
            documents.push(document);
        }
    }
    Ok(documents)
}

/// Recomputes every grant from the documents as they read now, once, when
/// grants began to be kept by source. They count as made at the start of
/// the feed, as the grants they replace did.
pub(crate) async fn rebuild_readers(tx: &mut Tx<'_>) -> Result<(), StoreError> {
    for document in stored_documents(tx, None).await? {
        let source = document.id().to_string();
        for (doc, reader) in outpost_sync::permissions::grants(&document) {
            sqlx::query(
                "INSERT INTO document_readers (doc_id, reader, source_id, granted_seq)
                 SELECT id, $2, $3, 0 FROM documents WHERE id = $1",
            )
            .bind(doc.to_string())
            .bind(reader.key())
            .bind(&source)
            .execute(&mut **tx)
            .await?;
        }
    }
    Ok(())
}

/// Projects every document of `kind` again, when a projection grew.
pub(crate) async fn reproject(tx: &mut Tx<'_>, kind: DocKind) -> Result<(), StoreError> {
    let now = Timestamp::from_datetime(chrono::Utc::now());
    for document in stored_documents(tx, Some(kind)).await? {
        crate::projection::project(tx, &document, now).await?;
    }
    Ok(())
}

/// Writes a whole new document authored at the desk (demo data, REST creations).
pub async fn insert_new(
    tx: &mut Tx<'_>,
    document: &Document,
    doc: &mut AutoCommit,
    now: Timestamp,
) -> Result<i64, StoreError> {
    let seq = next_seq(tx).await?;
    let heads = encode_heads(&doc.get_heads());
    sqlx::query(
        "INSERT INTO documents (id, kind, snapshot, heads, seq, pending_changes, updated_at) VALUES ($1, $2, $3, $4, $5, 0, $6)",
    )
    .bind(document.id().to_string())
    .bind(document.kind().as_str())
    .bind(stored_form(doc))
    .bind(&heads)
    .bind(seq)
    .bind(now.0)
    .execute(&mut **tx)
    .await?;
    finish_write(tx, document, seq, &heads, now).await?;
    Ok(seq)
}

async fn finish_write(
    tx: &mut Tx<'_>,
    document: &Document,
    seq: i64,
    heads: &str,
    now: Timestamp,
) -> Result<(), StoreError> {
    sqlx::query("INSERT INTO feed (seq, doc_id, heads, at) VALUES ($1, $2, $3, $4)")
        .bind(seq)
        .bind(document.id().to_string())
        .bind(heads)
        .bind(now.0)
        .execute(&mut **tx)
        .await?;
    grant_readers(tx, document, seq, now).await?;
    crate::projection::project(tx, document, now).await
}

/// Changes a document as the desk (a dispatcher's assignment, a new
/// deadline): hydrate, change, write back as the desk's automerge actor, and
/// store like any other write. Returns the document as it now reads, or
/// `None` if there is no such document.
pub async fn write_as_desk<E: From<StoreError>>(
    tx: &mut Tx<'_>,
    id: DocId,
    author: &Actor,
    desk_actor: &automerge::ActorId,
    now: Timestamp,
    change: impl FnOnce(&mut Document) -> Result<(), E>,
) -> Result<Option<Document>, E> {
    let Some(stored) = load(tx, id).await? else { return Ok(None) };
    let corrupt = |e: String| StoreError::Corrupt(id.to_string(), e);
    let mut doc = AutoCommit::load(&stored.bytes).map_err(|e| corrupt(e.to_string()))?;
    doc.set_actor(desk_actor.clone());
    let before = doc.get_heads();
    let mut document = Document::hydrate_as(&doc, id, stored.kind).map_err(|e| corrupt(e.to_string()))?;
    change(&mut document)?;
    document.reconcile_into(&mut doc).map_err(|e| corrupt(e.to_string()))?;
    doc.commit_with(automerge::transaction::CommitOptions::default().with_time(now.0 / 1000));
    let document = Document::hydrate_as(&doc, id, stored.kind).map_err(|e| corrupt(e.to_string()))?;
    if doc.get_heads() == before {
        return Ok(Some(document));
    }
    let write = StoreDocument {
        doc: id,
        kind: stored.kind,
        created: false,
        changes: doc.save_after(&before),
        heads: doc.get_heads(),
        document: document.clone(),
        refused: Vec::new(),
        author: *author,
        received_at: now,
    };
    store(tx, &write, None).await?;
    Ok(Some(document))
}

/// Appends a round's changes to a document (or creates it), with its feed
/// entry, readers and audit records; returns the sequence number.
pub async fn store(tx: &mut Tx<'_>, store: &StoreDocument, device: Option<&str>) -> Result<i64, StoreError> {
    let seq = next_seq(tx).await?;
    let id = store.doc.to_string();
    let heads = encode_heads(&store.heads);
    let now = store.received_at;
    if store.created {
        sqlx::query(
            "INSERT INTO documents (id, kind, snapshot, heads, seq, pending_changes, updated_at) VALUES ($1, $2, $3, $4, $5, 0, $6)",
        )
        .bind(&id)
        .bind(store.kind.as_str())
        .bind(&store.changes)
        .bind(&heads)
        .bind(seq)
        .bind(now.0)
        .execute(&mut **tx)
        .await?;
    } else {
        let (pending,): (i64,) = sqlx::query_as("SELECT pending_changes FROM documents WHERE id = $1")
            .bind(&id)
            .fetch_one(&mut **tx)
            .await?;
        if pending + 1 >= COMPACT_AFTER {
            compact(tx, store.doc, &store.changes).await?;
        } else {
            sqlx::query("INSERT INTO document_changes (doc_id, n, bytes) VALUES ($1, $2, $3)")
                .bind(&id)
                .bind(pending + 1)
                .bind(&store.changes)
                .execute(&mut **tx)
                .await?;
            sqlx::query("UPDATE documents SET pending_changes = $1 WHERE id = $2")
                .bind(pending + 1)
                .bind(&id)
                .execute(&mut **tx)
                .await?;
        }
        sqlx::query("UPDATE documents SET heads = $1, seq = $2, updated_at = $3 WHERE id = $4")
            .bind(&heads)
            .bind(seq)
            .bind(now.0)
            .bind(&id)
            .execute(&mut **tx)
            .await?;
    }
    finish_write(tx, &store.document, seq, &heads, now).await?;
    for refusal in &store.refused {
        audit(tx, now, Some(&store.author), device, Some(store.doc), "refused_change", &refusal.to_string()).await?;
    }
    Ok(seq)
}

/// Folds the appended chunks (and `extra`) into a fresh snapshot.
async fn compact(tx: &mut Tx<'_>, id: DocId, extra: &[u8]) -> Result<(), StoreError> {
    let stored = load(tx, id).await?.ok_or_else(|| StoreError::Corrupt(id.to_string(), "vanished".into()))?;
    let mut doc = AutoCommit::load(&stored.bytes).map_err(|e| StoreError::Corrupt(id.to_string(), e.to_string()))?;
    doc.load_incremental(extra).map_err(|e| StoreError::Corrupt(id.to_string(), e.to_string()))?;
    sqlx::query("DELETE FROM document_changes WHERE doc_id = $1").bind(id.to_string()).execute(&mut **tx).await?;
    sqlx::query("UPDATE documents SET snapshot = $1, pending_changes = 0 WHERE id = $2")
        .bind(stored_form(&mut doc))
        .bind(id.to_string())
        .execute(&mut **tx)
        .await?;
    Ok(())
}

pub async fn audit(
    tx: &mut Tx<'_>,
    now: Timestamp,
    author: Option<&Actor>,
    device: Option<&str>,
    doc: Option<DocId>,
    action: &str,
    detail: &str,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO audit_log (at, user_id, device_id, doc_id, action, detail) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(now.0)
    .bind(author.map(|a| a.user.to_string()))
    .bind(device)
    .bind(doc.map(|d| d.to_string()))
    .bind(action)
    // Details quote what devices sent; PostgreSQL stores no NUL.
    .bind(detail.replace('\0', "\u{FFFD}"))
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The reader keys a field user matches besides `all`: themselves and their company.
pub(crate) fn reader_keys(actor: &Actor) -> (String, String) {
    let [user, org, _] = outpost_sync::permissions::Reader::of(actor);
    (user.key(), org.key())
}

/// The feed position at which `actor` could first read the document, if they can.
async fn first_granted(tx: &mut Tx<'_>, actor: &Actor, id: DocId) -> Result<Option<i64>, StoreError> {
    let (user, org) = reader_keys(actor);
    first_granted_to(tx, &id.to_string(), [user.as_str(), org.as_str(), "all"]).await
}

/// The feed position since which any of `readers` (reader keys; one key
/// repeated asks for one reader) may read the document, if one may.
async fn first_granted_to(tx: &mut Tx<'_>, id: &str, readers: [&str; 3]) -> Result<Option<i64>, StoreError> {
    let (first,): (Option<i64>,) =
        sqlx::query_as("SELECT MIN(granted_seq) FROM document_readers WHERE doc_id = $1 AND reader IN ($2, $3, $4)")
            .bind(id)
            .bind(readers[0])
            .bind(readers[1])
            .bind(readers[2])
            .fetch_one(&mut **tx)
            .await?;
    Ok(first)
}

async fn may_read(tx: &mut Tx<'_>, actor: &Actor, id: DocId) -> Result<bool, StoreError> {
    Ok(actor.role.reads_everything() || first_granted(tx, actor, id).await?.is_some())
}

/// The stored heads of each of `ids` (`None` for a document the desk does not have).
pub async fn heads(
    tx: &mut Tx<'_>,
    ids: &[DocId],
) -> Result<std::collections::BTreeMap<DocId, Option<String>>, StoreError> {
    let mut heads = std::collections::BTreeMap::new();
    for id in ids {
        let row: Option<(String,)> = sqlx::query_as("SELECT heads FROM documents WHERE id = $1")
            .bind(id.to_string())
            .fetch_optional(&mut **tx)
            .await?;
        heads.insert(*id, row.map(|(h,)| h));
    }
    Ok(heads)
}

/// Of `ids`, the documents `actor` may read, with their kinds.
pub async fn readable_kinds(
    tx: &mut Tx<'_>,
    actor: &Actor,
    ids: &[DocId],
) -> Result<std::collections::BTreeMap<DocId, DocKind>, StoreError> {
    let mut readable = std::collections::BTreeMap::new();
    for id in ids {
        let row: Option<(String,)> = sqlx::query_as("SELECT kind FROM documents WHERE id = $1")
            .bind(id.to_string())
            .fetch_optional(&mut **tx)
            .await?;
        let Some(kind) = row.and_then(|(kind,)| parse_kind(&kind)) else { continue };
        if may_read(tx, actor, *id).await? {
            readable.insert(*id, kind);
        }
    }
    Ok(readable)
}

async fn feed_entry(tx: &mut Tx<'_>, id: DocId, seq: i64, after: Cursor) -> Result<Option<FeedEntry>, StoreError> {
    let Some((stored, heads)) = load_with_heads(tx, id).await? else { return Ok(None) };
    // From the feed's start (a first sync) the device had nothing of it.
    let before: Option<(String,)> = if after.0 == 0 {
        None
    } else {
        sqlx::query_as("SELECT heads FROM feed WHERE doc_id = $1 AND seq <= $2 ORDER BY seq DESC LIMIT 1")
            .bind(id.to_string())
            .bind(i64::try_from(after.0).unwrap_or(i64::MAX))
            .fetch_optional(&mut **tx)
            .await?
    };
    Ok(Some(FeedEntry {
        doc: id,
        kind: stored.kind,
        seq: u64::try_from(seq).unwrap_or(0),
        heads: decode_heads(&heads),
        bytes: stored.bytes,
        heads_at_cursor: before.map(|(h,)| decode_heads(&h)).unwrap_or_default(),
    }))
}

/// A page of the feed after `after` that `actor` may read.
pub async fn read_feed(
    tx: &mut Tx<'_>,
    actor: &Actor,
    after: Cursor,
    limit: usize,
    refetch: &[DocId],
) -> Result<FeedPage, StoreError> {
    let (latest,): (i64,) = sqlx::query_as("SELECT seq FROM feed_counter WHERE id = 1").fetch_one(&mut **tx).await?;
    let after_seq = i64::try_from(after.0).unwrap_or(i64::MAX);
    let limit_rows = i64::try_from(limit).unwrap_or(i64::MAX);
    let rows: Vec<(i64, String)> = if !actor.role.reads_everything() {
        let (user, org) = reader_keys(actor);
        sqlx::query_as(
            // An entry older than the reader's first grant of its document is
            // passed over: the grant's own entry brings the document whole
            // (a first sync got a ticket's client twice, a fifth of its documents).
            "SELECT f.seq, f.doc_id FROM feed f WHERE f.seq > $1 AND EXISTS (
                 SELECT 1 FROM document_readers r
                 WHERE r.doc_id = f.doc_id AND r.reader IN ($3, $4, 'all') AND r.granted_seq <= f.seq)
             ORDER BY f.seq LIMIT $2",
        )
        .bind(after_seq)
        .bind(limit_rows)
        .bind(user)
        .bind(org)
        .fetch_all(&mut **tx)
        .await?
    } else {
        sqlx::query_as("SELECT seq, doc_id FROM feed WHERE seq > $1 ORDER BY seq LIMIT $2")
            .bind(after_seq)
            .bind(limit_rows)
            .fetch_all(&mut **tx)
            .await?
    };
    let scanned_to = if rows.len() == limit { rows.last().map_or(latest, |(seq, _)| *seq) } else { latest };
    let mut entries: Vec<FeedEntry> = Vec::new();
    for (seq, doc) in rows {
        let id: DocId = doc.parse().map_err(|_| StoreError::Corrupt(doc.clone(), "bad id".into()))?;
        if entries.iter().any(|e| e.doc == id) {
            continue;
        }
        // A document the device gained after its cursor goes out whole:
        // the device has nothing of it, whatever changed since.
        let gained = after_seq > 0
            && !actor.role.reads_everything()
            && first_granted(tx, actor, id).await?.is_some_and(|at| at > after_seq);
        let since = if gained { Cursor(0) } else { after };
        if let Some(entry) = feed_entry(tx, id, seq, since).await? {
            entries.push(entry);
        }
    }
    let mut refetched = Vec::new();
    for id in refetch {
        if may_read(tx, actor, *id).await? {
            if let Some(mut entry) = feed_entry(tx, *id, 0, Cursor(0)).await? {
                let (seq,): (i64,) = sqlx::query_as("SELECT seq FROM documents WHERE id = $1")
                    .bind(id.to_string())
                    .fetch_one(&mut **tx)
                    .await?;
                entry.seq = u64::try_from(seq).unwrap_or(0);
                entry.heads_at_cursor.clear();
                refetched.push(entry);
            }
        }
    }
    let withdrawn = if !actor.role.reads_everything() {
        let (user, org) = reader_keys(actor);
        let rows: Vec<(i64, String)> = sqlx::query_as(
            "SELECT w.seq, w.doc_id FROM document_withdrawals w
             WHERE w.seq > $1 AND w.seq <= $2 AND w.reader IN ($3, $4, 'all') AND NOT EXISTS (
                 SELECT 1 FROM document_readers r WHERE r.doc_id = w.doc_id AND r.reader IN ($3, $4, 'all'))
             ORDER BY w.seq LIMIT $5",
        )
        .bind(after_seq)
        .bind(scanned_to)
        .bind(user)
        .bind(org)
        .bind(limit_rows.saturating_add(1))
        .fetch_all(&mut **tx)
        .await?;
        let mut withdrawn = Vec::with_capacity(rows.len());
        for (seq, doc) in rows {
            let doc = doc.parse().map_err(|_| StoreError::Corrupt(doc.clone(), "bad id".into()))?;
            withdrawn.push(Withdrawal { seq: u64::try_from(seq).unwrap_or(0), doc });
        }
        withdrawn
    } else {
        Vec::new()
    };
    let to_cursor = |seq: i64| Cursor(u64::try_from(seq).unwrap_or(0));
    Ok(FeedPage { entries, scanned_to: to_cursor(scanned_to), latest: to_cursor(latest), refetched, withdrawn })
}
