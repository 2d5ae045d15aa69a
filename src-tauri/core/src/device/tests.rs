//! Every operation against a real SQLite file, good input and bad.

use std::io::Cursor;

use autosurgeon::Text;
use image::{DynamicImage, ImageBuffer, ImageFormat, Rgb};
use outpost_sync::ids::{DocId, EntryId, Timestamp};
use outpost_sync::model::{
    Assignee, BusinessHours, ChecklistTemplate, ChecklistTemplateItem, Client, Document, Equipment, KbArticle,
    Priority, Site, Sla, Ticket, TicketStatus, Transition,
};
use outpost_sync::sample::Cast;

use super::*;
use crate::error::ErrorKind;
use crate::seeding::{pair_offline, receive_from_desk};
use crate::store::queries::TicketFilter;
use crate::work::{EscalationLevel, Location, PartAction, TicketAction, Timer};

const T0: Timestamp = Timestamp(1_790_000_000_000);

struct Fixture {
    _dir: tempfile::TempDir,
    device: Device,
    cast: Cast,
    ticket: String,
    others_ticket: String,
    equipment: String,
    article: String,
}

fn id(n: u128) -> DocId {
    DocId::from_u128(0x0190_0000_0000_7000_8000_0000_00A0_0000 + n)
}

fn ticket(cast: &Cast, n: u128, engineer: outpost_sync::model::Actor, due_in_hours: i64) -> Ticket {
    let mut t = Ticket::new(id(n), cast.dispatcher, T0, format!("T-2026-{n:06}"), format!("Array degraded {n}"), id(1));
    t.description = Text::with_value("Controller reports a failed disk in shelf 2.");
    t.site.site = Some(id(2));
    t.site.address = "Екатеринбург, ул. Ленина, 5".into();
    t.checklist_template = Some(id(3));
    t.equipment = vec![id(4)];
    t.priority = Priority::P2;
    t.sla =
        Sla { reaction_due: None, resolution_due: Some(T0.plus_millis(due_in_hours * 3_600_000)), ..Sla::default() };
    t.transitions.push(Transition {
        id: EntryId::from_u128(n),
        from: TicketStatus::New,
        to: TicketStatus::Assigned,
        at: T0,
        by: cast.dispatcher,
        assignee: Some(Assignee { engineer: Some(engineer.user), partner_org: None }),
        reason: None,
    });
    t
}

/// A device with its data in `root/data` and its key in `root/keys`.
pub(crate) async fn open_in(root: &std::path::Path) -> Device {
    let keys = crate::KeyStore::Directory(root.join("keys"));
    Device::open_with_keys(&root.join("data"), &keys).await.unwrap()
}

async fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let device = open_in(dir.path()).await;
    fill(dir, device).await
}

/// The fixture on a plain store, as versions before encryption kept it.
async fn plain_fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let device = crate::seeding::open_plain(&dir.path().join("data")).await.unwrap();
    fill(dir, device).await
}

async fn fill(dir: tempfile::TempDir, device: Device) -> Fixture {
    let cast = Cast::default();
    pair_offline(&device, cast.engineer, "http://127.0.0.1:9").await.unwrap();
    let hours = BusinessHours { always: true, weekly: vec![], holidays: vec![] };
    let mut equipment = Equipment::new(id(4), "SN-XR7-0042".into(), "StorArray 5000".into(), id(1));
    equipment.service_history = vec![id(10)];
    let documents = vec![
        Document::Client(Client {
            id: id(1),
            name: "Уралтрансбанк".into(),
            contract: None,
            business_hours: hours,
            points_balance: None,
            language: None,
        }),
        Document::Site(Site {
            id: id(2),
            client: id(1),
            name: "Main data centre".into(),
            address: "Екатеринбург, ул. Ленина, 5".into(),
            region: "Yekaterinburg".into(),
            time_zone: "Asia/Yekaterinburg".into(),
            coordinates: None,
        }),
        Document::ChecklistTemplate(ChecklistTemplate {
            id: id(3),
            name: "Storage visit".into(),
            items: ["power", "logs", "firmware"]
                .iter()
                .map(|k| ChecklistTemplateItem { key: (*k).into(), label: format!("Check {k}") })
                .collect(),
        }),
        Document::Equipment(equipment),
        Document::KbArticle(KbArticle {
            id: id(5),
            title: "Replacing a disk in a StorArray shelf".into(),
            body: Text::with_value("Pull the caddy, wait for the rebuild to start."),
            tags: vec!["storage".into()],
            language: "en".into(),
            attributes: Default::default(),
        }),
        Document::Ticket(ticket(&cast, 10, cast.engineer, 8)),
        Document::Ticket(ticket(&cast, 11, cast.second_engineer, 2)),
    ];
    receive_from_desk(&device, &documents).await.unwrap();
    Fixture {
        _dir: dir,
        device,
        cast,
        ticket: id(10).to_string(),
        others_ticket: id(11).to_string(),
        equipment: id(4).to_string(),
        article: id(5).to_string(),
    }
}

fn jpeg(width: u32, height: u32) -> Vec<u8> {
    let img = ImageBuffer::from_fn(width, height, |x, y| Rgb([(x % 256) as u8, (y % 256) as u8, 90]));
    let mut bytes = Vec::new();
    DynamicImage::ImageRgb8(img).write_to(&mut Cursor::new(&mut bytes), ImageFormat::Jpeg).unwrap();
    bytes
}

fn png(width: u32, height: u32) -> Vec<u8> {
    let img = ImageBuffer::from_fn(width, height, |x, _| Rgb([if x % 7 == 0 { 0 } else { 255 }; 3]));
    let mut bytes = Vec::new();
    DynamicImage::ImageRgb8(img).write_to(&mut Cursor::new(&mut bytes), ImageFormat::Png).unwrap();
    bytes
}

/// The store's bytes for every document: a failed operation must leave them as they were.
async fn fingerprint(device: &Device) -> Vec<(String, Vec<u8>, i64)> {
    sqlx::query_as(
        "SELECT d.id, d.snapshot || coalesce(group_concat(c.bytes, x''), x''), d.dirty FROM documents d
         LEFT JOIN document_changes c ON c.doc_id = d.id GROUP BY d.id ORDER BY d.id",
    )
    .fetch_all(device.store().pool())
    .await
    .unwrap()
}

/// Accepts, works and signs the fixture's ticket: notes, checklist, a
/// photo, a part request, a signature, a resolution.
async fn work_a_visit(f: &Fixture) {
    let (d, t) = (&f.device, &f.ticket);
    d.act(t, TicketAction::Accept).await.unwrap();
    d.act(t, TicketAction::Arrive { coordinates: Some(Location { lat: 56.84, lon: 60.6 }) }).await.unwrap();
    d.act(t, TicketAction::AddNote { text: "Disk 3 in shelf 2 failed; swapping.".into() }).await.unwrap();
    d.act(t, TicketAction::Tick { item: "power".into(), done: true }).await.unwrap();
    d.attach_photo(t, &jpeg(1200, 800), "shelf.jpg", false).await.unwrap();
    d.request_part(t, "HDD-600G-SAS", "spare disk", 1).await.unwrap();
    d.sign(t, &png(400, 150), "Ivan Petrov").await.unwrap();
    d.act(t, TicketAction::SetResolution { code: Some("replaced".into()), notes: "Disk replaced.".into() })
        .await
        .unwrap();
}

/// Closes the device and gives its last connection time to go: sqlx
/// closes connections handed back just before on tasks of their own, and
/// the last one folds the write-ahead log into the store and removes it.
/// (A log still there is no harm to the checks: it is read like any file.)
async fn close_fully(device: &Device, data: &std::path::Path) {
    device.close().await;
    let wal = data.join(format!("{}-wal", crate::STORE_FILE));
    for _ in 0..1000 {
        if !wal.exists() {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
}

/// What a thief would grep the data directory for: names and text, and
/// the headers of pictures and of a plain SQLite file.
fn readable_in(dir: &std::path::Path) -> Vec<String> {
    const TEXT: [&str; 6] =
        ["Уралтрансбанк", "Екатеринбург", "Ivan Petrov", "Disk 3 in shelf 2", "Array degraded", "SN-XR7-0042"];
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        // A closing connection may remove its log and shared-memory files meanwhile.
        let Ok(bytes) = std::fs::read(&path) else { continue };
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let has = |needle: &[u8]| bytes.windows(needle.len()).any(|w| w == needle);
        found.extend(TEXT.iter().filter(|t| has(t.as_bytes())).map(|t| format!("{name}: {t}")));
        if has(b"\x89PNG\r\n\x1a\n") {
            found.push(format!("{name}: a PNG"));
        }
        // A JPEG's start marker, then its JFIF or Exif header.
        let jpeg =
            bytes.windows(11).any(|w| w[..3] == [0xFF, 0xD8, 0xFF] && (&w[6..10] == b"JFIF" || &w[6..10] == b"Exif"));
        if jpeg {
            found.push(format!("{name}: a JPEG"));
        }
        if has(b"SQLite format 3\0") {
            found.push(format!("{name}: a plain SQLite header"));
        }
    }
    found
}

/// A lost tablet gives nothing away: after a visit's work, no file of the
/// data directory holds a client's name, the ticket's text, the signer or
/// a picture; the same visit on a plain store shows all of them (so the
/// search would find them if they were there).
#[tokio::test]
async fn after_a_visit_the_data_directory_gives_nothing_away() {
    let plain = plain_fixture().await;
    work_a_visit(&plain).await;
    close_fully(&plain.device, &plain._dir.path().join("data")).await;
    let shown = readable_in(&plain._dir.path().join("data"));
    for expected in ["Уралтрансбанк", "Ivan Petrov", "Disk 3 in shelf 2", "a PNG", "a JPEG", "a plain SQLite header"]
    {
        assert!(shown.iter().any(|s| s.ends_with(expected)), "a plain store shows {expected}: {shown:?}");
    }

    let f = fixture().await;
    work_a_visit(&f).await;
    let open = readable_in(&f._dir.path().join("data"));
    assert!(open.is_empty(), "while the app is open, its files show {open:?}");
    close_fully(&f.device, &f._dir.path().join("data")).await;
    let closed = readable_in(&f._dir.path().join("data"));
    assert!(closed.is_empty(), "a closed store's files show {closed:?}");
}

/// Signing out (and the desk's wipe, which erases the same way) leaves
/// nothing erased in any file, encrypted or not: shown on a plain store,
/// where leftover pages would be readable.
#[tokio::test]
async fn an_erased_store_keeps_nothing_erased_in_its_files() {
    let f = plain_fixture().await;
    work_a_visit(&f).await;
    f.device.sign_out(true).await.unwrap();
    let data = f._dir.path().join("data");
    close_fully(&f.device, &data).await;
    let left: Vec<String> = readable_in(&data).into_iter().filter(|s| !s.ends_with("a plain SQLite header")).collect();
    assert!(left.is_empty(), "erased data is still in the files: {left:?}");
}

/// The store opens only with its key: without it, or with another, the
/// open fails as `locked`, says why, and changes no file.
#[tokio::test]
async fn the_store_opens_only_with_its_key() {
    let f = fixture().await;
    let root = f._dir.path().to_owned();
    f.device.close().await;
    let data = root.join("data");
    let id = std::fs::read_to_string(data.join("store-id")).unwrap();
    let other_keys = root.join("other keys");
    let elsewhere = crate::KeyStore::Directory(other_keys.clone());
    let err = Device::open_with_keys(&data, &elsewhere).await.err().expect("no key, no store");
    assert_eq!(err.kind(), ErrorKind::Locked, "{err}");
    assert!(err.to_string().contains("cannot be opened"), "{err}");
    assert!(!other_keys.exists(), "no key is made for a store that has one");

    std::fs::create_dir_all(&other_keys).unwrap();
    let wrong = "ab".repeat(32);
    std::fs::write(other_keys.join(format!("{id}.key")), &wrong).unwrap();
    let err = Device::open_with_keys(&data, &elsewhere).await.err().expect("another key, no store");
    assert_eq!(err.kind(), ErrorKind::Locked, "{err}");
    assert!(err.to_string().contains("does not open with its key"), "{err}");
    assert_eq!(
        std::fs::read_to_string(other_keys.join(format!("{id}.key"))).unwrap(),
        wrong,
        "the key is not replaced"
    );

    let inside = crate::KeyStore::Directory(data.join("keys"));
    let err = Device::open_with_keys(&data, &inside).await.err().expect("keys beside the data are refused");
    assert_eq!(err.kind(), ErrorKind::Locked, "{err}");
    assert!(err.to_string().contains("inside the data directory"), "{err}");
    assert!(!data.join("keys").exists());
    assert_eq!(std::fs::read_to_string(data.join("store-id")).unwrap(), id, "the store keeps its id");

    let reopened = open_in(&root).await;
    assert_eq!(reopened.ticket(&f.ticket).await.unwrap().client.name.as_deref(), Some("Уралтрансбанк"));
    assert_eq!(reopened.status().await.unwrap().pending_documents, 0, "the store is as it was");
}

/// A plain store left by an earlier version is encrypted in place at its
/// first open, once, and keeps every document, file and setting.
#[tokio::test]
async fn a_plain_store_is_encrypted_once_and_keeps_everything() {
    let f = plain_fixture().await;
    work_a_visit(&f).await;
    let before = f.device.ticket(&f.ticket).await.unwrap();
    let status = f.device.status().await.unwrap();
    let prints = fingerprint(&f.device).await;
    let root = f._dir.path().to_owned();
    close_fully(&f.device, &root.join("data")).await;
    // A copy left by a migration killed half-way is thrown away.
    std::fs::write(root.join("data").join(format!("{}.encrypting", crate::STORE_FILE)), b"half a copy").unwrap();

    let d = open_in(&root).await;
    assert_eq!(d.ticket(&f.ticket).await.unwrap(), before);
    let after = d.status().await.unwrap();
    assert_eq!((after.pending_documents, after.pending_blobs), (status.pending_documents, status.pending_blobs));
    assert_eq!(fingerprint(&d).await, prints, "every document's bytes and state are kept");
    let photo = &before.attachments[0];
    assert!(!d.blob(&photo.hash).await.unwrap().is_empty(), "the photo is kept");
    assert!(d.pairing_info().await.unwrap().is_some(), "the pairing is kept");
    close_fully(&d, &root.join("data")).await;
    let left: Vec<String> = std::fs::read_dir(root.join("data"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("encrypting"))
        .collect();
    assert!(left.is_empty(), "no copy is left behind: {left:?}");
    assert!(readable_in(&root.join("data")).is_empty(), "{:?}", readable_in(&root.join("data")));
    let again = open_in(&root).await;
    assert_eq!(again.ticket(&f.ticket).await.unwrap(), before, "the second open reads the encrypted store as is");
}

#[tokio::test]
async fn a_whole_visit_is_recorded_offline_and_survives_reopening() {
    let f = fixture().await;
    let d = &f.device;
    let t = &f.ticket;
    d.act(t, TicketAction::Accept).await.unwrap();
    d.act(t, TicketAction::EnRoute).await.unwrap();
    d.act(t, TicketAction::StartTimer { kind: Timer::Travel }).await.unwrap();
    d.act(t, TicketAction::Arrive { coordinates: Some(Location { lat: 56.84, lon: 60.6 }) }).await.unwrap();
    d.act(t, TicketAction::StartTimer { kind: Timer::Work }).await.unwrap();
    d.act(t, TicketAction::AddNote { text: "Disk 3 in shelf 2 failed; swapping.".into() }).await.unwrap();
    d.act(t, TicketAction::Tick { item: "power".into(), done: true }).await.unwrap();
    d.act(t, TicketAction::Tick { item: "logs".into(), done: true }).await.unwrap();
    let photo = d.attach_photo(t, &jpeg(3000, 2000), "shelf.png", false).await.unwrap();
    assert_eq!((photo.width, photo.height), (2048, 1365));
    let part = d.request_part(t, "HDD-600G-SAS", "spare disk", 1).await.unwrap();
    d.act(t, TicketAction::Escalate { to: EscalationLevel::L2Remote, reason: "firmware advice".into() }).await.unwrap();
    d.sign(t, &png(400, 150), "Ivan Petrov").await.unwrap();
    d.act(t, TicketAction::SetResolution { code: Some("replaced".into()), notes: "Disk replaced.".into() })
        .await
        .unwrap();
    d.act(t, TicketAction::Resolve).await.unwrap();
    let (found_id, number) = d
        .create_ticket(crate::NewTicketInput {
            title: "UPS battery swollen".into(),
            found_during: Some(t.clone()),
            ..Default::default()
        })
        .await
        .unwrap();

    let detail = d.ticket(t).await.unwrap();
    assert_eq!(detail.status, "resolved");
    assert_eq!(detail.work_log.len(), 1);
    assert_eq!(detail.checklist.iter().filter(|c| c.done).count(), 2);
    assert_eq!(detail.checklist.len(), 3, "the template's items show, ticked or not");
    assert_eq!(detail.attachments.len(), 2, "the photo and the signature");
    assert!(detail.attachments.iter().all(|a| a.local));
    assert_eq!(detail.signature.as_ref().unwrap().signer, "Ivan Petrov");
    assert_eq!(detail.part_requests.len(), 1);
    assert_eq!(detail.part_requests[0].id, part);
    assert_eq!(detail.support_level, "l2_remote");
    assert_eq!(detail.client.name.as_deref(), Some("Уралтрансбанк"));
    assert!(detail.time_entries.iter().all(|e| e.end.is_some()));
    assert!(number.starts_with("F-"));

    let status = d.status().await.unwrap();
    assert_eq!(status.pending_documents, 3, "the ticket, the part request and the new ticket wait for the desk");
    assert_eq!(status.pending_blobs, 3, "photo, thumbnail, signature");

    // Reopen from the file: everything committed is there.
    let dir = f._dir.path().to_owned();
    d.close().await;
    let reopened = open_in(&dir).await;
    assert_eq!(reopened.ticket(t).await.unwrap(), detail);
    assert_eq!(reopened.ticket(&found_id).await.unwrap().site.address, "Екатеринбург, ул. Ленина, 5");
    assert!(!reopened.blob(&photo.thumbnail).await.unwrap().is_empty(), "the thumbnail is stored");
}

#[tokio::test]
async fn bad_input_gets_a_clear_error_and_changes_nothing() {
    let f = fixture().await;
    let d = &f.device;
    let t = f.ticket.as_str();
    let before = fingerprint(d).await;
    let unknown = id(999).to_string();
    let cases: Vec<(&str, CoreError)> = vec![
        ("unknown ticket", d.act(&unknown, TicketAction::Accept).await.unwrap_err()),
        ("malformed id", d.act("ticket-1", TicketAction::Accept).await.unwrap_err()),
        ("forbidden move", d.act(t, TicketAction::Resolve).await.unwrap_err()),
        ("not assigned", d.act(&f.others_ticket, TicketAction::Accept).await.unwrap_err()),
        (
            "someone else's note",
            d.act(&f.others_ticket, TicketAction::AddNote { text: "hi".into() }).await.unwrap_err(),
        ),
        (
            "unknown checklist item",
            d.act(t, TicketAction::Tick { item: "coffee".into(), done: true }).await.unwrap_err(),
        ),
        ("empty note", d.act(t, TicketAction::AddNote { text: " ".into() }).await.unwrap_err()),
        ("corrupt image", d.attach_photo(t, b"\xFF\xD8\xFF\xE0garbage", "x.jpg", false).await.unwrap_err()),
        (
            "oversized image",
            d.attach_photo(t, &vec![0xFF; crate::media::MAX_PHOTO_BYTES + 1], "x.jpg", false).await.unwrap_err(),
        ),
        ("not a png signature", d.sign(t, &jpeg(10, 10), "Ivan").await.unwrap_err()),
        ("unnamed signer", d.sign(t, &png(10, 10), "  ").await.unwrap_err()),
        ("zero parts", d.request_part(t, "HDD", "", 0).await.unwrap_err()),
        ("part for someone else's ticket", d.request_part(&f.others_ticket, "HDD", "", 1).await.unwrap_err()),
        ("unknown part request", d.act_on_part_request(&unknown, PartAction::Receive).await.unwrap_err()),
        (
            "untitled ticket",
            d.create_ticket(crate::NewTicketInput { found_during: Some(t.into()), ..Default::default() })
                .await
                .unwrap_err(),
        ),
        (
            "ticket for an unknown client",
            d.create_ticket(crate::NewTicketInput {
                title: "x".into(),
                client: Some(unknown.clone()),
                ..Default::default()
            })
            .await
            .unwrap_err(),
        ),
        ("unknown equipment", d.equipment(&unknown).await.unwrap_err()),
        ("unknown article", d.article(&unknown).await.unwrap_err()),
        ("bad hash", d.blob("../../etc/passwd").await.unwrap_err()),
    ];
    for (case, err) in &cases {
        let expected = match *case {
            "unknown ticket"
            | "unknown part request"
            | "unknown equipment"
            | "unknown article"
            | "ticket for an unknown client" => ErrorKind::NotFound,
            "forbidden move" | "not assigned" | "someone else's note" | "part for someone else's ticket" => {
                ErrorKind::Refused
            }
            _ => ErrorKind::Invalid,
        };
        assert_eq!(err.kind(), expected, "{case}: {err}");
        assert!(!err.to_string().is_empty());
    }
    assert_eq!(fingerprint(d).await, before, "no failed operation changed the store");
    assert_eq!(d.status().await.unwrap().pending_blobs, 0);
}

#[tokio::test]
async fn an_unpaired_device_reads_nothing_into_existence_and_edits_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let device = open_in(dir.path()).await;
    let err = device.act(&id(10).to_string(), TicketAction::Accept).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotPaired);
    assert_eq!(device.sync_now().await.unwrap_err().kind(), ErrorKind::NotPaired);
    assert!(device.tickets(&TicketFilter::default()).await.unwrap().is_empty());
    assert!(device.pairing_info().await.unwrap().is_none());
}

#[tokio::test]
async fn tickets_are_listed_by_urgency_filtered_and_found_through_client_site_equipment_and_notes() {
    let f = fixture().await;
    let d = &f.device;
    let all = d.tickets(&TicketFilter::default()).await.unwrap();
    assert_eq!(
        all.iter().map(|r| r.number.as_str()).collect::<Vec<_>>(),
        ["T-2026-000011", "T-2026-000010"],
        "nearest deadline first"
    );
    assert_eq!(all[0].client.as_deref(), Some("Уралтрансбанк"));
    assert_eq!(all[0].site.as_deref(), Some("Main data centre"));

    d.act(&f.ticket, TicketAction::Accept).await.unwrap();
    d.act(&f.ticket, TicketAction::AddNote { text: "Fan tray rattles".into() }).await.unwrap();
    let search = |text: &str| TicketFilter { search: Some(text.into()), ..TicketFilter::default() };
    for (query, expected) in [
        ("уралтранс", 2),
        ("data centre", 2),
        ("SN-XR7", 2),
        ("storarray", 2),
        ("rattles", 1),
        ("T-2026-000010", 1),
        ("nothing-like-this", 0),
        // No words at all: no search, every ticket.
        ("\"*^(", 2),
    ] {
        assert_eq!(d.tickets(&search(query)).await.unwrap().len(), expected, "search {query:?}");
    }
    let accepted = TicketFilter { statuses: vec!["accepted".into()], ..TicketFilter::default() };
    assert_eq!(d.tickets(&accepted).await.unwrap().len(), 1);
    let p1 = TicketFilter { priority: Some("p1".into()), ..TicketFilter::default() };
    assert!(d.tickets(&p1).await.unwrap().is_empty());
    d.act(&f.ticket, TicketAction::EnRoute).await.unwrap();
    d.act(&f.ticket, TicketAction::Arrive { coordinates: None }).await.unwrap();
    let today = now().0;
    let visits =
        TicketFilter { visits_between: Some((today - 3_600_000, today + 3_600_000)), ..TicketFilter::default() };
    assert_eq!(d.tickets(&visits).await.unwrap().len(), 1, "today's visits");
}

#[tokio::test]
async fn equipment_is_looked_up_by_serial_with_its_history_and_articles_are_searched() {
    let f = fixture().await;
    let d = &f.device;
    let found = d.equipment_by_serial("sn-xr7").await.unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].id, f.equipment);
    assert!(d.equipment_by_serial("100%").await.unwrap().is_empty(), "LIKE wildcards are literal");
    assert_eq!(d.equipment_by_serial(" ").await.unwrap_err().kind(), ErrorKind::Invalid);
    let detail = d.equipment(&f.equipment).await.unwrap();
    let history: Vec<&str> = detail.service_history.iter().map(|h| h.ticket_id.as_str()).collect();
    assert!(history.contains(&f.ticket.as_str()) && history.contains(&f.others_ticket.as_str()), "{history:?}");
    assert_eq!(d.search_equipment("StorArray").await.unwrap().len(), 1);

    let articles = d.articles("caddy").await.unwrap();
    assert_eq!(articles.len(), 1);
    assert_eq!(d.article(&f.article).await.unwrap().title, "Replacing a disk in a StorArray shelf");
    assert_eq!(d.articles("").await.unwrap().len(), 1, "an empty search lists them all");
}

#[tokio::test]
async fn signing_out_is_refused_while_the_desk_lacks_changes_unless_confirmed() {
    let f = fixture().await;
    let d = &f.device;
    d.act(&f.ticket, TicketAction::Accept).await.unwrap();
    assert_eq!(d.sign_out(false).await.unwrap_err().kind(), ErrorKind::Unsynced);
    assert!(d.pairing_info().await.unwrap().is_some(), "nothing was erased");
    d.sign_out(true).await.unwrap();
    assert!(d.pairing_info().await.unwrap().is_none());
    assert!(d.tickets(&TicketFilter::default()).await.unwrap().is_empty());
    let _ = &f.cast;
}

#[tokio::test]
async fn the_next_moves_offered_are_the_ones_the_workflow_allows() {
    let f = fixture().await;
    let d = &f.device;
    assert_eq!(d.ticket(&f.ticket).await.unwrap().next_moves, ["new", "accepted"]);
    d.act(&f.ticket, TicketAction::Accept).await.unwrap();
    assert_eq!(d.ticket(&f.ticket).await.unwrap().next_moves, ["new", "en_route", "on_site"]);
    assert!(d.ticket(&f.others_ticket).await.unwrap().next_moves.is_empty(), "not this engineer's ticket");
}

#[tokio::test]
async fn a_sync_that_cannot_reach_the_desk_leaves_the_device_marked_offline_and_changes_nothing() {
    let f = fixture().await;
    let d = &f.device;
    d.act(&f.ticket, TicketAction::Accept).await.unwrap();
    let before = fingerprint(d).await;
    let err = d.sync_now().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Offline, "{err}");
    let status = d.status().await.unwrap();
    assert!(status.offline, "the UI shows offline from the store");
    assert!(status.last_sync_error.is_some_and(|e| e.contains("cannot be reached")));
    assert_eq!(status.pending_documents, 1, "the edit still waits");
    assert_eq!(fingerprint(d).await, before, "a failed sync changed no document");
}
