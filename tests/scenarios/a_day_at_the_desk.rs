//! A whole day through the desk's API and two real devices, a partner's
//! engineer and a staff engineer: the admin adds a partner and people, the
//! dispatcher sets up a client and opens tickets with everything they are
//! tied to, routes one to the partner's engineer by person, notes go both
//! ways and show by name, the ticket is reprioritised, a part travels from
//! the warehouse into the machine and the faulty one back, the points are
//! charged, and the reports say so. Nobody sees what is not theirs.

use outpost_core::work::{PartAction, TicketAction, Timer};
use outpost_desk::accounts;
use outpost_scenarios::{sync_until_ok, Desk, T0};
use outpost_sync::ids::DocId;
use outpost_sync::model::{Document, Role};
use reqwest::Method;
use serde_json::{json, Value};

async fn ok(desk: &Desk, method: Method, token: &str, path: &str, body: Value) -> Value {
    let (status, reply) = desk.call(method, token, path, body).await;
    assert_eq!(status, 200, "{path}: {reply}");
    reply
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_day_at_the_desk_with_a_partner_and_a_staff_engineer() {
    let root = tempfile::tempdir().unwrap();
    let desk = Desk::start(root.path()).await;
    let admin = accounts::create_user(&desk.db.pool, desk.service, "Admin", Role::Admin, T0).await.unwrap();
    let admin = accounts::issue_api_token(&desk.db.pool, admin, "admin", T0, None).await.unwrap();

    // Morning: the admin adds the partner and the people.
    let partner =
        ok(&desk, Method::POST, &admin, "/v1/orgs", json!({ "name": "ТехноСервис Урал" })).await["id"].clone();
    let person = async |org: &Value, name: &str, role: &str| {
        ok(&desk, Method::POST, &admin, "/v1/users", json!({ "org": org, "name": name, "role": role })).await
    };
    let service = json!(desk.service);
    let dispatcher = person(&service, "Анна Диспетчер", "dispatcher").await["api_token"].as_str().unwrap().to_owned();
    let warehouse = person(&service, "Склад", "parts_desk").await["api_token"].as_str().unwrap().to_owned();
    let petr = person(&partner, "Пётр Волков", "partner_engineer").await;
    let oleg = person(&service, "Олег Иванов", "engineer").await;
    let pair = async |reply: &Value, dir: &str| {
        let device = outpost_scenarios::open_device(&root.path().join(dir)).await;
        device.pair(&desk.url(), reply["pairing_code"].as_str().unwrap(), dir).await.unwrap();
        device
    };
    let partner_tablet = pair(&petr, "partner").await;
    let staff_tablet = pair(&oleg, "staff").await;

    // The dispatcher sets up a client on prepaid points, its site, a till and a checklist.
    let d = dispatcher.as_str();
    let client = ok(
        &desk,
        Method::POST,
        d,
        "/v1/clients",
        json!({ "name": "Магазин «Уют»", "always": true, "points_balance": 2000 }),
    )
    .await["id"]
        .clone();
    let site = ok(
        &desk,
        Method::POST,
        d,
        "/v1/sites",
        json!({ "client": client, "name": "Торговый зал", "address": "Пермь, ул. Ленина, 10", "region": "Пермь", "time_zone": "Asia/Yekaterinburg" }),
    )
    .await["id"]
        .clone();
    let till = ok(
        &desk,
        Method::POST,
        d,
        "/v1/equipment",
        json!({ "serial": "TILL-3", "model": "POS-9", "client": client, "site": site }),
    )
    .await["id"]
        .clone();
    let template = ok(
        &desk,
        Method::POST,
        d,
        "/v1/checklist-templates",
        json!({ "name": "Касса", "items": [["printer", "Проверить принтер"]] }),
    )
    .await["id"]
        .clone();

    // Two tickets: one for the partner's engineer, one for staff.
    let open = |title: &str, class: &str| {
        json!({ "title": title, "client": client, "site": site, "equipment": [till], "checklist_template": template,
                "priority": "p3", "product_team": "POS", "billing_class": class, "points_estimate": 100,
                "estimate_accepted": true, "contact_name": "Ирина" })
    };
    let created = ok(&desk, Method::POST, d, "/v1/tickets", open("Касса 3 не печатает", "service_request")).await;
    assert_eq!(created["entitlement"], "prepaid");
    let ticket = created["id"].as_str().unwrap().to_owned();
    let other = ok(&desk, Method::POST, d, "/v1/tickets", open("Плановое обслуживание", "incident")).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let routed =
        ok(&desk, Method::POST, d, &format!("/v1/tickets/{ticket}/assign"), json!({ "engineer": petr["id"] })).await;
    assert_eq!(routed["partner_org"], partner, "the partner follows from the person");
    ok(&desk, Method::POST, d, &format!("/v1/tickets/{other}/assign"), json!({ "engineer": oleg["id"] })).await;

    sync_until_ok(&partner_tablet, 3).await;
    sync_until_ok(&staff_tablet, 3).await;
    let detail = partner_tablet.ticket(&ticket).await.expect("the partner's engineer has the ticket");
    assert_eq!(detail.site.address, "Пермь, ул. Ленина, 10", "with its site");
    assert_eq!(detail.checklist.len(), 1, "its checklist");
    assert_eq!(detail.equipment[0].serial.as_deref(), Some("TILL-3"), "and its machine");
    assert!(partner_tablet.ticket(&other).await.is_err(), "not the staff ticket");
    assert!(staff_tablet.ticket(&ticket).await.is_err(), "nor the staff engineer the partner's");

    // On site: the partner's engineer answers, works, asks for a part.
    let tablet = &partner_tablet;
    for action in [TicketAction::Accept, TicketAction::EnRoute, TicketAction::Arrive { coordinates: None }] {
        tablet.act(&ticket, action).await.unwrap();
    }
    tablet.act(&ticket, TicketAction::StartTimer { kind: Timer::Work }).await.unwrap();
    tablet.act(&ticket, TicketAction::AddNote { text: "Печатающая головка сгорела".into() }).await.unwrap();
    let request = tablet.request_part(&ticket, "HEAD-58", "печатающая головка", 1).await.unwrap();
    sync_until_ok(tablet, 3).await;

    // The desk answers: a note, and a higher priority.
    ok(&desk, Method::POST, d, &format!("/v1/tickets/{ticket}/notes"), json!({ "text": "Клиент просит до обеда" }))
        .await;
    ok(
        &desk,
        Method::PATCH,
        d,
        &format!("/v1/tickets/{ticket}"),
        json!({ "priority": "p2", "reason": "единственная касса" }),
    )
    .await;
    let w = warehouse.as_str();
    for (step, body) in [("approve", json!({})), ("pick", json!({})), ("ship", json!({ "tracking_number": "CDEK-42" }))]
    {
        ok(&desk, Method::POST, w, &format!("/v1/part-requests/{request}/{step}"), body).await;
    }
    sync_until_ok(tablet, 3).await;
    let detail = tablet.ticket(&ticket).await.unwrap();
    assert_eq!(detail.priority, "p2");
    let authors: Vec<(&str, &str)> = detail.work_log.iter().map(|n| (n.by.as_str(), n.text.as_str())).collect();
    assert!(authors.contains(&("Пётр Волков", "Печатающая головка сгорела")), "{authors:?}");
    assert!(authors.contains(&("Анна Диспетчер", "Клиент просит до обеда")), "notes both ways, by name: {authors:?}");

    // The part arrives and goes in; the faulty head goes back; the ticket is resolved.
    tablet.act_on_part_request(&request, PartAction::Receive).await.unwrap();
    let serials = PartAction::RecordSerials {
        installed: Some("HEAD-NEW".into()),
        removed: Some("HEAD-OLD".into()),
        equipment: None,
    };
    tablet.act_on_part_request(&request, serials).await.unwrap();
    tablet.act_on_part_request(&request, PartAction::SendBack { tracking: Some("RET-42".into()) }).await.unwrap();
    tablet.act(&ticket, TicketAction::StopTimer).await.unwrap();
    tablet
        .act(
            &ticket,
            TicketAction::SetResolution {
                code: Some("HW-REPLACED".into()), notes: "Заменена головка".into()
            },
        )
        .await
        .unwrap();
    tablet.act(&ticket, TicketAction::Resolve).await.unwrap();
    sync_until_ok(tablet, 3).await;
    ok(&desk, Method::POST, w, &format!("/v1/part-requests/{request}/receive-return"), json!({})).await;
    sync_until_ok(tablet, 3).await;

    // The machine's record, at the desk and on the device.
    let till_id: DocId = till.as_str().unwrap().parse().unwrap();
    let Document::Equipment(record) = desk.document(till_id).await else { panic!("the till") };
    assert_eq!(record.installed_parts.iter().map(|p| p.serial.as_str()).collect::<Vec<_>>(), vec!["HEAD-NEW"]);
    assert_eq!(record.replaced_parts.iter().map(|p| p.serial.as_str()).collect::<Vec<_>>(), vec!["HEAD-OLD"]);
    let on_device = tablet.equipment(till.as_str().unwrap()).await.unwrap();
    assert!(on_device.service_history.iter().any(|h| h.ticket_id == ticket), "its history lists the ticket");
    assert_eq!(on_device.replaced_parts[0].serial, "HEAD-OLD");
    assert_eq!(tablet.my_part_requests().await.unwrap()[0].status, "returned");

    // The points: a quarter hour at least, beside the estimate.
    let shown = ok(&desk, Method::GET, d, &format!("/v1/tickets/{ticket}"), Value::Null).await;
    assert_eq!(shown["status"], "resolved");
    let ticket_id: DocId = ticket.parse().unwrap();
    let resolved = desk.ticket(ticket_id).await;
    let charged = resolved.billing.points_charged.expect("prepaid work is charged").hundredths;
    assert_eq!(charged, 25, "a few minutes of work bill as a quarter hour");
    assert_eq!(resolved.billing.points_estimate.map(|p| p.hundredths), Some(100), "beside the estimate");
    assert_eq!(resolved.sla.history.len(), 1, "the replaced deadlines are kept");

    // The reports agree with the day.
    let now = outpost_desk::now().0;
    let day = format!("from={}&to={}", now - 43_200_000, now + 43_200_000);
    let sla = ok(&desk, Method::GET, d, &format!("/v1/reports/sla?{day}&by=partner"), Value::Null).await;
    let row = sla.as_array().unwrap().iter().find(|r| r["group"] == partner).expect("a row for the partner");
    assert_eq!(
        (row["name"].as_str(), row["opened"].as_u64(), row["resolved"].as_u64()),
        (Some("ТехноСервис Урал"), Some(1), Some(1))
    );
    assert_eq!(row["reaction_compliance"], json!(1.0), "the partner answered in time");
    let labour = ok(&desk, Method::GET, d, &format!("/v1/reports/labour?{day}&by=partner"), Value::Null).await;
    let row = labour.as_array().unwrap().iter().find(|r| r["group"] == partner).expect("the partner's labour");
    assert!(row["work_hours"].as_f64().unwrap() > 0.0);
    let points = ok(&desk, Method::GET, d, &format!("/v1/reports/points?{day}"), Value::Null).await;
    let row = points.as_array().unwrap().iter().find(|r| r["client"] == client).unwrap();
    assert_eq!((row["charged"].as_u64(), row["balance"].as_u64()), (Some(25), Some(1975)));
    let timeline = ok(&desk, Method::GET, d, &format!("/v1/tickets/{ticket}/timeline"), Value::Null).await;
    assert_eq!(timeline["stretches"][1]["partner_org"], partner, "the timeline says with whom");

    // And the staff engineer never saw any of it, but the till's history
    // shows the partner's visit: when, how it ended, never what anyone wrote.
    sync_until_ok(&staff_tablet, 3).await;
    assert!(staff_tablet.ticket(&ticket).await.is_err());
    assert!(staff_tablet.ticket(&other).await.is_ok());
    let history = staff_tablet.equipment(till.as_str().unwrap()).await.unwrap().service_history;
    let theirs = history.iter().find(|h| h.ticket_id == ticket).expect("the partner's ticket is in the till's history");
    assert_eq!(
        (theirs.number.as_deref(), theirs.status.as_deref(), theirs.resolution_code.as_deref()),
        (created["number"].as_str(), Some("resolved"), Some("HW-REPLACED"))
    );
    assert_eq!(theirs.title, None, "no text of another company's ticket");
    assert!(theirs.resolved_at.is_some(), "the record follows the ticket as the desk's reactions left it");
    assert_eq!(theirs.visits.len(), 1, "one visit");
    let Document::Equipment(record) = desk.document(till_id).await else { panic!("the till") };
    let text = serde_json::to_string(&record).unwrap();
    assert!(!text.contains("Касса 3") && !text.contains("головка сгорела"), "the record holds no ticket text");
}
