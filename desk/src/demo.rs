//! `outpost-desk demo`: a realistic data set to try the desk and the app on.
//!
//! The service company and two partners, three regions in their time zones,
//! four product teams, 50 clients (24/7 and business-hours contracts, some
//! with prepaid points), 500 sites, 5,000 equipment records, 1,000 tickets in
//! every status with work logs and part requests, knowledge-base articles,
//! checklist templates, desk people with API tokens and engineers with
//! pairing codes. Seeded, so every run builds the same records.

use std::collections::BTreeMap;

use automerge::AutoCommit;
use outpost_sync::ids::{DocId, EntryId, OrgId, Timestamp};
use outpost_sync::model::{
    new_document, Actor, Assignee, BusinessHours, ChecklistItemState, ChecklistTemplate, ChecklistTemplateItem, Client,
    Contact, Coordinates, Document, Equipment, Holiday, KbArticle, PartRequest, PartStatus, PartTransition, Points,
    Priority, Role, Site, SiteRef, Sla, Ticket, TicketStatus, TimeEntry, TimeKind, Transition, Visit, WeeklyHours,
    WorkLogEntry,
};
use outpost_sync::sample::Rng;

use crate::accounts::{self, AuthError};
use crate::store::{self, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error("the database already holds data; seed an empty one")]
    NotEmpty,
    #[error(transparent)]
    Auth(#[from] AuthError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Sql(#[from] sqlx::Error),
    #[error("a demo record does not fit the schema: {0}")]
    Schema(#[from] outpost_sync::model::SchemaError),
}

/// How big a data set to build.
#[derive(Clone, Copy, Debug)]
pub struct DemoSize {
    pub clients: usize,
    pub sites: usize,
    pub equipment: usize,
    pub tickets: usize,
}

impl Default for DemoSize {
    fn default() -> Self {
        Self { clients: 50, sites: 500, equipment: 5_000, tickets: 1_000 }
    }
}

/// Who can sign in, printed once for the person running the demo.
#[derive(Debug, Default)]
pub struct DemoLogins {
    /// (name, role, API token)
    pub desk: Vec<(String, &'static str, String)>,
    /// (name, company, pairing code)
    pub engineers: Vec<(String, String, String)>,
}

const REGIONS: [(&str, &str, f64, f64); 3] = [
    ("Москва", "Europe/Moscow", 55.75, 37.62),
    ("Екатеринбург", "Asia/Yekaterinburg", 56.84, 60.61),
    ("Новосибирск", "Asia/Novosibirsk", 55.03, 82.92),
];
const TEAMS: [&str; 4] = ["storage", "servers", "networking", "POS"];
const CLIENT_NAMES: [&str; 10] = [
    "ООО «Северный банк»",
    "АО «Уралтранснефть»",
    "Retail Group Ltd",
    "ГБУЗ «Городская больница № 4»",
    "ПАО «СибЭнерго»",
    "Nordic Logistics LLC",
    "ООО «Сеть магазинов Пятёрочка-Восток»",
    "АО «Аэропорт Толмачёво»",
    "Metro Cash & Carry RU",
    "ФГУП «Почта региона»",
];
const VENDORS: [(&str, &str, &str); 8] = [
    ("storage", "NetApp", "FAS8300"),
    ("storage", "Huawei", "OceanStor 5310"),
    ("servers", "HPE", "ProLiant DL380 Gen10"),
    ("servers", "Dell", "PowerEdge R750"),
    ("networking", "Cisco", "Catalyst 9300"),
    ("networking", "Huawei", "S5735"),
    ("POS", "Verifone", "VX 520"),
    ("POS", "Атол", "FPrint-22ПТК"),
];
const FAULTS: [(&str, &str); 8] = [
    ("storage", "Отказ диска в RAID-группе"),
    ("storage", "Controller battery failure, write cache disabled"),
    ("servers", "Сервер не загружается после отключения питания"),
    ("servers", "Memory errors reported on DIMM B3"),
    ("networking", "Порт uplink периодически падает"),
    ("networking", "Switch stack lost a member"),
    ("POS", "Кассовый терминал не читает карты"),
    ("POS", "Receipt printer jams on every sale"),
];
const NOTES: [&str; 6] = [
    "Проверил журналы контроллера, ошибки на полке 2.",
    "Replaced the failed part, running diagnostics.",
    "Клиент сообщил, что сбой начался после работ с электропитанием.",
    "Firmware updated to the vendor's recommended level.",
    "Ожидаем запчасть со склада.",
    "All tests passed, customer confirmed normal operation.",
];
const PEOPLE: [&str; 12] = [
    "Иван Петров",
    "Мария Смирнова",
    "Алексей Кузнецов",
    "Ольга Иванова",
    "Дмитрий Соколов",
    "Анна Попова",
    "John Carter",
    "Сергей Волков",
    "Елена Морозова",
    "Павел Новиков",
    "Татьяна Фёдорова",
    "Николай Лебедев",
];

/// Documents written per transaction.
const BATCH: usize = 250;

struct Seeder<'p> {
    db: &'p crate::Db,
    rng: Rng,
    now: Timestamp,
    desk_actor: automerge::ActorId,
    pending: Vec<Document>,
}

impl Seeder<'_> {
    fn id(&mut self) -> DocId {
        self.rng.doc_id(self.now)
    }

    fn entry(&mut self, at: Timestamp) -> EntryId {
        self.rng.entry_id(at)
    }

    async fn put(&mut self, document: Document) -> Result<(), DemoError> {
        self.pending.push(document);
        if self.pending.len() >= BATCH {
            self.flush().await?;
        }
        Ok(())
    }

    async fn flush(&mut self) -> Result<(), DemoError> {
        let mut tx = self.db.begin_write().await?;
        for document in self.pending.drain(..) {
            let mut doc: AutoCommit = new_document(&document, self.desk_actor.clone())?;
            store::insert_new(&mut tx, &document, &mut doc, self.now).await?;
        }
        tx.commit().await?;
        Ok(())
    }
}

/// Seeds an empty database; returns the logins to print.
/// How long ago a demo ticket was opened, in milliseconds, so that the
/// demo looks like a live service day: open work mostly inside its
/// resolution window of `hours` (some of it nearly used up) and one open
/// ticket in ten breached by a few hours; finished work spread over the
/// last ten days.
fn opened_ago(n: usize, status: TicketStatus, hours: i64) -> i64 {
    const HOUR: i64 = 3_600_000;
    let finished = matches!(status, TicketStatus::Resolved | TicketStatus::Closed | TicketStatus::Cancelled);
    if finished {
        ((n % 240) as i64 + hours) * HOUR
    } else if n % 10 == 7 {
        (hours + 1 + (n % 5) as i64) * HOUR
    } else {
        // 5 % to 95 % of the window used.
        hours * HOUR * (5 + (n * 37 % 91) as i64) / 100
    }
}

pub async fn seed(
    db: &crate::Db,
    desk_actor: automerge::ActorId,
    size: DemoSize,
    now: Timestamp,
) -> Result<DemoLogins, DemoError> {
    let pool = &db.pool;
    let (orgs,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM orgs").fetch_one(pool).await?;
    if orgs > 0 {
        return Err(DemoError::NotEmpty);
    }
    let mut s = Seeder { db, rng: Rng::new(2026), now, desk_actor, pending: Vec::new() };
    let mut logins = DemoLogins::default();

    // Companies and people.
    let service = accounts::create_org(pool, "Аутпост Сервис", true).await?;
    let partners = [
        accounts::create_org(pool, "ТехноСервис Урал", false).await?,
        accounts::create_org(pool, "Сибирь ИТ Партнёр", false).await?,
    ];
    let mut person = 0;
    let mut add = async |org: OrgId, role: Role, logins: &mut DemoLogins, company: &str| -> Result<Actor, DemoError> {
        let name = PEOPLE[person % PEOPLE.len()].to_owned();
        person += 1;
        let user = accounts::create_user(pool, org, &name, role, now).await?;
        if role.is_field() {
            let code = accounts::issue_pairing_code(pool, user, now, 7 * 24 * 3_600_000).await?;
            logins.engineers.push((name, company.to_owned(), code));
        } else {
            let token = accounts::issue_api_token(pool, user, "demo", now, None).await?;
            logins.desk.push((name, crate::accounts::role_name(role), token));
        }
        Ok(Actor { user, org, role })
    };
    let _admin = add(service, Role::Admin, &mut logins, "Аутпост Сервис").await?;
    let dispatcher = add(service, Role::Dispatcher, &mut logins, "Аутпост Сервис").await?;
    let parts_desk = add(service, Role::PartsDesk, &mut logins, "Аутпост Сервис").await?;
    let mut staff = Vec::new();
    for _ in 0..6 {
        staff.push(add(service, Role::Engineer, &mut logins, "Аутпост Сервис").await?);
    }
    let mut partner_engineers = Vec::new();
    for (org, company) in partners.iter().zip(["ТехноСервис Урал", "Сибирь ИТ Партнёр"]) {
        partner_engineers.push(add(*org, Role::PartnerEngineer, &mut logins, company).await?);
    }
    crate::directory::publish_all(db, &s.desk_actor, now).await?;

    // Product teams.
    for (team, description) in [
        ("storage", "Массивы хранения данных"),
        ("servers", "Серверы"),
        ("networking", "Сетевое оборудование"),
        ("POS", "Кассовые терминалы"),
    ] {
        sqlx::query("INSERT INTO teams (name, description) VALUES ($1, $2)")
            .bind(team)
            .bind(description)
            .execute(pool)
            .await?;
    }

    // Reference data.
    let mut templates = BTreeMap::new();
    for team in TEAMS {
        let id = s.id();
        let items =
            ["Внешний осмотр", "Проверка питания и кабелей", "Снятие журналов", "Диагностика", "Подпись клиента"]
                .iter()
                .enumerate()
                .map(|(n, label)| ChecklistTemplateItem { key: format!("{team}-{n}"), label: (*label).to_owned() })
                .collect();
        s.put(Document::ChecklistTemplate(ChecklistTemplate { id, name: format!("Выезд: {team}"), items })).await?;
        templates.insert(team, id);
    }
    for (n, (team, fault)) in FAULTS.iter().enumerate() {
        let id = s.id();
        let body =
            format!("{fault}.\n\n1. Снимите журналы.\n2. Проверьте питание.\n3. Обратитесь к L2 при повторе. ({n})");
        let article = KbArticle {
            id,
            title: format!("{fault}: что проверить"),
            body: autosurgeon::Text::with_value(body),
            tags: vec![(*team).to_owned()],
            language: if fault.is_ascii() { "en".into() } else { "ru".into() },
            attributes: BTreeMap::new(),
        };
        s.put(Document::KbArticle(article)).await?;
    }
    let mut clients = Vec::new();
    for n in 0..size.clients {
        let id = s.id();
        let always = n % 3 == 0;
        let weekly = if always {
            Vec::new()
        } else {
            (1..=5).map(|weekday| WeeklyHours { weekday, opens: 9 * 60 + 30, closes: 18 * 60 + 30 }).collect()
        };
        let client = Client {
            id,
            name: format!("{} #{}", CLIENT_NAMES[n % CLIENT_NAMES.len()], n + 1),
            contract: Some(format!("SLA-{:04}", n + 1)),
            business_hours: BusinessHours {
                always,
                weekly,
                holidays: vec![Holiday { date: "2027-01-01".into(), name: "Новый год".into() }],
            },
            points_balance: (n % 4 == 1).then_some(Points { hundredths: 4_000 + 100 * (n as u64 % 30) }),
            // The foreign companies get their papers in English.
            language: Some(if CLIENT_NAMES[n % CLIENT_NAMES.len()].is_ascii() { "en" } else { "ru" }.into()),
        };
        s.put(Document::Client(client)).await?;
        clients.push(id);
    }
    let mut sites = Vec::new();
    for n in 0..size.sites {
        let id = s.id();
        let client = clients[n % clients.len()];
        let (region, zone, lat, lon) = REGIONS[n % REGIONS.len()];
        let site = Site {
            id,
            client,
            name: format!("Площадка {}", n + 1),
            address: format!("{region}, ул. Ленина, д. {}", n % 200 + 1),
            region: region.to_owned(),
            time_zone: zone.to_owned(),
            coordinates: Some(Coordinates { lat: lat + (n % 50) as f64 / 500.0, lon: lon + (n % 70) as f64 / 500.0 }),
        };
        s.put(Document::Site(site.clone())).await?;
        sites.push(site);
    }
    let mut equipment = Vec::new();
    for n in 0..size.equipment {
        let id = s.id();
        let site = &sites[n % sites.len()];
        let (team, vendor, model) = VENDORS[n % VENDORS.len()];
        let mut record = Equipment::new(id, format!("SN{:08}", 10_000_000 + n * 7), model.to_owned(), site.client);
        record.vendor = vendor.to_owned();
        record.class = team.to_owned();
        record.site = Some(site.id);
        record.location_note = format!("Серверная, стойка {}", n % 20 + 1);
        record.installed_on = Some(now.plus_millis(-((n % 1000) as i64 + 100) * 86_400_000));
        record.covered_until = Some(now.plus_millis(((n % 700) as i64 - 100) * 86_400_000));
        s.put(Document::Equipment(record)).await?;
        equipment.push((id, team, site.clone()));
    }

    // Tickets in every status, with the work that status implies.
    let statuses = [
        TicketStatus::New,
        TicketStatus::Assigned,
        TicketStatus::Accepted,
        TicketStatus::EnRoute,
        TicketStatus::OnSite,
        TicketStatus::WaitingParts,
        TicketStatus::Resolved,
        TicketStatus::Closed,
        TicketStatus::Cancelled,
    ];
    for n in 0..size.tickets {
        let (equipment_id, team, site) = equipment[(n * 13) % equipment.len()].clone();
        let target = statuses[n % statuses.len()];
        let hours = [4, 8, 24, 72][n % 4];
        let opened = now.plus_millis(-opened_ago(n, target, hours));
        let id = s.id();
        let fault = FAULTS.iter().filter(|(t, _)| *t == team).nth(n % 2).map_or("Неисправность", |(_, f)| f);
        let mut t = Ticket::new(id, dispatcher, opened, format!("T-2026-{:06}", n + 1), fault.to_owned(), site.client);
        t.description = autosurgeon::Text::with_value(format!("{fault}. Заявка от дежурного администратора клиента."));
        t.contact = Contact {
            name: PEOPLE[n % PEOPLE.len()].into(),
            phone: format!("+7 900 {:03}-{:02}-{:02}", n % 1000, n % 100, (n * 7) % 100),
            email: format!("duty{n}@example.org"),
        };
        t.site = SiteRef {
            site: Some(site.id),
            address: site.address.clone(),
            region: site.region.clone(),
            time_zone: site.time_zone.clone(),
            coordinates: site.coordinates,
        };
        t.equipment = vec![equipment_id];
        t.category = "hardware fault".into();
        t.priority = [Priority::P1, Priority::P2, Priority::P3, Priority::P4][n % 4];
        t.product_team = team.to_owned();
        t.checklist_template = templates.get(team).copied();
        t.sla = Sla {
            reaction_due: Some(opened.plus_millis(hours / 2 * 3_600_000)),
            resolution_due: Some(opened.plus_millis(hours * 3_600_000)),
            first_response_at: None,
            resolved_at: None,
            history: Vec::new(),
        };
        let partner_work = n % 5 == 0;
        let engineer = if partner_work {
            partner_engineers[(n / 5) % partner_engineers.len()]
        } else {
            staff[(n % REGIONS.len()) * 2 + n % 2]
        };
        let assignee = if partner_work {
            Assignee { engineer: None, partner_org: Some(engineer.org) }
        } else {
            Assignee { engineer: Some(engineer.user), partner_org: None }
        };
        let path: &[TicketStatus] = match target {
            TicketStatus::New => &[],
            TicketStatus::Assigned => &[TicketStatus::Assigned],
            TicketStatus::Accepted => &[TicketStatus::Assigned, TicketStatus::Accepted],
            TicketStatus::EnRoute => &[TicketStatus::Assigned, TicketStatus::Accepted, TicketStatus::EnRoute],
            TicketStatus::OnSite => {
                &[TicketStatus::Assigned, TicketStatus::Accepted, TicketStatus::EnRoute, TicketStatus::OnSite]
            }
            TicketStatus::WaitingParts => {
                &[TicketStatus::Assigned, TicketStatus::Accepted, TicketStatus::OnSite, TicketStatus::WaitingParts]
            }
            TicketStatus::Resolved => {
                &[TicketStatus::Assigned, TicketStatus::Accepted, TicketStatus::OnSite, TicketStatus::Resolved]
            }
            TicketStatus::Closed => &[
                TicketStatus::Assigned,
                TicketStatus::Accepted,
                TicketStatus::OnSite,
                TicketStatus::Resolved,
                TicketStatus::Closed,
            ],
            TicketStatus::Cancelled => &[TicketStatus::Assigned, TicketStatus::Cancelled],
        };
        let mut at = opened;
        let mut from = TicketStatus::New;
        // Every move happened before now, twenty minutes apart at most.
        let step = (now.0 - opened.0) / (path.len() as i64 + 2);
        let step = step.min(20 * 60_000);
        for to in path {
            at = at.plus_millis(step);
            let by = if matches!(to, TicketStatus::Assigned | TicketStatus::Closed | TicketStatus::Cancelled) {
                dispatcher
            } else {
                engineer
            };
            let assignee = (*to == TicketStatus::Assigned).then_some(assignee);
            t.transitions.push(Transition { id: s.entry(at), from, to: *to, at, by, assignee, reason: None });
            if *to == TicketStatus::Assigned {
                t.sla.first_response_at = Some(at);
            }
            if *to == TicketStatus::OnSite {
                t.visits.push(Visit {
                    id: s.entry(at),
                    arrived: at,
                    left: None,
                    coordinates: site.coordinates,
                    by: engineer,
                });
                t.time_entries.push(TimeEntry {
                    id: s.entry(at),
                    kind: TimeKind::Travel,
                    start: at.plus_millis(-3_600_000),
                    end: Some(at),
                    by: engineer,
                });
                t.time_entries.push(TimeEntry {
                    id: s.entry(at),
                    kind: TimeKind::Work,
                    start: at,
                    end: None,
                    by: engineer,
                });
                for (k, key) in ["0", "1", "2"].iter().enumerate() {
                    t.checklist.insert(format!("{team}-{key}"), ChecklistItemState { done: k < 2, by: engineer, at });
                }
                for k in 0..2 {
                    let note_at = at.plus_millis(k * 900_000);
                    t.work_log.push(WorkLogEntry {
                        id: s.entry(note_at),
                        at: note_at,
                        by: engineer,
                        text: NOTES[(n + k as usize) % NOTES.len()].into(),
                    });
                }
            }
            if *to == TicketStatus::Resolved {
                if let Some(visit) = t.visits.last_mut() {
                    visit.left = Some(at);
                }
                if let Some(work) = t.time_entries.iter_mut().find(|e| e.end.is_none()) {
                    work.end = Some(at);
                }
                t.resolution.code = Some("HW-REPLACED".into());
                t.resolution.notes = autosurgeon::Text::with_value("Заменена неисправная деталь, проверка пройдена.");
                t.sla.resolved_at = Some(at);
            }
            from = *to;
        }
        if matches!(target, TicketStatus::WaitingParts | TicketStatus::Resolved | TicketStatus::Closed) {
            let request_id = s.id();
            let mut request = PartRequest::new(request_id, id, engineer, at, format!("PN-{:05}", n % 400), 1);
            request.description = format!("Запчасть для {}", t.number);
            let moves: &[PartStatus] = if target == TicketStatus::WaitingParts {
                &[PartStatus::Approved, PartStatus::Picked, PartStatus::Shipped][..(n % 4).min(3)]
            } else {
                &[
                    PartStatus::Approved,
                    PartStatus::Picked,
                    PartStatus::Shipped,
                    PartStatus::Delivered,
                    PartStatus::Installed,
                ]
            };
            let mut from = PartStatus::Requested;
            for to in moves {
                let by =
                    if matches!(to, PartStatus::Delivered | PartStatus::Installed) { engineer } else { parts_desk };
                request.transitions.push(PartTransition { id: s.entry(at), from, to: *to, at, by, reason: None });
                from = *to;
            }
            if moves.contains(&PartStatus::Shipped) {
                request.warehouse = Some("Склад Москва-1".into());
                request.tracking_number = Some(format!("CDEK-{:09}", 100_000_000 + n));
            }
            if moves.contains(&PartStatus::Installed) {
                request.installed_serial = Some(format!("NEW{:07}", n));
                request.removed_serial = Some(format!("OLD{:07}", n));
            }
            t.part_requests.push(request_id);
            s.put(Document::Ticket(t)).await?;
            s.put(Document::PartRequest(request)).await?;
        } else {
            s.put(Document::Ticket(t)).await?;
        }
    }
    s.flush().await?;
    Ok(logins)
}
