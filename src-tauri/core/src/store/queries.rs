//! Reads of the projections: lists, filters and search, never a document load.

use serde::{Deserialize, Serialize};
use sqlx::{QueryBuilder, Sqlite, SqlitePool};

use crate::error::CoreResult;
use crate::views::{ArticleRow, EquipmentRow, Notice, PartRequestRow, TicketRow};

/// Which tickets to list.
#[derive(ts_rs::TS, Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[ts(export)]
pub struct TicketFilter {
    /// Status codes (`on_site`, …); empty means all open tickets and resolved ones.
    pub statuses: Vec<String>,
    /// `p1` … `p4`.
    pub priority: Option<String>,
    /// Only tickets with a visit starting in `[from, to)` (ms, UTC): the
    /// caller passes the user's local day.
    #[ts(type = "[number, number] | null")]
    pub visits_between: Option<(i64, i64)>,
    /// Words to search for in the ticket and its client, site and equipment.
    pub search: Option<String>,
    pub limit: Option<u32>,
    pub offset: Option<u32>,
}

/// Turns what a user typed into an FTS5 query: every word must match, as a prefix.
pub(crate) fn match_query(text: &str) -> Option<String> {
    let words: Vec<String> = text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .take(16)
        .map(|w| format!("\"{w}\"*"))
        .collect();
    (!words.is_empty()).then(|| words.join(" "))
}

type TicketRowTuple =
    (String, String, String, String, String, Option<String>, Option<String>, String, Option<i64>, i64, i64);

const TICKET_COLUMNS: &str =
    "SELECT t.id, t.number, t.title, t.status, t.priority, c.name, s.name, t.address, t.due_at,
        t.running_timer, t.conflicts
     FROM tickets t
     LEFT JOIN reference c ON c.id = t.client_id
     LEFT JOIN reference s ON s.id = t.site_id";

fn ticket_row(r: TicketRowTuple) -> TicketRow {
    TicketRow {
        id: r.0,
        number: r.1,
        title: r.2,
        status: r.3,
        priority: r.4,
        client: r.5,
        site: r.6,
        address: r.7,
        due_at: r.8,
        timer_running: r.9 != 0,
        conflicts: r.10,
    }
}

/// Tickets by urgency: the nearest deadline first, finished work last.
pub(crate) async fn tickets(pool: &SqlitePool, filter: &TicketFilter) -> CoreResult<Vec<TicketRow>> {
    let mut q: QueryBuilder<'_, Sqlite> = QueryBuilder::new(TICKET_COLUMNS);
    q.push(" WHERE 1 = 1");
    if filter.statuses.is_empty() {
        q.push(" AND t.status NOT IN ('closed', 'cancelled')");
    } else {
        q.push(" AND t.status IN (");
        let mut list = q.separated(", ");
        for status in &filter.statuses {
            list.push_bind(status.clone());
        }
        q.push(")");
    }
    if let Some(priority) = &filter.priority {
        // The one spelling; the old one (`P1`) is read too.
        let code = outpost_sync::model::Priority::parse(priority).map_or(priority.as_str(), |p| p.code());
        q.push(" AND t.priority = ").push_bind(code.to_owned());
    }
    if let Some((from, to)) = filter.visits_between {
        q.push(" AND t.id IN (SELECT ticket_id FROM ticket_visits WHERE arrived >= ")
            .push_bind(from)
            .push(" AND arrived < ")
            .push_bind(to)
            .push(")");
    }
    if let Some(words) = filter.search.as_deref().and_then(match_query) {
        q.push(" AND (t.id IN (SELECT doc_id FROM search WHERE search MATCH ")
            .push_bind(words.clone())
            .push(" AND kind = 'ticket') OR t.client_id IN (SELECT doc_id FROM search WHERE search MATCH ")
            .push_bind(words.clone())
            .push(" AND kind = 'client') OR t.site_id IN (SELECT doc_id FROM search WHERE search MATCH ")
            .push_bind(words.clone())
            .push(" AND kind = 'site') OR t.id IN (SELECT ticket_id FROM ticket_equipment WHERE equipment_id IN")
            .push(" (SELECT doc_id FROM search WHERE search MATCH ")
            .push_bind(words)
            .push(" AND kind = 'equipment')))");
    }
    q.push(" ORDER BY t.due_at IS NULL, t.due_at, t.priority, t.number LIMIT ")
        .push_bind(i64::from(filter.limit.unwrap_or(200).min(1_000)))
        .push(" OFFSET ")
        .push_bind(i64::from(filter.offset.unwrap_or(0)));
    let rows: Vec<TicketRowTuple> = q.build_query_as().fetch_all(pool).await?;
    Ok(rows.into_iter().map(ticket_row).collect())
}

type PartRowTuple =
    (String, String, Option<String>, String, String, i64, String, i64, Option<String>, Option<String>, Option<String>);

fn part_row(r: PartRowTuple) -> PartRequestRow {
    PartRequestRow {
        id: r.0,
        ticket_id: r.1,
        ticket_number: r.2,
        part_number: r.3,
        description: r.4,
        quantity: r.5,
        status: r.6,
        requested_at: r.7,
        tracking_number: r.8,
        installed_serial: r.9,
        removed_serial: r.10,
    }
}

const PART_COLUMNS: &str = "SELECT p.id, p.ticket_id, t.number, p.part_number, p.description, p.quantity, p.status,
        p.requested_at, p.tracking_number, p.installed_serial, p.removed_serial
     FROM part_requests p LEFT JOIN tickets t ON t.id = p.ticket_id";

/// Part requests of one ticket, or those requested by `user`.
pub(crate) async fn part_requests(
    pool: &SqlitePool,
    ticket: Option<&str>,
    user: Option<&str>,
) -> CoreResult<Vec<PartRequestRow>> {
    let mut q: QueryBuilder<'_, Sqlite> = QueryBuilder::new(PART_COLUMNS);
    q.push(" WHERE 1 = 1");
    if let Some(ticket) = ticket {
        q.push(" AND p.ticket_id = ").push_bind(ticket.to_owned());
    }
    if let Some(user) = user {
        q.push(" AND p.requested_by = ").push_bind(user.to_owned());
    }
    q.push(" ORDER BY p.requested_at DESC LIMIT 1000");
    let rows: Vec<PartRowTuple> = q.build_query_as().fetch_all(pool).await?;
    Ok(rows.into_iter().map(part_row).collect())
}

/// Equipment whose serial starts with `serial` (case-insensitive), exact matches first.
pub(crate) async fn equipment_by_serial(pool: &SqlitePool, serial: &str) -> CoreResult<Vec<EquipmentRow>> {
    let escaped = serial.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
    let rows: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT id, serial, model FROM equipment WHERE serial LIKE ? ESCAPE '\\' COLLATE NOCASE
         ORDER BY serial = ? COLLATE NOCASE DESC, serial LIMIT 50",
    )
    .bind(format!("{escaped}%"))
    .bind(serial)
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(|r| EquipmentRow { id: r.0, serial: Some(r.1), model: Some(r.2) }).collect())
}

/// Equipment whose serial, model or vendor match the words.
pub(crate) async fn search_equipment(pool: &SqlitePool, text: &str) -> CoreResult<Vec<EquipmentRow>> {
    let Some(words) = match_query(text) else {
        return Ok(Vec::new());
    };
    let rows: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT e.id, e.serial, e.model FROM search JOIN equipment e ON e.id = search.doc_id
         WHERE search MATCH ? AND search.kind = 'equipment' ORDER BY rank LIMIT 50",
    )
    .bind(words)
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(|r| EquipmentRow { id: r.0, serial: Some(r.1), model: Some(r.2) }).collect())
}

/// Knowledge-base articles matching `text` (all of them, by title, when it is empty).
pub(crate) async fn articles(pool: &SqlitePool, text: &str) -> CoreResult<Vec<ArticleRow>> {
    let rows: Vec<(String, String, String)> = match match_query(text) {
        Some(words) => {
            sqlx::query_as(
                "SELECT r.id, r.name, r.detail FROM search JOIN reference r ON r.id = search.doc_id
                 WHERE search MATCH ? AND search.kind = 'kb_article' ORDER BY rank LIMIT 100",
            )
            .bind(words)
            .fetch_all(pool)
            .await?
        }
        None => {
            sqlx::query_as("SELECT id, name, detail FROM reference WHERE kind = 'kb_article' ORDER BY name LIMIT 500")
                .fetch_all(pool)
                .await?
        }
    };
    Ok(rows.into_iter().map(|r| ArticleRow { id: r.0, title: r.1, tags: r.2 }).collect())
}

/// Refused edits from sync and workflow conflicts, newest first.
pub(crate) async fn notices(pool: &SqlitePool) -> CoreResult<Vec<Notice>> {
    type Row = (String, Option<String>, i64, String, Option<String>, String);
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT n.doc_id, t.number, n.at, n.kind, n.field, n.explanation FROM notices n
           LEFT JOIN tickets t ON t.id = n.doc_id
         UNION ALL
         SELECT c.doc_id, t.number, c.at, 'workflow_conflict', NULL, c.explanation FROM conflicts c
           LEFT JOIN tickets t ON t.id = c.doc_id
         ORDER BY 3 DESC LIMIT 500",
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| Notice { doc_id: r.0, ticket_number: r.1, at: r.2, kind: r.3, field: r.4, explanation: r.5 })
        .collect())
}

/// Everyone in the directories on this device, by user id.
pub(crate) async fn people_names(pool: &SqlitePool) -> CoreResult<std::collections::HashMap<String, String>> {
    let rows: Vec<(String, String)> = sqlx::query_as("SELECT id, name FROM people").fetch_all(pool).await?;
    Ok(rows.into_iter().collect())
}

/// A reference record's name, if it reached this device.
pub(crate) async fn reference_name(pool: &SqlitePool, id: &str) -> CoreResult<Option<String>> {
    let row: Option<(String,)> =
        sqlx::query_as("SELECT name FROM reference WHERE id = ?").bind(id).fetch_optional(pool).await?;
    Ok(row.map(|r| r.0))
}

#[cfg(test)]
mod tests {
    use super::match_query;

    #[test]
    fn typed_words_become_prefix_terms_and_punctuation_cannot_break_the_query() {
        assert_eq!(match_query("RAID  ctrl").as_deref(), Some("\"RAID\"* \"ctrl\"*"));
        assert_eq!(match_query("\"); DROP TABLE tickets; --").as_deref(), Some("\"DROP\"* \"TABLE\"* \"tickets\"*"));
        assert_eq!(match_query("Сервер-12").as_deref(), Some("\"Сервер\"* \"12\"*"));
        assert_eq!(match_query(" *** "), None);
    }
}
