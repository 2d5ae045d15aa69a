//! Writes seed inputs for the round targets: real requests a partner
//! engineer's device makes (a pull, a found-on-site ticket, a part request,
//! a crafted note on the staff ticket), so fuzzing starts past the header
//! check. `cargo run --release --bin seed_corpus` from `sync-protocol/fuzz`.

use automerge::ActorId;
use outpost_sync::ids::{DocId, EntryId, Timestamp};
use outpost_sync::limits::WireLimits;
use outpost_sync::memory::MemoryDevice;
use outpost_sync::model::{Document, PartRequest, Ticket, WorkLogEntry};
use outpost_sync::sample::{worked_ticket, Cast, Rng};
use outpost_sync::wire::RoundId;

const NOW: Timestamp = Timestamp(1_790_000_000_000);

fn main() {
    let cast = Cast::default();
    let partner = cast.partner_engineer;
    let device = || MemoryDevice::new(partner, ActorId::from([0x5e; 16]), WireLimits::default());
    let mut seeds: Vec<(&str, Vec<u8>)> = Vec::new();

    seeds.push(("pull", device().start_round(NOW, RoundId(1)).unwrap()));

    let mut found = device();
    let mut ticket =
        Ticket::new(DocId::from_u128(0xf0), partner, NOW, "F-1".into(), "Found on site".into(), DocId::from_u128(1));
    ticket.category = "hardware fault".into();
    ticket.work_log.push(WorkLogEntry { id: EntryId::from_u128(1), at: NOW, by: partner, text: "found it".into() });
    found.create(&Document::Ticket(ticket.clone())).unwrap();
    seeds.push(("found_ticket", found.start_round(NOW, RoundId(2)).unwrap()));

    let mut parts = device();
    parts.create(&Document::Ticket(ticket)).unwrap();
    let request = PartRequest::new(DocId::from_u128(0xf1), DocId::from_u128(0xf0), partner, NOW, "PN-1".into(), 2);
    parts.create(&Document::PartRequest(request)).unwrap();
    seeds.push(("part_request", parts.start_round(NOW, RoundId(3)).unwrap()));

    let mut crafted = device();
    let mut staff = worked_ticket(&mut Rng::new(1), &cast, 1, NOW);
    staff.work_log.push(WorkLogEntry { id: EntryId::from_u128(2), at: NOW, by: partner, text: "pwned".into() });
    crafted.create(&Document::Ticket(staff)).unwrap();
    seeds.push(("crafted_staff_note", crafted.start_round(NOW, RoundId(4)).unwrap()));

    for target in ["desk_round", "desk_round_sql"] {
        let dir = std::path::Path::new("corpus").join(target);
        std::fs::create_dir_all(&dir).unwrap();
        for (name, bytes) in &seeds {
            std::fs::write(dir.join(format!("seed_{name}")), bytes).unwrap();
        }
        println!("{} seeds in {}", seeds.len(), dir.display());
    }
}
