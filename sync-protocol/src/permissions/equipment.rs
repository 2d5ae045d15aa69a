//! Who may change which part of an equipment record.
//!
//! The desk owns identity and coverage; staff engineers may create records
//! for equipment they find on site and keep location, attributes, notes and
//! installed parts current; partner engineers only read equipment.

use super::{rule, EntryChange, EntryKey, Keyed, RefusalReason, Reviewer, Verdict, WholeRefusal};
use crate::model::{Actor, DocKind, Document, Equipment, InstalledPart, ReplacedPart, Role, ServiceRecord};

impl Keyed for InstalledPart {
    fn entry_key(&self) -> EntryKey {
        EntryKey::Entry(self.id)
    }
}

impl Keyed for ServiceRecord {
    fn entry_key(&self) -> EntryKey {
        EntryKey::Entry(self.id)
    }
}

impl Keyed for ReplacedPart {
    fn entry_key(&self) -> EntryKey {
        EntryKey::Entry(self.id)
    }
}

pub(super) fn review(actor: &Actor, before: Option<&Equipment>, after: &Equipment) -> Verdict {
    let role = actor.role;
    if role == Role::PartnerEngineer {
        return Verdict::Refused(WholeRefusal::RoleMayNotWrite(DocKind::Equipment));
    }
    let creating = before.is_none();
    let blank;
    let before = if let Some(before) = before {
        before
    } else {
        blank = Equipment::new(after.id, after.serial.clone(), after.model.clone(), after.client);
        &blank
    };
    let desk = role.is_desk();
    let warehouse = desk || role == Role::PartsDesk;
    let identity = || match () {
        () if desk || creating => Ok(()),
        () => Err(RefusalReason::DeskOnly),
    };
    let keeper = || rule(desk || role == Role::Engineer, RefusalReason::RoleMayNot);

    let mut c = after.clone();
    let mut r = Reviewer::new();
    r.value("serial", &before.serial, &mut c.serial, identity());
    r.value("model", &before.model, &mut c.model, identity());
    r.value("vendor", &before.vendor, &mut c.vendor, identity());
    r.value("class", &before.class, &mut c.class, identity());
    r.value("client", &before.client, &mut c.client, identity());
    r.value("site", &before.site, &mut c.site, identity());
    r.value("installed_on", &before.installed_on, &mut c.installed_on, identity());
    r.value("covered_until", &before.covered_until, &mut c.covered_until, rule(desk, RefusalReason::DeskOnly));
    r.value("location_note", &before.location_note, &mut c.location_note, keeper());
    r.text("notes", &before.notes, &mut c.notes, Ok(()));
    r.map("attributes", &before.attributes, &mut c.attributes, |_| keeper());
    r.log("installed_parts", &before.installed_parts, &mut c.installed_parts, |change| match change {
        EntryChange::Added(_) => Ok(()),
        EntryChange::Amended { .. } | EntryChange::Removed => rule(warehouse, RefusalReason::DeskOnly),
    });
    r.log("replaced_parts", &before.replaced_parts, &mut c.replaced_parts, |change| match change {
        EntryChange::Added(_) => Ok(()),
        EntryChange::Amended { .. } | EntryChange::Removed => rule(warehouse, RefusalReason::DeskOnly),
    });
    r.log("service_records", &before.service_records, &mut c.service_records, |_| rule(desk, RefusalReason::DeskOnly));
    r.log("service_history", &before.service_history, &mut c.service_history, |change| match change {
        EntryChange::Added(_) => Ok(()),
        EntryChange::Amended { .. } | EntryChange::Removed => rule(desk, RefusalReason::DeskOnly),
    });
    r.finish(Document::Equipment(c))
}
