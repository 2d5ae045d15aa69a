//! Property: any interleaving of edits and syncs on any number of devices,
//! over a network that drops, duplicates, delays, reorders and replays
//! messages (a request may sit in flight while its device goes on editing and
//! other devices sync), ends with every replica in one state and no accepted
//! entry lost. Here on the memory desk; the desk's tests run the same world
//! on SQLite.

mod support;
#[path = "convergence/world.rs"]
mod world;

use proptest::prelude::*;

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(48)
}

proptest! {
    // 48 cases in CI; PROPTEST_CASES=2000 for a longer hunt.
    #![proptest_config(ProptestConfig { max_shrink_iters: 200, ..ProptestConfig::with_cases(cases()) })]

    #[test]
    fn every_replica_converges_and_nothing_accepted_is_lost((devices, tickets, ops) in world::scenario()) {
        world::run(devices, tickets, ops, support::desk());
    }
}
