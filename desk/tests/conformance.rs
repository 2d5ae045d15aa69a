//! The conformance suite on the real store: the stories `outpost-sync` runs
//! on the memory desk (included from there), each on SQLite and on
//! PostgreSQL, through the same round the sync route runs.

#[path = "support/mod.rs"]
mod desk_support;
#[path = "../../sync-protocol/tests/conformance/scenarios.rs"]
mod scenarios;
#[path = "../../sync-protocol/tests/support/mod.rs"]
mod support;

use desk_support::blocking::SqlDesk;
use outpost_desk::Backend;
use outpost_sync::sample::Cast;

fn on(backend: Backend, story: impl FnOnce(SqlDesk)) {
    if let Some(desk) = SqlDesk::open(backend, Cast::default().dispatcher) {
        story(desk);
    }
}

macro_rules! on_the_sql_desk {
    ($($story:ident),* $(,)?) => {$(
        mod $story {
            #[test]
            fn on_sqlite() {
                super::on(outpost_desk::Backend::Sqlite, super::scenarios::$story);
            }
            #[test]
            fn on_postgres() {
                super::on(outpost_desk::Backend::Postgres, super::scenarios::$story);
            }
        }
    )*};
}

every_conformance_story!(on_the_sql_desk);
