//! Hand-off files on the device (see `outpost_sync::handoff`): the outbox
//! it writes where there is never a signal, and the desk's feed it takes
//! back. Both go through the same session and store code as a sync round.

use outpost_sync::handoff::{self, Direction, Feed, Handoff, HandoffBlob, HandoffLimits, Outbox, Unverified};
use outpost_sync::ids::DocId;
use outpost_sync::limits::WireLimits;
use outpost_sync::session::ClientSession;
use outpost_sync::wire::RoundId;
use serde::Serialize;

use super::{damaged, http, random8, CLOCK_OFFSET_KEY};
use crate::device::{now, random_seed, Device, DeviceEvent, Pairing};
use crate::error::{CoreError, CoreResult};
use crate::store;

/// The number of the last outbox file this device wrote.
const SEQUENCE_KEY: &str = "handoff_sequence";

/// What an outbox file holds.
#[derive(ts_rs::TS, Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[ts(export)]
pub struct OutboxWritten {
    #[ts(type = "number")]
    pub sequence: u64,
    #[ts(type = "number")]
    pub documents: u64,
    #[ts(type = "number")]
    pub files: u64,
    #[ts(type = "number")]
    pub bytes: u64,
}

/// What taking the desk's file did.
#[derive(ts_rs::TS, Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[ts(export)]
pub struct FeedTaken {
    /// Pages of the feed applied (none when the device had them all).
    #[ts(type = "number")]
    pub pages: u64,
    #[ts(type = "number")]
    pub documents_received: u64,
    /// Documents whose history the file lacked: asked for whole at the next online sync.
    #[ts(type = "number")]
    pub documents_lacking: u64,
    /// Files the desk says it holds whole that waited here for upload.
    #[ts(type = "number")]
    pub files_confirmed: u64,
    /// Where the device stands in the desk's feed now.
    #[ts(type = "number")]
    pub cursor: u64,
}

fn refused(err: handoff::HandoffError) -> CoreError {
    CoreError::Invalid(err.to_string())
}

impl Device {
    /// Makes this device's signing key if it has none (paired before hand-off
    /// files) and exchanges public keys with the desk; a no-op once done.
    pub(crate) async fn exchange_keys(&self, mut pairing: Pairing) -> CoreResult<Pairing> {
        if pairing.signing_key.is_some() && pairing.desk_key.is_some() {
            return Ok(pairing);
        }
        let seed = match pairing.signing_key.as_deref().map(seed_from_hex) {
            Some(seed) => seed?,
            None => random_seed()?,
        };
        // Kept before the desk hears of it: the key the desk keeps is never one this device lost.
        pairing.signing_key = Some(hex::encode(seed));
        self.save_pairing(&pairing).await?;
        let public_key = handoff::public_key_hex(&seed);
        let desk_key = http::exchange_keys(self.http(), &pairing.desk_url, &pairing.token, &public_key).await?;
        pairing.desk_key = Some(desk_key);
        self.save_pairing(&pairing).await?;
        Ok(pairing)
    }

    /// Everything this device has that the desk lacks (changes and files),
    /// as one file signed with its key, for when there is never a signal.
    /// Nothing is settled by writing it: the same changes go again, online
    /// or in the next file, until the desk's answer says it holds them.
    pub async fn export_outbox(&self) -> CoreResult<(Vec<u8>, OutboxWritten)> {
        self.gate().await?;
        let pairing = self.pairing().await?;
        let Some(seed) = pairing.signing_key.as_deref().map(seed_from_hex).transpose()? else {
            return Err(CoreError::Invalid(
                "this device has no signing key yet: it was paired before hand-off files; sync online once".into(),
            ));
        };
        let device: uuid::Uuid = pairing.device_id.parse().map_err(|_| damaged("the pairing's device id"))?;
        let outbound = self.outbound().await?;
        let documents = outbound.len() as u64;
        let mut session = ClientSession::new(self.client_state().await?, WireLimits::default());
        let rounds = session.requests_for_hand_off(RoundId(u64::from_le_bytes(random8())), outbound);
        let blobs: Vec<(String, Vec<u8>)> =
            sqlx::query_as("SELECT hash, bytes FROM blobs WHERE uploaded = 0 ORDER BY upload_rank, created_at")
                .fetch_all(self.store().pool())
                .await?;
        let clock_offset_ms = self.store().setting(CLOCK_OFFSET_KEY).await?.and_then(|v| v.parse().ok());
        let sequence = {
            let _guard = self.write_lock().await;
            let last: u64 = self.store().setting(SEQUENCE_KEY).await?.and_then(|v| v.parse().ok()).unwrap_or(0);
            let mut tx = self.store().begin_write().await?;
            store::put_setting(&mut tx, SEQUENCE_KEY, &(last + 1).to_string()).await?;
            tx.commit().await?;
            last + 1
        };
        let files = blobs.len() as u64;
        let outbox = Outbox {
            device,
            sequence,
            made_at: now(),
            clock_offset_ms,
            rounds: rounds.into_iter().map(handoff::ByteBuf::from).collect(),
            blobs: blobs.into_iter().map(|(hash, bytes)| HandoffBlob { hash, bytes }).collect(),
        };
        let bytes = handoff::seal(&Handoff::Outbox(outbox), &seed);
        let written = OutboxWritten { sequence, documents, files, bytes: bytes.len() as u64 };
        Ok((bytes, written))
    }

    /// Takes a file the desk wrote for this device: checked against the
    /// desk's key and this device's id, then each page applied exactly as a
    /// round's reply is. Taking the same file twice changes nothing.
    pub async fn import_feed(&self, bytes: &[u8]) -> CoreResult<FeedTaken> {
        let pairing = self.pairing().await?;
        let file = Unverified::read(bytes, Direction::Feed, &HandoffLimits::default()).map_err(refused)?;
        if file.device().to_string() != pairing.device_id {
            return Err(CoreError::Invalid(format!(
                "this file was written for device {}, not for this one ({})",
                file.device(),
                pairing.device_id
            )));
        }
        let Some(desk_key) = pairing.desk_key.as_deref() else {
            return Err(CoreError::Invalid(
                "this device does not know the desk's key yet: it was paired before hand-off files; sync online once"
                    .into(),
            ));
        };
        let Handoff::Feed(feed) =
            file.verify(&handoff::parse_public_key(desk_key).map_err(refused)?).map_err(refused)?
        else {
            unreachable!("read as a feed")
        };
        let state = self.client_state().await?;
        if feed.from > state.cursor {
            return Err(CoreError::Invalid(format!(
                "this file starts after feed position {}, but this device has only reached {}: \
                 ask the desk for one from there (outpost-desk export --from {})",
                feed.from.0, state.cursor.0, state.cursor.0
            )));
        }
        let mut taken = FeedTaken::default();
        if feed.to > state.cursor {
            self.apply_feed(&feed, state, &mut taken).await?;
        }
        {
            let _guard = self.write_lock().await;
            let mut tx = self.store().begin_write().await?;
            crate::device::policy::record_file_contact(&mut tx, feed.made_at).await?;
            tx.commit().await?;
        }
        taken.files_confirmed = self.confirm_uploaded(&feed.held).await?;
        taken.cursor = self.client_state().await?.cursor.0;
        Ok(taken)
    }

    async fn apply_feed(
        &self,
        feed: &Feed,
        state: outpost_sync::session::ClientState,
        taken: &mut FeedTaken,
    ) -> CoreResult<()> {
        let mut session = ClientSession::new(state, WireLimits::default());
        let mut changed: Vec<DocId> = Vec::new();
        for page in &feed.pages {
            session.handle_delivered(page).map_err(|e| CoreError::Invalid(format!("a page of the file: {e}")))?;
            let lacking_before = session.state().refetch.len();
            let round = self.apply_round(&mut session).await?;
            taken.pages += 1;
            taken.documents_received += round.received.len() as u64;
            taken.documents_lacking += session.state().refetch.len().saturating_sub(lacking_before) as u64;
            changed.extend(round.received.iter().chain(&round.dropped));
        }
        if !changed.is_empty() {
            self.announce(DeviceEvent::RemoteChange { docs: changed.iter().map(DocId::to_string).collect() });
        }
        Ok(())
    }

    /// Marks as uploaded the waiting files the desk says it holds.
    async fn confirm_uploaded(&self, held: &[String]) -> CoreResult<u64> {
        let _guard = self.write_lock().await;
        let mut tx = self.store().begin_write().await?;
        let mut confirmed = 0;
        for hash in held {
            confirmed += sqlx::query("UPDATE blobs SET uploaded = 1 WHERE hash = ? AND uploaded = 0")
                .bind(hash)
                .execute(&mut *tx)
                .await?
                .rows_affected();
        }
        tx.commit().await?;
        Ok(confirmed)
    }
}

fn seed_from_hex(text: &str) -> CoreResult<[u8; 32]> {
    hex::decode(text).ok().and_then(|b| <[u8; 32]>::try_from(b).ok()).ok_or_else(|| damaged("the signing key"))
}
