//! Who may change which part of a part request.
//!
//! Engineers ask for parts for their own company and follow them to the
//! site; the warehouse roles (parts desk, desk) approve, pick, ship and
//! receive returns. What was asked for is fixed once the warehouse acts.

use super::{rule, EntryChange, EntryKey, Keyed, RefusalReason, Reviewer, Verdict, WholeRefusal};
use crate::model::{Actor, Document, PartRequest, PartStatus, PartTransition};
use crate::workflow::{fold_part_request, part_move_refusal};

impl Keyed for PartTransition {
    fn entry_key(&self) -> EntryKey {
        EntryKey::Entry(self.id)
    }
}

pub(super) fn review(actor: &Actor, before: Option<&PartRequest>, after: &PartRequest) -> Verdict {
    let role = actor.role;
    let field = role.is_field();
    let creating = before.is_none();
    let org_of_request = before.map_or(after.org, |b| b.org);
    if field && org_of_request != actor.org {
        return Verdict::Refused(WholeRefusal::OtherOrg);
    }
    let blank;
    let before = if let Some(before) = before {
        before
    } else {
        blank = PartRequest { transitions: Vec::new(), ..after.clone() };
        &blank
    };
    let warehouse = !field;
    let status = fold_part_request(before).status;

    let mut c = after.clone();
    let mut r = Reviewer::new();
    if creating {
        // A new request names its creator; a forged one is put right.
        r.value("requested_by", actor, &mut c.requested_by, Err(RefusalReason::ForgedAuthor));
    } else {
        r.value("requested_by", &before.requested_by, &mut c.requested_by, Err(RefusalReason::CreationOnly));
    }
    r.value("ticket", &before.ticket, &mut c.ticket, Err(RefusalReason::CreationOnly));
    r.value("org", &before.org, &mut c.org, Err(RefusalReason::CreationOnly));
    r.value("requested_at", &before.requested_at, &mut c.requested_at, Err(RefusalReason::CreationOnly));
    r.value("part_number", &before.part_number, &mut c.part_number, Err(RefusalReason::CreationOnly));
    let still_open = || rule(warehouse || status == PartStatus::Requested, RefusalReason::SetOnce);
    r.value("description", &before.description, &mut c.description, still_open());
    r.value("quantity", &before.quantity, &mut c.quantity, still_open());
    r.value("warehouse", &before.warehouse, &mut c.warehouse, rule(warehouse, RefusalReason::DeskOnly));
    r.value(
        "tracking_number",
        &before.tracking_number,
        &mut c.tracking_number,
        rule(warehouse, RefusalReason::DeskOnly),
    );
    let not_yet_installed =
        || rule(warehouse || matches!(status, PartStatus::Requested | PartStatus::Delivered), RefusalReason::SetOnce);
    r.value("equipment", &before.equipment, &mut c.equipment, not_yet_installed());
    r.value("return_tracking", &before.return_tracking, &mut c.return_tracking, Ok(()));
    r.value("installed_serial", &before.installed_serial, &mut c.installed_serial, Ok(()));
    r.value("removed_serial", &before.removed_serial, &mut c.removed_serial, Ok(()));
    r.log("transitions", &before.transitions, &mut c.transitions, |change| match change {
        EntryChange::Added(t) => {
            rule(t.by == *actor, RefusalReason::ForgedAuthor)?;
            match part_move_refusal(actor, org_of_request, t.from, t.to) {
                Some(why) => Err(RefusalReason::Move(why)),
                None => Ok(()),
            }
        }
        EntryChange::Amended { .. } | EntryChange::Removed => Err(RefusalReason::AppendOnly),
    });
    r.finish(Document::PartRequest(c))
}
