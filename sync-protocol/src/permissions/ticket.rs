//! Who may change which part of a ticket.
//!
//! - The desk (admin, dispatcher) may change anything; log entries stay append-only.
//! - Field roles write tickets they are or were assigned to: description,
//!   logs, checklist, signature, resolution, escalations, part requests.
//!   When they create a ticket they also fill in what it is about; SLA,
//!   entitlement, billing and support level are the desk's alone.
//! - The parts desk adds work-log notes and part requests.

use super::{append_only, rule, EntryChange, EntryKey, Keyed, RefusalReason, Reviewer, Verdict, WholeRefusal};
use crate::model::{
    Actor, Assignee, Attachment, Document, Escalation, Role, Ticket, TimeEntry, Transition, Visit, WorkLogEntry,
};
use crate::workflow::{fold_ticket, is_assigned_to, ticket_move_refusal};

macro_rules! keyed_by_entry_id {
    ($($ty:ty),*) => {$(
        impl Keyed for $ty {
            fn entry_key(&self) -> EntryKey {
                EntryKey::Entry(self.id)
            }
        }
    )*};
}
keyed_by_entry_id!(Transition, WorkLogEntry, TimeEntry, Visit, Attachment, Escalation);

/// Whether a field user may work on (and so read) a ticket: they reported
/// it, or some desk move in the log assigned it to them. After a
/// reassignment their offline work stays theirs to sync. Only the desk
/// assigns: an assignee named in anyone else's move grants nothing.
pub(crate) fn may_work_on(ticket: &Ticket, actor: &Actor) -> bool {
    ticket.created_by.user == actor.user || ticket.assignments().any(|assignee| is_assigned_to(Some(assignee), actor))
}

pub(super) fn review(actor: &Actor, before: Option<&Ticket>, after: &Ticket) -> Verdict {
    let creating = before.is_none();
    let blank;
    let before = if let Some(before) = before {
        before
    } else {
        blank =
            Ticket::new(after.id, *actor, after.created_at, after.number.clone(), after.title.clone(), after.client);
        &blank
    };
    let role = actor.role;
    let desk = role.is_desk();
    let field = role.is_field();
    if role == Role::PartsDesk && creating {
        return Verdict::Refused(WholeRefusal::RoleMayNotWrite(crate::model::DocKind::Ticket));
    }
    if field && !creating && !may_work_on(before, actor) {
        return Verdict::Refused(WholeRefusal::NotAssigned);
    }

    let desk_only = || rule(desk, RefusalReason::DeskOnly);
    let at_creation = || match () {
        () if desk || (field && creating) => Ok(()),
        () if field => Err(RefusalReason::CreationOnly),
        () => Err(RefusalReason::RoleMayNot),
    };
    let worker = || rule(desk || field, RefusalReason::RoleMayNot);

    let mut c = after.clone();
    let mut r = Reviewer::new();
    r.value(
        "created_by",
        &before.created_by,
        &mut c.created_by,
        Err(if creating { RefusalReason::ForgedAuthor } else { RefusalReason::CreationOnly }),
    );
    r.value("created_at", &before.created_at, &mut c.created_at, at_creation());
    r.value("number", &before.number, &mut c.number, at_creation());
    r.value("title", &before.title, &mut c.title, at_creation());
    r.value("client", &before.client, &mut c.client, at_creation());
    r.value("contact", &before.contact, &mut c.contact, at_creation());
    r.value("site", &before.site, &mut c.site, at_creation());
    r.value("category", &before.category, &mut c.category, at_creation());
    r.value("priority", &before.priority, &mut c.priority, at_creation());
    r.value("product_team", &before.product_team, &mut c.product_team, at_creation());
    r.value("checklist_template", &before.checklist_template, &mut c.checklist_template, at_creation());
    r.value("support_level", &before.support_level, &mut c.support_level, desk_only());
    r.value("sla", &before.sla, &mut c.sla, desk_only());
    r.value("entitlement", &before.entitlement, &mut c.entitlement, desk_only());
    r.value("billing", &before.billing, &mut c.billing, desk_only());
    r.text("description", &before.description, &mut c.description, worker());
    r.value("resolution.code", &before.resolution.code, &mut c.resolution.code, worker());
    r.text("resolution.notes", &before.resolution.notes, &mut c.resolution.notes, worker());

    r.value(
        "signature",
        &before.signature,
        &mut c.signature,
        match (&before.signature, &after.signature) {
            _ if desk => Ok(()),
            (Some(_), _) => Err(RefusalReason::SetOnce),
            (None, Some(signature)) if field => rule(signature.by == *actor, RefusalReason::ForgedAuthor),
            _ => Err(RefusalReason::RoleMayNot),
        },
    );

    // The fold judges each move against the assignment at its place in the
    // log; here a move only has to be one this role could make from the
    // status its author saw.
    let as_author_saw = if desk {
        fold_ticket(before).assignee
    } else {
        Some(Assignee { engineer: Some(actor.user), partner_org: Some(actor.org) })
    };
    r.log("transitions", &before.transitions, &mut c.transitions, |change| match change {
        EntryChange::Added(t) => {
            rule(t.by == *actor, RefusalReason::ForgedAuthor)?;
            rule(desk || t.assignee.is_none(), RefusalReason::AssigneeInFieldMove)?;
            match ticket_move_refusal(actor, t.from, as_author_saw.as_ref(), t.to, t.assignee.as_ref()) {
                Some(why) => Err(RefusalReason::Move(why)),
                None => Ok(()),
            }
        }
        EntryChange::Amended { .. } | EntryChange::Removed => Err(RefusalReason::AppendOnly),
    });

    let note_writer = desk || field || role == Role::PartsDesk;
    r.log("work_log", &before.work_log, &mut c.work_log, |change| {
        rule(note_writer, RefusalReason::RoleMayNot)?;
        append_only(actor, change, |e| e.by)
    });
    r.log("time_entries", &before.time_entries, &mut c.time_entries, |change| {
        worker()?;
        match change {
            EntryChange::Amended { before, after } => finishes(actor, &before.by, before.end, after.end, || {
                TimeEntry { end: before.end, ..after.clone() } == *before
            }),
            other => append_only(actor, other, |e| e.by),
        }
    });
    r.log("visits", &before.visits, &mut c.visits, |change| {
        worker()?;
        match change {
            EntryChange::Amended { before, after } => finishes(actor, &before.by, before.left, after.left, || {
                Visit { left: before.left, ..after.clone() } == *before
            }),
            other => append_only(actor, other, |e| e.by),
        }
    });
    r.log("attachments", &before.attachments, &mut c.attachments, |change| {
        worker()?;
        append_only(actor, change, |e| e.by)
    });
    r.log("escalations", &before.escalations, &mut c.escalations, |change| {
        worker()?;
        append_only(actor, change, |e| e.by)
    });
    r.map("checklist", &before.checklist, &mut c.checklist, |change| {
        worker()?;
        match change {
            EntryChange::Added(state) | EntryChange::Amended { after: state, .. } => {
                rule(state.by == *actor, RefusalReason::ForgedAuthor)
            }
            EntryChange::Removed => desk_only(),
        }
    });
    r.log("equipment", &before.equipment, &mut c.equipment, |change| match change {
        EntryChange::Added(_) => worker(),
        EntryChange::Amended { .. } | EntryChange::Removed => desk_only(),
    });
    r.log("part_requests", &before.part_requests, &mut c.part_requests, |change| match change {
        EntryChange::Added(_) => rule(note_writer, RefusalReason::RoleMayNot),
        EntryChange::Amended { .. } | EntryChange::Removed => desk_only(),
    });
    r.finish(Document::Ticket(c))
}

/// A running entry may be finished once, by its own author, changing nothing else.
fn finishes<T: Copy>(
    actor: &Actor,
    author: &Actor,
    was: Option<T>,
    now: Option<T>,
    rest_unchanged: impl FnOnce() -> bool,
) -> Result<(), RefusalReason> {
    let own_first_finish = author.user == actor.user && was.is_none() && now.is_some();
    rule((actor.role.is_desk() || own_first_finish) && rest_unchanged(), RefusalReason::NotOwnEntry)
}
