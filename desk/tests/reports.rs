//! The desk's day, measured: a ticket worked and resolved on the device,
//! another whose reaction deadline passed, and the reports (SLA, labour,
//! points, a ticket's timeline) saying so, as JSON and as CSV.

mod support;

use outpost_sync::ids::{DocId, EntryId, Timestamp};
use outpost_sync::model::{
    BusinessHours, Client, Document, Points, Role, TicketStatus, TimeEntry, TimeKind, Transition,
};
use serde_json::{json, Value};
use support::*;

const HOUR: i64 = 3_600_000;

async fn reports_measure_the_day(desk: Desk) {
    let client = Client {
        id: DocId(outpost_desk::accounts::new_id()),
        name: "ООО «Ромашка», филиал".into(),
        contract: Some("SLA-7".into()),
        business_hours: BusinessHours { always: true, weekly: vec![], holidays: vec![] },
        points_balance: Some(Points { hundredths: 1_000 }),
        language: None,
    };
    desk.create(&Document::Client(client.clone())).await;
    let dispatcher = desk.user(desk.service, Role::Dispatcher).await;
    let token = desk.api_token(dispatcher.user).await;
    let engineer = desk.user(desk.service, Role::Engineer).await;
    let open = |title: &str, priority: &str| {
        json!({ "title": title, "client": client.id, "priority": priority, "billing_class": "service_request",
                "product_team": "POS", "region": "Perm" })
    };
    let mut ids = Vec::new();
    for (title, priority) in [("worked", "p2"), ("waiting", "p1")] {
        let (status, created) = desk.post_json("/v1/tickets", &token, open(title, priority)).await;
        assert_eq!(status, 200, "{created}");
        let id: DocId = created["id"].as_str().unwrap().parse().unwrap();
        let (status, body) =
            desk.post_json(&format!("/v1/tickets/{id}/assign"), &token, json!({ "engineer": engineer.user })).await;
        assert_eq!(status, 200, "{body}");
        ids.push(id);
    }
    let (worked, waiting) = (ids[0], ids[1]);

    // The engineer accepts at once, travels an hour, works two, and
    // resolves the first ticket (by the device's clock, a little ahead).
    let now = outpost_desk::now().0;
    let minute = 60_000;
    let mut device = desk.pair(&engineer, 1).await;
    device.sync(&desk).await;
    device
        .local
        .edit(worked, T0, |d| {
            let Document::Ticket(t) = d else { return };
            let moves = [
                (TicketStatus::Assigned, TicketStatus::Accepted),
                (TicketStatus::Accepted, TicketStatus::EnRoute),
                (TicketStatus::EnRoute, TicketStatus::OnSite),
                (TicketStatus::OnSite, TicketStatus::Resolved),
            ];
            let times = [now + minute, now + 2 * minute, now + HOUR, now + 2 * HOUR];
            for (n, ((from, to), at)) in moves.into_iter().zip(times).enumerate() {
                let at = Timestamp(at);
                t.transitions.push(Transition {
                    id: EntryId::from_u128(n as u128 + 1),
                    from,
                    to,
                    at,
                    by: engineer,
                    assignee: None,
                    reason: None,
                });
            }
            for (n, (kind, start, end)) in
                [(TimeKind::Travel, now, now + HOUR), (TimeKind::Work, now + HOUR, now + 3 * HOUR)]
                    .into_iter()
                    .enumerate()
            {
                t.time_entries.push(TimeEntry {
                    id: EntryId::from_u128(10 + n as u128),
                    kind,
                    start: Timestamp(start),
                    end: Some(Timestamp(end)),
                    by: engineer,
                });
            }
        })
        .unwrap();
    device.sync(&desk).await;
    // Nobody answered the second one in time.
    let (status, body) =
        desk.patch_json(&format!("/v1/tickets/{waiting}"), &token, json!({ "reaction_due": now - HOUR })).await;
    assert_eq!(status, 200, "{body}");

    let day = format!("from={}&to={}", now - 12 * HOUR, now + 12 * HOUR);
    let (status, sla) = desk.get_json(&format!("/v1/reports/sla?{day}&by=client"), &token).await;
    assert_eq!(status, 200, "{sla}");
    let row = &sla[0];
    assert_eq!(row["name"], client.name.as_str());
    assert_eq!((row["opened"].as_u64(), row["resolved"].as_u64()), (Some(2), Some(1)));
    assert_eq!((row["reaction_met"].as_u64(), row["reaction_missed"].as_u64()), (Some(1), Some(1)));
    assert_eq!(row["reaction_compliance"], json!(0.5));
    assert_eq!(row["resolution_compliance"], json!(1.0), "the open one is not due yet");
    let (_, by_engineer) = desk.get_json(&format!("/v1/reports/sla?{day}&by=engineer"), &token).await;
    assert_eq!(by_engineer[0]["group"], engineer.user.to_string());

    let (status, labour) = desk.get_json(&format!("/v1/reports/labour?{day}&by=engineer"), &token).await;
    assert_eq!(status, 200, "{labour}");
    let row = &labour[0];
    assert_eq!((row["work_hours"].as_f64(), row["travel_hours"].as_f64()), (Some(2.0), Some(1.0)));
    let available = row["available_hours"].as_f64().unwrap();
    assert!(available == 8.0 || available == 16.0 || available == 0.0, "8 hours a weekday: {available}");
    if available > 0.0 {
        assert_eq!(row["utilisation"].as_f64(), Some(2.0 / available));
    }
    let (_, by_team) = desk.get_json(&format!("/v1/reports/labour?{day}&by=team"), &token).await;
    assert_eq!((by_team[0]["group"].as_str(), by_team[0]["available_hours"].is_null()), (Some("POS"), true));

    let (status, points) = desk.get_json(&format!("/v1/reports/points?{day}"), &token).await;
    assert_eq!(status, 200, "{points}");
    let row = points.as_array().unwrap().iter().find(|r| r["client"] == client.id.to_string()).unwrap();
    assert_eq!((row["charged"].as_u64(), row["balance"].as_u64()), (Some(200), Some(800)), "two hours of work");
    assert_eq!(row["low_balance"], json!(true));

    // The same as CSV, for a spreadsheet.
    let csv =
        desk.http.get(desk.url(&format!("/v1/reports/sla?{day}&format=csv"))).bearer_auth(&token).send().await.unwrap();
    assert_eq!(csv.status(), 200);
    assert!(csv.headers()["content-type"].to_str().unwrap().starts_with("text/csv"));
    let text = csv.text().await.unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].starts_with("group,name,opened,resolved"), "{text}");
    assert!(lines[1].contains("\"ООО «Ромашка», филиал\",2,1"), "a name with a comma is quoted: {text}");

    // Where the worked ticket's time went.
    let (status, timeline) = desk.get_json(&format!("/v1/tickets/{worked}/timeline"), &token).await;
    assert_eq!(status, 200, "{timeline}");
    let statuses: Vec<&str> =
        timeline["stretches"].as_array().unwrap().iter().map(|s| s["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, vec!["new", "assigned", "accepted", "en_route", "on_site", "resolved"]);
    assert_eq!(timeline["stretches"][1]["engineer"], engineer.user.to_string(), "with whom");
    assert_eq!(timeline["reaction"]["verdict"], "met");
    assert_eq!(timeline["resolution"]["verdict"], "met");
    let on_site = timeline["hours_by_status"]["on_site"].as_f64().unwrap();
    assert!((on_site - 1.0).abs() < 0.001, "an hour on site before resolving: {on_site}");
    let (_, waiting_timeline) = desk.get_json(&format!("/v1/tickets/{waiting}/timeline"), &token).await;
    assert_eq!(waiting_timeline["reaction"]["verdict"], "missed");
}

async fn bad_report_requests_get_clear_errors(desk: Desk) {
    let dispatcher = desk.user(desk.service, Role::Dispatcher).await;
    let token = desk.api_token(dispatcher.user).await;
    let engineer = desk.user(desk.service, Role::Engineer).await;
    let field = desk.api_token(engineer.user).await;
    let year = 366 * 24 * HOUR;
    for (path, status) in [
        ("/v1/reports/sla?from=10&to=5".to_owned(), 400),
        ("/v1/reports/sla?from=0&to=10&by=planet".to_owned(), 400),
        ("/v1/reports/sla?from=0&to=10&format=xml".to_owned(), 400),
        (format!("/v1/reports/sla?from=0&to={}", year + 1), 400),
        ("/v1/reports/sla?from=0".to_owned(), 400),
        ("/v1/reports/sla?from=x&to=10".to_owned(), 400),
        ("/v1/reports/sla?from=0&to=10&hours_per_day=8".to_owned(), 400),
        ("/v1/reports/labour?from=0&to=10&hours_per_day=25".to_owned(), 400),
        ("/v1/reports/labour?from=0&to=10&hours_per_day=-1".to_owned(), 400),
        ("/v1/reports/points?from=0&to=10&by=team".to_owned(), 400),
        ("/v1/reports/sla?from=0&to=10&colour=red".to_owned(), 400),
        (format!("/v1/tickets/{}/timeline", DocId::from_u128(5)), 404),
        ("/v1/tickets/nope/timeline".to_owned(), 400),
    ] {
        let (got, body) = desk.get_json(&path, &token).await;
        assert_eq!(got, status, "{path}: {body}");
        if status == 400 {
            assert!(!body["message"].as_str().unwrap_or("").is_empty(), "{path} says what is wrong");
        }
    }
    let (status, rows) = desk.get_json("/v1/reports/sla?from=0&to=10", &token).await;
    assert_eq!((status, rows), (200, Value::Array(vec![])), "an empty period is an empty report");
    assert_eq!(desk.get_json("/v1/reports/sla?from=0&to=10", &field).await.0, 403, "field users see no reports");
    assert_eq!(desk.get_json("/v1/reports/sla?from=0&to=10", "nope").await.0, 401);
}

on_both_backends!(reports_measure_the_day, bad_report_requests_get_clear_errors);
