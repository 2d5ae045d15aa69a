//! Untrusted bytes as a sync request to the real desk on SQLite, through the
//! round the sync route runs (`outpost_desk::sync::run_round`), as a partner
//! engineer: an answer always comes back, the store never fails, and the
//! staff ticket the partner may not write never changes. The desk persists
//! across inputs, so what one input stores the next builds on.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use outpost_desk::accounts::{Caller, DeviceStanding};
use outpost_desk::{store, AppState, Db};
use outpost_sync::ids::{DocId, Timestamp};
use outpost_sync::model::{new_document, Document};
use outpost_sync::sample::{worked_ticket, Cast, Rng};
use outpost_sync::session::ServerConfig;

const NOW: Timestamp = Timestamp(1_790_000_000_000);

struct Fixture {
    runtime: tokio::runtime::Runtime,
    db: Db,
    config: ServerConfig,
    ticket: DocId,
    heads: String,
}

fn heads_of(fixture: &Fixture) -> String {
    let (heads,): (String,) = fixture
        .runtime
        .block_on(
            sqlx::query_as("SELECT heads FROM documents WHERE id = $1")
                .bind(fixture.ticket.to_string())
                .fetch_one(&fixture.db.pool),
        )
        .expect("the staff ticket is stored");
    heads
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        // The desk refuses a document whose work panics (automerge's own
        // panics included) under `catch_unwind`; libfuzzer's hook would abort
        // on those caught panics too. A panic that escapes the round still
        // aborts the run and is reported.
        std::panic::set_hook(Box::new(|_| {}));
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let dir = std::env::temp_dir().join(format!("outpost-fuzz-desk-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let url = format!("sqlite:{}", dir.join("desk.db").display());
        let db = runtime.block_on(Db::open(&url)).expect("the desk's database opens");
        let config = AppState::new(db.clone()).sync;
        let ticket = worked_ticket(&mut Rng::new(1), &Cast::default(), 1, NOW);
        let document = Document::Ticket(ticket.clone());
        let mut doc = new_document(&document, config.desk_actor.clone()).unwrap();
        runtime.block_on(async {
            let mut tx = db.begin_write().await.unwrap();
            store::insert_new(&mut tx, &document, &mut doc, NOW).await.unwrap();
            tx.commit().await.unwrap();
        });
        let mut fixture = Fixture { runtime, db, config, ticket: ticket.id, heads: String::new() };
        fixture.heads = heads_of(&fixture);
        fixture
    })
}

fuzz_target!(|bytes: &[u8]| {
    let fixture = fixture();
    let partner =
        DeviceStanding { caller: Caller { actor: Cast::default().partner_engineer, device: None }, revoked: false };
    let (reply, _) = fixture
        .runtime
        .block_on(outpost_desk::sync::run_round(&fixture.db, &fixture.config, &partner, bytes, NOW))
        .expect("the store answers every round");
    assert!(!reply.is_empty(), "every request gets an answer");
    assert_eq!(heads_of(fixture), fixture.heads, "a partner never writes a staff ticket");
});
