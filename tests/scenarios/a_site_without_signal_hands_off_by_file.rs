//! A site that never has a signal: the engineer syncs at the office, works
//! the ticket at the site, writes the outbox to a file; the desk takes the
//! file (its signature and number checked, its rounds run as the device's
//! own) and writes its answer to a file the device takes. The desk's copy
//! and the device's end up equal, automerge heads and all, and nothing is
//! left waiting on the device. Copies, altered files, files of another desk
//! and files of a revoked device are refused in words and change nothing.

use outpost_core::seeding::held_document;
use outpost_core::work::TicketAction;
use outpost_desk::handoff::{self, HandoffFailure};
use outpost_scenarios::{job_for, photo, signature_png, sync_until_ok, Desk};
use outpost_sync::handoff::HandoffError;
use outpost_sync::model::TicketStatus;
use outpost_sync::session::ServerConfig;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_visit_without_signal_reaches_the_desk_by_file_and_the_answer_comes_back_the_same_way() {
    let root = tempfile::tempdir().unwrap();
    let desk = Desk::start(root.path()).await;
    let config = ServerConfig::new(outpost_desk::desk_actor());
    let engineer = desk.engineer("Сергей").await;
    let job = job_for(&desk, &engineer, 1).await;
    let ticket = job.ticket.to_string();
    let tablet = desk.paired_device(&engineer, &root.path().join("tablet"), None).await;
    // At the office: everything the visit needs comes down.
    sync_until_ok(&tablet, 3).await;
    assert!(tablet.ticket(&ticket).await.is_ok());

    // At the site, never a signal: the whole visit, signed by the customer.
    for action in [
        TicketAction::Accept,
        TicketAction::Arrive { coordinates: None },
        TicketAction::AddNote { text: "Shelf 2 disk replaced, array rebuilt".into() },
        TicketAction::Tick { item: "power".into(), done: true },
        TicketAction::SetResolution { code: Some("replaced".into()), notes: "Disk swapped".into() },
    ] {
        tablet.act(&ticket, action).await.unwrap();
    }
    let shot = tablet.attach_photo(&ticket, &photo(3, 1600, 1200), "shelf.jpg", false).await.unwrap();
    // The customer reads the report before signing; once signed, it goes with the ticket.
    let (preview, unsigned) = tablet.service_report(&ticket, Some(outpost_report::Lang::Ru)).await.unwrap();
    assert!(preview.starts_with(b"%PDF-") && unsigned.signature.is_none());
    let err = tablet.attach_service_report(&ticket, Some(outpost_report::Lang::Ru)).await.unwrap_err();
    assert!(err.to_string().contains("not signed yet"), "{err}");
    let signature = tablet.sign(&ticket, &signature_png(), "И. Петров").await.unwrap();
    tablet.act(&ticket, TicketAction::Resolve).await.unwrap();
    let (report, pdf) = tablet.attach_service_report(&ticket, Some(outpost_report::Lang::Ru)).await.unwrap();
    assert_eq!(report.number, "T-2026-000001");

    // The outbox goes out on a stick.
    let (outbox, written) = tablet.export_outbox().await.unwrap();
    assert_eq!(written.sequence, 1);
    assert!(
        written.documents >= 1 && written.files >= 3,
        "the ticket, the photo, its thumbnail, the signature: {written:?}"
    );
    let stick = root.path().join("outbox-1.outpost");
    std::fs::write(&stick, &outbox).unwrap();

    // At the desk: altered on the way, or signed by someone else: refused, nothing taken.
    let mut altered = outbox.clone();
    let middle = altered.len() / 2;
    altered[middle] ^= 0x20;
    let before = desk.ticket(job.ticket).await;
    let err = handoff::import(&desk.db, &config, &altered, outpost_desk::now()).await.unwrap_err();
    assert!(matches!(err, HandoffFailure::File(HandoffError::BadSignature | HandoffError::Malformed(_))), "{err}");
    assert_eq!(desk.ticket(job.ticket).await, before, "an altered file changes nothing");

    // The file as it was written is taken like the device's own rounds.
    let bytes = std::fs::read(&stick).unwrap();
    let imported = handoff::import(&desk.db, &config, &bytes, outpost_desk::now()).await.unwrap();
    assert_eq!(imported.documents, written.documents, "{imported:?}");
    assert!(imported.refused_documents.is_empty() && imported.refused_edits == 0, "{imported:?}");
    assert_eq!(imported.files_stored, written.files, "every file stored: {imported:?}");
    let on_desk = desk.ticket(job.ticket).await;
    assert_eq!(outpost_sync::workflow::fold_ticket(&on_desk).status, TicketStatus::Resolved);
    assert!(on_desk.work_log.iter().any(|n| n.text == "Shelf 2 disk replaced, array rebuilt"));
    assert!(desk.has_blob(&shot.hash).await && desk.has_blob(&signature).await);

    // The desk has the signed report whole, and the ticket still makes exactly what was signed.
    let dispatcher = desk.api_token(outpost_sync::model::Role::Dispatcher).await;
    let (status, check) = desk
        .call(reqwest::Method::GET, &dispatcher, &format!("/v1/tickets/{ticket}/report"), serde_json::Value::Null)
        .await;
    assert_eq!(status, 200, "{check}");
    assert_eq!((check["matches"].as_bool(), check["received"].as_bool()), (Some(true), Some(true)), "{check}");
    assert_eq!(check["data_hash"], report.data_hash);
    assert_eq!(check["pdf"], report.pdf);
    let served = reqwest::Client::new()
        .get(format!("{}/v1/blobs/{}", desk.url(), report.pdf))
        .bearer_auth(&dispatcher)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(served.as_ref(), pdf.as_slice(), "the PDF the customer signed, byte for byte");

    // A copy of the same file is refused as one, and changes nothing.
    let audit = desk.audit_count().await;
    let err = handoff::import(&desk.db, &config, &bytes, outpost_desk::now()).await.unwrap_err();
    assert!(matches!(err, HandoffFailure::Replayed { found: 1, taken: 1, .. }), "{err}");
    assert!(err.to_string().contains("copy of one already taken"), "{err}");
    assert_eq!(desk.ticket(job.ticket).await, on_desk);
    assert_eq!(desk.audit_count().await, audit + 1, "the refusal is audited");

    // Meanwhile the dispatcher writes to the engineer; the desk's answer goes back by file.
    desk.edit(job.ticket, |doc| {
        if let outpost_sync::model::Document::Ticket(t) = doc {
            t.work_log.push(outpost_sync::model::WorkLogEntry {
                id: outpost_sync::ids::EntryId::from_u128(77),
                at: outpost_sync::ids::Timestamp(outpost_desk::now().0),
                by: outpost_scenarios::dispatcher(desk.service),
                text: "Thanks, closing after the customer confirms".into(),
            });
        }
    })
    .await;
    let (_, check) = desk
        .call(reqwest::Method::GET, &dispatcher, &format!("/v1/tickets/{ticket}/report"), serde_json::Value::Null)
        .await;
    assert_eq!(check["matches"], false, "the ticket changed since the customer signed: {check}");
    let changes: Vec<&str> = check["changes"].as_array().unwrap().iter().map(|c| c.as_str().unwrap()).collect();
    assert!(
        changes.iter().any(|c| c.contains("(none) → Thanks, closing after the customer confirms")),
        "the desk says what changed: {changes:?}"
    );
    let device_id: uuid::Uuid = tablet.pairing_info().await.unwrap().unwrap().device_id.parse().unwrap();
    let (answer, exported) = handoff::export(&desk.db, &config, device_id, None, outpost_desk::now()).await.unwrap();
    assert!(exported.documents >= 1, "{exported:?}");
    let taken = tablet.import_feed(&answer).await.unwrap();
    assert!(taken.pages >= 1 && taken.documents_received >= 1, "{taken:?}");
    assert_eq!(taken.files_confirmed, written.files, "the desk holds every file that waited: {taken:?}");
    let status = tablet.status().await.unwrap();
    assert_eq!((status.pending_documents, status.pending_blobs), (0, 0), "nothing waits for the desk: {status:?}");
    let here = tablet.ticket(&ticket).await.unwrap();
    assert!(here.work_log.iter().any(|n| n.text == "Thanks, closing after the customer confirms"), "{here:?}");

    // The desk's copy and the device's: the same changes, the same reading.
    let (heads, document) = held_document(&tablet, job.ticket).await.unwrap().unwrap();
    let (desk_heads, desk_document) = desk.heads_and_document(job.ticket).await;
    assert_eq!(heads, desk_heads, "the same automerge history");
    assert_eq!(document, desk_document);

    // Taking the same answer again changes nothing.
    let again = tablet.import_feed(&answer).await.unwrap();
    assert_eq!((again.pages, again.documents_received), (0, 0), "{again:?}");

    // The next outbox carries nothing already settled, and a later number.
    let (_, next) = tablet.export_outbox().await.unwrap();
    assert_eq!((next.sequence, next.documents, next.files), (2, 0, 0), "{next:?}");

    // A revoked device's files are refused.
    let (late, _) = tablet.export_outbox().await.unwrap();
    outpost_desk::accounts::revoke_device(&desk.db.pool, device_id, outpost_desk::now()).await.unwrap();
    let err = handoff::import(&desk.db, &config, &late, outpost_desk::now()).await.unwrap_err();
    assert!(matches!(err, HandoffFailure::Revoked(_)), "{err}");
    let err = handoff::export(&desk.db, &config, device_id, None, outpost_desk::now()).await.unwrap_err();
    assert!(matches!(err, HandoffFailure::Revoked(_)), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn files_of_another_desk_or_for_another_device_are_refused() {
    let root = tempfile::tempdir().unwrap();
    let (ours_dir, theirs_dir) = (root.path().join("ours"), root.path().join("theirs"));
    std::fs::create_dir_all(&ours_dir).unwrap();
    std::fs::create_dir_all(&theirs_dir).unwrap();
    let desk = Desk::start(&ours_dir).await;
    let theirs = Desk::start(&theirs_dir).await;
    let config = ServerConfig::new(outpost_desk::desk_actor());
    let engineer = desk.engineer("Анна").await;
    let stranger = theirs.engineer("Пётр").await;
    job_for(&desk, &engineer, 1).await;
    let tablet = desk.paired_device(&engineer, &root.path().join("tablet"), None).await;
    let other = desk.paired_device(&engineer, &root.path().join("spare"), None).await;
    let foreign = theirs.paired_device(&stranger, &root.path().join("foreign"), None).await;
    sync_until_ok(&tablet, 3).await;

    // A device of another desk is no device of this one.
    let (file, _) = foreign.export_outbox().await.unwrap();
    let err = handoff::import(&desk.db, &config, &file, outpost_desk::now()).await.unwrap_err();
    assert!(matches!(err, HandoffFailure::UnknownDevice(_)), "{err}");

    // The desk's file for one device is refused by another, and a file of another desk by every device.
    let tablet_id: uuid::Uuid = tablet.pairing_info().await.unwrap().unwrap().device_id.parse().unwrap();
    let (answer, _) = handoff::export(&desk.db, &config, tablet_id, Some(0), outpost_desk::now()).await.unwrap();
    let err = other.import_feed(&answer).await.unwrap_err();
    assert!(err.to_string().contains("written for device"), "{err}");
    let foreign_id: uuid::Uuid = foreign.pairing_info().await.unwrap().unwrap().device_id.parse().unwrap();
    let (theirs_answer, _) =
        handoff::export(&theirs.db, &config, foreign_id, Some(0), outpost_desk::now()).await.unwrap();
    let forged = rename_device(&theirs_answer, foreign_id, tablet_id);
    let err = tablet.import_feed(&forged).await.unwrap_err();
    assert!(err.to_string().contains("signature does not match"), "{err}");

    // A device's own outbox fed to it, or the desk's file fed to the desk: the wrong way round.
    let (outbox, _) = tablet.export_outbox().await.unwrap();
    let err = tablet.import_feed(&outbox).await.unwrap_err();
    assert!(err.to_string().contains("import it at the desk"), "{err}");
    let err = handoff::import(&desk.db, &config, &answer, outpost_desk::now()).await.unwrap_err();
    assert!(err.to_string().contains("import it on that device"), "{err}");
    // Not a hand-off file at all.
    let err = handoff::import(&desk.db, &config, b"%PDF-1.7 a report", outpost_desk::now()).await.unwrap_err();
    assert!(matches!(err, HandoffFailure::File(HandoffError::NotAHandoff)), "{err}");
    let err = tablet.import_feed(&[]).await.unwrap_err();
    assert!(err.to_string().contains("not an Outpost hand-off file"), "{err}");

    // A file starting past where the device stands would leave a gap: refused, saying from where to ask.
    let fresh = desk.paired_device(&engineer, &root.path().join("fresh"), None).await;
    let fresh_id: uuid::Uuid = fresh.pairing_info().await.unwrap().unwrap().device_id.parse().unwrap();
    let (gap, _) = handoff::export(&desk.db, &config, fresh_id, Some(5), outpost_desk::now()).await.unwrap();
    let err = fresh.import_feed(&gap).await.unwrap_err();
    assert!(err.to_string().contains("export --from 0"), "{err}");
}

/// The same file with another device id in it (the signature then no longer holds).
fn rename_device(file: &[u8], from: uuid::Uuid, to: uuid::Uuid) -> Vec<u8> {
    let (from, to) = (from.as_bytes(), to.as_bytes());
    let at = file.windows(16).position(|w| w == from).expect("the device id is in the file");
    let mut renamed = file.to_vec();
    renamed[at..at + 16].copy_from_slice(to);
    renamed
}

/// A device paired before hand-off files makes its key and learns the
/// desk's at its next sync, and from then on writes files the desk takes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_device_paired_before_hand_off_files_gets_its_keys_at_the_next_sync() {
    let root = tempfile::tempdir().unwrap();
    let desk = Desk::start(root.path()).await;
    let config = ServerConfig::new(outpost_desk::desk_actor());
    let engineer = desk.engineer("Вера").await;
    let job = job_for(&desk, &engineer, 1).await;
    let dir = root.path().join("old");
    let tablet = desk.paired_device(&engineer, &dir, None).await;
    let device_id = tablet.pairing_info().await.unwrap().unwrap().device_id;
    drop(tablet);
    // As an older version left it: no keys on either side.
    sqlx::query("UPDATE devices SET public_key = NULL WHERE id = $1")
        .bind(&device_id)
        .execute(&desk.db.pool)
        .await
        .unwrap();
    let store = outpost_scenarios::device_store(&dir).await;
    let (pairing,): (String,) =
        sqlx::query_as("SELECT value FROM device WHERE key = 'pairing'").fetch_one(&store).await.unwrap();
    let mut pairing: serde_json::Value = serde_json::from_str(&pairing).unwrap();
    pairing.as_object_mut().unwrap().retain(|key, _| key != "signing_key" && key != "desk_key");
    sqlx::query("UPDATE device SET value = ? WHERE key = 'pairing'")
        .bind(pairing.to_string())
        .execute(&store)
        .await
        .unwrap();
    store.close().await;

    let tablet = outpost_scenarios::open_device(&dir).await;
    let err = tablet.export_outbox().await.unwrap_err();
    assert!(err.to_string().contains("sync online once"), "{err}");
    sync_until_ok(&tablet, 3).await;
    let (key,): (Option<String>,) = sqlx::query_as("SELECT public_key FROM devices WHERE id = $1")
        .bind(&device_id)
        .fetch_one(&desk.db.pool)
        .await
        .unwrap();
    assert!(key.is_some(), "the desk keeps the device's key now");
    tablet.act(&job.ticket.to_string(), TicketAction::AddNote { text: "from the old tablet".into() }).await.unwrap();
    let (file, _) = tablet.export_outbox().await.unwrap();
    let imported = handoff::import(&desk.db, &config, &file, outpost_desk::now()).await.unwrap();
    assert_eq!(imported.documents, 1, "{imported:?}");
    let answer =
        handoff::export(&desk.db, &config, device_id.parse().unwrap(), None, outpost_desk::now()).await.unwrap().0;
    tablet.import_feed(&answer).await.expect("the desk's key is known to the device");
}
