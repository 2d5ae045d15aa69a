//! The desk's reports over a period: SLA compliance, labour and
//! utilisation, points. Pure functions over the rows the routes read (the
//! routes only query and translate), so each rule is tested here.
//!
//! - SLA: the tickets opened in the period. A deadline is met when the
//!   response (or resolution) came at or before it, missed when it came
//!   later or has not come and the deadline has passed; otherwise it is
//!   still open and counts neither way.
//! - Labour: finished time entries, clipped to the period; travel and work
//!   apart. An engineer's available hours are `hours_per_day` on each
//!   weekday (Monday to Friday, UTC) of the period; utilisation is work
//!   hours over available hours.
//! - Points: per client, what tickets resolved in the period charged, and
//!   the balance now.

use std::collections::BTreeMap;

use chrono::Datelike;
use outpost_sync::ids::Timestamp;
use serde::Serialize;

const HOUR: f64 = 3_600_000.0;

/// `[from, to)`, in the desk's clock.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Period {
    pub from: Timestamp,
    pub to: Timestamp,
}

impl Period {
    pub fn contains(&self, at: Timestamp) -> bool {
        self.from <= at && at < self.to
    }

    /// The part of `[start, end)` inside the period, in milliseconds.
    fn overlap(&self, start: Timestamp, end: Timestamp) -> i64 {
        (end.0.min(self.to.0) - start.0.max(self.from.0)).max(0)
    }

    /// Weekdays (Monday to Friday) the period touches, counted by UTC date.
    pub fn weekdays(&self) -> u32 {
        let (Some(from), Some(to)) = (self.from.to_datetime(), self.to.to_datetime()) else { return 0 };
        let mut day = from.date_naive();
        let last = (to - chrono::Duration::milliseconds(1)).date_naive();
        let mut count = 0;
        while day <= last {
            if day.weekday().number_from_monday() <= 5 {
                count += 1;
            }
            let Some(next) = day.succ_opt() else { break };
            day = next;
        }
        count
    }
}

/// How one deadline went.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Met,
    Missed,
    Open,
}

/// Met, missed, or still open at `now`.
pub fn verdict(due: Option<Timestamp>, done: Option<Timestamp>, now: Timestamp) -> Option<Verdict> {
    let due = due?;
    Some(match done {
        Some(done) if done <= due => Verdict::Met,
        Some(_) => Verdict::Missed,
        None if due < now => Verdict::Missed,
        None => Verdict::Open,
    })
}

/// One ticket as the SLA report sees it.
#[derive(Clone, Debug)]
pub struct SlaTicket {
    pub group: String,
    pub created_at: Timestamp,
    pub reaction_due: Option<Timestamp>,
    pub first_response_at: Option<Timestamp>,
    pub resolution_due: Option<Timestamp>,
    pub resolved_at: Option<Timestamp>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, utoipa::ToSchema)]
pub struct SlaRow {
    pub group: String,
    pub name: String,
    pub opened: u64,
    pub resolved: u64,
    pub reaction_met: u64,
    pub reaction_missed: u64,
    pub resolution_met: u64,
    pub resolution_missed: u64,
    /// Met over met and missed; `None` when none has come due.
    pub reaction_compliance: Option<f64>,
    pub resolution_compliance: Option<f64>,
}

fn share(met: u64, missed: u64) -> Option<f64> {
    let all = met + missed;
    (all > 0).then(|| met as f64 / all as f64)
}

pub fn sla(tickets: &[SlaTicket], period: Period, now: Timestamp) -> Vec<SlaRow> {
    let mut rows: BTreeMap<String, SlaRow> = BTreeMap::new();
    for t in tickets.iter().filter(|t| period.contains(t.created_at)) {
        let row = rows.entry(t.group.clone()).or_insert_with(|| SlaRow { group: t.group.clone(), ..SlaRow::default() });
        row.opened += 1;
        row.resolved += u64::from(t.resolved_at.is_some());
        match verdict(t.reaction_due, t.first_response_at, now) {
            Some(Verdict::Met) => row.reaction_met += 1,
            Some(Verdict::Missed) => row.reaction_missed += 1,
            _ => {}
        }
        match verdict(t.resolution_due, t.resolved_at, now) {
            Some(Verdict::Met) => row.resolution_met += 1,
            Some(Verdict::Missed) => row.resolution_missed += 1,
            _ => {}
        }
    }
    rows.into_values()
        .map(|mut row| {
            row.reaction_compliance = share(row.reaction_met, row.reaction_missed);
            row.resolution_compliance = share(row.resolution_met, row.resolution_missed);
            row
        })
        .collect()
}

/// One finished time entry as the labour report sees it.
#[derive(Clone, Debug)]
pub struct LabourEntry {
    pub group: String,
    pub work: bool,
    pub start: Timestamp,
    pub end: Timestamp,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, utoipa::ToSchema)]
pub struct LabourRow {
    pub group: String,
    pub name: String,
    pub work_hours: f64,
    pub travel_hours: f64,
    /// For engineers: the hours they could have worked in the period.
    pub available_hours: Option<f64>,
    /// Work hours over available hours.
    pub utilisation: Option<f64>,
}

/// Labour per group; `available` gives a group's available hours, if it has any.
pub fn labour(entries: &[LabourEntry], period: Period, available: impl Fn(&str) -> Option<f64>) -> Vec<LabourRow> {
    let mut rows: BTreeMap<String, LabourRow> = BTreeMap::new();
    for e in entries {
        let hours = period.overlap(e.start, e.end) as f64 / HOUR;
        if hours <= 0.0 {
            continue;
        }
        let row =
            rows.entry(e.group.clone()).or_insert_with(|| LabourRow { group: e.group.clone(), ..LabourRow::default() });
        if e.work {
            row.work_hours += hours;
        } else {
            row.travel_hours += hours;
        }
    }
    rows.into_values()
        .map(|mut row| {
            row.available_hours = available(&row.group);
            row.utilisation = row.available_hours.filter(|h| *h > 0.0).map(|h| row.work_hours / h);
            row
        })
        .collect()
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, utoipa::ToSchema)]
pub struct PointsRow {
    pub client: String,
    pub name: String,
    /// Hundredths of a point charged by tickets resolved in the period.
    pub charged: u64,
    pub tickets_charged: u64,
    /// Hundredths of a point left now; `None` for a client without prepaid points.
    pub balance: Option<u64>,
    pub low_balance: bool,
}

/// A report's rows, with their columns in order.
pub trait Columns: Serialize {
    const COLUMNS: &'static [&'static str];
}

impl Columns for SlaRow {
    const COLUMNS: &'static [&'static str] = &[
        "group",
        "name",
        "opened",
        "resolved",
        "reaction_met",
        "reaction_missed",
        "reaction_compliance",
        "resolution_met",
        "resolution_missed",
        "resolution_compliance",
    ];
}

impl Columns for LabourRow {
    const COLUMNS: &'static [&'static str] =
        &["group", "name", "work_hours", "travel_hours", "available_hours", "utilisation"];
}

impl Columns for PointsRow {
    const COLUMNS: &'static [&'static str] =
        &["client", "name", "charged", "tickets_charged", "balance", "low_balance"];
}

/// Writes rows as CSV: a header, one line per row, fields quoted when they
/// must be. A field that a spreadsheet would run as a formula (it starts
/// with `=`, `+`, `-`, `@`) gets a leading apostrophe.
pub fn csv<T: Columns>(rows: &[T]) -> String {
    let header = T::COLUMNS;
    let mut out = header.iter().map(|h| field(h)).collect::<Vec<_>>().join(",");
    out.push_str("\r\n");
    for row in rows {
        let Ok(serde_json::Value::Object(row)) = serde_json::to_value(row) else { continue };
        let line: Vec<String> = header
            .iter()
            .map(|key| match row.get(*key) {
                None | Some(serde_json::Value::Null) => String::new(),
                Some(serde_json::Value::String(s)) => field(s),
                Some(other) => other.to_string(),
            })
            .collect();
        out.push_str(&line.join(","));
        out.push_str("\r\n");
    }
    out
}

fn field(text: &str) -> String {
    let text = if text.starts_with(['=', '+', '-', '@']) { format!("'{text}") } else { text.to_owned() };
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: i64 = 3_600_000;

    fn period() -> Period {
        // Monday 2026-11-16 00:00 UTC to Monday 2026-11-23 00:00 UTC.
        Period { from: Timestamp(1_763_251_200_000), to: Timestamp(1_763_251_200_000 + 7 * 24 * H) }
    }

    #[test]
    fn deadlines_are_met_missed_or_still_open() {
        let now = Timestamp(100);
        assert_eq!(verdict(Some(Timestamp(50)), Some(Timestamp(50)), now), Some(Verdict::Met));
        assert_eq!(verdict(Some(Timestamp(50)), Some(Timestamp(51)), now), Some(Verdict::Missed));
        assert_eq!(verdict(Some(Timestamp(50)), None, now), Some(Verdict::Missed), "passed with nothing done");
        assert_eq!(verdict(Some(Timestamp(150)), None, now), Some(Verdict::Open));
        assert_eq!(verdict(None, None, now), None, "no deadline, nothing to measure");
    }

    #[test]
    fn sla_counts_the_tickets_opened_in_the_period_per_group() {
        let p = period();
        let at = |h: i64| Some(Timestamp(p.from.0 + h * H));
        let ticket = |group: &str, created: i64, first: Option<Timestamp>, resolved: Option<Timestamp>| SlaTicket {
            group: group.into(),
            created_at: Timestamp(p.from.0 + created * H),
            reaction_due: at(created + 2),
            first_response_at: first,
            resolution_due: at(created + 8),
            resolved_at: resolved,
        };
        let tickets = vec![
            ticket("POS", 1, at(2), at(5)),    // both met
            ticket("POS", 10, at(13), at(30)), // both missed
            ticket("POS", -5, at(-4), at(-3)), // opened before the period
            ticket("Net", 100, None, None),    // reaction passed with no response; resolution passed too
        ];
        let now = Timestamp(p.from.0 + 200 * H);
        let rows = sla(&tickets, p, now);
        let pos = rows.iter().find(|r| r.group == "POS").unwrap();
        assert_eq!((pos.opened, pos.resolved, pos.reaction_met, pos.reaction_missed), (2, 2, 1, 1));
        assert_eq!(pos.resolution_compliance, Some(0.5));
        let net = rows.iter().find(|r| r.group == "Net").unwrap();
        assert_eq!((net.reaction_missed, net.resolution_missed, net.reaction_compliance), (1, 1, Some(0.0)));
        let early = sla(&tickets, p, Timestamp(p.from.0 + 101 * H));
        let net = early.iter().find(|r| r.group == "Net").unwrap();
        assert_eq!((net.reaction_met, net.reaction_missed, net.reaction_compliance), (0, 0, None), "still open");
    }

    #[test]
    fn labour_is_clipped_to_the_period_and_utilisation_counts_weekdays() {
        let p = period();
        assert_eq!(p.weekdays(), 5);
        let entry = |group: &str, work: bool, start: i64, end: i64| LabourEntry {
            group: group.into(),
            work,
            start: Timestamp(p.from.0 + start * H),
            end: Timestamp(p.from.0 + end * H),
        };
        let entries = vec![
            entry("vera", true, 9, 13),
            entry("vera", false, 8, 9),
            entry("vera", true, -2, 1),    // one hour of it inside
            entry("oleg", true, 170, 200), // ends after the period: 168 - 170 is none
        ];
        let rows = labour(&entries, p, |g| (g == "vera").then_some(40.0));
        assert_eq!(rows.len(), 1, "oleg worked only after the period");
        let vera = &rows[0];
        assert_eq!((vera.work_hours, vera.travel_hours), (5.0, 1.0));
        assert_eq!(vera.utilisation, Some(5.0 / 40.0));
    }

    #[test]
    fn csv_quotes_what_it_must_and_defuses_formulas() {
        #[derive(Serialize)]
        struct Row {
            name: String,
            hours: f64,
            note: Option<String>,
        }
        impl Columns for Row {
            const COLUMNS: &'static [&'static str] = &["name", "hours", "note"];
        }
        let rows = vec![
            Row { name: "ООО \"Ромашка\", филиал".into(), hours: 1.5, note: None },
            Row { name: "=HYPERLINK(\"x\")".into(), hours: 0.0, note: Some("a\nb".into()) },
        ];
        let text = csv(&rows);
        let lines: Vec<&str> = text.split("\r\n").collect();
        assert_eq!(lines[0], "name,hours,note");
        assert_eq!(lines[1], "\"ООО \"\"Ромашка\"\", филиал\",1.5,");
        assert!(lines[2].starts_with("\"'=HYPERLINK(\"\"x\"\")\",0.0,\"a"), "{}", lines[2]);
        assert_eq!(csv::<Row>(&[]), "name,hours,note\r\n", "no rows: the header alone");
    }
}
