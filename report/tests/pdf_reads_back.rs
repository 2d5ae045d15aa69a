//! A report made from real documents, read back with poppler (Debian's
//! `poppler-utils`, which the test command installs): its text in Russian
//! and English, its page count, and a picture of its first page kept in
//! `target/report-artifacts/` to look at.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use outpost_report::{render, Lang, ServiceReport, Sources};
use outpost_sync::ids::{ContentHash, DocId, EntryId, Timestamp};
use outpost_sync::model::{
    Actor, Attachment, BusinessHours, ChecklistItemState, ChecklistTemplate, ChecklistTemplateItem, Client, Directory,
    Equipment, PartRequest, Person, Role, Signature, Site, Ticket, Visit, WorkLogEntry,
};
use outpost_sync::sample::{worked_ticket, Cast, Rng};

const T0: Timestamp = Timestamp(1_796_000_000_000);

fn artifacts() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/report-artifacts");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn poppler(tool: &str, args: &[&str]) -> String {
    let output = Command::new(tool)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{tool} is missing ({e}): install Debian's poppler-utils (the test command does)"));
    assert!(output.status.success(), "{tool} failed: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).unwrap()
}

fn png(width: u32, height: u32, ink: u8) -> Vec<u8> {
    let img = image::GrayImage::from_fn(width, height, |x, y| {
        let stroke = (y as i64 - i64::from(height / 2) - ((x as f64 / 9.0).sin() * 12.0) as i64).abs() < 2;
        image::Luma([if stroke { ink } else { 255 }])
    });
    let mut bytes = Vec::new();
    img.write_to(&mut std::io::Cursor::new(&mut bytes), image::ImageFormat::Png).unwrap();
    bytes
}

struct World {
    ticket: Ticket,
    client: Client,
    site: Site,
    equipment: Vec<Equipment>,
    template: ChecklistTemplate,
    parts: Vec<PartRequest>,
    directories: Vec<Directory>,
    images: BTreeMap<String, Vec<u8>>,
}

fn world() -> World {
    let cast = Cast::default();
    let engineer = cast.engineer;
    let mut ticket = worked_ticket(&mut Rng::new(5), &cast, 42, T0);
    let client = Client {
        id: ticket.client,
        name: "АО «Северный банк»".into(),
        contract: Some("SC-2026-7".into()),
        business_hours: BusinessHours { always: true, weekly: vec![], holidays: vec![] },
        points_balance: None,
        language: None,
    };
    let site = Site {
        id: DocId::from_u128(0x51),
        client: client.id,
        name: "Серверная, 3 этаж".into(),
        address: "Новосибирск, Красный пр. 1".into(),
        region: "Новосибирск".into(),
        time_zone: "Asia/Novosibirsk".into(),
        coordinates: None,
    };
    ticket.site.site = Some(site.id);
    let mut array = Equipment::new(DocId::from_u128(0xe1), "SN-2102351LWK".into(), "OceanStor 5300".into(), client.id);
    array.vendor = "Huawei".into();
    ticket.equipment = vec![array.id];
    let template = ChecklistTemplate {
        id: DocId::from_u128(0xc1),
        name: "Визит".into(),
        items: vec![
            ChecklistTemplateItem { key: "power".into(), label: "Питание проверено".into() },
            ChecklistTemplateItem { key: "logs".into(), label: "Журналы сохранены".into() },
        ],
    };
    ticket.checklist_template = Some(template.id);
    ticket.checklist = BTreeMap::from([("power".into(), ChecklistItemState { done: true, by: engineer, at: T0 })]);
    let mut part = PartRequest::new(DocId::from_u128(0xa1), ticket.id, engineer, T0, "02351LWK".into(), 1);
    part.description = "Диск 1.2 ТБ SAS".into();
    part.installed_serial = Some("NEW-778".into());
    part.removed_serial = Some("OLD-112".into());
    ticket.part_requests = vec![part.id];
    ticket.work_log = vec![WorkLogEntry {
        id: EntryId::from_u128(1),
        at: T0,
        by: engineer,
        text: "Заменён диск в полке 2, массив перестроен".into(),
    }];
    ticket.visits = vec![Visit {
        id: EntryId::from_u128(2),
        arrived: T0,
        left: Some(Timestamp(T0.0 + 75 * 60_000)),
        coordinates: None,
        by: engineer,
    }];
    let (thumb, drawn) = (png(160, 120, 90), png(300, 90, 0));
    let hash = |bytes: &[u8]| ContentHash(outpost_sync_hash(bytes));
    let attachment = |name: &str, hash: ContentHash, thumbnail: Option<ContentHash>, mime: &str| Attachment {
        id: EntryId::from_u128(name.len() as u128 + 10),
        hash,
        thumbnail,
        name: name.into(),
        mime: mime.into(),
        size: 1,
        at: T0,
        by: engineer,
    };
    ticket.attachments = vec![
        attachment("shelf.jpg", ContentHash("f".repeat(64)), Some(hash(&thumb)), "image/jpeg"),
        attachment("signature.png", hash(&drawn), None, "image/png"),
    ];
    ticket.signature = Some(Signature {
        signer_name: "Иван Петров".into(),
        at: Timestamp(T0.0 + 80 * 60_000),
        attachment: hash(&drawn),
        by: engineer,
    });
    let person =
        |actor: Actor, name: &str| (actor.user.to_string(), Person { name: name.into(), role: Role::Engineer });
    let directories = vec![Directory {
        id: Directory::id_for(cast.service),
        org: cast.service,
        org_name: "ООО «Сервис-Центр»".into(),
        everyone: true,
        people: BTreeMap::from([person(engineer, "Сергей Кузнецов")]),
    }];
    let images = BTreeMap::from([(hash(&thumb).0, thumb), (hash(&drawn).0, drawn)]);
    World { ticket, client, site, equipment: vec![array], template, parts: vec![part], directories, images }
}

fn outpost_sync_hash(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

fn report(world: &World, lang: Lang) -> ServiceReport {
    ServiceReport::build(&Sources {
        ticket: &world.ticket,
        client: Some(&world.client),
        site: Some(&world.site),
        equipment: &world.equipment,
        template: Some(&world.template),
        parts: &world.parts,
        directories: &world.directories,
        lang,
    })
}

#[test]
fn the_report_reads_back_in_russian_and_english() {
    let world = world();
    for (lang, expected) in [
        (Lang::Ru, ["Акт выполненных работ", "Заказчик", "Подписал", "Журналы сохранены", "не выполнено"]),
        (Lang::En, ["Service report", "Customer", "Signed by", "Журналы сохранены", "not done"]),
    ] {
        let report = report(&world, lang);
        let pdf = render(&report, &world.images).unwrap();
        assert!(pdf.len() < 300 * 1024, "a few hundred kilobytes at most: {} bytes", pdf.len());
        let file = artifacts().join(format!("service-report-{}.pdf", lang.code()));
        std::fs::write(&file, &pdf).unwrap();
        let path = file.to_str().unwrap();
        let text = poppler("pdftotext", &["-layout", path, "-"]);
        for words in expected.iter().copied().chain([
            "T-2026-000042",
            "АО «Северный банк»",
            "Новосибирск, Красный пр. 1",
            "OceanStor 5300",
            "SN-2102351LWK",
            "Заменён диск в полке 2, массив перестроен",
            "NEW-778",
            "OLD-112",
            "Иван Петров",
            "Сергей Кузнецов",
            "ООО «Сервис-Центр»",
            "shelf.jpg",
        ]) {
            assert!(text.contains(words), "{lang:?}: {words:?} is not in the PDF's text:\n{text}");
        }
        // The data hash is printed whole (pdftotext may wrap it, so spaces go first).
        let flat: String = text.split_whitespace().collect();
        assert!(flat.contains(&report.data_hash()), "the data hash is printed");
        let info = poppler("pdfinfo", &[path]);
        assert!(info.lines().any(|l| l.starts_with("Pages:") && l.trim_end().ends_with(" 1")), "one page: {info}");
        let prefix = artifacts().join(format!("service-report-{}", lang.code()));
        poppler("pdftoppm", &["-png", "-r", "70", "-f", "1", "-l", "1", "-singlefile", path, prefix.to_str().unwrap()]);
        assert!(prefix.with_extension("png").exists(), "a picture of the first page");
    }
}

#[test]
fn the_same_documents_make_the_same_data_and_an_edit_shows_as_a_change() {
    let world = world();
    let signed = report(&world, Lang::Ru);
    assert_eq!(report(&world, Lang::Ru).data_hash(), signed.data_hash(), "built twice, the same data");
    let mut edited = world;
    edited.parts[0].installed_serial = Some("NEW-779".into());
    edited.ticket.work_log.push(WorkLogEntry {
        id: EntryId::from_u128(9),
        at: Timestamp(T0.0 + 86_400_000),
        by: Cast::default().dispatcher,
        text: "Added after the signature".into(),
    });
    let now = report(&edited, Lang::Ru);
    assert_ne!(now.data_hash(), signed.data_hash());
    let changes: BTreeSet<String> = now.changes_since(&signed).into_iter().collect();
    assert!(changes.contains("parts[1].installed_serial: NEW-778 → NEW-779"), "{changes:?}");
    assert!(changes.iter().any(|c| c.starts_with("work[2].text: (none) → Added after the signature")), "{changes:?}");
}
