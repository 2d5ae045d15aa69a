//! The desk's check of a ticket's signed service report: the report the
//! device attached records the data it showed (a blob whose hash the PDF
//! prints); the desk makes the same report from the ticket as it stands now
//! and says whether it still matches what the customer signed, and if not,
//! what changed.

use outpost_report::ServiceReport;
use outpost_sync::ids::{DocId, Timestamp};
use outpost_sync::model::{Actor, Attachment, DocKind, Document, Ticket};
use serde::Serialize;

use crate::blobs::{self, BlobError};
use crate::db::Db;
use crate::store::{self, StoreError};

/// A ticket's latest report, and how the ticket stands against it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ReportCheck {
    /// The PDF's hash (`GET /v1/blobs/{hash}`), when the device attached one.
    pub pdf: Option<String>,
    /// The hash of the data the customer signed, as the PDF prints it.
    pub data_hash: String,
    #[schema(value_type = i64)]
    pub attached_at: Timestamp,
    /// Whether the report's data has reached the desk (its upload may still be on its way).
    pub received: bool,
    /// The ticket, its equipment, parts and names still make exactly the report signed.
    pub matches: bool,
    /// What differs now from what was signed, field by field, in words.
    pub changes: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Blob(#[from] BlobError),
}

impl From<sqlx::Error> for ReportError {
    fn from(err: sqlx::Error) -> Self {
        Self::Store(err.into())
    }
}

/// The latest report attached to `ticket` (`None` when there is none),
/// checked against the ticket as it stands; its data read as `reader` may.
pub async fn check(db: &Db, reader: &Actor, ticket: &Ticket) -> Result<Option<ReportCheck>, ReportError> {
    let latest = |mime: &str| -> Option<&Attachment> {
        ticket.attachments.iter().filter(|a| a.mime == mime).max_by_key(|a| a.at)
    };
    let Some(data) = latest(outpost_report::DATA_MIME) else { return Ok(None) };
    let pdf = ticket
        .attachments
        .iter()
        .filter(|a| a.mime == outpost_report::PDF_MIME && a.at >= data.at)
        .min_by_key(|a| a.at)
        .map(|a| a.hash.0.clone());
    let mut check = ReportCheck {
        pdf,
        data_hash: data.hash.0.clone(),
        attached_at: data.at,
        received: false,
        matches: false,
        changes: Vec::new(),
    };
    let bytes = match blobs::download(&db.pool, reader, &data.hash).await {
        Ok(bytes) => bytes,
        Err(BlobError::Incomplete | BlobError::NotFound) => return Ok(Some(check)),
        Err(err) => return Err(err.into()),
    };
    check.received = true;
    let signed = match ServiceReport::from_data(&bytes) {
        Ok(signed) => signed,
        // A device sent it: say so rather than fail.
        Err(err) => {
            check.changes = vec![format!("the report's data does not read as a report: {err}")];
            return Ok(Some(check));
        }
    };
    let mut at_desk = AtDesk(db.pool.begin().await?);
    let now = ServiceReport::gather(&mut at_desk, ticket, Some(signed.lang)).await?;
    at_desk.0.rollback().await?;
    check.matches = now.data() == bytes;
    check.changes = now.changes_since(&signed);
    Ok(Some(check))
}

/// The desk's store, as the report reads it: one transaction for the whole report.
struct AtDesk(sqlx::Transaction<'static, sqlx::Any>);

impl outpost_report::DocumentStore for AtDesk {
    type Error = StoreError;

    async fn read(&mut self, id: DocId, kind: DocKind) -> Result<Option<Document>, StoreError> {
        store::read(&mut self.0, id, kind).await
    }

    async fn ids(&mut self, kind: DocKind) -> Result<Vec<DocId>, StoreError> {
        let ids: Vec<(String,)> = sqlx::query_as("SELECT id FROM documents WHERE kind = $1")
            .bind(kind.as_str())
            .fetch_all(&mut *self.0)
            .await?;
        Ok(ids.into_iter().filter_map(|(id,)| id.parse().ok()).collect())
    }
}
