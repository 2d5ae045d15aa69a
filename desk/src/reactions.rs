//! What the desk does when a device's ticket lands, on the desk's clock:
//! - a ticket a device created gets its SLA deadlines from its client's
//!   contract hours, counted from when the desk received it;
//! - the first field response (accept, en route, on site, a work-log note)
//!   sets `first_response_at`;
//! - resolving a user-caused incident or a service request charges the
//!   client's prepaid points by the recorded work time, rounded up to the
//!   next quarter hour (points = person-hours), and warns in the audit log
//!   when the balance falls below a threshold.
//!
//! The desk writes these as its own changes, in the round's transaction,
//! so the device receives them in the same round.

use automerge::ActorId;
use outpost_sync::ids::{DocId, Timestamp};
use outpost_sync::model::{Actor, BillingClass, DocKind, Document, Points, TicketStatus};
use outpost_sync::workflow::fold_ticket;
use sqlx::{Any, Transaction};

use crate::store::{self, StoreError};

/// The desk itself, as the author of its own reactions (no person).
const DESK: Actor = Actor {
    user: outpost_sync::ids::UserId(uuid::Uuid::nil()),
    org: outpost_sync::ids::OrgId(uuid::Uuid::nil()),
    role: outpost_sync::model::Role::Admin,
};

/// A balance below this many points is worth a warning.
pub const LOW_BALANCE: Points = Points { hundredths: 1_000 };

async fn client_of(
    tx: &mut Transaction<'_, Any>,
    id: DocId,
) -> Result<Option<outpost_sync::model::Client>, StoreError> {
    let Some(stored) = store::load(tx, id).await? else { return Ok(None) };
    if stored.kind != DocKind::Client {
        return Ok(None);
    }
    let doc =
        automerge::AutoCommit::load(&stored.bytes).map_err(|e| StoreError::Corrupt(id.to_string(), e.to_string()))?;
    match Document::hydrate_as(&doc, id, DocKind::Client) {
        Ok(Document::Client(client)) => Ok(Some(client)),
        _ => Ok(None),
    }
}

/// Work time recorded on a ticket, in hundredths of an hour, rounded up to
/// the next quarter hour. The times are a device's: the desk bounds them
/// when they arrive, and the sum here is checked arithmetic all the same,
/// saturating rather than wrapping or panicking.
pub fn work_points(ticket: &outpost_sync::model::Ticket) -> Points {
    let millis: u64 = ticket
        .time_entries
        .iter()
        .filter(|e| e.kind == outpost_sync::model::TimeKind::Work)
        .filter_map(|e| e.end.map(|end| i128::from(end.0) - i128::from(e.start.0)))
        .map(|length| u64::try_from(length.max(0)).unwrap_or(u64::MAX))
        .fold(0u64, u64::saturating_add);
    let quarter: u64 = 15 * 60_000;
    let quarters = millis.div_ceil(quarter);
    Points { hundredths: quarters.saturating_mul(25) }
}

/// Runs the desk's reactions to a ticket a device just wrote.
pub async fn react(
    tx: &mut Transaction<'_, Any>,
    ticket_id: DocId,
    desk_actor: &ActorId,
    now: Timestamp,
) -> Result<(), StoreError> {
    let desk = &DESK;
    let Some(stored) = store::load(tx, ticket_id).await? else { return Ok(()) };
    let doc = automerge::AutoCommit::load(&stored.bytes)
        .map_err(|e| StoreError::Corrupt(ticket_id.to_string(), e.to_string()))?;
    let Ok(Document::Ticket(ticket)) = Document::hydrate_as(&doc, ticket_id, DocKind::Ticket) else { return Ok(()) };
    let client = client_of(tx, ticket.client).await?;

    let needs_deadlines = ticket.sla.reaction_due.is_none() && ticket.sla.resolution_due.is_none();
    let deadlines = match (&client, needs_deadlines) {
        (Some(client), true) => crate::sla::Calendar::new(&client.business_hours, &ticket.site.time_zone)
            .ok()
            .map(|calendar| crate::sla::deadlines(ticket.priority, &calendar, now)),
        _ => None,
    };
    let state = fold_ticket(&ticket);
    let field_response = ticket.transitions.iter().any(|t| {
        t.by.role.is_field() && matches!(t.to, TicketStatus::Accepted | TicketStatus::EnRoute | TicketStatus::OnSite)
    }) || ticket.work_log.iter().any(|n| n.by.role.is_field());
    let first_response = ticket.sla.first_response_at.is_none() && field_response;
    let charge = state.status == TicketStatus::Resolved
        && ticket.billing.points_charged.is_none()
        && matches!(ticket.billing.class, BillingClass::UserCausedIncident | BillingClass::ServiceRequest)
        && client.as_ref().is_some_and(|c| c.points_balance.is_some());
    let mark_resolved = state.status == TicketStatus::Resolved && ticket.sla.resolved_at.is_none();
    if deadlines.is_none() && !first_response && !charge && !mark_resolved {
        return Ok(());
    }
    let points = work_points(&ticket);
    store::write_as_desk(tx, ticket_id, desk, desk_actor, now, |document| {
        if let Document::Ticket(t) = document {
            if let Some(sla) = &deadlines {
                t.sla.reaction_due = sla.reaction_due;
                t.sla.resolution_due = sla.resolution_due;
            }
            if first_response {
                t.sla.first_response_at = Some(now);
            }
            if mark_resolved {
                t.sla.resolved_at = Some(now);
            }
            if charge {
                t.billing.points_charged = Some(points);
            }
        }
        Ok::<(), StoreError>(())
    })
    .await?;
    if charge {
        let client_id = ticket.client;
        let mut balance = None;
        store::write_as_desk(tx, client_id, desk, desk_actor, now, |document| {
            if let Document::Client(c) = document {
                if let Some(left) = &mut c.points_balance {
                    left.hundredths = left.hundredths.saturating_sub(points.hundredths);
                    balance = Some(*left);
                }
            }
            Ok::<(), StoreError>(())
        })
        .await?;
        let detail = format!("charged {:.2} points for {}", points.hundredths as f64 / 100.0, ticket.number);
        store::audit(tx, now, None, None, Some(ticket_id), "points_charged", &detail).await?;
        if let Some(left) = balance.filter(|left| *left < LOW_BALANCE) {
            let detail = format!(
                "client balance is {:.2} points, below {:.2}",
                left.hundredths as f64 / 100.0,
                LOW_BALANCE.hundredths as f64 / 100.0
            );
            store::audit(tx, now, None, None, Some(client_id), "low_points_balance", &detail).await?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use outpost_sync::ids::EntryId;
    use outpost_sync::model::{TimeEntry, TimeKind};
    use outpost_sync::sample::{worked_ticket, Cast, Rng};

    use super::*;

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
}
