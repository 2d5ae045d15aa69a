//! Silent missing data: a device that becomes able to read a document
//! (assigned a ticket, handed one, or a ticket of theirs linked to more
//! equipment or another site) gets it whole at its next sync, however old
//! the document and however far its cursor; and it never gets anything else.
//! A device that loses one (the ticket handed to someone else, a site
//! unlinked) lets it go.

mod support;

use std::collections::BTreeSet;

use automerge::ActorId;
use outpost_sync::ids::DocId;
use outpost_sync::model::{Actor, Client, Document, Equipment, Role, Site, Ticket};
use outpost_sync::sample::{worked_ticket, Cast, Rng};
use serde_json::json;
use support::*;

fn client(id: DocId) -> Client {
    Client {
        id,
        name: format!("Client {id}"),
        contract: None,
        business_hours: outpost_sync::model::BusinessHours { always: true, weekly: vec![], holidays: vec![] },
        points_balance: None,
        language: None,
    }
}

fn site(id: DocId, client: DocId) -> Site {
    Site {
        id,
        client,
        name: "Plant".into(),
        address: "Lenina 1".into(),
        region: "Perm".into(),
        time_zone: "Asia/Yekaterinburg".into(),
        coordinates: None,
    }
}

/// The documents a device holds, checked equal to the desk's copies.
async fn held(desk: &Desk, device: &Device) -> BTreeSet<DocId> {
    let ids: BTreeSet<DocId> = device.local.doc_ids().collect();
    for id in &ids {
        assert_eq!(device.local.document(*id).as_ref(), desk.document(*id).await.as_ref(), "{id} is the desk's copy");
    }
    ids
}

/// Links more to a ticket as the desk does: a dispatcher's edit.
async fn link(desk: &Desk, ticket: DocId, dispatcher: &Actor, change: impl FnOnce(&mut Ticket)) {
    let mut tx = desk.db.begin_write().await.unwrap();
    outpost_desk::store::write_as_desk::<outpost_desk::store::StoreError>(
        &mut tx,
        ticket,
        dispatcher,
        &ActorId::from(*b"outpost-desk-v1!"),
        T0,
        |d| {
            if let Document::Ticket(t) = d {
                change(t);
            }
            Ok(())
        },
    )
    .await
    .unwrap()
    .unwrap();
    tx.commit().await.unwrap();
}

async fn a_device_holds_exactly_what_it_may_read_as_access_grows(desk: Desk) {
    let dispatcher = desk.user(desk.service, Role::Dispatcher).await;
    let first = desk.user(desk.service, Role::Engineer).await;
    let second = desk.user(desk.service, Role::Engineer).await;
    let (client_id, site_id, other_site, e1, e2) = (
        DocId::from_u128(0xc1),
        DocId::from_u128(0x51),
        DocId::from_u128(0x52),
        DocId::from_u128(0xe1),
        DocId::from_u128(0xe2),
    );
    desk.create(&Document::Client(client(client_id))).await;
    desk.create(&Document::Site(site(site_id, client_id))).await;
    desk.create(&Document::Site(site(other_site, client_id))).await;
    desk.create(&Document::Equipment(Equipment::new(e1, "SN-1".into(), "M".into(), client_id))).await;
    desk.create(&Document::Equipment(Equipment::new(e2, "SN-2".into(), "M".into(), client_id))).await;
    let mut ticket = worked_ticket(&mut Rng::new(3), &Cast { dispatcher, engineer: first, ..Cast::default() }, 3, T0);
    ticket.transitions.truncate(0);
    ticket.client = client_id;
    ticket.site.site = Some(site_id);
    ticket.equipment = vec![e1];
    ticket.attachments.clear();
    ticket.signature = None;
    ticket.part_requests.clear();
    let id = ticket.id;
    desk.create(&Document::Ticket(ticket)).await;

    // Both devices sync before anything is theirs: their cursors pass every
    // document above, which they may not read yet.
    let mut device = desk.pair(&first, 1).await;
    let mut colleague = desk.pair(&second, 2).await;
    device.sync(&desk).await;
    colleague.sync(&desk).await;
    assert_eq!(held(&desk, &device).await, BTreeSet::new());

    let token = desk.api_token(dispatcher.user).await;
    let (status, body) =
        desk.post_json(&format!("/v1/tickets/{id}/assign"), &token, json!({ "engineer": first.user })).await;
    assert_eq!(status, 200, "{body}");
    device.sync(&desk).await;
    assert_eq!(
        held(&desk, &device).await,
        BTreeSet::from([id, client_id, site_id, e1]),
        "the ticket with its client, site and equipment"
    );
    assert_eq!(held(&desk, &colleague).await, BTreeSet::new(), "nothing for the colleague yet");

    link(&desk, id, &dispatcher, |t| t.equipment.push(e2)).await;
    device.sync(&desk).await;
    assert_eq!(
        held(&desk, &device).await,
        BTreeSet::from([id, client_id, site_id, e1, e2]),
        "equipment linked afterwards"
    );

    let (status, body) = desk
        .post_json(&format!("/v1/tickets/{id}/assign"), &token, json!({ "engineer": second.user, "reason": "leave" }))
        .await;
    assert_eq!(status, 200, "{body}");
    colleague.sync(&desk).await;
    assert_eq!(held(&desk, &colleague).await, BTreeSet::from([id, client_id, site_id, e1, e2]), "handed over whole");

    device.sync(&desk).await;
    assert_eq!(held(&desk, &device).await, BTreeSet::new(), "the first engineer's device lets the ticket go");

    link(&desk, id, &dispatcher, |t| t.site.site = Some(other_site)).await;
    device.sync(&desk).await;
    colleague.sync(&desk).await;
    assert_eq!(
        held(&desk, &colleague).await,
        BTreeSet::from([id, client_id, other_site, e1, e2]),
        "a site linked afterwards arrives, the one unlinked leaves"
    );
    assert_eq!(held(&desk, &device).await, BTreeSet::new(), "and nothing of it reaches the first engineer");
}

on_both_backends!(a_device_holds_exactly_what_it_may_read_as_access_grows);
