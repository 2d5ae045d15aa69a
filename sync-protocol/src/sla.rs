//! SLA deadlines counted in a contract's business hours.
//!
//! Reaction and resolution times come from the ticket's priority; they run
//! only inside the contract's hours (24/7, or weekly windows such as
//! Mon–Fri 9:30–18:30) in the site's time zone, skipping holidays. Times are
//! the desk's clock: device clocks are not trusted for SLA figures.

use crate::ids::Timestamp;
use crate::model::{BusinessHours, Priority, Sla};
use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;

/// (reaction, resolution) in business hours, by priority.
pub fn targets(priority: Priority) -> (i64, i64) {
    match priority {
        Priority::P1 => (2, 8),
        Priority::P2 => (4, 24),
        Priority::P3 => (8, 72),
        Priority::P4 => (24, 120),
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SlaError {
    #[error("unknown time zone {0:?}")]
    UnknownZone(String),
    #[error("the contract's calendar has no working hours")]
    NoHours,
}

/// A contract calendar in a time zone.
pub struct Calendar<'a> {
    hours: &'a BusinessHours,
    zone: Tz,
    holidays: Vec<NaiveDate>,
}

impl<'a> Calendar<'a> {
    /// `zone` is an IANA name; an empty one means UTC.
    pub fn new(hours: &'a BusinessHours, zone: &str) -> Result<Self, SlaError> {
        let zone =
            if zone.is_empty() { Tz::UTC } else { zone.parse().map_err(|_| SlaError::UnknownZone(zone.to_owned()))? };
        let holidays =
            hours.holidays.iter().filter_map(|h| NaiveDate::parse_from_str(&h.date, "%Y-%m-%d").ok()).collect();
        if !hours.always && hours.weekly.iter().all(|w| w.closes <= w.opens) {
            return Err(SlaError::NoHours);
        }
        Ok(Self { hours, zone, holidays })
    }

    /// The working windows of a local date, as UTC instants.
    fn windows(&self, date: NaiveDate) -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
        if self.holidays.contains(&date) {
            return Vec::new();
        }
        let weekday = u64::from(date.weekday().number_from_monday());
        let local = |minutes: u64| {
            let time =
                NaiveTime::from_num_seconds_from_midnight_opt(u32::try_from(minutes.min(1439) * 60).unwrap_or(0), 0)?;
            let at = if minutes >= 1440 { date.succ_opt()?.and_time(NaiveTime::MIN) } else { date.and_time(time) };
            self.zone.from_local_datetime(&at).earliest().map(|t| t.with_timezone(&Utc))
        };
        self.hours
            .weekly
            .iter()
            .filter(|w| w.weekday == weekday && w.closes > w.opens)
            .filter_map(|w| Some((local(w.opens)?, local(w.closes)?)))
            .collect()
    }

    /// `start` plus `hours` of business time.
    pub fn add_business_hours(&self, start: DateTime<Utc>, hours: i64) -> DateTime<Utc> {
        if self.hours.always {
            return start + Duration::hours(hours);
        }
        let mut remaining = Duration::hours(hours);
        let mut date = start.with_timezone(&self.zone).date_naive();
        // Ten years of days at most: a calendar with hours always ends sooner.
        for _ in 0..3_660 {
            for (opens, closes) in self.windows(date) {
                let from = opens.max(start);
                if from >= closes {
                    continue;
                }
                let available = closes - from;
                if remaining <= available {
                    return from + remaining;
                }
                remaining -= available;
            }
            date = match date.succ_opt() {
                Some(next) => next,
                None => break,
            };
        }
        start + Duration::hours(hours)
    }
}

/// The deadlines of a ticket opened at `opened` (the desk's clock).
pub fn deadlines(priority: Priority, calendar: &Calendar<'_>, opened: Timestamp) -> Sla {
    let start = opened.to_datetime().unwrap_or_default();
    let (reaction, resolution) = targets(priority);
    Sla {
        reaction_due: Some(Timestamp::from_datetime(calendar.add_business_hours(start, reaction))),
        resolution_due: Some(Timestamp::from_datetime(calendar.add_business_hours(start, resolution))),
        first_response_at: None,
        resolved_at: None,
        history: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use crate::model::{Holiday, WeeklyHours};

    use super::*;

    fn office() -> BusinessHours {
        BusinessHours {
            always: false,
            weekly: (1..=5).map(|weekday| WeeklyHours { weekday, opens: 9 * 60 + 30, closes: 18 * 60 + 30 }).collect(),
            holidays: vec![Holiday {
                date: "2026-11-04".into(), name: "День народного единства".into()
            }],
        }
    }

    fn utc(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn round_the_clock_contracts_count_every_hour() {
        let hours = BusinessHours { always: true, weekly: vec![], holidays: vec![] };
        let calendar = Calendar::new(&hours, "Europe/Moscow").unwrap();
        assert_eq!(calendar.add_business_hours(utc("2026-11-20T22:00:00Z"), 8), utc("2026-11-21T06:00:00Z"));
    }

    #[test]
    fn office_hours_stop_the_clock_overnight_in_the_sites_zone() {
        let hours = office();
        let calendar = Calendar::new(&hours, "Europe/Moscow").unwrap();
        // Thursday 17:30 Moscow (14:30 UTC): one hour today, seven tomorrow from 9:30.
        assert_eq!(calendar.add_business_hours(utc("2026-11-19T14:30:00Z"), 8), utc("2026-11-20T13:30:00Z"));
    }

    #[test]
    fn a_ticket_opened_on_friday_evening_waits_for_monday() {
        let hours = office();
        let calendar = Calendar::new(&hours, "Asia/Novosibirsk").unwrap();
        // Friday 20:00 Novosibirsk (13:00 UTC); Monday opens 9:30 local (02:30 UTC).
        assert_eq!(calendar.add_business_hours(utc("2026-11-20T13:00:00Z"), 2), utc("2026-11-23T04:30:00Z"));
    }

    #[test]
    fn holidays_do_not_count() {
        let hours = office();
        let calendar = Calendar::new(&hours, "Europe/Moscow").unwrap();
        // Tuesday 3 Nov 18:00 Moscow; the 4th is a holiday; the clock resumes Thursday 9:30.
        assert_eq!(calendar.add_business_hours(utc("2026-11-03T15:00:00Z"), 2), utc("2026-11-05T08:00:00Z"));
    }

    #[test]
    fn a_calendar_without_hours_or_zone_is_refused() {
        let closed = BusinessHours { always: false, weekly: vec![], holidays: vec![] };
        assert_eq!(Calendar::new(&closed, "UTC").err(), Some(SlaError::NoHours));
        assert_eq!(Calendar::new(&office(), "Mars/Olympus").err(), Some(SlaError::UnknownZone("Mars/Olympus".into())));
    }

    #[test]
    fn priority_sets_reaction_and_resolution() {
        let hours = BusinessHours { always: true, weekly: vec![], holidays: vec![] };
        let calendar = Calendar::new(&hours, "").unwrap();
        let opened = Timestamp::from_datetime(utc("2026-11-20T10:00:00Z"));
        let sla = deadlines(Priority::P1, &calendar, opened);
        assert_eq!(sla.reaction_due, Some(Timestamp::from_datetime(utc("2026-11-20T12:00:00Z"))));
        assert_eq!(sla.resolution_due, Some(Timestamp::from_datetime(utc("2026-11-20T18:00:00Z"))));
    }
}
