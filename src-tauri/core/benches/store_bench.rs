//! The device store at field scale: 10,000 tickets and 50,000 equipment
//! records. Prints cold open to the first ticket list, list, filter and
//! search latencies, and the time to attach a 12-megapixel photo; each on a
//! plain store (as before encryption) and on the encrypted one, side by side.
//!
//! `cargo bench -p outpost-core --features seeding --bench store_bench`
//! (TICKETS and EQUIPMENT override the sizes).

use std::path::Path;
use std::time::{Duration, Instant};

use autosurgeon::Text;
use outpost_core::seeding::{open_plain, pair_offline, receive_from_desk};
use outpost_core::{Device, KeyStore, TicketFilter};
use outpost_sync::ids::{DocId, Timestamp};
use outpost_sync::model::{BusinessHours, Client, Document, Equipment, KbArticle, Site};
use outpost_sync::sample::{worked_ticket, Cast, Rng};

fn size(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

async fn time<T>(runs: usize, mut f: impl AsyncFnMut() -> T) -> (Duration, T) {
    let mut samples = Vec::new();
    let mut last = None;
    for _ in 0..runs {
        let start = Instant::now();
        last = Some(f().await);
        samples.push(start.elapsed());
    }
    (median(samples), last.expect("at least one run"))
}

fn documents(tickets: usize, equipment: usize) -> Vec<Document> {
    let cast = Cast::default();
    let mut rng = Rng::new(2026);
    let now = Timestamp(1_790_000_000_000);
    let mut docs = Vec::new();
    for n in 1..=50u128 {
        let hours = BusinessHours { always: n % 2 == 0, weekly: vec![], holidays: vec![] };
        let name = format!("{} {n}", rng.pick(&["Уралтрансбанк", "Sibir Retail", "Metro Logistics", "Газнефтьсервис"]));
        docs.push(Document::Client(Client {
            id: DocId::from_u128(n),
            name,
            contract: None,
            business_hours: hours,
            points_balance: None,
            language: None,
        }));
    }
    for n in 1000..1500u128 {
        docs.push(Document::Site(Site {
            id: DocId::from_u128(n),
            client: DocId::from_u128(n % 50 + 1),
            name: format!("Site {n}"),
            address: format!("ул. Ленина, д. {}", n - 999),
            region: "Moscow".into(),
            time_zone: "Europe/Moscow".into(),
            coordinates: None,
        }));
    }
    for n in 0..equipment as u128 {
        let mut e = Equipment::new(
            DocId::from_u128(10_000 + n),
            format!("SN{:08X}", rng.next_u64() as u32),
            (*rng.pick(&["StorArray 5000", "PowerEdge R750", "Catalyst 9300", "Verifone V240m"])).to_owned(),
            DocId::from_u128(n % 50 + 1),
        );
        e.vendor = "Vendor".into();
        docs.push(Document::Equipment(e));
    }
    for n in 0..200u128 {
        docs.push(Document::KbArticle(KbArticle {
            id: DocId::from_u128(900_000 + n),
            title: format!("Procedure {n}: replacing a controller battery"),
            body: Text::with_value("Power down the shelf, pull the controller, swap the battery pack."),
            tags: vec!["storage".into()],
            language: "en".into(),
            attributes: Default::default(),
        }));
    }
    for n in 0..tickets as u64 {
        let mut t = worked_ticket(&mut rng, &cast, n + 1, now);
        t.equipment = vec![DocId::from_u128(10_000 + u128::from(n) % equipment.max(1) as u128)];
        docs.push(Document::Ticket(t));
    }
    docs
}

fn twelve_megapixel_jpeg() -> Vec<u8> {
    let mut rng = Rng::new(12);
    let img = image::ImageBuffer::from_fn(4000, 3000, |x, y| {
        let noise = (rng.next_u64() % 24) as u8;
        image::Rgb([(x / 16) as u8 ^ noise, (y / 12) as u8, (((x + y) / 28) as u8).wrapping_add(noise)])
    });
    let mut bytes = Vec::new();
    let encoder = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut bytes, 92);
    image::DynamicImage::ImageRgb8(img).write_with_encoder(encoder).unwrap();
    bytes
}

/// The store as versions before encryption kept it, and as it is kept now.
#[derive(Clone, Copy, PartialEq)]
enum Store {
    Plain,
    Encrypted,
}

async fn open(store: Store, root: &Path) -> Device {
    let data = root.join("data");
    match store {
        Store::Plain => open_plain(&data).await.unwrap(),
        Store::Encrypted => Device::open_with_keys(&data, &KeyStore::Directory(root.join("keys"))).await.unwrap(),
    }
}

/// Every figure of one store, by name, in the order measured.
type Figures = Vec<(String, Duration)>;

#[tokio::main]
async fn main() {
    let tickets = size("TICKETS", 10_000);
    let equipment = size("EQUIPMENT", 50_000);
    let docs = documents(tickets, equipment);
    println!("store: {tickets} tickets, {equipment} equipment, 50 clients, 500 sites, 200 articles");
    let plain = measure(Store::Plain, &docs).await;
    let encrypted = measure(Store::Encrypted, &docs).await;
    println!("\nwhat encryption costs (SQLCipher, medians):");
    println!("  {:<48} {:>10} {:>10} {:>7}", "", "plain", "encrypted", "cost");
    for ((name, before), (_, after)) in plain.iter().zip(&encrypted) {
        let cost = (after.as_secs_f64() / before.as_secs_f64().max(1e-9) - 1.0) * 100.0;
        println!("  {name:<48} {:>10} {:>10} {cost:>+6.0}%", ms(*before), ms(*after));
    }
}

async fn measure(store: Store, docs: &[Document]) -> Figures {
    let label = if store == Store::Plain { "plain store" } else { "encrypted store" };
    println!("\n== {label}");
    let mut figures = Figures::new();
    let root = tempfile::tempdir().unwrap();
    let cast = Cast::default();

    let device = open(store, root.path()).await;
    pair_offline(&device, cast.engineer, "http://127.0.0.1:9").await.unwrap();
    let start = Instant::now();
    receive_from_desk(&device, docs).await.unwrap();
    let filled = start.elapsed();
    let store_bytes = device.status().await.unwrap().storage_bytes;
    device.close().await;
    println!("  written in {:.1} s, {:.1} MiB on disk", filled.as_secs_f64(), store_bytes as f64 / 1_048_576.0);
    figures.push(("write every document (a first sync's store work)".into(), filled));

    // Cold open: a new process's work, from opening the file to the first screen of tickets.
    let (open_to_list, rows) = time(5, async || {
        let device = open(store, root.path()).await;
        let rows = device.tickets(&TicketFilter::default()).await.unwrap();
        device.close().await;
        rows.len()
    })
    .await;
    println!("open store to first ticket list ({rows} rows): {}", ms(open_to_list));
    figures.push(("open store to first ticket list".into(), open_to_list));

    let device = open(store, root.path()).await;
    let queries: Vec<(&str, TicketFilter)> = vec![
        ("list, first 200 by urgency", TicketFilter::default()),
        (
            "filter: on site, P1",
            TicketFilter { statuses: vec!["on_site".into()], priority: Some("P1".into()), ..TicketFilter::default() },
        ),
        ("search: a word in notes", TicketFilter { search: Some("rebuild".into()), ..TicketFilter::default() }),
        ("search: client name prefix", TicketFilter { search: Some("уралтранс".into()), ..TicketFilter::default() }),
        ("search: ticket number", TicketFilter { search: Some("T-2026-004242".into()), ..TicketFilter::default() }),
    ];
    for (name, filter) in &queries {
        let (took, rows) = time(30, async || device.tickets(filter).await.unwrap().len()).await;
        println!("{name}: {} ({rows} rows)", ms(took));
        figures.push(((*name).into(), took));
    }
    let serial = match &docs[550] {
        Document::Equipment(e) => e.serial[..6].to_owned(),
        _ => "SN".into(),
    };
    let (took, rows) = time(30, async || device.equipment_by_serial(&serial).await.unwrap().len()).await;
    println!("equipment by serial prefix {serial:?}: {} ({rows} rows)", ms(took));
    figures.push(("equipment by serial prefix".into(), took));
    let (took, rows) = time(30, async || device.articles("controller battery").await.unwrap().len()).await;
    println!("knowledge-base search: {} ({rows} rows)", ms(took));
    figures.push(("knowledge-base search".into(), took));
    let first = device.tickets(&TicketFilter::default()).await.unwrap()[0].id.clone();
    let (took, _) = time(30, async || device.ticket(&first).await.unwrap()).await;
    println!("open one ticket (document load + view): {}", ms(took));
    figures.push(("open one ticket".into(), took));

    let photo = twelve_megapixel_jpeg();
    let ticket = match docs.iter().rev().find(|d| matches!(d, Document::Ticket(_))) {
        Some(d) => d.id().to_string(),
        None => return figures,
    };
    let (took, attached) =
        time(3, async || device.attach_photo(&ticket, &photo, "panel.jpg", false).await.unwrap()).await;
    println!(
        "attach a 12-megapixel JPEG ({:.1} MiB in, {}x{} {:.0} KiB out): {}",
        photo.len() as f64 / 1_048_576.0,
        attached.width,
        attached.height,
        attached.bytes as f64 / 1024.0,
        ms(took)
    );
    figures.push(("attach a 12-megapixel JPEG".into(), took));
    device.close().await;
    figures
}
