//! The convergence property on the real store: the same world the memory
//! desk runs in `outpost-sync`'s tests (included from there), here against
//! the SQL desk on SQLite files, with its reactions, projections and feed.
//! PostgreSQL joins with OUTPOST_CONVERGENCE_ON_POSTGRES=1.

mod support;
#[path = "../../sync-protocol/tests/convergence/world.rs"]
mod world;

use outpost_desk::Backend;
use outpost_sync::sample::Cast;
use proptest::prelude::*;
use support::blocking::SqlDesk;

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(24)
}

fn backends() -> Vec<Backend> {
    let mut backends = vec![Backend::Sqlite];
    if std::env::var("OUTPOST_CONVERGENCE_ON_POSTGRES").is_ok_and(|v| v == "1") {
        backends.push(Backend::Postgres);
    }
    backends
}

proptest! {
    // 24 cases in CI (each on a fresh database); PROPTEST_CASES=500 for a longer hunt.
    #![proptest_config(ProptestConfig { max_shrink_iters: 100, ..ProptestConfig::with_cases(cases()) })]

    #[test]
    fn every_replica_converges_on_the_sql_desk((devices, tickets, ops) in world::scenario()) {
        for backend in backends() {
            if let Some(desk) = SqlDesk::open(backend, Cast::default().dispatcher) {
                world::run(devices, tickets, ops.clone(), desk);
            }
        }
    }
}
