//! Acknowledged means durable: the desk commits to disk before it answers.

mod support;

use support::*;

async fn every_connection_commits_durably(desk: Desk) {
    // Hold every connection the pool may open at once, so each is checked.
    let mut held = Vec::new();
    for _ in 0..4 {
        held.push(desk.db.pool.acquire().await.unwrap());
    }
    for conn in &mut held {
        match desk.db.backend {
            outpost_desk::Backend::Sqlite => {
                let (level,): (i64,) = sqlx::query_as("PRAGMA synchronous").fetch_one(&mut **conn).await.unwrap();
                assert_eq!(level, 2, "synchronous=FULL: a commit is on disk before the device hears of it");
                let (mode,): (String,) = sqlx::query_as("PRAGMA journal_mode").fetch_one(&mut **conn).await.unwrap();
                assert_eq!(mode, "wal");
            }
            outpost_desk::Backend::Postgres => {
                let (setting,): (String,) = sqlx::query_as("SELECT current_setting('synchronous_commit')")
                    .fetch_one(&mut **conn)
                    .await
                    .unwrap();
                assert_eq!(setting, "on", "a commit waits for its WAL flush");
            }
        }
    }
}

on_both_backends!(every_connection_commits_durably);
