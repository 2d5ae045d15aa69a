//! The desk's check of a ticket's signed service report: the report the
//! device attached records the data it showed (a blob whose hash the PDF
//! prints); the desk makes the same report from the ticket as it stands now
//! and says whether it still matches what the customer signed, and if not,
//! what changed.

use outpost_report::{ServiceReport, Sources};
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
    let now = report_now(db, ticket, signed.lang).await?;
    check.matches = now.data() == bytes;
    check.changes = now.changes_since(&signed);
    Ok(Some(check))
}

/// The report the ticket makes now, from the desk's documents.
async fn report_now(db: &Db, ticket: &Ticket, lang: outpost_report::Lang) -> Result<ServiceReport, ReportError> {
    let mut tx = db.pool.begin().await?;
    let mut one = async |id: DocId, kind: DocKind| store::read(&mut tx, id, kind).await;
    let client = match one(ticket.client, DocKind::Client).await? {
        Some(Document::Client(client)) => Some(client),
        _ => None,
    };
    let site = match ticket.site.site {
        Some(id) => match one(id, DocKind::Site).await? {
            Some(Document::Site(site)) => Some(site),
            _ => None,
        },
        None => None,
    };
    let template = match ticket.checklist_template {
        Some(id) => match one(id, DocKind::ChecklistTemplate).await? {
            Some(Document::ChecklistTemplate(template)) => Some(template),
            _ => None,
        },
        None => None,
    };
    let mut equipment = Vec::new();
    for id in &ticket.equipment {
        if let Some(Document::Equipment(e)) = one(*id, DocKind::Equipment).await? {
            equipment.push(e);
        }
    }
    let mut parts = Vec::new();
    for id in &ticket.part_requests {
        if let Some(Document::PartRequest(p)) = one(*id, DocKind::PartRequest).await? {
            parts.push(p);
        }
    }
    let ids: Vec<(String,)> = sqlx::query_as("SELECT id FROM documents WHERE kind = $1")
        .bind(DocKind::Directory.as_str())
        .fetch_all(&mut *tx)
        .await?;
    let mut directories = Vec::new();
    for (id,) in ids {
        let Ok(id) = id.parse() else { continue };
        if let Some(Document::Directory(d)) = store::read(&mut tx, id, DocKind::Directory).await? {
            directories.push(d);
        }
    }
    tx.rollback().await?;
    Ok(ServiceReport::build(&Sources {
        ticket,
        client: client.as_ref(),
        site: site.as_ref(),
        equipment: &equipment,
        template: template.as_ref(),
        parts: &parts,
        directories: &directories,
        lang,
    }))
}
