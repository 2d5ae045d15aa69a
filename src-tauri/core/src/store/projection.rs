//! Plain tables the screens read, rewritten from a document in the same
//! transaction that stores it.

use outpost_sync::model::{Document, Equipment, PartRequest, Ticket, TicketStatus};
use outpost_sync::workflow::{fold_part_request, fold_ticket};
use sqlx::{QueryBuilder, Sqlite};

use super::{WriteTx, MAX_BINDS};
use crate::error::CoreResult;

/// One value of a projected row.
enum Cell {
    Text(String),
    MaybeText(Option<String>),
    Int(i64),
    MaybeInt(Option<i64>),
}

impl From<&str> for Cell {
    fn from(text: &str) -> Self {
        Self::Text(text.to_owned())
    }
}

impl From<String> for Cell {
    fn from(text: String) -> Self {
        Self::Text(text)
    }
}

impl From<Option<String>> for Cell {
    fn from(text: Option<String>) -> Self {
        Self::MaybeText(text)
    }
}

impl From<i64> for Cell {
    fn from(n: i64) -> Self {
        Self::Int(n)
    }
}

impl From<Option<i64>> for Cell {
    fn from(n: Option<i64>) -> Self {
        Self::MaybeInt(n)
    }
}

/// How rows go into one table: the statement's text before and after its values.
struct Table {
    head: &'static str,
    tail: &'static str,
}

const TICKETS: Table = Table {
    head: "INSERT INTO tickets (id, number, title, status, priority, support_level, assignee_user, assignee_org,
            client_id, site_id, address, region, contact_name, contact_phone, created_at, reaction_due,
            resolution_due, first_response_at, due_at, running_timer, conflicts) ",
    tail: " ON CONFLICT (id) DO UPDATE SET number = excluded.number, title = excluded.title,
            status = excluded.status, priority = excluded.priority, support_level = excluded.support_level,
            assignee_user = excluded.assignee_user, assignee_org = excluded.assignee_org,
            client_id = excluded.client_id, site_id = excluded.site_id, address = excluded.address,
            region = excluded.region, contact_name = excluded.contact_name, contact_phone = excluded.contact_phone,
            created_at = excluded.created_at, reaction_due = excluded.reaction_due,
            resolution_due = excluded.resolution_due, first_response_at = excluded.first_response_at,
            due_at = excluded.due_at, running_timer = excluded.running_timer, conflicts = excluded.conflicts",
};
const TICKET_EQUIPMENT: Table =
    Table { head: "INSERT OR IGNORE INTO ticket_equipment (ticket_id, equipment_id) ", tail: "" };
const TICKET_VISITS: Table = Table { head: "INSERT INTO ticket_visits (ticket_id, arrived, left_at) ", tail: "" };
const CONFLICTS: Table =
    Table { head: "INSERT OR REPLACE INTO conflicts (doc_id, entry_id, at, explanation) ", tail: "" };
const EQUIPMENT: Table = Table {
    head: "INSERT INTO equipment (id, serial, model, vendor, client_id, site_id, location_note, covered_until) ",
    tail: " ON CONFLICT (id) DO UPDATE SET serial = excluded.serial, model = excluded.model, vendor = excluded.vendor,
            client_id = excluded.client_id, site_id = excluded.site_id, location_note = excluded.location_note,
            covered_until = excluded.covered_until",
};
const PART_REQUESTS: Table = Table {
    head: "INSERT INTO part_requests (id, ticket_id, part_number, description, quantity, status, requested_by,
            requested_at, tracking_number, installed_serial, removed_serial) ",
    tail: " ON CONFLICT (id) DO UPDATE SET description = excluded.description, quantity = excluded.quantity,
            status = excluded.status, tracking_number = excluded.tracking_number,
            installed_serial = excluded.installed_serial, removed_serial = excluded.removed_serial",
};
const REFERENCE: Table = Table {
    head: "INSERT INTO reference (id, kind, name, detail) ",
    tail: " ON CONFLICT (id) DO UPDATE SET name = excluded.name, detail = excluded.detail",
};
const PEOPLE: Table = Table { head: "INSERT INTO people (doc_id, id, org_id, name, role) ", tail: "" };
const SEARCH: Table = Table { head: "INSERT INTO search_rows (doc_id, kind, title, body) ", tail: "" };

/// The projected rows of a batch of documents, written a few statements
/// per table instead of several per document: a page of a first sync is
/// hundreds of documents, and each statement crosses to sqlx's SQLite
/// thread and back.
#[derive(Default)]
pub(super) struct Rows {
    /// Every document in the batch: its search row is replaced.
    documents: Vec<String>,
    /// Tickets: their equipment, visits and conflicts are replaced.
    tickets: Vec<String>,
    /// Directories: their people are replaced.
    directories: Vec<String>,
    /// Rows by table, tables in the order they first appear.
    inserts: Vec<(&'static Table, Vec<Vec<Cell>>)>,
}

impl Rows {
    fn insert(&mut self, table: &'static Table, row: Vec<Cell>) {
        match self.inserts.iter_mut().find(|(t, _)| std::ptr::eq(*t, table)) {
            Some((_, rows)) => rows.push(row),
            None => self.inserts.push((table, vec![row])),
        }
    }

    fn index(&mut self, id: &str, kind: &str, title: &str, body: &str) {
        self.insert(&SEARCH, vec![id.into(), kind.into(), title.into(), body.into()]);
    }

    fn reference(&mut self, id: &str, kind: &str, name: &str, detail: &str) {
        self.insert(&REFERENCE, vec![id.into(), kind.into(), name.into(), detail.into()]);
    }

    /// Adds the rows made from `document`; a batch holds each document once.
    pub(super) fn add(&mut self, document: &Document) {
        let id = document.id().to_string();
        self.documents.push(id.clone());
        match document {
            Document::Ticket(ticket) => self.ticket(ticket),
            Document::Equipment(equipment) => self.equipment(equipment),
            Document::PartRequest(request) => self.part_request(request),
            Document::Client(client) => {
                self.reference(&id, "client", &client.name, client.contract.as_deref().unwrap_or(""));
                self.index(&id, "client", &client.name, "");
            }
            Document::Site(site) => {
                self.reference(&id, "site", &site.name, &site.address);
                self.index(&id, "site", &site.name, &format!("{} {}", site.address, site.region));
            }
            Document::ChecklistTemplate(template) => {
                let labels: Vec<&str> = template.items.iter().map(|i| i.label.as_str()).collect();
                self.reference(&id, "checklist_template", &template.name, &labels.join("\n"));
            }
            Document::KbArticle(article) => {
                self.reference(&id, "kb_article", &article.title, &article.tags.join(", "));
                let body = format!("{}\n{}", article.body.as_str(), article.tags.join(" "));
                self.index(&id, "kb_article", &article.title, &body);
            }
            Document::Directory(directory) => {
                self.directories.push(id.clone());
                for (user, person) in &directory.people {
                    let row = vec![
                        id.as_str().into(),
                        user.to_string().into(),
                        directory.org.to_string().into(),
                        person.name.as_str().into(),
                        person.role.as_str().into(),
                    ];
                    self.insert(&PEOPLE, row);
                }
            }
        }
    }

    /// Writes the batch: what the documents replace goes, then their rows.
    pub(super) async fn write(self, tx: &mut WriteTx) -> CoreResult<()> {
        delete(tx, "search_rows", "doc_id", &self.documents).await?;
        delete(tx, "ticket_equipment", "ticket_id", &self.tickets).await?;
        delete(tx, "ticket_visits", "ticket_id", &self.tickets).await?;
        delete(tx, "conflicts", "doc_id", &self.tickets).await?;
        delete(tx, "people", "doc_id", &self.directories).await?;
        for (table, rows) in &self.inserts {
            insert(tx, table, rows).await?;
        }
        Ok(())
    }
}

async fn delete(tx: &mut WriteTx, table: &str, column: &str, ids: &[String]) -> CoreResult<()> {
    for chunk in ids.chunks(MAX_BINDS) {
        let mut q = QueryBuilder::<Sqlite>::new(format!("DELETE FROM {table} WHERE {column} IN ("));
        let mut list = q.separated(", ");
        for id in chunk {
            list.push_bind(id.as_str());
        }
        q.push(")").build().execute(&mut **tx).await?;
    }
    Ok(())
}

async fn insert(tx: &mut WriteTx, table: &Table, rows: &[Vec<Cell>]) -> CoreResult<()> {
    let columns = rows.first().map_or(1, Vec::len).max(1);
    for chunk in rows.chunks((MAX_BINDS / columns).max(1)) {
        let mut q = QueryBuilder::<Sqlite>::new(table.head);
        q.push_values(chunk, |mut values, row| {
            for cell in row {
                match cell {
                    Cell::Text(text) => values.push_bind(text.as_str()),
                    Cell::MaybeText(text) => values.push_bind(text.as_deref()),
                    Cell::Int(n) => values.push_bind(*n),
                    Cell::MaybeInt(n) => values.push_bind(*n),
                };
            }
        });
        q.push(table.tail).build().execute(&mut **tx).await?;
    }
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

impl Rows {
    fn ticket(&mut self, t: &Ticket) {
        let id = t.id.to_string();
        let state = fold_ticket(t);
        let running = t.time_entries.iter().any(|e| e.end.is_none());
        self.tickets.push(id.clone());
        self.insert(
            &TICKETS,
            vec![
                id.as_str().into(),
                t.number.as_str().into(),
                t.title.as_str().into(),
                state.status.code().into(),
                t.priority.code().into(),
                t.support_level.code().into(),
                state.assignee.and_then(|a| a.engineer).map(|u| u.to_string()).into(),
                state.assignee.and_then(|a| a.partner_org).map(|o| o.to_string()).into(),
                t.client.to_string().into(),
                t.site.site.map(|s| s.to_string()).into(),
                t.site.address.as_str().into(),
                t.site.region.as_str().into(),
                t.contact.name.as_str().into(),
                t.contact.phone.as_str().into(),
                t.created_at.0.into(),
                t.sla.reaction_due.map(|d| d.0).into(),
                t.sla.resolution_due.map(|d| d.0).into(),
                t.sla.first_response_at.map(|d| d.0).into(),
                due_at(t, state.status).into(),
                i64::from(running).into(),
                (state.conflicts.len() as i64).into(),
            ],
        );
        for equipment in &t.equipment {
            self.insert(&TICKET_EQUIPMENT, vec![id.as_str().into(), equipment.to_string().into()]);
        }
        for visit in &t.visits {
            self.insert(
                &TICKET_VISITS,
                vec![id.as_str().into(), visit.arrived.0.into(), visit.left.map(|l| l.0).into()],
            );
        }
        for conflict in &state.conflicts {
            let row = vec![
                id.as_str().into(),
                conflict.entry.to_string().into(),
                conflict.at.0.into(),
                conflict.explain().into(),
            ];
            self.insert(&CONFLICTS, row);
        }
        let mut body = vec![t.description.as_str(), t.resolution.notes.as_str(), &t.category, &t.site.address];
        body.extend(t.work_log.iter().map(|n| n.text.as_str()));
        self.index(&id, "ticket", &format!("{} {}", t.number, t.title), &body.join("\n"));
    }

    fn equipment(&mut self, e: &Equipment) {
        let id = e.id.to_string();
        self.insert(
            &EQUIPMENT,
            vec![
                id.as_str().into(),
                e.serial.as_str().into(),
                e.model.as_str().into(),
                e.vendor.as_str().into(),
                e.client.to_string().into(),
                e.site.map(|s| s.to_string()).into(),
                e.location_note.as_str().into(),
                e.covered_until.map(|t| t.0).into(),
            ],
        );
        self.index(&id, "equipment", &format!("{} {}", e.serial, e.model), &format!("{} {}", e.vendor, e.class));
    }

    fn part_request(&mut self, r: &PartRequest) {
        let status = fold_part_request(r).status;
        self.insert(
            &PART_REQUESTS,
            vec![
                r.id.to_string().into(),
                r.ticket.to_string().into(),
                r.part_number.as_str().into(),
                r.description.as_str().into(),
                (r.quantity as i64).into(),
                status.as_str().into(),
                r.requested_by.user.to_string().into(),
                r.requested_at.0.into(),
                r.tracking_number.clone().into(),
                r.installed_serial.clone().into(),
                r.removed_serial.clone().into(),
            ],
        );
    }
}
