//! Plain rows projected from documents, for the dispatchers' queries.
//! Written in the same transaction as the document itself.

use outpost_sync::ids::Timestamp;
use outpost_sync::model::{Document, Equipment, PartRequest, Ticket};
use outpost_sync::workflow::{fold_part_request, fold_ticket};
use sqlx::{Any, Transaction};

use crate::store::StoreError;

pub(crate) async fn project(
    tx: &mut Transaction<'_, Any>,
    document: &Document,
    now: Timestamp,
) -> Result<(), StoreError> {
    match document {
        Document::Ticket(ticket) => {
            project_ticket(tx, ticket, now).await?;
            Ok(crate::blobs::link(tx, ticket.id, ticket.blob_links()).await?)
        }
        Document::PartRequest(request) => project_part_request(tx, request, now).await,
        Document::Equipment(equipment) => project_equipment(tx, equipment, now).await,
        _ => Ok(()),
    }
}

async fn project_part_request(
    tx: &mut Transaction<'_, Any>,
    request: &PartRequest,
    now: Timestamp,
) -> Result<(), StoreError> {
    let status = fold_part_request(request).status;
    sqlx::query(
        "INSERT INTO part_requests (id, ticket_id, org_id, part_number, description, quantity, status, warehouse,
             tracking_number, requested_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
         ON CONFLICT (id) DO UPDATE SET description = excluded.description, quantity = excluded.quantity,
             status = excluded.status, warehouse = excluded.warehouse, tracking_number = excluded.tracking_number,
             updated_at = excluded.updated_at",
    )
    .bind(request.id.to_string())
    .bind(request.ticket.to_string())
    .bind(request.org.to_string())
    .bind(&request.part_number)
    .bind(&request.description)
    .bind(i64::try_from(request.quantity).unwrap_or(i64::MAX))
    .bind(status.as_str())
    .bind(request.warehouse.as_deref())
    .bind(request.tracking_number.as_deref())
    .bind(request.requested_at.0)
    .bind(now.0)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

async fn project_equipment(tx: &mut Transaction<'_, Any>, e: &Equipment, now: Timestamp) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO equipment (id, serial, model, vendor, class, client_id, site_id, covered_until, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
         ON CONFLICT (id) DO UPDATE SET serial = excluded.serial, model = excluded.model, vendor = excluded.vendor,
             class = excluded.class, client_id = excluded.client_id, site_id = excluded.site_id,
             covered_until = excluded.covered_until, updated_at = excluded.updated_at",
    )
    .bind(e.id.to_string())
    .bind(&e.serial)
    .bind(&e.model)
    .bind(&e.vendor)
    .bind(&e.class)
    .bind(e.client.to_string())
    .bind(e.site.map(|s| s.to_string()))
    .bind(e.covered_until.map(|t| t.0))
    .bind(now.0)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Lower-cased text the search looks through.
fn search_text(ticket: &Ticket) -> String {
    let mut text = vec![
        ticket.number.as_str(),
        ticket.title.as_str(),
        ticket.description.as_str(),
        ticket.resolution.notes.as_str(),
        ticket.site.address.as_str(),
        ticket.site.region.as_str(),
        ticket.contact.name.as_str(),
        ticket.category.as_str(),
    ];
    text.extend(ticket.work_log.iter().map(|n| n.text.as_str()));
    text.join("\n").to_lowercase()
}

async fn project_ticket(tx: &mut Transaction<'_, Any>, ticket: &Ticket, now: Timestamp) -> Result<(), StoreError> {
    let state = fold_ticket(ticket);
    let assignee = state.assignee;
    sqlx::query(
        "INSERT INTO tickets (id, number, title, status, priority, support_level, product_team, region, client_id,
             assignee_user, partner_org, reaction_due, resolution_due, first_response_at, resolved_at, created_at, updated_at, search)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)
         ON CONFLICT (id) DO UPDATE SET number = excluded.number, title = excluded.title, status = excluded.status,
             priority = excluded.priority, support_level = excluded.support_level, product_team = excluded.product_team,
             region = excluded.region, client_id = excluded.client_id, assignee_user = excluded.assignee_user,
             partner_org = excluded.partner_org, reaction_due = excluded.reaction_due, resolution_due = excluded.resolution_due,
             first_response_at = excluded.first_response_at, resolved_at = excluded.resolved_at,
             updated_at = excluded.updated_at, search = excluded.search",
    )
    .bind(ticket.id.to_string())
    .bind(&ticket.number)
    .bind(&ticket.title)
    .bind(fold_ticket(ticket).status.code())
    .bind(ticket.priority.code())
    .bind(ticket.support_level.code())
    .bind(&ticket.product_team)
    .bind(&ticket.site.region)
    .bind(ticket.client.to_string())
    .bind(assignee.and_then(|a| a.engineer).map(|u| u.to_string()))
    .bind(assignee.and_then(|a| a.partner_org).map(|o| o.to_string()))
    .bind(ticket.sla.reaction_due.map(|t| t.0))
    .bind(ticket.sla.resolution_due.map(|t| t.0))
    .bind(ticket.sla.first_response_at.map(|t| t.0))
    .bind(ticket.sla.resolved_at.map(|t| t.0))
    .bind(ticket.created_at.0)
    .bind(now.0)
    .bind(search_text(ticket))
    .execute(&mut **tx)
    .await?;
    sqlx::query("UPDATE tickets SET points_charged = $1 WHERE id = $2")
        .bind(ticket.billing.points_charged.map(|p| i64::try_from(p.hundredths).unwrap_or(i64::MAX)))
        .bind(ticket.id.to_string())
        .execute(&mut **tx)
        .await?;
    project_labour(tx, ticket).await
}

/// The ticket's finished time entries, for the labour reports.
async fn project_labour(tx: &mut Transaction<'_, Any>, ticket: &Ticket) -> Result<(), StoreError> {
    let id = ticket.id.to_string();
    sqlx::query("DELETE FROM ticket_time WHERE ticket_id = $1").bind(&id).execute(&mut **tx).await?;
    for entry in &ticket.time_entries {
        let Some(end) = entry.end.filter(|end| *end > entry.start) else { continue };
        sqlx::query(
            "INSERT INTO ticket_time (ticket_id, entry_id, kind, user_id, org_id, started_at, ended_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&id)
        .bind(entry.id.to_string())
        .bind(match entry.kind {
            outpost_sync::model::TimeKind::Travel => "travel",
            outpost_sync::model::TimeKind::Work => "work",
        })
        .bind(entry.by.user.to_string())
        .bind(entry.by.org.to_string())
        .bind(entry.start.0)
        .bind(end.0)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}
