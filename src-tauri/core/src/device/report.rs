//! The signed service report on the device: made offline from what the
//! device holds, shown to the customer before they sign, and attached to
//! the ticket (the PDF and the data it shows) once they have, to reach the
//! desk with it.

use std::collections::BTreeMap;

use outpost_report::{DocumentStore, Lang, ServiceReport};
use outpost_sync::ids::DocId;
use outpost_sync::model::{DocKind, Document};
use serde::Serialize;

use super::writes::{context, put_blob, BlobOrigin, RANK_SIGNATURE};
use super::{parse_doc_id, Device, DeviceEvent};
use crate::error::{CoreError, CoreResult};
use crate::media;
use crate::work::TicketAction;

/// A report attached to its ticket.
#[derive(ts_rs::TS, Clone, Debug, PartialEq, Eq, Serialize)]
#[ts(export)]
pub struct AttachedReport {
    pub number: String,
    /// The PDF's hash (a ticket attachment, uploaded with the ticket's files).
    pub pdf: String,
    /// The hash of the data the report shows (printed in its footer): the
    /// desk checks the ticket against it.
    pub data_hash: String,
    #[ts(type = "number")]
    pub bytes: u64,
}

/// The report's language from its code (`ru`, `en`).
pub fn report_lang(code: &str) -> CoreResult<Lang> {
    Lang::parse(code).ok_or_else(|| CoreError::Invalid(format!("report language {code:?} is not ru or en")))
}

impl Device {
    /// What the ticket's report shows, from the documents on this device,
    /// in `lang` (`None`: the client's language).
    pub async fn report_data(&self, ticket_id: &str, lang: Option<Lang>) -> CoreResult<ServiceReport> {
        self.gate().await?;
        let id = parse_doc_id("ticket", ticket_id)?;
        let ticket = self.ticket_document(id).await?;
        ServiceReport::gather(&mut OnDevice(self), &ticket, lang).await
    }

    /// The ticket's report as a PDF, as it stands now (to show the customer
    /// before they sign), and what it shows. Previews this device lacks are
    /// printed as placeholders.
    pub async fn service_report(&self, ticket_id: &str, lang: Option<Lang>) -> CoreResult<(Vec<u8>, ServiceReport)> {
        self.gate().await?;
        let report = self.report_data(ticket_id, lang).await?;
        let mut images = BTreeMap::new();
        let wanted = report
            .photos
            .iter()
            .filter_map(|p| p.thumbnail.clone())
            .chain(report.signature.iter().map(|s| s.image.clone()));
        for hash in wanted {
            if let Some((_, bytes)) = self.stored_blob(&hash).await? {
                images.insert(hash, bytes);
            }
        }
        let shown = report.clone();
        // Typesetting takes a while: off the async threads.
        let pdf = tokio::task::spawn_blocking(move || outpost_report::render(&shown, &images))
            .await
            .map_err(|e| CoreError::Damaged(e.to_string()))?
            .map_err(|e| CoreError::Damaged(e.to_string()))?;
        Ok((pdf, report))
    }

    /// Makes the report of a signed ticket and attaches it, with the data it
    /// shows, to go to the desk with the ticket. A later report (the ticket
    /// changed after all) is attached beside the earlier one; the desk
    /// checks the latest.
    /// Returns the PDF too, to show or save.
    pub async fn attach_service_report(
        &self,
        ticket_id: &str,
        lang: Option<Lang>,
    ) -> CoreResult<(AttachedReport, Vec<u8>)> {
        self.gate().await?;
        let pairing = self.pairing().await?;
        let id = parse_doc_id("ticket", ticket_id)?;
        let (pdf, report) = self.service_report(ticket_id, lang).await?;
        if report.signature.is_none() {
            return Err(CoreError::Refused(
                "the customer has not signed yet: show them the report, have them sign, then attach it".into(),
            ));
        }
        let data = report.data();
        let (pdf_hash, data_hash) = (media::content_hash(&pdf), media::content_hash(&data));
        let stem = format!("report-{}", report.number);
        let attach = |hash: &outpost_sync::ids::ContentHash, name: String, mime: &str, size: usize| {
            TicketAction::Attach { hash: hash.clone(), thumbnail: None, name, mime: mime.into(), size: size as u64 }
        };
        let _guard = self.write_lock().await;
        let mut tx = self.store().begin_write().await?;
        for (hash, name, mime, bytes) in [
            (&data_hash, format!("{stem}.json"), outpost_report::DATA_MIME, &data),
            (&pdf_hash, format!("{stem}.pdf"), outpost_report::PDF_MIME, &pdf),
        ] {
            let ctx = context(&pairing);
            self.act_in(&mut tx, &pairing, id, None, &attach(hash, name, mime, bytes.len()), ctx).await?;
            put_blob(&mut tx, hash, id, mime, bytes, BlobOrigin::Here { rank: RANK_SIGNATURE }, ctx.now).await?;
        }
        tx.commit().await?;
        self.announce(DeviceEvent::LocalChange { docs: vec![id.to_string()] });
        let attached =
            AttachedReport { number: report.number, pdf: pdf_hash.0, data_hash: data_hash.0, bytes: pdf.len() as u64 };
        Ok((attached, pdf))
    }
}

/// The device's store, as the report reads it.
struct OnDevice<'a>(&'a Device);

impl DocumentStore for OnDevice<'_> {
    type Error = CoreError;

    async fn read(&mut self, id: DocId, kind: DocKind) -> CoreResult<Option<Document>> {
        self.0.stored_document(id, kind, Some).await
    }

    async fn ids(&mut self, kind: DocKind) -> CoreResult<Vec<DocId>> {
        let ids: Vec<(String,)> = sqlx::query_as("SELECT id FROM documents WHERE kind = ?")
            .bind(kind.as_str())
            .fetch_all(self.0.store().pool())
            .await?;
        Ok(ids.into_iter().filter_map(|(id,)| id.parse().ok()).collect())
    }
}
