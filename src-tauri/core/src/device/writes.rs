//! Edits: each checked by the rules the desk applies, then written durably.

use automerge::transaction::CommitOptions;
use automerge::AutoCommit;
use outpost_sync::ids::{ContentHash, DocId, EntryId};
use outpost_sync::limits::FieldLimits;
use outpost_sync::model::{new_document, ChecklistTemplate, DocKind, Document, Ticket};
use outpost_sync::permissions::{review, Verdict};

use super::{fresh_random, now, parse_doc_id, Device, DeviceEvent, Pairing};
use crate::error::{CoreError, CoreResult};
use crate::media::{self, MediaError};
use crate::store::{self, Bookkeeping, WriteTx};
use crate::work::{self, Context, NewTicket, PartAction, TicketAction};

/// Ranks for blob uploads: small things that make a ticket readable first.
pub(super) const RANK_SIGNATURE: i64 = 0;
const RANK_THUMBNAIL: i64 = 1;
const RANK_PHOTO: i64 = 2;

/// A photo as attached: the hashes under which its bytes travel.
#[derive(ts_rs::TS, Clone, Debug, PartialEq, serde::Serialize)]
#[ts(export)]
pub struct AttachedPhoto {
    pub hash: String,
    pub thumbnail: String,
    pub width: u32,
    pub height: u32,
    #[ts(type = "number")]
    pub bytes: u64,
}

impl From<MediaError> for CoreError {
    fn from(err: MediaError) -> Self {
        Self::Invalid(err.to_string())
    }
}

/// Refuses what the desk would refuse, in the desk's own words.
fn check_review(pairing: &Pairing, before: Option<&Document>, after: &Document) -> CoreResult<()> {
    after.validate(&FieldLimits::default())?;
    match review(&pairing.actor, before, after) {
        Verdict::Refused(why) => Err(CoreError::Refused(why.to_string())),
        Verdict::Reviewed(r) if !r.is_clean() => {
            let reasons: Vec<String> = r.refused.iter().map(ToString::to_string).collect();
            Err(CoreError::Refused(reasons.join("; ")))
        }
        Verdict::Reviewed(_) => Ok(()),
    }
}

pub(super) fn context(pairing: &Pairing) -> Context {
    let now = now();
    Context { actor: pairing.actor, now, entry: EntryId::new_v7(now, fresh_random()) }
}

impl Device {
    /// Loads, changes and stores one document inside `tx`.
    async fn change_in(
        &self,
        tx: &mut WriteTx,
        pairing: &Pairing,
        id: DocId,
        kind: DocKind,
        at: outpost_sync::ids::Timestamp,
        change: impl FnOnce(&Document) -> CoreResult<Document>,
    ) -> CoreResult<Document> {
        let mut loaded = store::load(tx, id)
            .await?
            .filter(|l| l.kind == kind)
            .ok_or_else(|| CoreError::not_found(kind_name(kind), id))?;
        let before = Document::hydrate_as(&loaded.doc, id, kind).map_err(|e| CoreError::Damaged(e.to_string()))?;
        let after = change(&before)?;
        check_review(pairing, Some(&before), &after)?;
        loaded.doc.set_actor(pairing.automerge_actor()?);
        let heads_before = loaded.doc.get_heads();
        after.reconcile_into(&mut loaded.doc)?;
        loaded.doc.commit_with(CommitOptions::default().with_time(at.0 / 1000));
        let bookkeeping = Bookkeeping { acked: &loaded.acked, dirty: true };
        store::save(tx, &mut loaded.doc, Some(&heads_before), &after, bookkeeping, at).await?;
        Ok(after)
    }

    /// Does `action` to the ticket `id` inside `tx`.
    pub(super) async fn act_in(
        &self,
        tx: &mut WriteTx,
        pairing: &Pairing,
        id: DocId,
        template: Option<&ChecklistTemplate>,
        action: &TicketAction,
        ctx: Context,
    ) -> CoreResult<Document> {
        self.change_in(tx, pairing, id, DocKind::Ticket, ctx.now, |before| match before {
            Document::Ticket(t) => Ok(Document::Ticket(work::apply_to_ticket(t, template, action, ctx)?)),
            _ => Err(CoreError::not_found("ticket", id)),
        })
        .await
    }

    async fn create_in(&self, tx: &mut WriteTx, pairing: &Pairing, document: &Document) -> CoreResult<()> {
        check_review(pairing, None, document)?;
        let mut doc: AutoCommit = new_document(document, pairing.automerge_actor()?)?;
        store::save(tx, &mut doc, None, document, Bookkeeping { acked: &[], dirty: true }, now()).await
    }

    pub(super) async fn stored_document<T>(
        &self,
        id: DocId,
        kind: DocKind,
        pick: impl FnOnce(Document) -> Option<T>,
    ) -> CoreResult<Option<T>> {
        let mut conn = self.store().pool().acquire().await?;
        let Some(loaded) = store::load(&mut conn, id).await?.filter(|l| l.kind == kind) else {
            return Ok(None);
        };
        let document = Document::hydrate_as(&loaded.doc, id, kind).map_err(|e| CoreError::Damaged(e.to_string()))?;
        Ok(pick(document))
    }

    pub(crate) async fn ticket_document(&self, id: DocId) -> CoreResult<Ticket> {
        self.stored_document(id, DocKind::Ticket, |d| match d {
            Document::Ticket(t) => Some(t),
            _ => None,
        })
        .await?
        .ok_or_else(|| CoreError::not_found("ticket", id))
    }

    pub(crate) async fn template(&self, id: Option<DocId>) -> CoreResult<Option<ChecklistTemplate>> {
        let Some(id) = id else {
            return Ok(None);
        };
        self.stored_document(id, DocKind::ChecklistTemplate, |d| match d {
            Document::ChecklistTemplate(t) => Some(t),
            _ => None,
        })
        .await
    }

    /// Does `action` to the ticket `ticket_id`, durably, if the rules allow it.
    pub async fn act(&self, ticket_id: &str, action: TicketAction) -> CoreResult<()> {
        self.gate().await?;
        if matches!(
            action,
            TicketAction::Attach { .. } | TicketAction::Sign { .. } | TicketAction::LinkPartRequest { .. }
        ) {
            return Err(CoreError::Invalid(
                "photos, signatures and part requests go through attach_photo, sign and request_part".into(),
            ));
        }
        let pairing = self.pairing().await?;
        let id = parse_doc_id("ticket", ticket_id)?;
        let template = match &action {
            TicketAction::Tick { .. } => self.template(self.ticket_document(id).await?.checklist_template).await?,
            _ => None,
        };
        let ctx = context(&pairing);
        let _guard = self.write_lock().await;
        let mut tx = self.store().begin_write().await?;
        self.act_in(&mut tx, &pairing, id, template.as_ref(), &action, ctx).await?;
        tx.commit().await?;
        self.announce(DeviceEvent::LocalChange { docs: vec![id.to_string()] });
        Ok(())
    }

    /// Does `action` to a part request.
    pub async fn act_on_part_request(&self, request_id: &str, action: PartAction) -> CoreResult<()> {
        self.gate().await?;
        let pairing = self.pairing().await?;
        let id = parse_doc_id("part request", request_id)?;
        let ctx = context(&pairing);
        let _guard = self.write_lock().await;
        let mut tx = self.store().begin_write().await?;
        self.change_in(&mut tx, &pairing, id, DocKind::PartRequest, ctx.now, |before| match before {
            Document::PartRequest(r) => Ok(Document::PartRequest(work::apply_to_part_request(r, &action, ctx)?)),
            _ => Err(CoreError::not_found("part request", id)),
        })
        .await?;
        tx.commit().await?;
        self.announce(DeviceEvent::LocalChange { docs: vec![id.to_string()] });
        Ok(())
    }

    /// Asks the warehouse for a part for a ticket; returns the request's id.
    pub async fn request_part(
        &self,
        ticket_id: &str,
        part_number: &str,
        description: &str,
        quantity: u64,
    ) -> CoreResult<String> {
        self.gate().await?;
        let pairing = self.pairing().await?;
        let ticket = self.ticket_document(parse_doc_id("ticket", ticket_id)?).await?;
        let ctx = context(&pairing);
        let request_id = DocId::new_v7(ctx.now, fresh_random());
        let request = work::new_part_request(&ticket, request_id, part_number, description, quantity, ctx)?;
        let _guard = self.write_lock().await;
        let mut tx = self.store().begin_write().await?;
        self.create_in(&mut tx, &pairing, &Document::PartRequest(request)).await?;
        let link = TicketAction::LinkPartRequest { request: request_id };
        self.act_in(&mut tx, &pairing, ticket.id, None, &link, ctx).await?;
        tx.commit().await?;
        self.announce(DeviceEvent::LocalChange { docs: vec![request_id.to_string(), ticket.id.to_string()] });
        Ok(request_id.to_string())
    }

    /// Opens a ticket for a problem found on site; returns its id and number.
    pub async fn create_ticket(&self, new: NewTicketInput) -> CoreResult<(String, String)> {
        self.gate().await?;
        let pairing = self.pairing().await?;
        let found_during = match &new.found_during {
            Some(id) => Some(self.ticket_document(parse_doc_id("ticket", id)?).await?),
            None => None,
        };
        let client = match (&new.client, &found_during) {
            (Some(id), _) => parse_doc_id("client", id)?,
            (None, Some(t)) => t.client,
            (None, None) => {
                return Err(CoreError::Invalid("name the client, or the ticket it was found during".into()))
            }
        };
        if found_during.is_none()
            && crate::store::queries::reference_name(self.store().pool(), &client.to_string()).await?.is_none()
        {
            return Err(CoreError::not_found("client", client));
        }
        let equipment =
            new.equipment.iter().map(|e| parse_doc_id("equipment", e)).collect::<CoreResult<Vec<DocId>>>()?;
        use outpost_sync::model::Priority;
        let priority = match new.priority.as_deref() {
            None => Priority::P3,
            Some(text) => Priority::parse(text)
                .ok_or_else(|| CoreError::Invalid(format!("priority {text:?} is not one of {}", Priority::codes())))?,
        };
        let ctx = context(&pairing);
        let id = DocId::new_v7(ctx.now, fresh_random());
        let spec =
            NewTicket { title: new.title, description: new.description, priority, client, found_during, equipment };
        let ticket = work::new_ticket(&spec, id, ctx)?;
        let number = ticket.number.clone();
        let _guard = self.write_lock().await;
        let mut tx = self.store().begin_write().await?;
        self.create_in(&mut tx, &pairing, &Document::Ticket(ticket)).await?;
        tx.commit().await?;
        self.announce(DeviceEvent::LocalChange { docs: vec![id.to_string()] });
        Ok((id.to_string(), number))
    }

    /// Attaches a photo to a ticket: prepared, stored with its thumbnail, queued for upload.
    pub async fn attach_photo(
        &self,
        ticket_id: &str,
        bytes: &[u8],
        name: &str,
        keep_location: bool,
    ) -> CoreResult<AttachedPhoto> {
        self.gate().await?;
        let pairing = self.pairing().await?;
        let id = parse_doc_id("ticket", ticket_id)?;
        // Decoding and scaling take a while: off the async threads, before any lock.
        let input = bytes.to_vec();
        let photo = tokio::task::spawn_blocking(move || media::prepare_photo(&input, keep_location))
            .await
            .map_err(|e| CoreError::Damaged(e.to_string()))??;
        let hash = media::content_hash(&photo.jpeg);
        let thumbnail = media::content_hash(&photo.thumbnail);
        let stem = std::path::Path::new(name.trim()).file_stem().and_then(|s| s.to_str()).unwrap_or("photo");
        let action = TicketAction::Attach {
            hash: hash.clone(),
            thumbnail: Some(thumbnail.clone()),
            name: format!("{}.jpg", if stem.is_empty() { "photo" } else { stem }),
            mime: "image/jpeg".into(),
            size: photo.jpeg.len() as u64,
        };
        let ctx = context(&pairing);
        let _guard = self.write_lock().await;
        let mut tx = self.store().begin_write().await?;
        self.act_in(&mut tx, &pairing, id, None, &action, ctx).await?;
        put_blob(
            &mut tx,
            &thumbnail,
            id,
            "image/jpeg",
            &photo.thumbnail,
            BlobOrigin::Here { rank: RANK_THUMBNAIL },
            ctx.now,
        )
        .await?;
        put_blob(&mut tx, &hash, id, "image/jpeg", &photo.jpeg, BlobOrigin::Here { rank: RANK_PHOTO }, ctx.now).await?;
        tx.commit().await?;
        self.announce(DeviceEvent::LocalChange { docs: vec![id.to_string()] });
        Ok(AttachedPhoto {
            hash: hash.0,
            thumbnail: thumbnail.0,
            width: photo.width,
            height: photo.height,
            bytes: photo.jpeg.len() as u64,
        })
    }

    /// Records the customer's signature (a PNG drawn in the UI) and who signed.
    pub async fn sign(&self, ticket_id: &str, png: &[u8], signer: &str) -> CoreResult<String> {
        self.gate().await?;
        let pairing = self.pairing().await?;
        let id = parse_doc_id("ticket", ticket_id)?;
        media::check_signature(png)?;
        let hash = media::content_hash(png);
        let action = TicketAction::Sign { signer: signer.to_owned(), hash: hash.clone(), size: png.len() as u64 };
        let ctx = context(&pairing);
        let _guard = self.write_lock().await;
        let mut tx = self.store().begin_write().await?;
        self.act_in(&mut tx, &pairing, id, None, &action, ctx).await?;
        put_blob(&mut tx, &hash, id, "image/png", png, BlobOrigin::Here { rank: RANK_SIGNATURE }, ctx.now).await?;
        tx.commit().await?;
        self.announce(DeviceEvent::LocalChange { docs: vec![id.to_string()] });
        Ok(hash.0)
    }
}

/// What the user fills in for a ticket found on site.
#[derive(ts_rs::TS, Clone, Debug, Default, PartialEq, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
#[ts(export)]
pub struct NewTicketInput {
    pub title: String,
    pub description: String,
    /// `P1` … `P4`; `P3` when not given.
    pub priority: Option<String>,
    /// The client's id; taken from `found_during` when not given.
    pub client: Option<String>,
    /// The ticket being worked on when the problem was found.
    pub found_during: Option<String>,
    pub equipment: Vec<String>,
}

/// Where a blob's bytes came from.
pub(super) enum BlobOrigin {
    /// Made here: they wait for upload, lower `rank` first.
    Here { rank: i64 },
    /// Fetched from the desk, which has them already.
    Desk,
}

pub(super) async fn put_blob(
    tx: &mut WriteTx,
    hash: &ContentHash,
    doc: DocId,
    mime: &str,
    bytes: &[u8],
    origin: BlobOrigin,
    at: outpost_sync::ids::Timestamp,
) -> CoreResult<()> {
    let (rank, uploaded) = match origin {
        BlobOrigin::Here { rank } => (rank, 0),
        BlobOrigin::Desk => (0, 1),
    };
    sqlx::query(
        "INSERT INTO blobs (hash, doc_id, mime, bytes, upload_rank, uploaded, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (hash) DO NOTHING",
    )
    .bind(&hash.0)
    .bind(doc.to_string())
    .bind(mime)
    .bind(bytes)
    .bind(rank)
    .bind(uploaded)
    .bind(at.0)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub(crate) fn kind_name(kind: DocKind) -> &'static str {
    match kind {
        DocKind::Ticket => "ticket",
        DocKind::Equipment => "equipment",
        DocKind::PartRequest => "part request",
        DocKind::Client => "client",
        DocKind::Site => "site",
        DocKind::ChecklistTemplate => "checklist template",
        DocKind::KbArticle => "knowledge-base article",
        DocKind::Directory => "directory",
    }
}
