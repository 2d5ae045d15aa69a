use automerge::ActorId;
use outpost_sync::ids::Timestamp;
use outpost_sync::model::{new_document, Document};
use outpost_sync::sample::{worked_ticket, Cast, Rng};
fn main() {
    let cast = Cast::default();
    let mut rng = Rng::new(2026);
    let (mut s, mut n, mut j) = (Vec::new(), Vec::new(), Vec::new());
    let mut changes = Vec::new();
    for i in 0..1000 {
        let t = worked_ticket(&mut rng, &cast, i, Timestamp(1_790_000_000_000));
        let mut doc = new_document(&Document::Ticket(t), ActorId::from([0xd5; 16])).unwrap();
        s.extend(doc.save());
        n.extend(doc.save_nocompress());
        changes.extend(doc.save_after(&[]));
        j.extend(serde_json::to_vec(&automerge::AutoSerde::from(&doc)).unwrap());
        if i == 0 { println!("one doc: save {} nocompress {} changes {} json {}", doc.save().len(), doc.save_nocompress().len(), doc.save_after(&[]).len(), serde_json::to_vec(&automerge::AutoSerde::from(&doc)).unwrap().len()); println!("{}", serde_json::to_string(&automerge::AutoSerde::from(&doc)).unwrap()); }
    }
    for lvl in [3, 9, 19] {
        println!("lvl {lvl}: save {} -> {}, nocompress {} -> {}, changes {} -> {}, json {} -> {}", s.len(), zstd::bulk::compress(&s, lvl).unwrap().len(), n.len(), zstd::bulk::compress(&n, lvl).unwrap().len(), changes.len(), zstd::bulk::compress(&changes, lvl).unwrap().len(), j.len(), zstd::bulk::compress(&j, lvl).unwrap().len());
    }
}
