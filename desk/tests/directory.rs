//! People by name: the desk keeps each company's directory as a synced
//! document. A device gets the service company's and its own company's,
//! never another partner's; no device may write one.

mod support;

use std::collections::BTreeSet;

use outpost_sync::model::{Directory, Document, Role};
use serde_json::json;
use support::*;

async fn a_device_knows_the_people_it_works_with_by_name_and_no_others(desk: Desk) {
    let admin = desk.user(desk.service, Role::Admin).await;
    let token = desk.api_token(admin.user).await;
    let mut codes = Vec::new();
    for (org, name, role) in [
        (desk.service, "Анна Смирнова", "engineer"),
        (desk.partner, "Пётр Волков", "partner_engineer"),
        (desk.other_partner, "Иван Орлов", "partner_engineer"),
    ] {
        let (status, reply) =
            desk.post_json("/v1/users", &token, json!({ "org": org, "name": name, "role": role })).await;
        assert_eq!(status, 200, "{reply}");
        codes.push(reply["pairing_code"].as_str().unwrap().to_owned());
    }
    let mut staff = desk.pair_with_code(&codes[0], 1).await;
    let mut partner = desk.pair_with_code(&codes[1], 2).await;
    staff.sync(&desk).await;
    partner.sync(&desk).await;

    let directories = |device: &Device| -> BTreeSet<_> {
        device
            .local
            .doc_ids()
            .filter_map(|id| match device.local.document(id) {
                Some(Document::Directory(d)) => Some(d.org),
                _ => None,
            })
            .collect()
    };
    assert_eq!(directories(&staff), BTreeSet::from([desk.service]), "staff see their own company");
    assert_eq!(
        directories(&partner),
        BTreeSet::from([desk.service, desk.partner]),
        "a partner sees the service company's people and its own, never another partner's"
    );
    let Some(Document::Directory(service)) = partner.local.document(Directory::id_for(desk.service)) else {
        panic!("the service company's directory")
    };
    assert_eq!(service.name_of(staff.paired.actor.user), Some("Анна Смирнова"));

    // A partner device rewriting a directory is refused whole.
    let id = Directory::id_for(desk.partner);
    let before = desk.document(id).await;
    partner
        .local
        .edit_unchecked(id, T0, |d| {
            if let Document::Directory(d) = d {
                for person in d.people.values_mut() {
                    person.name = "Someone else".into();
                }
            }
        })
        .unwrap();
    partner.sync(&desk).await;
    assert_eq!(desk.document(id).await, before, "nothing of it lands");
    assert!(!partner.local.refused_documents().is_empty(), "and the device is told");
}

on_both_backends!(a_device_knows_the_people_it_works_with_by_name_and_no_others);
