//! Property: whatever a hostile partner device pushes between honest
//! devices' work, it is never answered with another company's document, and
//! the honest companies end exactly as they would without it. Here on the
//! memory desk; the desk's tests run the same world on SQLite, with blobs.

#[path = "adversarial/world.rs"]
mod world;

use outpost_sync::memory::MemoryDesk;
use outpost_sync::session::ServerConfig;
use proptest::prelude::*;

fn desk() -> MemoryDesk {
    MemoryDesk::new(ServerConfig::new(automerge::ActorId::from([0xd5; 16])))
}

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(64)
}

proptest! {
    #![proptest_config(ProptestConfig { max_shrink_iters: 200, ..ProptestConfig::with_cases(cases()) })]

    #[test]
    fn a_hostile_partner_reads_nothing_foreign_and_changes_nothing_honest(ops in world::ops()) {
        world::run(&ops, &mut desk(), &mut desk(), &|_, _| {}, &|_, _| {});
    }
}
