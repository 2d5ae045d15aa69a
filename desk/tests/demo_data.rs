//! The demo data set: every kind of record, every status, and engineers who
//! can pair and receive their work.

mod support;

use outpost_desk::demo::{seed, DemoError, DemoSize};
use outpost_sync::model::Document;
use support::*;

async fn count(desk: &Desk, sql: &str) -> i64 {
    let (n,): (i64,) = sqlx::query_as(sql).fetch_one(&desk.db.pool).await.unwrap();
    n
}

async fn the_demo_has_every_kind_and_status_and_engineers_can_work(desk: Desk) {
    // The harness made three companies already; the demo wants an empty desk.
    sqlx::query("DELETE FROM orgs").execute(&desk.db.pool).await.unwrap();
    let size = DemoSize { clients: 6, sites: 12, equipment: 40, tickets: 45 };
    let logins =
        seed(&desk.db, automerge::ActorId::from(*b"outpost-desk-v1!"), size, outpost_desk::now()).await.unwrap();
    assert_eq!(count(&desk, "SELECT COUNT(*) FROM tickets").await, 45);
    for kind in ["client", "site", "equipment", "checklist_template", "kb_article", "part_request"] {
        let n = count(&desk, &format!("SELECT COUNT(*) FROM documents WHERE kind = '{kind}'")).await;
        assert!(n > 0, "the demo has {kind} records");
    }
    let statuses = count(&desk, "SELECT COUNT(DISTINCT status) FROM tickets").await;
    assert_eq!(statuses, 9, "tickets in every status");
    assert!(logins.desk.len() >= 3 && logins.engineers.len() >= 6);

    // A live service day: most open work is still inside its deadline, a few are breached.
    let now = outpost_desk::now().0;
    let open = "status NOT IN ('resolved', 'closed', 'cancelled')";
    let open_count = count(&desk, &format!("SELECT COUNT(*) FROM tickets WHERE {open}")).await;
    let breached = count(&desk, &format!("SELECT COUNT(*) FROM tickets WHERE {open} AND resolution_due < {now}")).await;
    assert!(breached >= 1, "some open tickets are breached");
    assert!(breached * 5 <= open_count, "most open tickets are not: {breached} of {open_count} breached");

    // A partner engineer pairs with the printed code and receives only partner work.
    let (_, company, code) =
        logins.engineers.iter().find(|(_, company, _)| company == "ТехноСервис Урал").unwrap().clone();
    let mut device = desk.pair_with_code(&code, 7).await;
    let org = device.paired.actor.org.to_string();
    device.sync(&desk).await;
    let ids: Vec<_> = device.local.doc_ids().collect();
    let tickets: Vec<_> = ids
        .iter()
        .filter_map(|id| match device.local.document(*id) {
            Some(Document::Ticket(t)) => Some(t),
            _ => None,
        })
        .collect();
    assert!(!tickets.is_empty(), "{company} has work in the demo");
    let partner_tickets = count(&desk, &format!("SELECT COUNT(*) FROM tickets WHERE partner_org = '{org}'")).await;
    assert_eq!(tickets.len() as i64, partner_tickets, "exactly the partner's tickets arrive");
    assert!(ids.len() > tickets.len(), "with their equipment, clients, sites and reference data");

    let again = seed(&desk.db, automerge::ActorId::from(*b"outpost-desk-v1!"), size, outpost_desk::now()).await;
    assert!(matches!(again, Err(DemoError::NotEmpty)), "seeding twice is refused");
}

on_both_backends!(the_demo_has_every_kind_and_status_and_engineers_can_work);
