//! What the desk does when a device's ticket lands, on the desk's clock:
//! - a ticket a device created gets its SLA deadlines from its client's
//!   contract hours, counted from when the desk received it;
//! - the first field response (accept, en route, on site, a work-log note)
//!   sets `first_response_at`;
//! - a resolved ticket gets `resolved_at`;
//! - both at the time the engineer entered, corrected by how far the
//!   pushing device's clock runs from the desk's ([`DeviceClock`]) and kept
//!   between the ticket's opening and now (what had to be kept is
//!   [`Implausible`], for the audit); at the moment the desk learnt of it
//!   when the device did not say what its clock read;
//! - an escalation (L1 → L2 → L3) sets the ticket's support level, so the
//!   desk's queues move it at once: the last entry of the escalations log
//!   is the level;
//! - each piece of equipment a ticket names lists the ticket in its service
//!   history;
//! - a part request installed with serials updates its equipment: the part
//!   installed joins the installed parts, the faulty part removed moves to
//!   the replaced parts;
//! - resolving a user-caused incident or a service request, under a
//!   contract or prepaid (never under warranty or per call), charges the
//!   client's prepaid points by the recorded work time, rounded up to the
//!   next quarter hour (points = person-hours); a balance that falls below
//!   [`LOW_BALANCE`] is worth a warning.
//!
//! Decided here, once, from the ticket and its client; every desk (the SQL
//! desk, the memory desk) loads them, applies [`Reaction`] as its own
//! change in the round's transaction, and so the device receives it in the
//! same round.

use crate::ids::{DocId, EntryId, Timestamp};
use crate::model::{
    BillingClass, Client, Equipment, InstalledPart, PartRequest, PartStatus, Points, ReplacedPart, ServiceRecord,
    SupportLevel, Ticket, TicketStatus, TimeKind,
};
use crate::sla::{deadlines, Calendar};
use crate::workflow::fold_part_request;
use crate::workflow::fold_ticket;

/// A balance below this many points is worth a warning.
pub const LOW_BALANCE: Points = Points { hundredths: 1_000 };

/// The clock of the device whose push the desk answers: how far the
/// desk's clock runs ahead of it (desk − device, ms), when the device said
/// what its clock read as it sent the round.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DeviceClock {
    pub desk_ahead_ms: Option<i64>,
}

/// A time a device entered that, corrected, fell outside the ticket's life
/// (before it opened, or after the desk's now), and the time used instead.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Implausible {
    /// `first_response` or `resolution`.
    pub what: &'static str,
    pub entered: Timestamp,
    pub corrected: Timestamp,
    pub used: Timestamp,
}

impl DeviceClock {
    /// The desk's time for a moment the device entered: corrected by the
    /// offset and kept between `opened` and `now`; `now` when the offset is
    /// unknown. Says so when it had to be kept.
    pub fn desk_time(
        &self,
        what: &'static str,
        entered: Timestamp,
        opened: Timestamp,
        now: Timestamp,
    ) -> (Timestamp, Option<Implausible>) {
        let Some(ahead) = self.desk_ahead_ms else { return (now, None) };
        let corrected = entered.plus_millis(ahead);
        let used = corrected.min(now).max(opened.min(now));
        (used, (used != corrected).then_some(Implausible { what, entered, corrected, used }))
    }
}

/// What the desk writes in answer to a ticket, as found by [`react`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reaction {
    /// Reaction and resolution deadlines, for a ticket that has none.
    pub deadlines: Option<(Option<Timestamp>, Option<Timestamp>)>,
    /// The first field response's time, when the ticket has none yet.
    pub first_response: Option<Timestamp>,
    /// The resolution's time, when the ticket is resolved and has none yet.
    pub resolved: Option<Timestamp>,
    /// Entered times that did not fit the ticket's life, for the audit.
    pub implausible: Vec<Implausible>,
    /// The level the last escalation reached, when the ticket is not there yet.
    pub level: Option<SupportLevel>,
    /// Points to charge the client for the work recorded.
    pub charge: Option<Points>,
    pub at: Timestamp,
}

/// What the desk writes on an equipment record in answer to a ticket or a
/// part request.
#[derive(Clone, Debug, PartialEq)]
pub struct EquipmentUpdate {
    pub equipment: DocId,
    /// A ticket to list in the service history, with its record as it is now.
    pub ticket: Option<DocId>,
    pub record: Option<ServiceRecord>,
    pub installed: Option<InstalledPart>,
    /// The serial of the part taken out, and how it is remembered.
    pub removed: Option<ReplacedPart>,
}

impl EquipmentUpdate {
    pub fn apply(&self, equipment: &mut Equipment) {
        if let Some(ticket) = self.ticket.filter(|t| !equipment.service_history.contains(t)) {
            equipment.service_history.push(ticket);
        }
        if let Some(record) = &self.record {
            match equipment.service_records.iter_mut().find(|r| r.id == record.id) {
                Some(old) => *old = record.clone(),
                None => equipment.service_records.push(record.clone()),
            }
        }
        if let Some(part) = &self.removed {
            equipment.installed_parts.retain(|p| p.serial != part.serial);
            equipment.replaced_parts.push(part.clone());
        }
        if let Some(part) = &self.installed {
            equipment.installed_parts.push(part.clone());
        }
    }
}

/// A ticket as an equipment record's service history shows it.
pub fn service_record(ticket: &Ticket) -> ServiceRecord {
    ServiceRecord {
        id: EntryId(ticket.id.0),
        ticket: ticket.id,
        number: ticket.number.clone(),
        status: crate::workflow::fold_ticket(ticket).status,
        opened: ticket.created_at,
        resolved_at: ticket.sla.resolved_at,
        resolution_code: ticket.resolution.code.clone(),
        visits: ticket.visits.iter().map(|v| v.arrived).collect(),
    }
}

/// What the equipment `ticket` names (`equipment`, as the desk has it)
/// lacks of it: the ticket in its service history, or the ticket's record
/// as it reads now.
pub fn service_history(ticket: &Ticket, equipment: &[Equipment]) -> Vec<EquipmentUpdate> {
    let record = service_record(ticket);
    equipment
        .iter()
        .filter(|e| ticket.equipment.contains(&e.id))
        .filter(|e| !e.service_history.contains(&ticket.id) || !e.service_records.contains(&record))
        .map(|e| EquipmentUpdate {
            equipment: e.id,
            ticket: Some(ticket.id),
            record: Some(record.clone()),
            installed: None,
            removed: None,
        })
        .collect()
}

/// What an installed part request writes on its equipment: the equipment
/// it names, if its ticket names that equipment too, or else its ticket's
/// only equipment. `equipment` is the ticket's equipment as the desk has
/// it. Once recorded (entries carry the request's id), nothing more.
pub fn part_installed(
    request: &PartRequest,
    ticket: &Ticket,
    equipment: &[Equipment],
    now: Timestamp,
) -> Option<EquipmentUpdate> {
    // Installed, or installed and already on its way back (all of it done
    // offline before one sync): the serials count either way.
    let status = fold_part_request(request).status;
    let was_installed = status == PartStatus::Installed
        || (matches!(status, PartStatus::ReturnSent | PartStatus::Returned)
            && request.transitions.iter().any(|t| t.to == PartStatus::Installed));
    if request.ticket != ticket.id || !was_installed {
        return None;
    }
    let target = match request.equipment {
        Some(id) => ticket.equipment.contains(&id).then_some(id)?,
        None if ticket.equipment.len() == 1 => ticket.equipment[0],
        None => return None,
    };
    let record = equipment.iter().find(|e| e.id == target)?;
    let entry = EntryId(request.id.0);
    let installed = request
        .installed_serial
        .clone()
        .filter(|_| !record.installed_parts.iter().any(|p| p.part_request == Some(request.id)))
        .map(|serial| InstalledPart {
            id: entry,
            part_number: request.part_number.clone(),
            serial,
            installed_at: now,
            part_request: Some(request.id),
        });
    let removed = request
        .removed_serial
        .clone()
        .filter(|_| !record.replaced_parts.iter().any(|p| p.part_request == Some(request.id)))
        // A serial already taken out and not put back is not taken out twice.
        .filter(|serial| {
            record.installed_parts.iter().any(|p| p.serial == *serial)
                || !record.replaced_parts.iter().any(|p| p.serial == *serial)
        })
        .map(|serial| {
            let was = record.installed_parts.iter().find(|p| p.serial == serial);
            ReplacedPart {
                id: entry,
                part_number: was.map_or_else(|| request.part_number.clone(), |p| p.part_number.clone()),
                serial,
                removed_at: now,
                part_request: Some(request.id),
            }
        });
    let history = service_record(ticket);
    let listed = record.service_history.contains(&ticket.id) && record.service_records.contains(&history);
    (installed.is_some() || removed.is_some() || !listed).then_some(EquipmentUpdate {
        equipment: target,
        ticket: Some(ticket.id),
        record: Some(history),
        installed,
        removed,
    })
}

/// What the desk must write in answer to `ticket` as it now reads, with its
/// client if the desk has it; `None` when nothing.
pub fn react(ticket: &Ticket, client: Option<&Client>, now: Timestamp, clock: DeviceClock) -> Option<Reaction> {
    let needs_deadlines = ticket.sla.reaction_due.is_none() && ticket.sla.resolution_due.is_none();
    let deadlines = client
        .filter(|_| needs_deadlines)
        .and_then(|client| Calendar::new(&client.business_hours, &ticket.site.time_zone).ok())
        .map(|calendar| {
            let sla = deadlines(ticket.priority, &calendar, now);
            (sla.reaction_due, sla.resolution_due)
        });
    let state = fold_ticket(ticket);
    let field_response = ticket
        .transitions
        .iter()
        .filter(|t| {
            t.by.role.is_field()
                && matches!(t.to, TicketStatus::Accepted | TicketStatus::EnRoute | TicketStatus::OnSite)
        })
        .map(|t| t.at)
        .chain(ticket.work_log.iter().filter(|n| n.by.role.is_field()).map(|n| n.at))
        .min();
    // A ticket the engineer opened on the device carries the device's clock too.
    let opened = match clock.desk_ahead_ms {
        Some(ahead) if ticket.created_by.role.is_field() => ticket.created_at.plus_millis(ahead),
        _ => ticket.created_at,
    };
    let mut implausible = Vec::new();
    let mut desk_time = |what, entered| {
        let (used, flag) = clock.desk_time(what, entered, opened, now);
        implausible.extend(flag);
        used
    };
    let first_response = field_response
        .filter(|_| ticket.sla.first_response_at.is_none())
        .map(|entered| desk_time("first_response", entered));
    let resolved = state.status == TicketStatus::Resolved;
    let charge = (resolved
        && ticket.billing.points_charged.is_none()
        && ticket.entitlement.charges_points()
        && matches!(ticket.billing.class, BillingClass::UserCausedIncident | BillingClass::ServiceRequest)
        && client.is_some_and(|c| c.points_balance.is_some()))
    .then(|| work_points(ticket));
    let mark_resolved = (resolved && ticket.sla.resolved_at.is_none()).then(|| {
        let entered = ticket.transitions.iter().filter(|t| t.to == TicketStatus::Resolved).map(|t| t.at).max();
        desk_time("resolution", entered.unwrap_or(now))
    });
    let level = ticket.escalations.last().map(|e| e.to).filter(|to| *to != ticket.support_level);
    (deadlines.is_some() || first_response.is_some() || charge.is_some() || mark_resolved.is_some() || level.is_some())
        .then_some(Reaction { deadlines, first_response, resolved: mark_resolved, implausible, level, charge, at: now })
}

impl Reaction {
    /// Writes the reaction into the ticket.
    pub fn apply_to_ticket(&self, ticket: &mut Ticket) {
        if let Some((reaction_due, resolution_due)) = self.deadlines {
            ticket.sla.reaction_due = reaction_due;
            ticket.sla.resolution_due = resolution_due;
        }
        if let Some(at) = self.first_response {
            ticket.sla.first_response_at = Some(at);
        }
        if let Some(at) = self.resolved {
            ticket.sla.resolved_at = Some(at);
        }
        if let Some(level) = self.level {
            ticket.support_level = level;
        }
        if let Some(points) = self.charge {
            ticket.billing.points_charged = Some(points);
        }
    }

    /// Takes the charge from the client's balance (never below zero);
    /// returns the balance left, if the reaction charges and the client
    /// keeps one.
    pub fn charge_client(&self, client: &mut Client) -> Option<Points> {
        let points = self.charge?;
        let left = client.points_balance.as_mut()?;
        left.hundredths = left.hundredths.saturating_sub(points.hundredths);
        Some(*left)
    }
}

/// Work time recorded on a ticket, in hundredths of an hour, rounded up to
/// the next quarter hour. The times are a device's: the desk bounds them
/// when they arrive, and the sum here is checked arithmetic all the same,
/// saturating rather than wrapping or panicking.
pub fn work_points(ticket: &Ticket) -> Points {
    let millis: u64 = ticket
        .time_entries
        .iter()
        .filter(|e| e.kind == TimeKind::Work)
        .filter_map(|e| e.end.map(|end| i128::from(end.0) - i128::from(e.start.0)))
        .map(|length| u64::try_from(length.max(0)).unwrap_or(u64::MAX))
        .fold(0u64, u64::saturating_add);
    let quarter: u64 = 15 * 60_000;
    let quarters = millis.div_ceil(quarter);
    Points { hundredths: quarters.saturating_mul(25) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::EntryId;
    use crate::model::{BusinessHours, TimeEntry};
    use crate::sample::{worked_ticket, Cast, Rng};

    #[test]
    fn work_time_rounds_up_to_the_next_quarter_hour_and_travel_is_free() {
        let cast = Cast::default();
        let mut ticket = worked_ticket(&mut Rng::new(1), &cast, 1, Timestamp(0));
        ticket.time_entries = vec![
            TimeEntry {
                id: EntryId::from_u128(1),
                kind: TimeKind::Work,
                start: Timestamp(0),
                end: Some(Timestamp(61 * 60_000)),
                by: cast.engineer,
            },
            TimeEntry {
                id: EntryId::from_u128(2),
                kind: TimeKind::Travel,
                start: Timestamp(0),
                end: Some(Timestamp(600 * 60_000)),
                by: cast.engineer,
            },
            TimeEntry {
                id: EntryId::from_u128(3),
                kind: TimeKind::Work,
                start: Timestamp(0),
                end: None,
                by: cast.engineer,
            },
        ];
        assert_eq!(work_points(&ticket), Points { hundredths: 125 }, "61 minutes bill as 1.25 hours");
    }

    /// An engineer resolves offline at 10:00 on a clock two minutes slow and
    /// syncs at 16:00: the ticket counts as resolved at 10:02, not 16:00.
    #[test]
    fn entered_times_count_corrected_by_the_device_clock_and_kept_inside_the_tickets_life() {
        const HOUR: i64 = 3_600_000;
        let cast = Cast::default();
        let opened = Timestamp(1_000 * HOUR);
        let mut ticket =
            Ticket::new(DocId::from_u128(7), cast.dispatcher, opened, "T-1".into(), "Fan".into(), DocId::from_u128(8));
        let mv = |n: u128, from, to, at| crate::model::Transition {
            id: EntryId::from_u128(n),
            from,
            to,
            at: Timestamp(at),
            by: cast.engineer,
            assignee: None,
            reason: None,
        };
        ticket.transitions.push(mv(1, TicketStatus::New, TicketStatus::Assigned, opened.0));
        ticket.transitions[0].by = cast.dispatcher;
        ticket.transitions[0].assignee =
            Some(crate::model::Assignee { engineer: Some(cast.engineer.user), partner_org: None });
        ticket.transitions.push(mv(2, TicketStatus::Assigned, TicketStatus::Accepted, opened.0 + HOUR));
        ticket.transitions.push(mv(3, TicketStatus::Accepted, TicketStatus::OnSite, opened.0 + 2 * HOUR));
        ticket.transitions.push(mv(4, TicketStatus::OnSite, TicketStatus::Resolved, opened.0 + 3 * HOUR));
        let synced = Timestamp(opened.0 + 9 * HOUR);
        let slow = DeviceClock { desk_ahead_ms: Some(120_000) };
        let r = react(&ticket, None, synced, slow).expect("a response and a resolution to record");
        assert_eq!(r.first_response, Some(Timestamp(opened.0 + HOUR + 120_000)));
        assert_eq!(r.resolved, Some(Timestamp(opened.0 + 3 * HOUR + 120_000)));
        assert!(r.implausible.is_empty());

        // Without the device's clock: the moment the desk learnt of it, as before.
        let r = react(&ticket, None, synced, DeviceClock::default()).unwrap();
        assert_eq!((r.first_response, r.resolved), (Some(synced), Some(synced)));

        // A clock far ahead puts the work before the ticket opened; far behind, after now.
        let r = react(&ticket, None, synced, DeviceClock { desk_ahead_ms: Some(-2 * HOUR) }).unwrap();
        assert_eq!(r.first_response, Some(opened), "kept at the opening");
        assert_eq!(r.implausible.len(), 1);
        assert_eq!(r.implausible[0].what, "first_response");
        assert_eq!(r.implausible[0].corrected, Timestamp(opened.0 - HOUR));
        let r = react(&ticket, None, synced, DeviceClock { desk_ahead_ms: Some(7 * HOUR) }).unwrap();
        assert_eq!(r.resolved, Some(synced), "kept at now");
        assert_eq!(r.implausible.iter().map(|i| i.what).collect::<Vec<_>>(), vec!["resolution"]);
    }

    #[test]
    fn extreme_times_saturate_instead_of_overflowing() {
        let cast = Cast::default();
        let mut ticket = worked_ticket(&mut Rng::new(1), &cast, 1, Timestamp(0));
        let entry = |n, start, end| TimeEntry {
            id: EntryId::from_u128(n),
            kind: TimeKind::Work,
            start: Timestamp(start),
            end: Some(Timestamp(end)),
            by: cast.engineer,
        };
        ticket.time_entries = (0..4).map(|n| entry(n, i64::MIN, i64::MAX)).collect();
        ticket.time_entries.push(entry(9, i64::MAX, i64::MIN));
        let points = work_points(&ticket);
        assert!(points.hundredths > 0, "the entries that ran count, the one that ends before it starts does not");
    }

    #[test]
    fn a_ticket_with_everything_set_needs_nothing_and_a_charge_never_goes_below_zero() {
        let cast = Cast::default();
        let mut ticket = worked_ticket(&mut Rng::new(2), &cast, 1, Timestamp(0));
        ticket.sla = crate::model::Sla::default();
        let client = Client {
            id: ticket.client,
            name: "C".into(),
            contract: None,
            business_hours: BusinessHours { always: true, weekly: vec![], holidays: vec![] },
            points_balance: Some(Points { hundredths: 50 }),
            language: None,
        };
        let clock = DeviceClock::default();
        let reaction = react(&ticket, Some(&client), Timestamp(9), clock).expect("a worked ticket needs deadlines");
        assert!(reaction.deadlines.is_some() && reaction.first_response.is_some(), "{reaction:?}");
        reaction.apply_to_ticket(&mut ticket);
        assert_eq!(react(&ticket, Some(&client), Timestamp(10), clock), None, "applied once, nothing is left to do");

        let charge = Reaction {
            deadlines: None,
            first_response: None,
            resolved: None,
            implausible: Vec::new(),
            level: None,
            charge: Some(Points { hundredths: 125 }),
            at: Timestamp(9),
        };
        let mut poor = client;
        assert_eq!(charge.charge_client(&mut poor), Some(Points { hundredths: 0 }));
    }

    #[test]
    fn warranty_and_per_call_work_takes_no_points() {
        use crate::model::{EntitlementKind, Equipment};
        let cast = Cast::default();
        let mut ticket = worked_ticket(&mut Rng::new(4), &cast, 1, Timestamp(0));
        ticket.transitions.push(crate::model::Transition {
            id: EntryId::from_u128(77),
            from: TicketStatus::OnSite,
            to: TicketStatus::Resolved,
            at: Timestamp(1),
            by: cast.engineer,
            assignee: None,
            reason: None,
        });
        ticket.billing.class = BillingClass::ServiceRequest;
        let mut client = Client {
            id: ticket.client,
            name: "C".into(),
            contract: None,
            business_hours: BusinessHours { always: true, weekly: vec![], holidays: vec![] },
            points_balance: Some(Points { hundredths: 5_000 }),
            language: None,
        };
        let mut covered = Equipment::new(crate::ids::DocId::from_u128(5), "SN".into(), "M".into(), client.id);
        covered.covered_until = Some(Timestamp(10));
        let charge = |ticket: &Ticket, client: &Client| {
            react(ticket, Some(client), Timestamp(9), DeviceClock::default()).and_then(|r| r.charge)
        };

        ticket.entitlement = crate::model::Entitlement::decide(&client, std::slice::from_ref(&covered), Timestamp(9));
        assert_eq!(ticket.entitlement.kind, EntitlementKind::Warranty, "the warranty runs until 10");
        assert_eq!(charge(&ticket, &client), None, "the vendor's warranty pays, not the client's points");

        ticket.entitlement = crate::model::Entitlement::decide(&client, &[covered.clone()], Timestamp(11));
        assert_eq!(ticket.entitlement.kind, EntitlementKind::Prepaid, "past its warranty, the points pay");
        assert!(charge(&ticket, &client).is_some());

        client.points_balance = None;
        ticket.entitlement = crate::model::Entitlement::decide(&client, &[covered], Timestamp(11));
        assert_eq!(ticket.entitlement.kind, EntitlementKind::PerCall);
        assert!(!ticket.entitlement.is_cleared(), "per call waits until a person marks it paid");
        client.contract = Some("C-1".into());
        assert_eq!(crate::model::Entitlement::decide(&client, &[], Timestamp(11)).kind, EntitlementKind::Contract);
    }

    #[test]
    fn the_last_escalation_is_the_level() {
        use crate::model::{Escalation, SupportLevel};
        let cast = Cast::default();
        let mut ticket = worked_ticket(&mut Rng::new(5), &cast, 1, Timestamp(0));
        let escalate = |n, from, to| Escalation {
            id: EntryId::from_u128(n),
            from,
            to,
            reason: "needs a specialist".into(),
            at: Timestamp(1),
            by: cast.engineer,
        };
        ticket.escalations.push(escalate(1, SupportLevel::L1Field, SupportLevel::L2Remote));
        let reaction =
            react(&ticket, None, Timestamp(2), DeviceClock::default()).expect("an escalation moves the ticket");
        assert_eq!(reaction.level, Some(SupportLevel::L2Remote));
        reaction.apply_to_ticket(&mut ticket);
        assert_eq!(react(&ticket, None, Timestamp(3), DeviceClock::default()).and_then(|r| r.level), None, "once");
        ticket.escalations.push(escalate(2, SupportLevel::L2Remote, SupportLevel::L3Expert));
        assert_eq!(
            react(&ticket, None, Timestamp(4), DeviceClock::default()).and_then(|r| r.level),
            Some(SupportLevel::L3Expert)
        );
    }

    #[test]
    fn a_part_installed_and_sent_back_before_one_sync_still_goes_on_its_machine() {
        use crate::model::{Equipment, PartTransition};
        let cast = Cast::default();
        let mut ticket = worked_ticket(&mut Rng::new(6), &cast, 1, Timestamp(0));
        let machine = Equipment::new(crate::ids::DocId::from_u128(7), "SN".into(), "M".into(), ticket.client);
        ticket.equipment = vec![machine.id];
        let mut request =
            PartRequest::new(crate::ids::DocId::from_u128(8), ticket.id, cast.engineer, Timestamp(0), "P".into(), 1);
        let moves = [
            (cast.parts_desk, PartStatus::Requested, PartStatus::Approved),
            (cast.parts_desk, PartStatus::Approved, PartStatus::Picked),
            (cast.parts_desk, PartStatus::Picked, PartStatus::Shipped),
            (cast.engineer, PartStatus::Shipped, PartStatus::Delivered),
        ];
        for (n, (by, from, to)) in moves.into_iter().enumerate() {
            request.transitions.push(PartTransition {
                id: EntryId::from_u128(n as u128),
                from,
                to,
                at: Timestamp(1),
                by,
                reason: None,
            });
        }
        request.installed_serial = Some("NEW".into());
        let unused = request.clone();
        let sent_back = |r: &mut PartRequest, via_install: bool| {
            let mut from = PartStatus::Delivered;
            if via_install {
                r.transitions.push(PartTransition {
                    id: EntryId::from_u128(10),
                    from,
                    to: PartStatus::Installed,
                    at: Timestamp(2),
                    by: cast.engineer,
                    reason: None,
                });
                from = PartStatus::Installed;
            }
            r.transitions.push(PartTransition {
                id: EntryId::from_u128(11),
                from,
                to: PartStatus::ReturnSent,
                at: Timestamp(3),
                by: cast.engineer,
                reason: None,
            });
        };
        sent_back(&mut request, true);
        let update =
            part_installed(&request, &ticket, std::slice::from_ref(&machine), Timestamp(4)).expect("it went in");
        assert_eq!(update.installed.map(|p| p.serial), Some("NEW".into()));
        let mut unused = unused;
        sent_back(&mut unused, false);
        assert_eq!(
            part_installed(&unused, &ticket, &[machine], Timestamp(4)),
            None,
            "a part sent back unused never went in"
        );
    }
}
