//! A partner's device has synced past a staff ticket it could not read. Then
//! the desk hands the ticket to the partner. The device's cursor is past the
//! ticket's old version, but the partner gained the ticket after it: the
//! desk sends the ticket whole, in the first round, with no refetch.

mod support;

use outpost_sync::ids::EntryId;
use outpost_sync::memory::sync_until_quiet;
use outpost_sync::model::{Assignee, Document, TicketStatus, Transition};
use outpost_sync::sample::{worked_ticket, Cast, Rng};
use outpost_sync::workflow::fold_ticket;
use support::*;

#[test]
fn the_partner_ends_with_the_whole_ticket() {
    let cast = Cast::default();
    let mut desk = desk();
    let ticket = worked_ticket(&mut Rng::new(41), &cast, 1, T0);
    let id = ticket.id;
    desk.create(&Document::Ticket(ticket)).unwrap();
    let mut partner = device(cast.partner_engineer, 1);
    sync_until_quiet(&mut partner, &mut desk, T0, 1, 10);
    assert_eq!(partner.doc_ids().count(), 0, "a staff ticket is not the partner's to read");

    edit_desk_ticket(&mut desk, id, |t| {
        let status = fold_ticket(t).status;
        t.transitions.push(Transition {
            id: EntryId::from_u128(1),
            from: status,
            to: TicketStatus::Assigned,
            at: T0,
            by: cast.dispatcher,
            assignee: Some(Assignee { engineer: None, partner_org: Some(cast.partner) }),
            reason: Some("staff engineer on leave".into()),
        });
    });
    let rounds = sync_until_quiet(&mut partner, &mut desk, T0, 10, 10);

    assert_eq!(rounds, 1, "the ticket arrives whole in one round");
    assert_eq!(partner.document(id).as_ref(), desk.document(id), "the partner must hold the desk's ticket");
    assert_eq!(partner.heads(id), desk.heads(id));
    assert!(partner.sync_state().refetch.is_empty(), "nothing is left to fetch");
}
