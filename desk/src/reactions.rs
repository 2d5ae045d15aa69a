//! The desk's reactions to a ticket a device just wrote, in the round's
//! transaction (what they are is decided once, in
//! `outpost_sync::reactions`): the ticket and its client are written as
//! the desk's own changes, and points charged and low balances are audited.

use automerge::ActorId;
use outpost_sync::ids::{DocId, Timestamp};
use outpost_sync::model::{Actor, Client, DocKind, Document};
pub use outpost_sync::reactions::LOW_BALANCE;
use sqlx::{Any, Transaction};

use crate::store::{self, StoreError};

/// The desk itself, as the author of its own reactions (no person).
const DESK: Actor = Actor {
    user: outpost_sync::ids::UserId(uuid::Uuid::nil()),
    org: outpost_sync::ids::OrgId(uuid::Uuid::nil()),
    role: outpost_sync::model::Role::Admin,
};

/// Runs the desk's reactions to a ticket a device just wrote.
pub async fn react(
    tx: &mut Transaction<'_, Any>,
    ticket_id: DocId,
    desk_actor: &ActorId,
    now: Timestamp,
) -> Result<(), StoreError> {
    let Some(Document::Ticket(ticket)) = store::read(tx, ticket_id, DocKind::Ticket).await? else { return Ok(()) };
    let client: Option<Client> = match store::read(tx, ticket.client, DocKind::Client).await? {
        Some(Document::Client(client)) => Some(client),
        _ => None,
    };
    let Some(reaction) = outpost_sync::reactions::react(&ticket, client.as_ref(), now) else { return Ok(()) };
    store::write_as_desk(tx, ticket_id, &DESK, desk_actor, now, |document| {
        if let Document::Ticket(t) = document {
            reaction.apply_to_ticket(t);
        }
        Ok::<(), StoreError>(())
    })
    .await?;
    let Some(points) = reaction.charge else { return Ok(()) };
    let mut balance = None;
    store::write_as_desk(tx, ticket.client, &DESK, desk_actor, now, |document| {
        if let Document::Client(c) = document {
            balance = reaction.charge_client(c);
        }
        Ok::<(), StoreError>(())
    })
    .await?;
    let hundredths = |p: outpost_sync::model::Points| p.hundredths as f64 / 100.0;
    let detail = format!("charged {:.2} points for {}", hundredths(points), ticket.number);
    store::audit(tx, now, None, None, Some(ticket_id), "points_charged", &detail).await?;
    if let Some(left) = balance.filter(|left| *left < LOW_BALANCE) {
        let detail = format!("client balance is {:.2} points, below {:.2}", hundredths(left), hundredths(LOW_BALANCE));
        store::audit(tx, now, None, None, Some(ticket.client), "low_points_balance", &detail).await?;
    }
    Ok(())
}
