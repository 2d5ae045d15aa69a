//! Live pokes: an online device keeps `GET /v1/sync/live` open and hears
//! when something it may read moved in the feed, so it runs a round at once
//! instead of at its next minute tick.
//!
//! A poke carries no data, only the feed position that moved, and goes only
//! to devices whose reader keys (`user:…`, `org:…`, `all`) the moved
//! documents name; desk roles, who read everything, hear every move. What
//! a poke tells a device is what its next round would tell it anyway.
//!
//! One follower per process watches the feed counter: woken at once after a
//! request here wrote (`Live::wake`); on PostgreSQL also by the NOTIFY that
//! every transaction moving the feed sends at commit, whichever process made
//! it (migration 14); and every `FALLBACK_POLL` whatever happens, for
//! writes made elsewhere on SQLite (a command-line import) and for a
//! notification lost with its connection. The feed commits in order
//! (`store`'s feed lock), so the readers of everything in (last seen,
//! latest] are exactly who to poke.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use outpost_sync::model::Actor;
use tokio::sync::Notify;

use crate::db::Db;

/// How often the follower looks at the feed when nothing here woke it.
pub const FALLBACK_POLL: Duration = Duration::from_secs(1);
/// The PostgreSQL channel every transaction that moved the feed notifies (migration 14).
const FEED_CHANNEL: &str = "outpost_feed";
/// Open live channels one device may hold; more is a misbehaving client.
pub const MAX_CHANNELS_PER_DEVICE: usize = 4;

/// The process's live channels and the feed follower that pokes them.
#[derive(Default)]
pub struct Live {
    registry: Mutex<Registry>,
    wake: Notify,
    following: tokio::sync::OnceCell<()>,
    /// Set when the process shuts down: every channel ends, so the server's
    /// graceful shutdown is not held open by devices that never hang up.
    closing: AtomicBool,
    closed: Notify,
}

#[derive(Default)]
struct Registry {
    next_id: u64,
    channels: HashMap<u64, Arc<Channel>>,
    by_reader: HashMap<String, HashSet<u64>>,
    /// Channels of desk roles, who read everything.
    everything: HashSet<u64>,
    by_device: HashMap<String, HashSet<u64>>,
}

/// One open channel: what the stream waits on.
pub struct Channel {
    poke: Notify,
    /// The feed position of the latest poke.
    seq: AtomicU64,
    /// Set when the device must run a round whatever its cursor (its revocation).
    round: AtomicBool,
}

/// What a channel tells its device.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Signal {
    /// The feed moved to this position for something the device may read.
    Moved(u64),
    /// Run a round now, whatever the cursor: the desk has word for this
    /// device outside the feed (its revocation). The round says what.
    Round,
}

impl Channel {
    /// Waits for the next poke (pokes that come while nobody waits fold into one).
    pub async fn next(&self) -> Signal {
        self.poke.notified().await;
        if self.round.swap(false, Ordering::AcqRel) {
            Signal::Round
        } else {
            Signal::Moved(self.seq.load(Ordering::Acquire))
        }
    }

    fn poke(&self, seq: u64) {
        self.seq.fetch_max(seq, Ordering::AcqRel);
        self.poke.notify_one();
    }

    fn ask_for_round(&self) {
        self.round.store(true, Ordering::Release);
        self.poke.notify_one();
    }
}

/// A registered channel; dropping it (the device hung up) unregisters it.
pub struct Subscription {
    live: Arc<Live>,
    id: u64,
    pub channel: Arc<Channel>,
}

impl Drop for Subscription {
    fn drop(&mut self) {
        let mut registry = self.live.registry.lock().unwrap_or_else(|e| e.into_inner());
        registry.remove(self.id);
    }
}

/// Why a channel was not opened.
#[derive(Debug, thiserror::Error)]
#[error("this device already holds {MAX_CHANNELS_PER_DEVICE} live channels; close one first")]
pub struct TooManyChannels;

impl Registry {
    fn remove(&mut self, id: u64) {
        self.channels.remove(&id);
        self.everything.remove(&id);
        for index in [&mut self.by_reader, &mut self.by_device] {
            index.retain(|_, ids| {
                ids.remove(&id);
                !ids.is_empty()
            });
        }
    }
}

impl Live {
    /// Opens a channel for `device`, signed in as `actor`.
    pub fn subscribe(self: &Arc<Self>, device: &str, actor: &Actor) -> Result<Subscription, TooManyChannels> {
        let mut registry = self.registry.lock().unwrap_or_else(|e| e.into_inner());
        if registry.by_device.get(device).is_some_and(|ids| ids.len() >= MAX_CHANNELS_PER_DEVICE) {
            return Err(TooManyChannels);
        }
        registry.next_id += 1;
        let id = registry.next_id;
        let channel = Arc::new(Channel { poke: Notify::new(), seq: AtomicU64::new(0), round: AtomicBool::new(false) });
        registry.channels.insert(id, Arc::clone(&channel));
        registry.by_device.entry(device.to_owned()).or_default().insert(id);
        if actor.role.reads_everything() {
            registry.everything.insert(id);
        } else {
            let (user, org) = crate::store::reader_keys(actor);
            for key in [user, org] {
                registry.by_reader.entry(key).or_default().insert(id);
            }
        }
        Ok(Subscription { live: Arc::clone(self), id, channel })
    }

    /// The next signal for `channel`, or `None` once the process is shutting down.
    pub async fn next_signal(&self, channel: &Channel) -> Option<Signal> {
        let closed = self.closed.notified();
        tokio::pin!(closed);
        closed.as_mut().enable();
        if self.closing.load(Ordering::Acquire) {
            return None;
        }
        tokio::select! {
            signal = channel.next() => Some(signal),
            () = closed => None,
        }
    }

    /// Ends every open channel, now and from now on (the process is stopping).
    pub fn close_all(&self) {
        self.closing.store(true, Ordering::Release);
        self.closed.notify_waiters();
    }

    /// Open channels, for the metrics.
    pub fn channels(&self) -> usize {
        self.registry.lock().unwrap_or_else(|e| e.into_inner()).channels.len()
    }

    /// A request here wrote: look at the feed now rather than at the next poll.
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// Pokes every channel of one device (its revocation: it learns to wipe now).
    pub fn poke_device(&self, device: &str) {
        self.ask_for_rounds(|registry| registry.by_device.get(device));
    }

    /// Pokes every channel of a person's devices (revoked with the person).
    pub fn poke_user(&self, user: outpost_sync::ids::UserId) {
        let key = outpost_sync::permissions::Reader::User(user).key();
        self.ask_for_rounds(|registry| registry.by_reader.get(&key));
    }

    /// Asks the channels an index names for a round whatever their cursor.
    fn ask_for_rounds(&self, pick: impl FnOnce(&Registry) -> Option<&HashSet<u64>>) {
        let registry = self.registry.lock().unwrap_or_else(|e| e.into_inner());
        for id in pick(&registry).into_iter().flatten() {
            registry.channels[id].ask_for_round();
        }
    }

    /// Pokes the channels of everyone among `readers` (and every desk role) about feed position `seq`.
    fn poke(&self, readers: &HashSet<String>, seq: u64) {
        let registry = self.registry.lock().unwrap_or_else(|e| e.into_inner());
        let targets: HashSet<u64> = if readers.contains("all") {
            registry.channels.keys().copied().collect()
        } else {
            let named = readers.iter().filter_map(|key| registry.by_reader.get(key)).flatten();
            named.chain(&registry.everything).copied().collect()
        };
        for id in targets {
            registry.channels[&id].poke(seq);
        }
    }

    /// Starts the feed follower on first use, from where the feed is now;
    /// once this returns (to any caller), everything past the position a
    /// channel's first event then reports gets poked.
    pub async fn follow(self: &Arc<Self>, db: &Db) -> Result<(), sqlx::Error> {
        let start = || async {
            let mut seen = latest_seq(&db.pool).await?;
            if db.backend == crate::db::Backend::Postgres {
                tokio::spawn(Arc::clone(self).listen(db.url.clone()));
            }
            let (live, db) = (Arc::clone(self), db.clone());
            tokio::spawn(async move {
                loop {
                    tokio::select! {
                        () = live.wake.notified() => {}
                        () = tokio::time::sleep(FALLBACK_POLL) => {}
                    }
                    match live.follow_once(&db, seen).await {
                        Ok(latest) => seen = latest,
                        Err(err) => tracing::warn!(%err, "the live follower could not read the feed"),
                    }
                }
            });
            Ok::<(), sqlx::Error>(())
        };
        self.following.get_or_try_init(start).await.map(|_| ())
    }

    /// Wakes the follower at each NOTIFY on `outpost_feed`, reconnecting
    /// when the connection drops (the fallback poll covers the gap).
    async fn listen(self: Arc<Self>, url: String) {
        loop {
            let listener = async {
                let mut listener = sqlx::postgres::PgListener::connect(&url).await?;
                listener.listen(FEED_CHANNEL).await?;
                loop {
                    listener.recv().await?;
                    self.wake();
                }
            };
            let Err::<std::convert::Infallible, sqlx::Error>(err) = listener.await;
            tracing::warn!(%err, "the live follower lost its LISTEN connection; retrying");
            tokio::time::sleep(FALLBACK_POLL).await;
        }
    }

    /// Pokes the readers of what moved since `seen`; returns the latest position.
    async fn follow_once(&self, db: &Db, seen: i64) -> Result<i64, sqlx::Error> {
        let mut conn = db.pool.acquire().await?;
        let latest = latest_seq(&mut *conn).await?;
        if latest <= seen {
            return Ok(latest);
        }
        let readers: Vec<(String,)> = sqlx::query_as(
            "SELECT DISTINCT r.reader FROM feed f JOIN document_readers r ON r.doc_id = f.doc_id
             WHERE f.seq > $1 AND f.seq <= $2
             UNION SELECT DISTINCT reader FROM document_withdrawals WHERE seq > $1 AND seq <= $2",
        )
        .bind(seen)
        .bind(latest)
        .fetch_all(&mut *conn)
        .await?;
        drop(conn);
        let readers: HashSet<String> = readers.into_iter().map(|(r,)| r).collect();
        self.poke(&readers, u64::try_from(latest).unwrap_or(0));
        Ok(latest)
    }

    /// The latest feed position, read now (a channel's first event).
    pub async fn latest(db: &Db) -> Result<u64, sqlx::Error> {
        Ok(u64::try_from(latest_seq(&db.pool).await?).unwrap_or(0))
    }
}

async fn latest_seq<'c>(executor: impl sqlx::Executor<'c, Database = sqlx::Any>) -> Result<i64, sqlx::Error> {
    let (latest,): (i64,) = sqlx::query_as("SELECT seq FROM feed_counter WHERE id = 1").fetch_one(executor).await?;
    Ok(latest)
}

#[cfg(test)]
mod tests {
    use super::*;
    use outpost_sync::ids::{OrgId, UserId};
    use outpost_sync::model::Role;

    fn actor(n: u128, org: u128, role: Role) -> Actor {
        Actor { user: UserId::from_u128(n), org: OrgId::from_u128(org), role }
    }

    fn poked(channel: &Channel) -> bool {
        signal(channel).is_some()
    }

    /// The signal waiting on `channel`: a stored permit answers at once.
    fn signal(channel: &Channel) -> Option<Signal> {
        futures_util::FutureExt::now_or_never(channel.next())
    }

    #[tokio::test]
    async fn a_poke_reaches_the_named_readers_and_the_desk_and_no_one_else() {
        let live = Arc::new(Live::default());
        let engineer = actor(1, 10, Role::Engineer);
        let colleague = actor(2, 10, Role::Engineer);
        let partner = actor(3, 20, Role::PartnerEngineer);
        let dispatcher = actor(4, 10, Role::Dispatcher);
        let subs: Vec<_> = [("a", engineer), ("b", colleague), ("c", partner), ("d", dispatcher)]
            .iter()
            .map(|(device, actor)| live.subscribe(device, actor).unwrap())
            .collect();
        let (user, _) = crate::store::reader_keys(&engineer);
        live.poke(&HashSet::from([user]), 7);
        let heard: Vec<bool> = subs.iter().map(|s| poked(&s.channel)).collect();
        assert_eq!(heard, [true, false, false, true], "the engineer and the dispatcher only");
        assert_eq!(subs[0].channel.seq.load(Ordering::Acquire), 7);

        let (_, partner_org) = crate::store::reader_keys(&partner);
        live.poke(&HashSet::from([partner_org]), 8);
        let heard: Vec<bool> = subs.iter().map(|s| poked(&s.channel)).collect();
        assert_eq!(heard, [false, false, true, true], "the partner's company and the dispatcher");

        live.poke(&HashSet::from(["all".to_owned()]), 9);
        assert!(subs.iter().all(|s| poked(&s.channel)), "reference data reaches everyone");
    }

    #[tokio::test]
    async fn closing_ends_waiting_channels_and_every_later_wait() {
        let live = Arc::new(Live::default());
        let engineer = actor(1, 10, Role::Engineer);
        let sub = live.subscribe("a", &engineer).unwrap();
        let waiting = tokio::spawn({
            let (live, channel) = (Arc::clone(&live), Arc::clone(&sub.channel));
            async move { live.next_signal(&channel).await }
        });
        tokio::task::yield_now().await;
        live.close_all();
        assert_eq!(waiting.await.unwrap(), None, "a channel waiting for a poke ends");
        let (user, _) = crate::store::reader_keys(&engineer);
        live.poke(&HashSet::from([user]), 3);
        assert_eq!(live.next_signal(&sub.channel).await, None, "and so does every later wait, poked or not");
    }

    #[tokio::test]
    async fn pokes_fold_into_one_and_hung_up_channels_leave_the_registry() {
        let live = Arc::new(Live::default());
        let engineer = actor(1, 10, Role::Engineer);
        let sub = live.subscribe("a", &engineer).unwrap();
        let (user, _) = crate::store::reader_keys(&engineer);
        for seq in [3, 5, 4] {
            live.poke(&HashSet::from([user.clone()]), seq);
        }
        assert_eq!(signal(&sub.channel), Some(Signal::Moved(5)), "the latest position, not the last poke's");
        assert!(!poked(&sub.channel), "three pokes while nobody listened are one");
        drop(sub);
        assert_eq!(live.channels(), 0);
        let registry = live.registry.lock().unwrap();
        assert!(registry.by_reader.is_empty() && registry.by_device.is_empty());
    }

    #[tokio::test]
    async fn one_device_holds_a_bounded_number_of_channels_and_its_revocation_pokes_them() {
        let live = Arc::new(Live::default());
        let engineer = actor(1, 10, Role::Engineer);
        let subs: Vec<_> = (0..MAX_CHANNELS_PER_DEVICE).map(|_| live.subscribe("a", &engineer).unwrap()).collect();
        assert!(live.subscribe("a", &engineer).is_err());
        let other = live.subscribe("b", &engineer).unwrap();
        live.poke_device("a");
        assert!(subs.iter().all(|s| signal(&s.channel) == Some(Signal::Round)), "a round whatever the cursor");
        assert!(!poked(&other.channel));
        live.poke_user(engineer.user);
        assert_eq!(signal(&other.channel), Some(Signal::Round), "every device of a revoked person");
    }
}
