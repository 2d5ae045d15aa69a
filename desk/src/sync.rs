//! Runs one sync round of `outpost_sync::session::ServerRound` against the
//! database, in one transaction.

use outpost_sync::ids::Timestamp;
use outpost_sync::model::DocKind;
use outpost_sync::session::{error_reply, ServerConfig, ServerRound, ServerTask};
use outpost_sync::wire::{ErrorCode, ServerMessage};

use crate::accounts::DeviceStanding;
use crate::db::Db;
use crate::store::{self, StoreError};

/// What went back to the device, for logs and metrics.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RoundOutcome {
    Synced { refused_edits: u64 },
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
    let mut round = match ServerRound::handle_request(now, actor, request, config.clone()) {
        Ok(round) => round,
        Err(err) => return Ok((error_reply(ErrorCode::BadRequest, err.to_string()), RoundOutcome::BadRequest)),
    };
    let device_id = device.caller.device.map(|d| d.to_string());
    // A round that pushes will write; one that only pulls reads.
    let first = round.poll_task();
    let mut tx = match first {
        Some(ServerTask::LoadDocuments(_)) => db.begin_write().await?,
        _ => db.pool.begin().await?,
    };
    let mut refused_edits = 0;
    let mut next = first;
    while let Some(task) = next.take().or_else(|| round.poll_task()) {
        match task {
            ServerTask::LoadDocuments(ids) => {
                for id in ids {
                    let stored = store::load(&mut tx, id).await?;
                    round.handle_document(id, stored);
                }
            }
            ServerTask::CheckReferences(ids) => {
                let readable = store::readable_kinds(&mut tx, &actor, &ids).await?;
                round.handle_references(readable);
            }
            ServerTask::RecordRefusal(refused) => {
                let detail = format!("{} {}: {}", refused.kind.as_str(), refused.doc, refused.reason);
                store::audit(
                    &mut tx,
                    refused.at,
                    Some(&refused.author),
                    device_id.as_deref(),
                    Some(refused.doc),
                    "refused_document",
                    &detail,
                )
                .await?;
            }
            ServerTask::Store(document) => {
                refused_edits += document.refused.len() as u64;
                let seq = store::store(&mut tx, &document, device_id.as_deref()).await?;
                round.handle_stored(document.doc, u64::try_from(seq).unwrap_or(0));
                match document.kind {
                    DocKind::Ticket => crate::reactions::react(&mut tx, document.doc, &config.desk_actor, now).await?,
                    DocKind::PartRequest => {
                        crate::reactions::react_to_part(&mut tx, document.doc, &config.desk_actor, now).await?;
                    }
                    _ => {}
                }
            }
            ServerTask::ReadFeed { after, limit, refetch } => {
                let page = store::read_feed(&mut tx, &actor, after, limit, &refetch).await?;
                round.handle_feed(page);
            }
            ServerTask::Respond(bytes) => {
                tx.commit().await?;
                return Ok((bytes, RoundOutcome::Synced { refused_edits }));
            }
        }
    }
    Ok((error_reply(ErrorCode::Unavailable, "the round ended without an answer"), RoundOutcome::BadRequest))
}
