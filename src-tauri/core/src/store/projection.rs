//! Plain tables the screens read, rewritten from a document in the same
//! transaction that stores it.

use outpost_sync::model::{Document, Equipment, KbArticle, PartRequest, Ticket, TicketStatus};
use outpost_sync::workflow::{fold_part_request, fold_ticket};

use super::WriteTx;
use crate::error::CoreResult;

pub(super) async fn project(tx: &mut WriteTx, document: &Document) -> CoreResult<()> {
    let id = document.id().to_string();
    sqlx::query("DELETE FROM search WHERE doc_id = ?").bind(&id).execute(&mut **tx).await?;
    match document {
        Document::Ticket(ticket) => project_ticket(tx, ticket).await,
        Document::Equipment(equipment) => project_equipment(tx, equipment).await,
        Document::PartRequest(request) => project_part_request(tx, request).await,
        Document::Client(client) => {
            reference(tx, &id, "client", &client.name, client.contract.as_deref().unwrap_or("")).await?;
            index(tx, &id, "client", &client.name, "").await
        }
        Document::Site(site) => {
            reference(tx, &id, "site", &site.name, &site.address).await?;
            index(tx, &id, "site", &site.name, &format!("{} {}", site.address, site.region)).await
        }
        Document::ChecklistTemplate(template) => {
            let labels: Vec<&str> = template.items.iter().map(|i| i.label.as_str()).collect();
            reference(tx, &id, "checklist_template", &template.name, &labels.join("\n")).await
        }
        Document::KbArticle(article) => project_article(tx, article).await,
        Document::Directory(directory) => {
            sqlx::query("DELETE FROM people WHERE doc_id = ?").bind(&id).execute(&mut **tx).await?;
            for (user, person) in &directory.people {
                sqlx::query("INSERT INTO people (doc_id, id, org_id, name, role) VALUES (?, ?, ?, ?, ?)")
                    .bind(&id)
                    .bind(user)
                    .bind(directory.org.to_string())
                    .bind(&person.name)
                    .bind(person.role.as_str())
                    .execute(&mut **tx)
                    .await?;
            }
            Ok(())
        }
    }
}

async fn index(tx: &mut WriteTx, id: &str, kind: &str, title: &str, body: &str) -> CoreResult<()> {
    sqlx::query("INSERT INTO search (doc_id, kind, title, body) VALUES (?, ?, ?, ?)")
        .bind(id)
        .bind(kind)
        .bind(title)
        .bind(body)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

async fn reference(tx: &mut WriteTx, id: &str, kind: &str, name: &str, detail: &str) -> CoreResult<()> {
    sqlx::query(
        "INSERT INTO reference (id, kind, name, detail) VALUES (?, ?, ?, ?)
         ON CONFLICT (id) DO UPDATE SET name = excluded.name, detail = excluded.detail",
    )
    .bind(id)
    .bind(kind)
    .bind(name)
    .bind(detail)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The deadline that counts next: reaction until someone responded, then
/// resolution; none once the work is done.
pub(crate) fn due_at(ticket: &Ticket, status: TicketStatus) -> Option<i64> {
    if matches!(status, TicketStatus::Resolved | TicketStatus::Closed | TicketStatus::Cancelled) {
        return None;
    }
    let resolution = ticket.sla.resolution_due.map(|t| t.0);
    match (ticket.sla.first_response_at, ticket.sla.reaction_due) {
        (None, Some(reaction)) => Some(resolution.map_or(reaction.0, |r| r.min(reaction.0))),
        _ => resolution,
    }
}

async fn project_ticket(tx: &mut WriteTx, t: &Ticket) -> CoreResult<()> {
    let id = t.id.to_string();
    let state = fold_ticket(t);
    let running = t.time_entries.iter().any(|e| e.end.is_none());
    sqlx::query(
        "INSERT INTO tickets (id, number, title, status, priority, support_level, assignee_user, assignee_org,
            client_id, site_id, address, region, contact_name, contact_phone, created_at, reaction_due,
            resolution_due, first_response_at, due_at, running_timer, conflicts)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (id) DO UPDATE SET number = excluded.number, title = excluded.title,
            status = excluded.status, priority = excluded.priority, support_level = excluded.support_level,
            assignee_user = excluded.assignee_user, assignee_org = excluded.assignee_org,
            client_id = excluded.client_id, site_id = excluded.site_id, address = excluded.address,
            region = excluded.region, contact_name = excluded.contact_name, contact_phone = excluded.contact_phone,
            created_at = excluded.created_at, reaction_due = excluded.reaction_due,
            resolution_due = excluded.resolution_due, first_response_at = excluded.first_response_at,
            due_at = excluded.due_at, running_timer = excluded.running_timer, conflicts = excluded.conflicts",
    )
    .bind(&id)
    .bind(&t.number)
    .bind(&t.title)
    .bind(state.status.code())
    .bind(t.priority.code())
    .bind(t.support_level.code())
    .bind(state.assignee.and_then(|a| a.engineer).map(|u| u.to_string()))
    .bind(state.assignee.and_then(|a| a.partner_org).map(|o| o.to_string()))
    .bind(t.client.to_string())
    .bind(t.site.site.map(|s| s.to_string()))
    .bind(&t.site.address)
    .bind(&t.site.region)
    .bind(&t.contact.name)
    .bind(&t.contact.phone)
    .bind(t.created_at.0)
    .bind(t.sla.reaction_due.map(|d| d.0))
    .bind(t.sla.resolution_due.map(|d| d.0))
    .bind(t.sla.first_response_at.map(|d| d.0))
    .bind(due_at(t, state.status))
    .bind(i64::from(running))
    .bind(state.conflicts.len() as i64)
    .execute(&mut **tx)
    .await?;

    for table in ["ticket_equipment", "ticket_visits"] {
        sqlx::query(&format!("DELETE FROM {table} WHERE ticket_id = ?")).bind(&id).execute(&mut **tx).await?;
    }
    sqlx::query("DELETE FROM conflicts WHERE doc_id = ?").bind(&id).execute(&mut **tx).await?;
    for equipment in &t.equipment {
        sqlx::query("INSERT OR IGNORE INTO ticket_equipment (ticket_id, equipment_id) VALUES (?, ?)")
            .bind(&id)
            .bind(equipment.to_string())
            .execute(&mut **tx)
            .await?;
    }
    for visit in &t.visits {
        sqlx::query("INSERT INTO ticket_visits (ticket_id, arrived, left_at) VALUES (?, ?, ?)")
            .bind(&id)
            .bind(visit.arrived.0)
            .bind(visit.left.map(|l| l.0))
            .execute(&mut **tx)
            .await?;
    }
    for conflict in &state.conflicts {
        sqlx::query("INSERT OR REPLACE INTO conflicts (doc_id, entry_id, at, explanation) VALUES (?, ?, ?, ?)")
            .bind(&id)
            .bind(conflict.entry.to_string())
            .bind(conflict.at.0)
            .bind(conflict.explain())
            .execute(&mut **tx)
            .await?;
    }
    let mut body = vec![t.description.as_str(), t.resolution.notes.as_str(), &t.category, &t.site.address];
    body.extend(t.work_log.iter().map(|n| n.text.as_str()));
    index(tx, &id, "ticket", &format!("{} {}", t.number, t.title), &body.join("\n")).await
}

async fn project_equipment(tx: &mut WriteTx, e: &Equipment) -> CoreResult<()> {
    let id = e.id.to_string();
    sqlx::query(
        "INSERT INTO equipment (id, serial, model, vendor, client_id, site_id, location_note, covered_until)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (id) DO UPDATE SET serial = excluded.serial, model = excluded.model, vendor = excluded.vendor,
            client_id = excluded.client_id, site_id = excluded.site_id, location_note = excluded.location_note,
            covered_until = excluded.covered_until",
    )
    .bind(&id)
    .bind(&e.serial)
    .bind(&e.model)
    .bind(&e.vendor)
    .bind(e.client.to_string())
    .bind(e.site.map(|s| s.to_string()))
    .bind(&e.location_note)
    .bind(e.covered_until.map(|t| t.0))
    .execute(&mut **tx)
    .await?;
    index(tx, &id, "equipment", &format!("{} {}", e.serial, e.model), &format!("{} {}", e.vendor, e.class)).await
}

async fn project_part_request(tx: &mut WriteTx, r: &PartRequest) -> CoreResult<()> {
    let status = fold_part_request(r).status;
    sqlx::query(
        "INSERT INTO part_requests (id, ticket_id, part_number, description, quantity, status, requested_by,
            requested_at, tracking_number, installed_serial, removed_serial)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (id) DO UPDATE SET description = excluded.description, quantity = excluded.quantity,
            status = excluded.status, tracking_number = excluded.tracking_number,
            installed_serial = excluded.installed_serial, removed_serial = excluded.removed_serial",
    )
    .bind(r.id.to_string())
    .bind(r.ticket.to_string())
    .bind(&r.part_number)
    .bind(&r.description)
    .bind(r.quantity as i64)
    .bind(status.as_str())
    .bind(r.requested_by.user.to_string())
    .bind(r.requested_at.0)
    .bind(&r.tracking_number)
    .bind(&r.installed_serial)
    .bind(&r.removed_serial)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

async fn project_article(tx: &mut WriteTx, a: &KbArticle) -> CoreResult<()> {
    let id = a.id.to_string();
    reference(tx, &id, "kb_article", &a.title, &a.tags.join(", ")).await?;
    index(tx, &id, "kb_article", &a.title, &format!("{}\n{}", a.body.as_str(), a.tags.join(" "))).await
}
