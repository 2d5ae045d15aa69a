//! Deterministic, realistic sample records for tests, benchmarks and demos.
//!
//! A seeded generator (no clock, no OS randomness) so any run can be replayed.

use std::collections::BTreeMap;

use autosurgeon::Text;

use crate::ids::{ContentHash, DocId, EntryId, OrgId, Timestamp, UserId};
use crate::model::{
    Actor, Assignee, Attachment, ChecklistItemState, Contact, Coordinates, Priority, Role, SiteRef, Sla, Ticket,
    TicketStatus, TimeEntry, TimeKind, Transition, Visit, WorkLogEntry,
};

/// The service company and a partner, with one person per role.
#[derive(Clone, Debug)]
pub struct Cast {
    pub service: OrgId,
    pub partner: OrgId,
    pub other_partner: OrgId,
    pub admin: Actor,
    pub dispatcher: Actor,
    pub parts_desk: Actor,
    pub engineer: Actor,
    pub second_engineer: Actor,
    pub partner_engineer: Actor,
    pub other_partner_engineer: Actor,
}

impl Default for Cast {
    fn default() -> Self {
        let service = OrgId::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0001);
        let partner = OrgId::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0002);
        let other_partner = OrgId::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0003);
        let person = |n: u128, org: OrgId, role: Role| Actor {
            user: UserId::from_u128(0x0190_0000_0000_7000_8000_0000_0001_0000 + n),
            org,
            role,
        };
        Self {
            service,
            partner,
            other_partner,
            admin: person(1, service, Role::Admin),
            dispatcher: person(2, service, Role::Dispatcher),
            parts_desk: person(3, service, Role::PartsDesk),
            engineer: person(4, service, Role::Engineer),
            second_engineer: person(5, service, Role::Engineer),
            partner_engineer: person(6, partner, Role::PartnerEngineer),
            other_partner_engineer: person(7, other_partner, Role::PartnerEngineer),
        }
    }
}

/// A small, fast, seeded generator (SplitMix64).
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }

    pub fn pick<'a, T>(&mut self, from: &'a [T]) -> &'a T {
        &from[self.below(from.len() as u64) as usize]
    }

    pub fn bytes10(&mut self) -> [u8; 10] {
        let a = self.next_u64().to_le_bytes();
        let b = self.next_u64().to_le_bytes();
        [a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], b[0], b[1]]
    }

    pub fn entry_id(&mut self, at: Timestamp) -> EntryId {
        EntryId::new_v7(at, self.bytes10())
    }

    pub fn doc_id(&mut self, at: Timestamp) -> DocId {
        DocId::new_v7(at, self.bytes10())
    }
}

const TITLES: &[&str] = &[
    "Storage array reports degraded RAID group",
    "Server does not boot after power outage",
    "POS terminal card reader fails",
    "Core switch port flapping",
    "Массив хранения: отказ диска в RAID-группе",
    "Сервер не загружается после отключения питания",
    "Кассовый терминал не читает карты",
    "Tape library robot arm stuck",
];
const NOTES: &[&str] = &[
    "Checked controller logs, found repeated SAS link resets on enclosure 2.",
    "Replaced the failed drive, rebuild started, ETA four hours.",
    "Customer reports the fault started after the weekend power work.",
    "Проверил журналы контроллера, ошибки на полке 2.",
    "Заменил диск, ребилд запущен.",
    "Firmware updated to the vendor's recommended level, monitoring.",
];
const REGIONS: &[(&str, &str)] =
    &[("Moscow", "Europe/Moscow"), ("Yekaterinburg", "Asia/Yekaterinburg"), ("Novosibirsk", "Asia/Novosibirsk")];
const TEAMS: &[&str] = &["storage", "servers", "networking", "POS"];

/// A ticket as it looks after a day's work: assigned, visited, logged.
pub fn worked_ticket(rng: &mut Rng, cast: &Cast, number: u64, now: Timestamp) -> Ticket {
    let id = rng.doc_id(now);
    let client = DocId::from_u128(u128::from(rng.below(50)) + 1);
    let mut ticket =
        Ticket::new(id, cast.dispatcher, now, format!("T-2026-{number:06}"), (*rng.pick(TITLES)).to_owned(), client);
    let (region, zone) = *rng.pick(REGIONS);
    ticket.description = Text::with_value(format!(
        "{} Reported by the customer's duty admin at {}. Equipment under contract.",
        rng.pick(NOTES),
        now
    ));
    ticket.contact = Contact {
        name: (*rng.pick(&["Ivan Petrov", "Мария Смирнова", "John Carter", "Алексей Кузнецов"])).to_owned(),
        phone: format!("+7 9{:02} {:03}-{:02}-{:02}", rng.below(100), rng.below(1000), rng.below(100), rng.below(100)),
        email: format!("duty{}@example.org", rng.below(1000)),
    };
    ticket.site = SiteRef {
        site: Some(DocId::from_u128(u128::from(rng.below(500)) + 1000)),
        address: format!("{}, ул. Ленина, д. {}", region, rng.below(200) + 1),
        region: region.to_owned(),
        time_zone: zone.to_owned(),
        coordinates: Some(Coordinates {
            lat: 55.0 + rng.below(1000) as f64 / 1000.0,
            lon: 37.0 + rng.below(1000) as f64 / 1000.0,
        }),
    };
    ticket.category = "hardware fault".into();
    ticket.product_team = (*rng.pick(TEAMS)).to_owned();
    ticket.priority = *rng.pick(&[Priority::P1, Priority::P2, Priority::P3, Priority::P4]);
    ticket.equipment = vec![DocId::from_u128(u128::from(rng.below(5000)) + 10_000)];
    ticket.sla = Sla {
        reaction_due: Some(now.plus_millis(4 * 3_600_000)),
        resolution_due: Some(now.plus_millis(24 * 3_600_000)),
        first_response_at: Some(now.plus_millis(1_200_000)),
        resolved_at: None,
        history: Vec::new(),
    };
    let engineer = cast.engineer;
    let mut at = now;
    let mut step = |rng: &mut Rng, by: Actor, from, to, assignee| {
        at = at.plus_millis(600_000);
        Transition { id: rng.entry_id(at), from, to, at, by, assignee, reason: None }
    };
    let assignee = Some(Assignee { engineer: Some(engineer.user), partner_org: None });
    ticket.transitions = vec![
        step(rng, cast.dispatcher, TicketStatus::New, TicketStatus::Assigned, assignee),
        step(rng, engineer, TicketStatus::Assigned, TicketStatus::Accepted, None),
        step(rng, engineer, TicketStatus::Accepted, TicketStatus::EnRoute, None),
        step(rng, engineer, TicketStatus::EnRoute, TicketStatus::OnSite, None),
    ];
    let arrived = now.plus_millis(3 * 3_600_000);
    ticket.visits = vec![Visit { id: rng.entry_id(arrived), arrived, left: None, coordinates: None, by: engineer }];
    ticket.time_entries = vec![
        TimeEntry {
            id: rng.entry_id(now),
            kind: TimeKind::Travel,
            start: now.plus_millis(3_000_000),
            end: Some(arrived),
            by: engineer,
        },
        TimeEntry { id: rng.entry_id(arrived), kind: TimeKind::Work, start: arrived, end: None, by: engineer },
    ];
    ticket.work_log = (0..3)
        .map(|n| {
            let at = arrived.plus_millis(n * 900_000);
            WorkLogEntry { id: rng.entry_id(at), at, by: engineer, text: (*rng.pick(NOTES)).to_owned() }
        })
        .collect();
    ticket.checklist = ["power", "cabling", "logs", "firmware"]
        .iter()
        .map(|key| ((*key).to_owned(), ChecklistItemState { done: rng.below(2) == 0, by: engineer, at: arrived }))
        .collect::<BTreeMap<_, _>>();
    let hash = format!("{:016x}{:016x}{:016x}{:016x}", rng.next_u64(), rng.next_u64(), rng.next_u64(), rng.next_u64());
    ticket.attachments = vec![Attachment {
        id: rng.entry_id(arrived),
        hash: ContentHash(hash),
        thumbnail: None,
        name: "controller-panel.jpg".into(),
        mime: "image/jpeg".into(),
        size: 380_000 + rng.below(200_000),
        at: arrived,
        by: engineer,
    }];
    ticket
}
