//! The background sync loop: after edits, periodically, on demand, when the
//! desk's live channel pokes, and with backoff while the desk cannot be
//! reached.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{broadcast, watch, Notify};
use tokio::task::JoinHandle;
use tokio::time::{sleep_until, Instant};

use super::live;
use super::schedule::{retry_delay, Schedule};
use crate::device::{Device, DeviceEvent};
use crate::error::CoreError;

pub struct SyncLoop;

/// Controls a running sync loop; dropping it leaves the loop running until `stop`.
pub struct SyncLoopHandle {
    wake: Arc<Notify>,
    stop: watch::Sender<bool>,
    tasks: [JoinHandle<()>; 2],
}

impl SyncLoop {
    /// Starts syncing `device` in the background on the current tokio runtime.
    pub fn spawn(device: Device, schedule: Schedule) -> SyncLoopHandle {
        let wake = Arc::new(Notify::new());
        let (stop, stopped) = watch::channel(false);
        let reconnect = Arc::new(Notify::new());
        let live = tokio::spawn(keep_live(
            device.clone(),
            schedule.clone(),
            Arc::clone(&wake),
            Arc::clone(&reconnect),
            stopped.clone(),
        ));
        let task = tokio::spawn(run(device, schedule, Arc::clone(&wake), reconnect, stopped));
        SyncLoopHandle { wake, stop, tasks: [task, live] }
    }
}

impl SyncLoopHandle {
    /// Syncs now (the "sync now" button), even while backing off.
    pub fn sync_now(&self) {
        self.wake.notify_one();
    }

    /// The system says the network is back: try at once.
    pub fn network_up(&self) {
        self.wake.notify_one();
    }

    pub async fn stop(self) {
        let _ = self.stop.send(true);
        for task in self.tasks {
            let _ = task.await;
        }
    }
}

async fn run(
    device: Device,
    schedule: Schedule,
    wake: Arc<Notify>,
    reconnect: Arc<Notify>,
    mut stopped: watch::Receiver<bool>,
) {
    let mut events = device.events();
    let mut failures: u32 = 0;
    let mut online: Option<bool> = None;
    let mut next = Instant::now();
    loop {
        tokio::select! {
            () = sleep_until(next) => {}
            () = wake.notified() => {}
            _ = stopped.changed() => return,
            event = events.recv() => {
                match event {
                    // While the desk is unreachable, edits wait for the backoff.
                    Ok(DeviceEvent::LocalChange { .. }) if failures == 0 => {
                        next = next.min(Instant::now() + schedule.after_edit);
                    }
                    Err(broadcast::error::RecvError::Closed) => return,
                    _ => {}
                }
                continue;
            }
        }
        let result = device.sync_now().await;
        let reachable = !matches!(result, Err(CoreError::Offline(_)));
        if online != Some(reachable) {
            online = Some(reachable);
            device.announce(DeviceEvent::Connectivity { online: reachable });
        }
        match result {
            Ok(_) | Err(CoreError::NotPaired) => {
                if failures > 0 || !device.live_state().connected.load(Ordering::Acquire) {
                    // The desk answers again: the live channel need not wait out its backoff.
                    reconnect.notify_one();
                }
                failures = 0;
                next = Instant::now() + schedule.periodic;
            }
            Err(CoreError::Wiped) => return,
            Err(err) => {
                failures += 1;
                let wait = jittered_retry(&schedule, failures);
                tracing::info!(%err, failures, ?wait, "sync failed; retrying later");
                next = Instant::now() + wait;
            }
        }
    }
}

/// The wait after `failures` failures in a row, with this device's own jitter.
fn jittered_retry(schedule: &Schedule, failures: u32) -> Duration {
    let mut random = [0u8; 8];
    getrandom::fill(&mut random).expect("the operating system provides randomness");
    retry_delay(schedule, failures, u64::from_le_bytes(random))
}

/// How often an unpaired device looks again for a pairing to go live with.
const UNPAIRED_WAIT: Duration = Duration::from_secs(5);

/// Keeps the desk's live channel open while paired; a poke past the last
/// round's cursor wakes the loop above. Reconnects with the same backoff as
/// the loop when the desk cannot be reached, or at once when the loop
/// reaches it again.
async fn keep_live(
    device: Device,
    schedule: Schedule,
    wake: Arc<Notify>,
    reconnect: Arc<Notify>,
    mut stopped: watch::Receiver<bool>,
) {
    // No overall timeout here: the channel is meant to stay open; silence is
    // caught by `live::SILENCE` instead.
    let http = match reqwest::Client::builder().connect_timeout(Duration::from_secs(10)).build() {
        Ok(http) => http,
        Err(err) => return tracing::warn!(%err, "no HTTP client for the live channel; polling only"),
    };
    let live = device.live_state();
    let mut failures: u32 = 0;
    loop {
        let attempt = async {
            let pairing = device.pairing().await?;
            // Where the last round got to, so the channel's first event wakes the loop only if the feed moved since.
            live.cursor.fetch_max(device.sync_cursor().await?, Ordering::AcqRel);
            live::listen(&http, &pairing.desk_url, &pairing.token, |signal| {
                if !live.connected.swap(true, Ordering::AcqRel) {
                    device.announce(DeviceEvent::Live { connected: true });
                }
                let news = match signal {
                    live::Signal::Moved(seq) => seq > live.cursor.load(Ordering::Acquire),
                    live::Signal::Round => true,
                };
                if news {
                    wake.notify_one();
                }
            })
            .await
        };
        let result = tokio::select! {
            result = attempt => result,
            _ = stopped.changed() => Ok(()),
        };
        if live.connected.swap(false, Ordering::AcqRel) {
            failures = 0;
            device.announce(DeviceEvent::Live { connected: false });
        }
        let wait = match result {
            Ok(()) | Err(CoreError::Wiped) => return,
            Err(CoreError::NotPaired) => UNPAIRED_WAIT,
            Err(err) => {
                failures += 1;
                let wait = jittered_retry(&schedule, failures);
                tracing::debug!(%err, ?wait, "the live channel is down; polling meanwhile");
                wait
            }
        };
        tokio::select! {
            () = tokio::time::sleep(wait) => {}
            () = reconnect.notified() => failures = 0,
            _ = stopped.changed() => return,
        }
    }
}
