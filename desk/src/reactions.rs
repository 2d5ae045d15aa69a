//! The desk's reactions to a ticket or part request a device just wrote, in
//! the round's transaction (what they are is decided once, in
//! `outpost_sync::reactions`): the ticket, its client and its equipment are
//! written as the desk's own changes, and points charged and low balances
//! are audited.

use automerge::ActorId;
use outpost_sync::ids::{DocId, Timestamp};
use outpost_sync::model::{Actor, Client, DocKind, Document, Equipment, Ticket};
pub use outpost_sync::reactions::LOW_BALANCE;
use outpost_sync::reactions::{DeviceClock, EquipmentUpdate};
use sqlx::{Any, Transaction};

use crate::store::{self, StoreError};

/// The desk itself, as the author of its own writes (no person).
pub(crate) const DESK: Actor = Actor {
    user: outpost_sync::ids::UserId(uuid::Uuid::nil()),
    org: outpost_sync::ids::OrgId(uuid::Uuid::nil()),
    role: outpost_sync::model::Role::Admin,
};

/// The device whose push the desk answers, and its clock.
pub struct Pusher<'a> {
    pub device: Option<&'a str>,
    pub clock: DeviceClock,
}

/// Runs the desk's reactions to a ticket a device just wrote, given as it
/// was stored (so it is not read back); the ticket's service records on its
/// equipment follow the ticket as it reads after them. An entered time that
/// did not fit the ticket's life is audited with what was used instead.
pub async fn react(
    tx: &mut Transaction<'_, Any>,
    ticket: Ticket,
    desk_actor: &ActorId,
    now: Timestamp,
    by: Pusher<'_>,
) -> Result<(), StoreError> {
    let client: Option<Client> = match store::read(tx, ticket.client, DocKind::Client).await? {
        Some(Document::Client(client)) => Some(client),
        _ => None,
    };
    let ticket = match outpost_sync::reactions::react(&ticket, client.as_ref(), now, by.clock) {
        Some(reaction) => {
            for odd in &reaction.implausible {
                let detail = format!(
                    "{} entered at {} ms is {} ms by the desk's clock, outside the ticket's life; {} ms used",
                    odd.what, odd.entered.0, odd.corrected.0, odd.used.0
                );
                store::audit(tx, now, None, by.device, Some(ticket.id), "implausible_time", &detail).await?;
            }
            apply(tx, ticket, &reaction, desk_actor, now).await?
        }
        None => ticket,
    };
    record_service(tx, &ticket, desk_actor, now).await
}

/// Writes a reaction on the ticket (and a charge on its client, audited);
/// returns the ticket as it then reads.
async fn apply(
    tx: &mut Transaction<'_, Any>,
    ticket: Ticket,
    reaction: &outpost_sync::reactions::Reaction,
    desk_actor: &ActorId,
    now: Timestamp,
) -> Result<Ticket, StoreError> {
    let written = store::write_as_desk(tx, ticket.id, &DESK, desk_actor, now, |document| {
        if let Document::Ticket(t) = document {
            reaction.apply_to_ticket(t);
        }
        Ok::<(), StoreError>(())
    })
    .await?;
    let after = match written {
        Some(Document::Ticket(after)) => after,
        _ => ticket,
    };
    let Some(points) = reaction.charge else { return Ok(after) };
    let mut balance = None;
    store::write_as_desk(tx, after.client, &DESK, desk_actor, now, |document| {
        if let Document::Client(c) = document {
            balance = reaction.charge_client(c);
        }
        Ok::<(), StoreError>(())
    })
    .await?;
    let hundredths = |p: outpost_sync::model::Points| p.hundredths as f64 / 100.0;
    let detail = format!("charged {:.2} points for {}", hundredths(points), after.number);
    store::audit(tx, now, None, None, Some(after.id), "points_charged", &detail).await?;
    if let Some(left) = balance.filter(|left| *left < LOW_BALANCE) {
        let detail = format!("client balance is {:.2} points, below {:.2}", hundredths(left), hundredths(LOW_BALANCE));
        store::audit(tx, now, None, None, Some(after.client), "low_points_balance", &detail).await?;
    }
    Ok(after)
}

/// The equipment a ticket names, as the desk has it.
async fn equipment_of(tx: &mut Transaction<'_, Any>, ticket: &Ticket) -> Result<Vec<Equipment>, StoreError> {
    let mut equipment = Vec::with_capacity(ticket.equipment.len());
    for id in &ticket.equipment {
        if let Some(Document::Equipment(e)) = store::read(tx, *id, DocKind::Equipment).await? {
            equipment.push(e);
        }
    }
    Ok(equipment)
}

async fn update_equipment(
    tx: &mut Transaction<'_, Any>,
    update: &EquipmentUpdate,
    desk_actor: &ActorId,
    now: Timestamp,
) -> Result<(), StoreError> {
    store::write_as_desk(tx, update.equipment, &DESK, desk_actor, now, |document| {
        if let Document::Equipment(e) = document {
            update.apply(e);
        }
        Ok::<(), StoreError>(())
    })
    .await?;
    Ok(())
}

/// Lists a ticket the desk itself wrote in its equipment's service history.
pub async fn record_service(
    tx: &mut Transaction<'_, Any>,
    ticket: &Ticket,
    desk_actor: &ActorId,
    now: Timestamp,
) -> Result<(), StoreError> {
    let equipment = equipment_of(tx, ticket).await?;
    for update in outpost_sync::reactions::service_history(ticket, &equipment) {
        update_equipment(tx, &update, desk_actor, now).await?;
    }
    Ok(())
}

/// Runs the desk's reactions to a part request a device just wrote: an
/// installed part's serials go on its equipment.
pub async fn react_to_part(
    tx: &mut Transaction<'_, Any>,
    request_id: DocId,
    desk_actor: &ActorId,
    now: Timestamp,
) -> Result<(), StoreError> {
    let Some(Document::PartRequest(request)) = store::read(tx, request_id, DocKind::PartRequest).await? else {
        return Ok(());
    };
    let Some(Document::Ticket(ticket)) = store::read(tx, request.ticket, DocKind::Ticket).await? else { return Ok(()) };
    let equipment = equipment_of(tx, &ticket).await?;
    if let Some(update) = outpost_sync::reactions::part_installed(&request, &ticket, &equipment, now) {
        update_equipment(tx, &update, desk_actor, now).await?;
    }
    Ok(())
}
