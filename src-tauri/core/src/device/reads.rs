//! Reads: lists from the projections, details from the documents.

use outpost_sync::ids::DocId;
use outpost_sync::model::{DocKind, Document, Equipment, KbArticle};
use outpost_sync::workflow::fold_ticket;
use serde::Serialize;

use super::{parse_doc_id, Device, PairingInfo};
use crate::error::{CoreError, CoreResult};
use crate::store::queries::{self, TicketFilter};
use crate::views::{
    next_moves, Article, ArticleRow, AttachmentView, ChecklistItemView, ContactView, EquipmentDetail, EquipmentRow,
    EscalationView, HistoryEntry, InstalledPartView, NoteView, Notice, PartRequestRow, Reference, ReplacedPartView,
    SignatureView, SiteView, TicketDetail, TicketRow, TimeEntryView, VisitView,
};

/// The device at a glance: pairing, what waits for the desk, last sync.
#[derive(ts_rs::TS, Clone, Debug, PartialEq, Serialize)]
#[ts(export)]
pub struct DeviceStatus {
    pub paired: Option<PairingInfo>,
    #[ts(type = "number")]
    pub documents: i64,
    #[ts(type = "number")]
    pub tickets: i64,
    /// Documents with changes the desk has not acknowledged.
    #[ts(type = "number")]
    pub pending_documents: i64,
    /// Photos and signatures not uploaded yet.
    #[ts(type = "number")]
    pub pending_blobs: i64,
    #[ts(type = "number")]
    pub pending_blob_bytes: i64,
    #[ts(type = "number | null")]
    pub last_sync_at: Option<i64>,
    /// How far the desk's clock ran ahead of this device's at the last sync (ms).
    #[ts(type = "number | null")]
    pub clock_offset_ms: Option<i64>,
    pub last_sync_error: Option<String>,
    /// The last sync could not reach the desk.
    pub offline: bool,
    /// The desk's live channel is open: its changes arrive at once.
    pub live: bool,
    #[ts(type = "number")]
    pub storage_bytes: u64,
    /// Why the data is locked, when the company's contact window has passed: syncing opens it.
    pub locked: Option<String>,
}

/// A person by name, from the directories on this device; someone not in
/// them yet by role and the start of their id.
fn user_name(names: &std::collections::HashMap<String, String>, actor: &outpost_sync::model::Actor) -> String {
    let id = actor.user.to_string();
    match names.get(&id) {
        Some(name) => name.clone(),
        None => format!("{} {}", actor.role.as_str(), &id[..8.min(id.len())]),
    }
}

impl Device {
    pub async fn status(&self) -> CoreResult<DeviceStatus> {
        let pool = self.store().pool();
        let (documents, pending_documents): (i64, i64) =
            sqlx::query_as("SELECT count(*), coalesce(sum(dirty), 0) FROM documents").fetch_one(pool).await?;
        let (tickets,): (i64,) = sqlx::query_as("SELECT count(*) FROM tickets").fetch_one(pool).await?;
        let (pending_blobs, pending_blob_bytes): (i64, i64) =
            sqlx::query_as("SELECT count(*), coalesce(sum(length(bytes)), 0) FROM blobs WHERE uploaded = 0")
                .fetch_one(pool)
                .await?;
        let last_sync_at = self.store().setting(crate::sync::LAST_SYNC_KEY).await?.and_then(|v| v.parse().ok());
        let clock_offset_ms = self.store().setting(crate::sync::CLOCK_OFFSET_KEY).await?.and_then(|v| v.parse().ok());
        let last_sync_error = self.store().setting(crate::sync::LAST_ERROR_KEY).await?.filter(|e| !e.is_empty());
        let offline = self.store().setting(crate::sync::OFFLINE_KEY).await?.is_some_and(|v| v == "1");
        Ok(DeviceStatus {
            paired: self.pairing_info().await?,
            documents,
            tickets,
            pending_documents,
            pending_blobs,
            pending_blob_bytes,
            last_sync_at,
            clock_offset_ms,
            last_sync_error,
            offline,
            live: self.live_state().connected.load(std::sync::atomic::Ordering::Acquire),
            storage_bytes: self.store().size_on_disk(),
            locked: self.lock_reason().await?,
        })
    }

    pub async fn tickets(&self, filter: &TicketFilter) -> CoreResult<Vec<TicketRow>> {
        self.gate().await?;
        queries::tickets(self.store().pool(), filter).await
    }

    /// The whole ticket as the ticket screen shows it.
    pub async fn ticket(&self, ticket_id: &str) -> CoreResult<TicketDetail> {
        self.gate().await?;
        let pairing = self.pairing().await.ok();
        let id = parse_doc_id("ticket", ticket_id)?;
        let t = self.ticket_document(id).await?;
        let pool = self.store().pool();
        let state = fold_ticket(&t);
        let template = self.template(t.checklist_template).await?;
        let (due_at,): (Option<i64>,) =
            sqlx::query_as("SELECT due_at FROM tickets WHERE id = ?").bind(id.to_string()).fetch_one(pool).await?;
        let mut checklist: Vec<ChecklistItemView> = template
            .iter()
            .flat_map(|tpl| tpl.items.iter())
            .map(|item| {
                let state = t.checklist.get(&item.key);
                ChecklistItemView {
                    key: item.key.clone(),
                    label: item.label.clone(),
                    done: state.is_some_and(|s| s.done),
                    at: state.map(|s| s.at.0),
                }
            })
            .collect();
        // Items ticked on a ticket whose template has not arrived (or changed) still show.
        for (key, s) in &t.checklist {
            if !checklist.iter().any(|c| c.key == *key) {
                checklist.push(ChecklistItemView {
                    key: key.clone(),
                    label: key.clone(),
                    done: s.done,
                    at: Some(s.at.0),
                });
            }
        }
        let names = queries::people_names(pool).await?;
        let local_blobs: Vec<(String,)> =
            sqlx::query_as("SELECT hash FROM blobs WHERE doc_id = ?").bind(id.to_string()).fetch_all(pool).await?;
        let is_local = |hash: &str| local_blobs.iter().any(|(h,)| h == hash);
        let mut equipment = Vec::new();
        for e in &t.equipment {
            let row: Option<(String, String)> = sqlx::query_as("SELECT serial, model FROM equipment WHERE id = ?")
                .bind(e.to_string())
                .fetch_optional(pool)
                .await?;
            equipment.push(EquipmentRow {
                id: e.to_string(),
                serial: row.as_ref().map(|r| r.0.clone()),
                model: row.map(|r| r.1),
            });
        }
        let site_id = t.site.site.map(|s| s.to_string());
        let site_name = match &site_id {
            Some(s) => queries::reference_name(pool, s).await?,
            None => None,
        };
        Ok(TicketDetail {
            id: t.id.to_string(),
            number: t.number.clone(),
            title: t.title.clone(),
            description: t.description.as_str().to_owned(),
            status: state.status.code().to_owned(),
            priority: t.priority.code().to_owned(),
            support_level: t.escalations.last().map_or(t.support_level, |e| e.to).code().to_owned(),
            category: t.category.clone(),
            client: Reference {
                id: t.client.to_string(),
                name: queries::reference_name(pool, &t.client.to_string()).await?,
            },
            site: SiteView {
                id: site_id,
                name: site_name,
                address: t.site.address.clone(),
                region: t.site.region.clone(),
                time_zone: t.site.time_zone.clone(),
                lat: t.site.coordinates.map(|c| c.lat),
                lon: t.site.coordinates.map(|c| c.lon),
            },
            contact: ContactView {
                name: t.contact.name.clone(),
                phone: t.contact.phone.clone(),
                email: t.contact.email.clone(),
            },
            equipment,
            reaction_due: t.sla.reaction_due.map(|d| d.0),
            resolution_due: t.sla.resolution_due.map(|d| d.0),
            due_at,
            work_log: t
                .work_log
                .iter()
                .map(|n| NoteView {
                    id: n.id.to_string(),
                    at: n.at.0,
                    by: user_name(&names, &n.by),
                    text: n.text.clone(),
                })
                .collect(),
            checklist,
            time_entries: t
                .time_entries
                .iter()
                .map(|e| TimeEntryView {
                    id: e.id.to_string(),
                    kind: format!("{:?}", e.kind).to_lowercase(),
                    start: e.start.0,
                    end: e.end.map(|x| x.0),
                    by: user_name(&names, &e.by),
                })
                .collect(),
            visits: t
                .visits
                .iter()
                .map(|v| VisitView {
                    id: v.id.to_string(),
                    arrived: v.arrived.0,
                    left: v.left.map(|l| l.0),
                    lat: v.coordinates.map(|c| c.lat),
                    lon: v.coordinates.map(|c| c.lon),
                })
                .collect(),
            attachments: t
                .attachments
                .iter()
                .map(|a| AttachmentView {
                    id: a.id.to_string(),
                    hash: a.hash.0.clone(),
                    thumbnail: a.thumbnail.as_ref().map(|h| h.0.clone()),
                    name: a.name.clone(),
                    mime: a.mime.clone(),
                    size: a.size,
                    at: a.at.0,
                    local: is_local(&a.hash.0),
                })
                .collect(),
            signature: t.signature.as_ref().map(|s| SignatureView {
                signer: s.signer_name.clone(),
                at: s.at.0,
                hash: s.attachment.0.clone(),
            }),
            resolution_code: t.resolution.code.clone(),
            resolution_notes: t.resolution.notes.as_str().to_owned(),
            escalations: t
                .escalations
                .iter()
                .map(|e| EscalationView {
                    from: e.from.code().to_owned(),
                    to: e.to.code().to_owned(),
                    reason: e.reason.clone(),
                    at: e.at.0,
                })
                .collect(),
            part_requests: queries::part_requests(pool, Some(&id.to_string()), None).await?,
            conflicts: state.conflicts.iter().map(|c| c.explain()).collect(),
            next_moves: pairing.map(|p| next_moves(&t, &p.actor)).unwrap_or_default(),
        })
    }

    /// Part requests made by this device's engineer.
    pub async fn my_part_requests(&self) -> CoreResult<Vec<PartRequestRow>> {
        self.gate().await?;
        let pairing = self.pairing().await?;
        queries::part_requests(self.store().pool(), None, Some(&pairing.actor.user.to_string())).await
    }

    pub async fn equipment_by_serial(&self, serial: &str) -> CoreResult<Vec<EquipmentRow>> {
        self.gate().await?;
        let serial = serial.trim();
        if serial.is_empty() {
            return Err(CoreError::Invalid("give a serial number, or its beginning".into()));
        }
        queries::equipment_by_serial(self.store().pool(), serial).await
    }

    pub async fn search_equipment(&self, text: &str) -> CoreResult<Vec<EquipmentRow>> {
        self.gate().await?;
        queries::search_equipment(self.store().pool(), text).await
    }

    /// An equipment record with its service history.
    pub async fn equipment(&self, equipment_id: &str) -> CoreResult<EquipmentDetail> {
        self.gate().await?;
        let id = parse_doc_id("equipment", equipment_id)?;
        let e: Equipment = self
            .stored_document(id, DocKind::Equipment, |d| match d {
                Document::Equipment(e) => Some(e),
                _ => None,
            })
            .await?
            .ok_or_else(|| CoreError::not_found("equipment", id))?;
        let pool = self.store().pool();
        let local: Vec<(String,)> = sqlx::query_as("SELECT ticket_id FROM ticket_equipment WHERE equipment_id = ?")
            .bind(id.to_string())
            .fetch_all(pool)
            .await?;
        let mut ids: Vec<String> = e.service_history.iter().map(DocId::to_string).collect();
        ids.extend(local.into_iter().map(|r| r.0).filter(|t| !e.service_history.iter().any(|h| h.to_string() == *t)));
        let mut service_history = Vec::new();
        for ticket_id in ids {
            // The ticket as this device has it, else as the desk recorded it on the equipment.
            let row: Option<(String, String, String, i64)> =
                sqlx::query_as("SELECT number, title, status, created_at FROM tickets WHERE id = ?")
                    .bind(&ticket_id)
                    .fetch_optional(pool)
                    .await?;
            let record = e.service_records.iter().find(|r| r.ticket.to_string() == ticket_id);
            service_history.push(HistoryEntry {
                number: row.as_ref().map(|r| r.0.clone()).or_else(|| record.map(|r| r.number.clone())),
                title: row.as_ref().map(|r| r.1.clone()),
                status: row.as_ref().map(|r| r.2.clone()).or_else(|| record.map(|r| r.status.code().to_owned())),
                created_at: row.map(|r| r.3).or_else(|| record.map(|r| r.opened.0)),
                resolved_at: record.and_then(|r| r.resolved_at).map(|t| t.0),
                resolution_code: record.and_then(|r| r.resolution_code.clone()),
                visits: record.map(|r| r.visits.iter().map(|v| v.0).collect()).unwrap_or_default(),
                ticket_id,
            });
        }
        service_history.sort_by_key(|h| std::cmp::Reverse(h.created_at));
        let site = match e.site {
            Some(s) => {
                Some(Reference { id: s.to_string(), name: queries::reference_name(pool, &s.to_string()).await? })
            }
            None => None,
        };
        Ok(EquipmentDetail {
            id: e.id.to_string(),
            serial: e.serial.clone(),
            model: e.model.clone(),
            vendor: e.vendor.clone(),
            class: e.class.clone(),
            client: Reference {
                id: e.client.to_string(),
                name: queries::reference_name(pool, &e.client.to_string()).await?,
            },
            site,
            location_note: e.location_note.clone(),
            covered_until: e.covered_until.map(|t| t.0),
            notes: e.notes.as_str().to_owned(),
            installed_parts: e
                .installed_parts
                .iter()
                .map(|p| InstalledPartView {
                    part_number: p.part_number.clone(),
                    serial: p.serial.clone(),
                    installed_at: p.installed_at.0,
                })
                .collect(),
            replaced_parts: e
                .replaced_parts
                .iter()
                .rev()
                .map(|p| ReplacedPartView {
                    part_number: p.part_number.clone(),
                    serial: p.serial.clone(),
                    removed_at: p.removed_at.0,
                })
                .collect(),
            service_history,
        })
    }

    pub async fn articles(&self, search: &str) -> CoreResult<Vec<ArticleRow>> {
        self.gate().await?;
        queries::articles(self.store().pool(), search).await
    }

    pub async fn article(&self, article_id: &str) -> CoreResult<Article> {
        self.gate().await?;
        let id = parse_doc_id("article", article_id)?;
        let a: KbArticle = self
            .stored_document(id, DocKind::KbArticle, |d| match d {
                Document::KbArticle(a) => Some(a),
                _ => None,
            })
            .await?
            .ok_or_else(|| CoreError::not_found("knowledge-base article", id))?;
        Ok(Article {
            id: a.id.to_string(),
            title: a.title,
            body: a.body.as_str().to_owned(),
            tags: a.tags,
            language: a.language,
        })
    }

    /// Refused edits and resolved conflicts, in plain words.
    pub async fn notices(&self) -> CoreResult<Vec<Notice>> {
        self.gate().await?;
        queries::notices(self.store().pool()).await
    }

    /// A stored photo, thumbnail or signature, if its bytes are on this device.
    pub async fn local_blob(&self, hash: &str) -> CoreResult<Option<(String, Vec<u8>)>> {
        self.gate().await?;
        self.stored_blob(hash).await
    }

    /// The same, for work that passed the gate already (a report's or a visit's pictures).
    pub(crate) async fn stored_blob(&self, hash: &str) -> CoreResult<Option<(String, Vec<u8>)>> {
        let row: Option<(String, Vec<u8>)> = sqlx::query_as("SELECT mime, bytes FROM blobs WHERE hash = ?")
            .bind(hash)
            .fetch_optional(self.store().pool())
            .await?;
        Ok(row)
    }
}
