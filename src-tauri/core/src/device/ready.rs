//! "Ready to go offline": before leaving for a site, what each open
//! ticket's visit needs that is not on this device, and a fetch of just that.

use outpost_sync::ids::{ContentHash, DocId};
use outpost_sync::model::Ticket;

use super::writes::{put_blob, BlobOrigin};
use super::{now, parse_doc_id, Device};
use crate::error::{CoreError, CoreResult};
use crate::sync::{http, LAST_FULL_SYNC_KEY, WANTED_KEY};
use crate::views::{MissingReason, MissingRecord, Needed, Readiness, TicketReadiness};

/// How old the last full sync may be before the check warns, unless asked otherwise.
pub const DEFAULT_MAX_AGE_HOURS: i64 = 12;

/// Which tickets to check: every open one, or only those whose visit is
/// today (visited in `day`, or due before it ends).
#[derive(Clone, Copy, Debug, Default)]
pub struct ReadyScope {
    /// Today, as [start, end) in ms since the epoch (the caller's time zone).
    pub day: Option<(i64, i64)>,
    pub max_age_hours: Option<i64>,
}

impl Device {
    /// What the open tickets' visits need that is not on this device.
    pub async fn readiness(&self, scope: ReadyScope) -> CoreResult<Readiness> {
        self.gate().await?;
        let max_age_hours = scope.max_age_hours.unwrap_or(DEFAULT_MAX_AGE_HOURS);
        if max_age_hours < 0 {
            return Err(CoreError::Invalid(format!("a maximum age of {max_age_hours} hours")));
        }
        let pool = self.store().pool();
        let open = "status NOT IN ('resolved', 'closed', 'cancelled')";
        let rows: Vec<(String, String, String)> = match scope.day {
            Some((from, to)) => {
                sqlx::query_as(&format!(
                    "SELECT id, number, title FROM tickets WHERE {open}
                       AND (due_at < ? OR id IN (SELECT ticket_id FROM ticket_visits WHERE arrived >= ? AND arrived < ?))
                     ORDER BY due_at IS NULL, due_at, number"
                ))
                .bind(to)
                .bind(from)
                .bind(to)
                .fetch_all(pool)
                .await?
            }
            None => {
                sqlx::query_as(&format!(
                    "SELECT id, number, title FROM tickets WHERE {open} ORDER BY due_at IS NULL, due_at, number"
                ))
                .fetch_all(pool)
                .await?
            }
        };
        let mut tickets = Vec::with_capacity(rows.len());
        for (id, number, title) in rows {
            let ticket = self.ticket_document(parse_doc_id("ticket", &id)?).await?;
            let missing = self.missing_for(&ticket).await?;
            let kb_articles = self.articles_for(&ticket).await?;
            tickets.push(TicketReadiness { id, number, title, missing, kb_articles });
        }
        let last_full_sync_at = self.store().setting(LAST_FULL_SYNC_KEY).await?.and_then(|v| v.parse().ok());
        let stale = last_full_sync_at.is_none_or(|at: i64| now().0 - at > max_age_hours * 3_600_000);
        let ready = !stale && tickets.iter().all(|t| t.missing.is_empty());
        Ok(Readiness { ready, tickets, last_full_sync_at, stale, max_age_hours })
    }

    /// Fetches what the check finds missing: the records, asked for whole
    /// in a sync, and the photos' previews, downloaded. Returns the check
    /// made afterwards; what the desk would not give stays listed.
    pub async fn fetch_missing(&self, scope: ReadyScope) -> CoreResult<Readiness> {
        self.gate().await?;
        let before = self.readiness(scope).await?;
        let mut records = Vec::new();
        let mut previews = Vec::new();
        for ticket in &before.tickets {
            for m in &ticket.missing {
                match (m.reason, &m.id) {
                    (MissingReason::NotSynced, Some(id)) => records.push(parse_doc_id("record", id)?),
                    (MissingReason::NotDownloaded, Some(hash)) => previews.push((ticket.id.clone(), hash.clone())),
                    _ => {}
                }
            }
        }
        if !records.is_empty() {
            self.want_whole(&records).await?;
        }
        // A sync also counts as the full sync the check asks for when it is stale.
        if !records.is_empty() || before.stale {
            self.sync_now().await?;
        }
        if !previews.is_empty() {
            let pairing = self.pairing().await?;
            for (ticket, hash) in previews {
                let bytes = match http::download_blob(self.http(), &pairing.desk_url, &pairing.token, &hash).await {
                    Ok(bytes) => bytes,
                    // The desk has not got it yet (its maker's upload waits): it stays listed.
                    Err(CoreError::NotFound { .. }) => continue,
                    Err(err) => return Err(err),
                };
                if crate::media::content_hash(&bytes).0 != hash {
                    return Err(CoreError::Desk(format!("the preview {hash} does not match its hash")));
                }
                let _guard = self.write_lock().await;
                let mut tx = self.store().begin_write().await?;
                let doc = parse_doc_id("ticket", &ticket)?;
                put_blob(&mut tx, &ContentHash(hash), doc, "image/jpeg", &bytes, BlobOrigin::Desk, now()).await?;
                tx.commit().await?;
            }
        }
        self.readiness(scope).await
    }

    /// Asks the next sync to bring these documents whole.
    async fn want_whole(&self, ids: &[DocId]) -> CoreResult<()> {
        let _guard = self.write_lock().await;
        let mut wanted: std::collections::BTreeSet<DocId> = match self.store().setting(WANTED_KEY).await? {
            Some(json) => serde_json::from_str(&json).map_err(|e| CoreError::Damaged(e.to_string()))?,
            None => Default::default(),
        };
        wanted.extend(ids.iter().copied());
        let json = serde_json::to_string(&wanted).map_err(|e| CoreError::Damaged(e.to_string()))?;
        let mut tx = self.store().begin_write().await?;
        crate::store::put_setting(&mut tx, WANTED_KEY, &json).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn missing_for(&self, t: &Ticket) -> CoreResult<Vec<MissingRecord>> {
        let mut needed: Vec<(Needed, DocId)> = vec![(Needed::Client, t.client)];
        needed.extend(t.site.site.map(|s| (Needed::Site, s)));
        needed.extend(t.equipment.iter().map(|e| (Needed::Equipment, *e)));
        needed.extend(t.checklist_template.map(|c| (Needed::ChecklistTemplate, c)));
        needed.extend(t.part_requests.iter().map(|p| (Needed::PartRequest, *p)));
        let ids: Vec<DocId> = needed.iter().map(|(_, id)| *id).collect();
        let present = crate::store::existing(&mut *self.store().pool().acquire().await?, &ids).await?;
        let mut missing: Vec<MissingRecord> = needed
            .into_iter()
            .filter(|(_, id)| !present.contains(id))
            .map(|(what, id)| MissingRecord { what, id: Some(id.to_string()), reason: MissingReason::NotSynced })
            .collect();
        if t.contact.name.trim().is_empty() && t.contact.phone.trim().is_empty() {
            missing.push(MissingRecord { what: Needed::Contact, id: None, reason: MissingReason::NotOnTicket });
        }
        for photo in t.attachments.iter().filter(|a| a.mime.starts_with("image/jpeg")) {
            let preview = photo.thumbnail.as_ref().unwrap_or(&photo.hash);
            if self.stored_blob(&preview.0).await?.is_none() {
                missing.push(MissingRecord {
                    what: Needed::Thumbnail,
                    id: Some(preview.0.clone()),
                    reason: MissingReason::NotDownloaded,
                });
            }
        }
        Ok(missing)
    }

    /// Articles here tagged with the ticket's product team or one of its equipment's models.
    async fn articles_for(&self, t: &Ticket) -> CoreResult<i64> {
        let mut tags: Vec<String> = vec![t.product_team.to_lowercase()];
        for e in &t.equipment {
            let model: Option<(String,)> = sqlx::query_as("SELECT model FROM equipment WHERE id = ?")
                .bind(e.to_string())
                .fetch_optional(self.store().pool())
                .await?;
            tags.extend(model.map(|(m,)| m.to_lowercase()));
        }
        tags.retain(|t| !t.trim().is_empty());
        if tags.is_empty() {
            return Ok(0);
        }
        let mut q =
            sqlx::QueryBuilder::<sqlx::Sqlite>::new("SELECT COUNT(*) FROM reference WHERE kind = 'kb_article' AND (0");
        for tag in tags {
            q.push(" OR (', ' || lower(detail) || ', ') LIKE ").push_bind(format!("%, {tag}, %"));
        }
        let (count,): (i64,) = q.push(")").build_query_as().fetch_one(self.store().pool()).await?;
        Ok(count)
    }
}
