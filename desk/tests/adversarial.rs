//! The adversarial property on the real store: the world `outpost-sync`
//! runs on the memory desk (included from there), here on SQLite files,
//! with the staff photo stored as a blob: whatever the hostile partner
//! pushes, it never reads another company's document or that photo, and the
//! honest companies end as they would without it.

#[path = "support/mod.rs"]
mod support;
#[path = "../../sync-protocol/tests/adversarial/world.rs"]
mod world;

use outpost_desk::{blobs, Backend};
use outpost_sync::sample::Cast;
use proptest::prelude::*;
use support::blocking::SqlDesk;
use world::Fixture;

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(24)
}

fn sql_desk() -> SqlDesk {
    SqlDesk::open(Backend::Sqlite, Cast::default().dispatcher).expect("SQLite is always here")
}

/// The staff engineer's device uploads the photo its ticket names.
fn store_photo(desk: &mut SqlDesk, fixture: &Fixture) {
    let status = desk
        .block_on(blobs::upload(
            &desk.db,
            &fixture.cast.engineer,
            &world::photo_hash(),
            0,
            &world::photo(),
            true,
            world::T0,
        ))
        .expect("the staff engineer uploads the photo its ticket names");
    assert!(status.complete);
}

/// Nobody outside the staff ticket reaches the photo, whatever they named.
fn photo_stays_home(desk: &mut SqlDesk, fixture: &Fixture) {
    for outsider in [fixture.cast.other_partner_engineer, fixture.cast.partner_engineer] {
        let served = desk.block_on(blobs::download(&desk.db.pool, &outsider, &world::photo_hash()));
        assert!(served.is_err(), "{:?} was served the staff photo", outsider.role);
    }
    let served = desk.block_on(blobs::download(&desk.db.pool, &fixture.cast.engineer, &world::photo_hash()));
    assert_eq!(served.expect("its uploader reaches it"), world::photo());
}

proptest! {
    // 24 cases in CI (two fresh databases each); PROPTEST_CASES=300 for a longer hunt.
    #![proptest_config(ProptestConfig { max_shrink_iters: 100, ..ProptestConfig::with_cases(cases()) })]

    #[test]
    fn a_hostile_partner_reads_nothing_foreign_and_changes_nothing_honest_on_sqlite(ops in world::ops()) {
        world::run(&ops, &mut sql_desk(), &mut sql_desk(), &store_photo, &photo_stays_home);
    }
}
