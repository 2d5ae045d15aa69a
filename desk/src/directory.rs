//! Each company's people by name, kept as a synced document
//! (`outpost_sync::model::Directory`), so devices show who did what by
//! name. Published whenever a company or a person is added, and at start.

use std::collections::BTreeMap;

use automerge::ActorId;
use outpost_sync::ids::{OrgId, Timestamp};
use outpost_sync::model::{Directory, Document, Person};

use crate::accounts::parse_role;
use crate::db::Db;
use crate::reactions::DESK;
use crate::store::{self, StoreError};

type Tx<'c> = sqlx::Transaction<'c, sqlx::Any>;

/// Writes `org`'s directory as the people table has it; writes nothing
/// when it already reads so.
pub async fn publish(db: &Db, org: OrgId, desk_actor: &ActorId, now: Timestamp) -> Result<(), StoreError> {
    let mut tx = db.begin_write().await?;
    publish_in(&mut tx, org, desk_actor, now).await?;
    tx.commit().await?;
    Ok(())
}

/// Publishes every company's directory.
pub async fn publish_all(db: &Db, desk_actor: &ActorId, now: Timestamp) -> Result<(), StoreError> {
    let orgs: Vec<(String,)> = sqlx::query_as("SELECT id FROM orgs").fetch_all(&db.pool).await?;
    for (org,) in orgs {
        let org: OrgId = org.parse().map_err(|_| StoreError::Corrupt(org.clone(), "bad company id".into()))?;
        publish(db, org, desk_actor, now).await?;
    }
    Ok(())
}

async fn publish_in(tx: &mut Tx<'_>, org: OrgId, desk_actor: &ActorId, now: Timestamp) -> Result<(), StoreError> {
    let Some((org_name, is_service)): Option<(String, i64)> =
        sqlx::query_as("SELECT name, is_service FROM orgs WHERE id = $1")
            .bind(org.to_string())
            .fetch_optional(&mut **tx)
            .await?
    else {
        return Ok(());
    };
    let rows: Vec<(String, String, String)> = sqlx::query_as("SELECT id, name, role FROM users WHERE org_id = $1")
        .bind(org.to_string())
        .fetch_all(&mut **tx)
        .await?;
    let people: BTreeMap<String, Person> = rows
        .into_iter()
        .filter_map(|(id, name, role)| parse_role(&role).map(|role| (id, Person { name, role })))
        .collect();
    let directory =
        Document::Directory(Directory { id: Directory::id_for(org), org, org_name, everyone: is_service != 0, people });
    let exists: Option<(i64,)> = sqlx::query_as("SELECT 1 FROM documents WHERE id = $1")
        .bind(directory.id().to_string())
        .fetch_optional(&mut **tx)
        .await?;
    if exists.is_some() {
        store::write_as_desk(tx, directory.id(), &DESK, desk_actor, now, |document| {
            *document = directory.clone();
            Ok::<(), StoreError>(())
        })
        .await?;
    } else {
        let mut doc = outpost_sync::model::new_document(&directory, desk_actor.clone())
            .map_err(|e| StoreError::Corrupt(directory.id().to_string(), e.to_string()))?;
        store::insert_new(tx, &directory, &mut doc, now).await?;
    }
    Ok(())
}
