//! Runs one sync round of `outpost_sync::session::ServerRound` against the
//! database: its writes in one transaction, after a merge on a snapshot
//! (see `run_round`), and its page of the feed read after they commit.

use std::collections::{BTreeMap, VecDeque};

use outpost_sync::ids::{DocId, Timestamp};
use outpost_sync::model::{Actor, DocKind, Document};
use outpost_sync::session::{error_reply, ServerConfig, ServerRound, ServerTask};
use outpost_sync::wire::{ErrorCode, ServerMessage};
use sqlx::{Any, Transaction};

use crate::accounts::DeviceStanding;
use crate::db::{Db, WriteTx};
use crate::store::{self, StoreError};

/// What went back to the device, for logs and metrics.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RoundOutcome {
    /// `merged_again`: something the round's merge read moved before it
    /// took the write lock, so it merged again under the lock.
    Synced {
        refused_edits: u64,
        merged_again: bool,
    },
    Wiped,
    BadRequest,
}

/// Leaves a trace of a round that failed inside the desk, in a transaction of its own.
pub async fn record_failed_round(db: &Db, device: &DeviceStanding, now: Timestamp) -> Result<(), StoreError> {
    let device_id = device.caller.device.map(|d| d.to_string());
    let mut tx = db.begin_write().await?;
    let detail = "the round failed inside the desk and was refused whole";
    store::audit(&mut tx, now, Some(&device.caller.actor), device_id.as_deref(), None, "refused_round", detail).await?;
    tx.commit().await?;
    Ok(())
}

/// Answers one device request; every path returns bytes for the device.
///
/// Writers queue for the database's write lock, so a round does as little
/// as it can while holding it. Pushes are merged and checked first, on a
/// snapshot read without the lock (the CPU-heavy part: automerge, the
/// structure and permission checks); then, under the lock, the round
/// confirms that nothing it read has moved (the pushed documents' heads,
/// and which referenced documents the author may read) and writes. If
/// something moved, it merges again under the lock. The write commits
/// before the round reads its page of the feed, so the next writer need not
/// wait for that either.
pub async fn run_round(
    db: &Db,
    config: &ServerConfig,
    device: &DeviceStanding,
    request: &[u8],
    now: Timestamp,
) -> Result<(Vec<u8>, RoundOutcome), StoreError> {
    if device.revoked {
        return Ok((ServerMessage::Wipe.encode(), RoundOutcome::Wiped));
    }
    let actor = device.caller.actor;
    let decode = || ServerRound::handle_request(now, actor, request, config.clone());
    let mut round = match decode() {
        Ok(round) => round,
        Err(err) => return Ok((error_reply(ErrorCode::BadRequest, err.to_string()), RoundOutcome::BadRequest)),
    };
    let device_id = device.caller.device.map(|d| d.to_string());
    let mut writes = Writes { device_id, refused_edits: 0, clock: device.clock };
    let mut merged_again = false;
    let (mut tx, mut pending) = match round.poll_task() {
        Some(ServerTask::LoadDocuments(ids)) => {
            let premerged;
            (round, premerged) = premerge(db, round, &actor, ids).await?;
            let mut tx = db.begin_write().await?;
            if premerged.still_holds(&mut tx, &actor).await? {
                (RoundTx::Write(tx), premerged.deferred)
            } else {
                // Something the merge read moved meanwhile: merge again, under the lock.
                round = decode().map_err(|e| StoreError::Corrupt("round".into(), e.to_string()))?;
                merged_again = true;
                (RoundTx::Write(tx), VecDeque::new())
            }
        }
        first => (RoundTx::Read(db.pool.begin().await?), first.into_iter().collect()),
    };
    while let Some(task) = pending.pop_front().or_else(|| round.poll_task()) {
        match task {
            ServerTask::LoadDocuments(ids) => {
                for id in ids {
                    let stored = store::load(tx.as_mut(), id).await?;
                    round.handle_document(id, stored);
                }
            }
            ServerTask::CheckReferences(ids) => {
                let readable = store::readable_kinds(tx.as_mut(), &actor, &ids).await?;
                round.handle_references(readable);
            }
            ServerTask::ReadFeed { after, limit, refetch } => {
                if let RoundTx::Write(write) = tx {
                    // Everything this round writes is written.
                    write.commit().await?;
                    tx = RoundTx::Read(db.pool.begin().await?);
                }
                let page = store::read_feed(tx.as_mut(), &actor, after, limit, &refetch).await?;
                round.handle_feed(page);
            }
            ServerTask::Respond(bytes) => {
                tx.commit().await?;
                return Ok((bytes, RoundOutcome::Synced { refused_edits: writes.refused_edits, merged_again }));
            }
            write => writes.run(tx.as_mut(), &mut round, config, now, write).await?,
        }
    }
    Ok((error_reply(ErrorCode::Unavailable, "the round ended without an answer"), RoundOutcome::BadRequest))
}

/// A round's transaction: one that writes until its writes are done, then one that reads.
enum RoundTx {
    Write(WriteTx),
    Read(Transaction<'static, Any>),
}

impl RoundTx {
    fn as_mut(&mut self) -> &mut Transaction<'static, Any> {
        match self {
            Self::Write(tx) => tx,
            Self::Read(tx) => tx,
        }
    }

    async fn commit(self) -> Result<(), sqlx::Error> {
        match self {
            Self::Write(tx) => tx.commit().await,
            Self::Read(tx) => tx.commit().await,
        }
    }
}

/// What a round writes, and what it counts while writing.
struct Writes {
    device_id: Option<String>,
    refused_edits: u64,
    clock: outpost_sync::reactions::DeviceClock,
}

impl Writes {
    async fn run(
        &mut self,
        tx: &mut Transaction<'static, Any>,
        round: &mut ServerRound,
        config: &ServerConfig,
        now: Timestamp,
        task: ServerTask,
    ) -> Result<(), StoreError> {
        match task {
            ServerTask::RecordRefusal(refused) => {
                let detail = format!("{} {}: {}", refused.kind.as_str(), refused.doc, refused.reason);
                let device = self.device_id.as_deref();
                let doc = Some(refused.doc);
                store::audit(tx, refused.at, Some(&refused.author), device, doc, "refused_document", &detail).await?;
            }
            ServerTask::Store(document) => {
                self.refused_edits += document.refused.len() as u64;
                let seq = store::store(tx, &document, self.device_id.as_deref()).await?;
                round.handle_stored(document.doc, u64::try_from(seq).unwrap_or(0));
                let id = document.doc;
                match document.document {
                    Document::Ticket(ticket) => {
                        let by = crate::reactions::Pusher { device: self.device_id.as_deref(), clock: self.clock };
                        crate::reactions::react(tx, ticket, &config.desk_actor, now, by).await?
                    }
                    Document::PartRequest(_) => {
                        crate::reactions::react_to_part(tx, id, &config.desk_actor, now).await?;
                    }
                    _ => {}
                }
            }
            other => unreachable!("not a write: {other:?}"),
        }
        Ok(())
    }
}

/// A round's pushes merged on a snapshot, and what that merge read.
struct Premerged {
    heads: BTreeMap<DocId, Option<String>>,
    references: Option<(Vec<DocId>, BTreeMap<DocId, DocKind>)>,
    /// The round's tasks that write (or read the feed), in order, for the write transaction.
    deferred: VecDeque<ServerTask>,
}

/// Loads the pushed documents on one snapshot, without the write lock, and
/// lets the round merge them and check what they reference; tasks that
/// write wait in `deferred`. No connection is held while the round works:
/// merging takes milliseconds, on a blocking thread.
async fn premerge(
    db: &Db,
    mut round: ServerRound,
    actor: &Actor,
    ids: Vec<DocId>,
) -> Result<(ServerRound, Premerged), StoreError> {
    let mut read = db.begin_snapshot().await?;
    let (mut heads, mut loaded) = (BTreeMap::new(), Vec::with_capacity(ids.len()));
    for id in ids {
        let found = store::load_with_heads(&mut read, id).await?;
        heads.insert(id, found.as_ref().map(|(_, h)| h.clone()));
        loaded.push((id, found.map(|(stored, _)| stored)));
    }
    read.rollback().await?;
    round = off_the_runtime(round, move |round| {
        for (id, stored) in loaded {
            round.handle_document(id, stored);
        }
    })
    .await;
    let (mut references, mut deferred) = (None, VecDeque::new());
    while let Some(task) = round.poll_task() {
        match task {
            ServerTask::CheckReferences(ids) => {
                let mut read = db.pool.begin().await?;
                let readable = store::readable_kinds(&mut read, actor, &ids).await?;
                read.rollback().await?;
                let answer = readable.clone();
                round = off_the_runtime(round, move |round| round.handle_references(answer)).await;
                references = Some((ids, readable));
            }
            other => deferred.push_back(other),
        }
    }
    Ok((round, Premerged { heads, references, deferred }))
}

/// Runs CPU-heavy round work on a blocking thread, so the runtime's few
/// threads go on serving other requests meanwhile. A panic carries on as a
/// panic of the round (the handler refuses the round for it).
async fn off_the_runtime(mut round: ServerRound, work: impl FnOnce(&mut ServerRound) + Send + 'static) -> ServerRound {
    match tokio::task::spawn_blocking(move || {
        work(&mut round);
        round
    })
    .await
    {
        Ok(round) => round,
        Err(err) => std::panic::resume_unwind(err.into_panic()),
    }
}

impl Premerged {
    /// Whether what the merge read is still so, in the write transaction.
    async fn still_holds(&self, tx: &mut Transaction<'static, Any>, actor: &Actor) -> Result<bool, StoreError> {
        let ids: Vec<DocId> = self.heads.keys().copied().collect();
        if store::heads(tx, &ids).await? != self.heads {
            return Ok(false);
        }
        match &self.references {
            Some((ids, readable)) => Ok(&store::readable_kinds(tx, actor, ids).await? == readable),
            None => Ok(true),
        }
    }
}
