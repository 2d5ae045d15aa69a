//! What an engineer does to a ticket or a part request, as pure functions
//! from the document before to the document after.
//!
//! Each function checks the workflow and the input first and says why it
//! will not do something; the caller then runs sync-protocol's `review` on
//! the result, so the app never makes an edit the desk would refuse.

use autosurgeon::Text;
use outpost_sync::ids::{ContentHash, DocId, EntryId, Timestamp};
use outpost_sync::limits::FieldLimits;
use outpost_sync::model::{
    Actor, Attachment, ChecklistItemState, ChecklistTemplate, Coordinates, Escalation, PartRequest, PartStatus,
    PartTransition, Priority, Signature, SupportLevel, Ticket, TicketStatus, TimeEntry, TimeKind, Transition, Visit,
    WorkLogEntry,
};
use outpost_sync::workflow::{fold_part_request, fold_ticket, part_move_refusal, ticket_move_refusal};

use crate::error::{CoreError, CoreResult};

/// Who does it, when, and a fresh id for whatever entry it adds.
#[derive(Clone, Copy, Debug)]
pub struct Context {
    pub actor: Actor,
    pub now: Timestamp,
    pub entry: EntryId,
}

/// One thing an engineer does to a ticket. From the UI it arrives as JSON
/// tagged by `type`; attaching, signing and linking part requests have
/// operations of their own (they carry files or create documents) and
/// cannot be sent this way.
#[derive(Clone, Debug, PartialEq, serde::Deserialize, ts_rs::TS)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
#[ts(export)]
pub enum TicketAction {
    Accept,
    /// Hands an assigned ticket back to the desk.
    Decline {
        reason: String,
    },
    EnRoute,
    /// Arrives on site: a visit starts; a running travel timer stops.
    Arrive {
        coordinates: Option<Location>,
    },
    /// Leaves the site for now (waiting for parts): the visit ends.
    WaitForParts,
    AddNote {
        text: String,
    },
    EditDescription {
        text: String,
    },
    Tick {
        item: String,
        done: bool,
    },
    StartTimer {
        kind: Timer,
    },
    StopTimer,
    #[serde(skip)]
    #[ts(skip)]
    Attach {
        hash: ContentHash,
        thumbnail: Option<ContentHash>,
        name: String,
        mime: String,
        size: u64,
    },
    #[serde(skip)]
    #[ts(skip)]
    Sign {
        signer: String,
        hash: ContentHash,
        size: u64,
    },
    SetResolution {
        code: Option<String>,
        notes: String,
    },
    /// Resolves the ticket: the visit ends and the engineer's timers stop.
    Resolve,
    Escalate {
        to: EscalationLevel,
        reason: String,
    },
    /// Links a new part request (created alongside) to the ticket.
    #[serde(skip)]
    #[ts(skip)]
    LinkPartRequest {
        request: DocId,
    },
}

/// Where the engineer stood, in WGS 84 degrees.
#[derive(Clone, Copy, Debug, PartialEq, serde::Deserialize, ts_rs::TS)]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct Location {
    pub lat: f64,
    pub lon: f64,
}

impl From<Location> for Coordinates {
    fn from(l: Location) -> Self {
        Self { lat: l.lat, lon: l.lon }
    }
}

/// What a timer counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum Timer {
    Travel,
    Work,
}

impl From<Timer> for TimeKind {
    fn from(t: Timer) -> Self {
        match t {
            Timer::Travel => Self::Travel,
            Timer::Work => Self::Work,
        }
    }
}

/// The levels a field engineer escalates to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum EscalationLevel {
    L2Remote,
    L3Expert,
}

impl From<EscalationLevel> for SupportLevel {
    fn from(l: EscalationLevel) -> Self {
        match l {
            EscalationLevel::L2Remote => Self::L2Remote,
            EscalationLevel::L3Expert => Self::L3Expert,
        }
    }
}

fn invalid(reason: impl Into<String>) -> CoreError {
    CoreError::Invalid(reason.into())
}

fn required(text: &str, what: &str, max: usize) -> CoreResult<String> {
    let text = text.trim();
    if text.is_empty() {
        return Err(invalid(format!("{what} must not be empty")));
    }
    if text.len() > max {
        return Err(invalid(format!("{what} is {} bytes, at most {max}", text.len())));
    }
    Ok(text.to_owned())
}

/// Applies `action` to `ticket`; `template` is the ticket's checklist template when it has one.
pub fn apply_to_ticket(
    ticket: &Ticket,
    template: Option<&ChecklistTemplate>,
    action: &TicketAction,
    ctx: Context,
) -> CoreResult<Ticket> {
    let limits = FieldLimits::default();
    let mut t = ticket.clone();
    let by = ctx.actor;
    let status = fold_ticket(ticket).status;
    match action {
        TicketAction::Accept => move_to(&mut t, TicketStatus::Accepted, None, ctx)?,
        TicketAction::Decline { reason } => {
            let reason = required(reason, "the reason", limits.short_text)?;
            move_to(&mut t, TicketStatus::New, Some(reason), ctx)?;
        }
        TicketAction::EnRoute => move_to(&mut t, TicketStatus::EnRoute, None, ctx)?,
        TicketAction::Arrive { coordinates } => {
            let coordinates = coordinates.map(Coordinates::from);
            if coordinates.is_some_and(|c| !c.is_valid()) {
                return Err(invalid("coordinates must be a latitude in -90..90 and a longitude in -180..180"));
            }
            move_to(&mut t, TicketStatus::OnSite, None, ctx)?;
            stop_timers(&mut t, ctx, Some(TimeKind::Travel));
            t.visits.push(Visit { id: ctx.entry, arrived: ctx.now, left: None, coordinates, by });
        }
        TicketAction::WaitForParts => {
            move_to(&mut t, TicketStatus::WaitingParts, None, ctx)?;
            leave_site(&mut t, ctx);
        }
        TicketAction::AddNote { text } => {
            let text = required(text, "the note", limits.long_text)?;
            t.work_log.push(WorkLogEntry { id: ctx.entry, at: ctx.now, by, text });
        }
        TicketAction::EditDescription { text } => {
            if text.len() > limits.long_text {
                return Err(invalid(format!("the description is longer than {} bytes", limits.long_text)));
            }
            t.description.update(text);
        }
        TicketAction::Tick { item, done } => {
            let template = template.ok_or_else(|| invalid("this ticket has no checklist"))?;
            if !template.items.iter().any(|i| i.key == *item) {
                return Err(invalid(format!("{item:?} is not an item of the checklist {:?}", template.name)));
            }
            t.checklist.insert(item.clone(), ChecklistItemState { done: *done, by, at: ctx.now });
        }
        TicketAction::StartTimer { kind } => {
            if running_timer(&t, &by).is_some() {
                return Err(invalid("a timer of yours is already running on this ticket; stop it first"));
            }
            t.time_entries.push(TimeEntry { id: ctx.entry, kind: (*kind).into(), start: ctx.now, end: None, by });
        }
        TicketAction::StopTimer => {
            if stop_timers(&mut t, ctx, None) == 0 {
                return Err(invalid("no timer of yours is running on this ticket"));
            }
        }
        TicketAction::Attach { hash, thumbnail, name, mime, size } => {
            let name = required(name, "the file name", limits.short_text)?;
            t.attachments.push(Attachment {
                id: ctx.entry,
                hash: hash.clone(),
                thumbnail: thumbnail.clone(),
                name,
                mime: mime.clone(),
                size: *size,
                at: ctx.now,
                by,
            });
        }
        TicketAction::Sign { signer, hash, size } => {
            if t.signature.is_some() {
                return Err(CoreError::Refused("the customer has already signed this ticket".into()));
            }
            let signer_name = required(signer, "the signer's name", limits.short_text)?;
            t.attachments.push(Attachment {
                id: ctx.entry,
                hash: hash.clone(),
                thumbnail: None,
                name: "signature.png".into(),
                mime: "image/png".into(),
                size: *size,
                at: ctx.now,
                by,
            });
            t.signature = Some(Signature { signer_name, at: ctx.now, attachment: hash.clone(), by });
        }
        TicketAction::SetResolution { code, notes } => {
            let code = code.as_deref().map(str::trim).filter(|c| !c.is_empty());
            if code.is_some_and(|c| c.len() > limits.short_text) || notes.len() > limits.long_text {
                return Err(invalid("the resolution is too long"));
            }
            t.resolution.code = code.map(str::to_owned);
            t.resolution.notes.update(notes);
        }
        TicketAction::Resolve => {
            move_to(&mut t, TicketStatus::Resolved, None, ctx)?;
            if t.resolution.code.is_none() && t.resolution.notes.as_str().trim().is_empty() {
                return Err(invalid("set the resolution (a code or notes) before resolving"));
            }
            leave_site(&mut t, ctx);
            stop_timers(&mut t, ctx, None);
        }
        TicketAction::Escalate { to, reason } => {
            let to = SupportLevel::from(*to);
            let from = t.escalations.last().map_or(t.support_level, |e| e.to);
            if to <= from {
                return Err(invalid(format!("the ticket is already at {from:?}; escalate to a higher level")));
            }
            if status.is_terminal() {
                return Err(CoreError::Refused(format!("the ticket is {}", status.as_str())));
            }
            let reason = required(reason, "the reason", limits.short_text)?;
            t.escalations.push(Escalation { id: ctx.entry, from, to, reason, at: ctx.now, by });
        }
        TicketAction::LinkPartRequest { request } => t.part_requests.push(*request),
    }
    Ok(t)
}

fn move_to(t: &mut Ticket, to: TicketStatus, reason: Option<String>, ctx: Context) -> CoreResult<()> {
    let state = fold_ticket(t);
    if let Some(why) = ticket_move_refusal(&ctx.actor, state.status, state.assignee.as_ref(), to, None) {
        return Err(CoreError::Refused(format!(
            "a ticket that is {} cannot be moved to {}: {why}",
            state.status.as_str(),
            to.as_str()
        )));
    }
    t.transitions.push(Transition {
        id: ctx.entry,
        from: state.status,
        to,
        at: ctx.now,
        by: ctx.actor,
        assignee: None,
        reason,
    });
    Ok(())
}

fn running_timer<'a>(t: &'a Ticket, by: &Actor) -> Option<&'a TimeEntry> {
    t.time_entries.iter().find(|e| e.end.is_none() && e.by.user == by.user)
}

/// Stops the actor's running timers (of `kind`, or all); returns how many.
fn stop_timers(t: &mut Ticket, ctx: Context, kind: Option<TimeKind>) -> usize {
    let mut stopped = 0;
    for entry in &mut t.time_entries {
        if entry.end.is_none() && entry.by.user == ctx.actor.user && kind.is_none_or(|k| k == entry.kind) {
            entry.end = Some(ctx.now.max(entry.start));
            stopped += 1;
        }
    }
    stopped
}

fn leave_site(t: &mut Ticket, ctx: Context) {
    for visit in &mut t.visits {
        if visit.left.is_none() && visit.by.user == ctx.actor.user {
            visit.left = Some(ctx.now.max(visit.arrived));
        }
    }
}

/// What an engineer writes when they find a new problem on site.
#[derive(Clone, Debug, PartialEq)]
pub struct NewTicket {
    pub title: String,
    pub description: String,
    pub priority: Priority,
    pub client: DocId,
    /// The ticket they were working on, whose client, site and contact the new one shares.
    pub found_during: Option<Ticket>,
    pub equipment: Vec<DocId>,
}

/// A new ticket for a problem found on site; the desk sets its deadlines when it arrives.
pub fn new_ticket(new: &NewTicket, id: DocId, ctx: Context) -> CoreResult<Ticket> {
    let limits = FieldLimits::default();
    let title = required(&new.title, "the title", limits.short_text)?;
    if new.description.len() > limits.long_text {
        return Err(invalid("the description is too long"));
    }
    let year = ctx.now.to_datetime().map_or(0, |d| chrono::Datelike::year(&d));
    let number = format!("F-{year}-{}", &id.0.simple().to_string()[24..]);
    let client = new.found_during.as_ref().map_or(new.client, |t| t.client);
    let mut t = Ticket::new(id, ctx.actor, ctx.now, number, title, client);
    t.description = Text::with_value(new.description.trim());
    t.priority = new.priority;
    if let Some(during) = &new.found_during {
        t.site = during.site.clone();
        t.contact = during.contact.clone();
        t.product_team = during.product_team.clone();
        t.category = during.category.clone();
    }
    t.equipment = new.equipment.clone();
    Ok(t)
}

/// A new part request for a ticket.
pub fn new_part_request(
    ticket: &Ticket,
    id: DocId,
    part_number: &str,
    description: &str,
    quantity: u64,
    ctx: Context,
) -> CoreResult<PartRequest> {
    let limits = FieldLimits::default();
    let part_number = required(part_number, "the part number", limits.short_text)?;
    if !(1..=10_000).contains(&quantity) {
        return Err(invalid(format!("quantity {quantity} is not between 1 and 10000")));
    }
    if fold_ticket(ticket).status.is_terminal() {
        return Err(CoreError::Refused("parts cannot be requested for a closed or cancelled ticket".into()));
    }
    let mut request = PartRequest::new(id, ticket.id, ctx.actor, ctx.now, part_number, quantity);
    request.description = description.trim().to_owned();
    Ok(request)
}

/// One thing an engineer does to a part request.
#[derive(Clone, Debug, PartialEq, serde::Deserialize, ts_rs::TS)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
#[ts(export)]
pub enum PartAction {
    /// The part reached the engineer.
    Receive,
    Cancel {
        reason: String,
    },
    /// Records the serials of the part installed and of the faulty part
    /// removed; a delivered part becomes installed. `equipment` names the
    /// ticket's machine it went into, when the ticket has more than one.
    RecordSerials {
        installed: Option<String>,
        removed: Option<String>,
        equipment: Option<String>,
    },
    /// Sends the part back to the warehouse: one not used, or the faulty
    /// one removed; with the carrier's tracking number if there is one.
    SendBack {
        tracking: Option<String>,
    },
}

pub fn apply_to_part_request(request: &PartRequest, action: &PartAction, ctx: Context) -> CoreResult<PartRequest> {
    let limits = FieldLimits::default();
    let mut r = request.clone();
    let status = fold_part_request(request).status;
    let advance = |r: &mut PartRequest, to: PartStatus, reason: Option<String>| -> CoreResult<()> {
        if let Some(why) = part_move_refusal(&ctx.actor, r.org, status, to) {
            return Err(CoreError::Refused(format!(
                "a part request that is {} cannot be moved to {}: {why}",
                status.as_str(),
                to.as_str()
            )));
        }
        r.transitions.push(PartTransition { id: ctx.entry, from: status, to, at: ctx.now, by: ctx.actor, reason });
        Ok(())
    };
    match action {
        PartAction::Receive => advance(&mut r, PartStatus::Delivered, None)?,
        PartAction::Cancel { reason } => {
            let reason = required(reason, "the reason", limits.short_text)?;
            advance(&mut r, PartStatus::Cancelled, Some(reason))?;
        }
        PartAction::SendBack { tracking } => {
            if let Some(tracking) = tracking.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
                r.return_tracking = Some(required(tracking, "the tracking number", limits.short_text)?);
            }
            advance(&mut r, PartStatus::ReturnSent, None)?;
        }
        PartAction::RecordSerials { installed, removed, equipment } => {
            let installed = installed.as_deref().map(|s| required(s, "the installed serial", limits.short_text));
            let removed = removed.as_deref().map(|s| required(s, "the removed serial", limits.short_text));
            if installed.is_none() && removed.is_none() {
                return Err(invalid("give the serial of the part installed, of the part removed, or both"));
            }
            if !matches!(status, PartStatus::Delivered | PartStatus::Installed) {
                return Err(CoreError::Refused(format!(
                    "serials are recorded once the part is delivered; this request is {}",
                    status.as_str()
                )));
            }
            if let Some(serial) = installed {
                r.installed_serial = Some(serial?);
            }
            if let Some(serial) = removed {
                r.removed_serial = Some(serial?);
            }
            if let Some(equipment) = equipment {
                r.equipment =
                    Some(equipment.parse().map_err(|_| invalid(format!("{equipment:?} is not an equipment id")))?);
            }
            if status == PartStatus::Delivered {
                advance(&mut r, PartStatus::Installed, None)?;
            }
        }
    }
    Ok(r)
}

#[cfg(test)]
mod tests;
