//! Hand-off files at the desk (see `outpost_sync::handoff`): a device's
//! outbox is taken exactly like its sync rounds, and a device's feed is
//! written as the pages its rounds would pull. The file only carries the
//! rounds; who may do what is the device's standing, checked as online.

use outpost_sync::handoff::{self, Direction, Feed, Handoff, HandoffError, HandoffLimits, Outbox, Unverified};
use outpost_sync::ids::Timestamp;
use outpost_sync::session::ServerConfig;
use outpost_sync::wire::{ClientMessage, Cursor, PushResult, RoundId, ServerMessage, SyncRequest};
use serde::Serialize;
use uuid::Uuid;

use crate::accounts::{self, AuthError, HandoffDevice};
use crate::blobs::{self, BlobError};
use crate::db::Db;
use crate::store::{self, StoreError};
use crate::sync::run_round;

/// Why a file was refused, or could not be written.
#[derive(Debug, thiserror::Error)]
pub enum HandoffFailure {
    #[error(transparent)]
    File(#[from] HandoffError),
    #[error("device {0} is not a device of this desk")]
    UnknownDevice(Uuid),
    #[error("device {0} has no signing key here: it was paired before hand-off files; let it sync online once")]
    NoKey(Uuid),
    #[error("device {0} was revoked: files from it are refused and none are written for it")]
    Revoked(Uuid),
    #[error("outbox {found} of device {device} is a copy of one already taken (the desk has taken up to {taken})")]
    Replayed { device: Uuid, found: u64, taken: u64 },
    #[error("the desk refused a round of the file: {0}")]
    Round(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Auth(#[from] AuthError),
    #[error(transparent)]
    Blob(#[from] BlobError),
}

impl From<sqlx::Error> for HandoffFailure {
    fn from(err: sqlx::Error) -> Self {
        Self::Store(err.into())
    }
}

/// What taking an outbox did.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Imported {
    pub device: Uuid,
    #[schema(value_type = u64)]
    pub sequence: u64,
    /// Documents whose changes the desk took (some edits may have been refused).
    #[schema(value_type = u64)]
    pub documents: u64,
    /// Edits the desk refused inside documents it took, and audited.
    #[schema(value_type = u64)]
    pub refused_edits: u64,
    /// Documents refused whole, in words.
    pub refused_documents: Vec<String>,
    /// Files (photos, signatures) stored, or held already.
    #[schema(value_type = u64)]
    pub files_stored: u64,
    /// Files no document the device may write names: left out.
    #[schema(value_type = u64)]
    pub files_left: u64,
}

/// What a file written for a device holds.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Exported {
    pub device: Uuid,
    #[schema(value_type = u64)]
    pub from: u64,
    #[schema(value_type = u64)]
    pub to: u64,
    #[schema(value_type = u64)]
    pub pages: u64,
    #[schema(value_type = u64)]
    pub documents: u64,
}

const DESK_KEY: &str = "handoff";

/// The seed of the desk's signing key, made the first time it is needed.
pub async fn desk_seed(db: &Db, now: Timestamp) -> Result<[u8; 32], StoreError> {
    let read = |row: (String,)| -> Result<[u8; 32], StoreError> {
        let corrupt = || StoreError::Corrupt("desk key".into(), "not 32 hex bytes".into());
        hex::decode(row.0).ok().and_then(|b| <[u8; 32]>::try_from(b).ok()).ok_or_else(corrupt)
    };
    let select = "SELECT secret FROM desk_keys WHERE purpose = $1";
    if let Some(row) = sqlx::query_as(select).bind(DESK_KEY).fetch_optional(&db.pool).await? {
        return read(row);
    }
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed).map_err(|e| StoreError::Corrupt("desk key".into(), e.to_string()))?;
    let mut tx = db.begin_write().await?;
    // Two processes making it at once: the first one's stands.
    sqlx::query(
        "INSERT INTO desk_keys (purpose, secret, created_at) VALUES ($1, $2, $3) ON CONFLICT (purpose) DO NOTHING",
    )
    .bind(DESK_KEY)
    .bind(hex::encode(seed))
    .bind(now.0)
    .execute(&mut **tx)
    .await?;
    let row = sqlx::query_as(select).bind(DESK_KEY).fetch_one(&mut **tx).await?;
    tx.commit().await?;
    read(row)
}

/// The desk's public key, hex, as devices learn it at pairing.
pub async fn desk_public_key(db: &Db, now: Timestamp) -> Result<String, StoreError> {
    Ok(handoff::public_key_hex(&desk_seed(db, now).await?))
}

/// Takes a device's outbox file: checks it was signed by that device's key
/// and is not a copy of one taken before, then runs its rounds as the
/// device's own (its standing, its refusals audited) and stores its files.
/// Anything refused is refused before a round runs, and audited.
pub async fn import(db: &Db, config: &ServerConfig, bytes: &[u8], now: Timestamp) -> Result<Imported, HandoffFailure> {
    let unverified = Unverified::read(bytes, Direction::Outbox, &HandoffLimits::default())?;
    let device_id = unverified.device();
    let (device, outbox) = match verify_outbox(db, unverified).await {
        Ok(verified) => verified,
        Err(err) => {
            let mut tx = db.begin_write().await?;
            let detail = format!("an outbox file naming device {device_id} was refused: {err}");
            let id = device_id.to_string();
            store::audit(&mut tx, now, None, Some(&id), None, "refused_handoff", &detail).await?;
            tx.commit().await?;
            return Err(err);
        }
    };
    let mut standing = device.standing;
    // The times entered offline are corrected by the offset the device
    // knew when it wrote the file, not by how late the file arrived.
    standing.clock = outpost_sync::reactions::DeviceClock { desk_ahead_ms: outbox.clock_offset_ms };
    let mut imported = Imported { device: device_id, sequence: outbox.sequence, ..Imported::default() };
    let mut cursor = 0;
    for round in &outbox.rounds {
        if let Ok(ClientMessage::Sync(request)) = ClientMessage::decode(round, &config.wire) {
            cursor = cursor.max(request.cursor.0);
        }
        let (reply, _) = run_round(db, config, &standing, round, now).await?;
        match ServerMessage::decode(&reply, &config.wire) {
            Ok(ServerMessage::Sync(response)) => {
                for outcome in response.outcomes {
                    match outcome.result {
                        PushResult::Applied { refused, .. } => {
                            imported.documents += 1;
                            imported.refused_edits += refused.len() as u64;
                        }
                        PushResult::Refused { reason } | PushResult::Invalid { reason } => {
                            imported.refused_documents.push(format!("{}: {reason}", outcome.doc));
                        }
                        PushResult::MissingDependencies => imported.refused_documents.push(format!(
                            "{}: builds on changes the desk lacks; the device sends it whole at its next online sync",
                            outcome.doc
                        )),
                    }
                }
            }
            Ok(ServerMessage::Error(report)) => imported.refused_documents.push(format!("a round: {}", report.message)),
            Ok(ServerMessage::Wipe) => return Err(HandoffFailure::Revoked(device_id)),
            Err(err) => return Err(HandoffFailure::Round(err.to_string())),
        }
    }
    let actor = &standing.caller.actor;
    for blob in &outbox.blobs {
        if store_blob(db, actor, blob, now).await? {
            imported.files_stored += 1;
        } else {
            imported.files_left += 1;
        }
    }
    let mut tx = db.begin_write().await?;
    // Taken last, so a file cut short by a crash can be taken again (its rounds are idempotent).
    sqlx::query(
        "UPDATE devices SET handoff_sequence = $1, handoff_cursor = $2
         WHERE id = $3 AND (handoff_sequence IS NULL OR handoff_sequence < $1)",
    )
    .bind(i64::try_from(outbox.sequence).unwrap_or(i64::MAX))
    .bind(i64::try_from(cursor).unwrap_or(i64::MAX))
    .bind(device_id.to_string())
    .execute(&mut **tx)
    .await?;
    let detail = format!(
        "outbox {} taken from a file: {} document(s), {} refused edit(s), {} refused document(s), {} file(s) stored, {} left",
        outbox.sequence,
        imported.documents,
        imported.refused_edits,
        imported.refused_documents.len(),
        imported.files_stored,
        imported.files_left
    );
    store::audit(&mut tx, now, Some(actor), Some(&device_id.to_string()), None, "handoff_imported", &detail).await?;
    tx.commit().await?;
    Ok(imported)
}

/// The device an outbox names, and the outbox once its signature and sequence check out.
async fn verify_outbox(db: &Db, file: Unverified<'_>) -> Result<(HandoffDevice, Outbox), HandoffFailure> {
    let id = file.device();
    let device = accounts::handoff_device(&db.pool, id).await?.ok_or(HandoffFailure::UnknownDevice(id))?;
    let key = device.public_key.as_deref().ok_or(HandoffFailure::NoKey(id))?;
    let Handoff::Outbox(outbox) = file.verify(&handoff::parse_public_key(key)?)? else {
        unreachable!("read as an outbox")
    };
    if device.standing.revoked {
        return Err(HandoffFailure::Revoked(id));
    }
    if let Some(taken) = device.sequence.filter(|taken| outbox.sequence <= *taken) {
        return Err(HandoffFailure::Replayed { device: id, found: outbox.sequence, taken });
    }
    Ok((device, outbox))
}

/// Stores one file from an outbox as its chunked upload would; `false`
/// when no document the device could write names it.
async fn store_blob(
    db: &Db,
    actor: &outpost_sync::model::Actor,
    blob: &handoff::HandoffBlob,
    now: Timestamp,
) -> Result<bool, HandoffFailure> {
    let Ok(hash) = blobs::parse_hash(&blob.hash) else { return Ok(false) };
    let mut status = match blobs::status(db, actor, &hash).await {
        Ok(status) => status,
        Err(BlobError::NotFound) => return Ok(false),
        Err(err) => return Err(err.into()),
    };
    while !status.complete {
        let offset = usize::try_from(status.received).unwrap_or(0).min(blob.bytes.len());
        let end = (offset + blobs::MAX_CHUNK).min(blob.bytes.len());
        let last = end == blob.bytes.len();
        match blobs::upload(db, actor, &hash, offset as i64, &blob.bytes[offset..end], last, now).await {
            Ok(next) => status = next,
            // Bytes that are not the file they name are left out, like any upload's.
            Err(BlobError::HashMismatch { .. } | BlobError::TooLarge) => return Ok(false),
            Err(err) => return Err(err.into()),
        }
        if last && !status.complete {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Writes the pages of the feed that `device` lacks, from the position its
/// last outbox file said it had reached (or `from`), signed by the desk.
/// The pages are the ones its rounds would pull: the same reads, the same
/// grants.
pub async fn export(
    db: &Db,
    config: &ServerConfig,
    device_id: Uuid,
    from: Option<u64>,
    now: Timestamp,
) -> Result<(Vec<u8>, Exported), HandoffFailure> {
    let device =
        accounts::handoff_device(&db.pool, device_id).await?.ok_or(HandoffFailure::UnknownDevice(device_id))?;
    if device.standing.revoked {
        return Err(HandoffFailure::Revoked(device_id));
    }
    let start = from.or(device.cursor).unwrap_or(0);
    let limits = HandoffLimits::default();
    let (mut cursor, mut pages, mut documents) = (Cursor(start), Vec::new(), 0);
    loop {
        let request = SyncRequest {
            round: RoundId(pages.len() as u64),
            cursor,
            page_size: 500,
            pushes: vec![],
            known: vec![],
            refetch: vec![],
        };
        let (reply, _) = run_round(db, config, &device.standing, &ClientMessage::Sync(request).encode(), now).await?;
        let response = match ServerMessage::decode(&reply, &config.wire) {
            Ok(ServerMessage::Sync(response)) => response,
            Ok(ServerMessage::Error(report)) => return Err(HandoffFailure::Round(report.message)),
            Ok(ServerMessage::Wipe) => return Err(HandoffFailure::Revoked(device_id)),
            Err(err) => return Err(HandoffFailure::Round(err.to_string())),
        };
        documents += response.updates.len() as u64;
        cursor = response.cursor;
        pages.push(handoff::ByteBuf::from(reply));
        if !response.more || pages.len() >= limits.max_messages {
            break;
        }
    }
    let held: Vec<(String,)> = sqlx::query_as(
        "SELECT h.hash FROM blob_holders h JOIN blobs b ON b.hash = h.hash WHERE h.user_id = $1 AND b.complete = 1",
    )
    .bind(device.standing.caller.actor.user.to_string())
    .fetch_all(&db.pool)
    .await?;
    let exported = Exported { device: device_id, from: start, to: cursor.0, pages: pages.len() as u64, documents };
    let feed = Feed {
        device: device_id,
        made_at: now,
        from: Cursor(start),
        to: cursor,
        pages,
        held: held.into_iter().map(|(hash,)| hash).collect(),
    };
    let bytes = handoff::seal(&Handoff::Feed(feed), &desk_seed(db, now).await?);
    Ok((bytes, exported))
}
