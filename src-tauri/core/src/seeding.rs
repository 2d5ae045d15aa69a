//! Filling a store without a desk: documents written as the desk would
//! send them, and a pairing set directly. For tests and benchmarks only
//! (feature `seeding`); the app itself only receives documents through sync.

use automerge::ActorId;
use outpost_sync::model::{new_document, Actor, Document};

use crate::device::{now, Device, Pairing, PAIRING_KEY};
use crate::error::CoreResult;
use crate::store;

/// Opens a plain (unencrypted) store in `data_dir`, as versions before
/// encryption wrote them: to show what encryption costs, and to test the
/// encryption of such a store.
pub async fn open_plain(data_dir: &std::path::Path) -> CoreResult<Device> {
    Device::with_store(store::Store::open_plain(data_dir).await?)
}

/// The connection pool of the (encrypted) store in `data_dir`, its key in
/// `keys`: for tests that read or alter the store's rows as a file.
pub async fn store_pool(data_dir: &std::path::Path, keys: &crate::KeyStore) -> CoreResult<sqlx::SqlitePool> {
    Ok(store::Store::open(data_dir, keys).await?.pool().clone())
}

/// Makes `device` act as `actor`, paired with a desk at `desk_url` that it has never reached.
pub async fn pair_offline(device: &Device, actor: Actor, desk_url: &str) -> CoreResult<()> {
    let pairing = Pairing {
        desk_url: desk_url.to_owned(),
        device_id: "00000000-0000-7000-8000-000000000000".into(),
        token: "not-a-real-token".into(),
        actor,
        automerge_actor: hex::encode(ActorId::random().to_bytes()),
        signing_key: None,
        desk_key: None,
    };
    let mut tx = device.store().begin_write().await?;
    store::put_setting(&mut tx, PAIRING_KEY, &serde_json::to_string(&pairing).expect("a pairing serialises")).await?;
    tx.commit().await?;
    Ok(())
}

/// Stores `documents` as if the desk had written and sent them, in batches of one transaction.
pub async fn receive_from_desk(device: &Device, documents: &[Document]) -> CoreResult<()> {
    let desk = ActorId::from(*b"outpost-desk-v1!");
    let at = now();
    for batch in documents.chunks(500) {
        let mut tx = device.store().begin_write().await?;
        let mut rows = store::Batch::default();
        for document in batch {
            let mut doc = new_document(document, desk.clone())?;
            let heads = doc.get_heads();
            let bytes = doc.save();
            let (id, kind) = (document.id(), document.kind());
            crate::sync::apply_update(&mut tx, &mut rows, id, kind, &bytes, &heads, at, None).await?;
        }
        rows.write(&mut tx).await?;
        tx.commit().await?;
    }
    Ok(())
}

/// A document as this device holds it: its automerge heads and its typed
/// reading, to compare with the desk's copy structure and all.
pub async fn held_document(
    device: &Device,
    id: outpost_sync::ids::DocId,
) -> CoreResult<Option<(Vec<automerge::ChangeHash>, Document)>> {
    let mut conn = device.store().pool().acquire().await?;
    let Some(mut loaded) = store::load(&mut conn, id).await? else { return Ok(None) };
    let mut heads = loaded.doc.get_heads();
    heads.sort();
    let document = Document::hydrate_as(&loaded.doc, id, loaded.kind)
        .map_err(|e| crate::error::CoreError::Damaged(e.to_string()))?;
    Ok(Some((heads, document)))
}

static CLOCK_SKEW_MS: std::sync::atomic::AtomicI64 = std::sync::atomic::AtomicI64::new(0);

/// Makes every device in this process read its clock `ms` ahead of the real
/// one (behind when negative), as a clock set by hand or a wrong time zone
/// would. Process-wide: a test that sets it runs alone in its binary.
pub fn set_clock_skew_ms(ms: i64) {
    CLOCK_SKEW_MS.store(ms, std::sync::atomic::Ordering::SeqCst);
}

pub(crate) fn clock_skew_ms() -> i64 {
    CLOCK_SKEW_MS.load(std::sync::atomic::Ordering::SeqCst)
}
