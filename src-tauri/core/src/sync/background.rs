//! The background sync loop: after edits, periodically, on demand, and with
//! backoff while the desk cannot be reached.

use std::sync::Arc;

use tokio::sync::{broadcast, watch, Notify};
use tokio::task::JoinHandle;
use tokio::time::{sleep_until, Instant};

use super::schedule::{retry_delay, Schedule};
use crate::device::{Device, DeviceEvent};
use crate::error::CoreError;

pub struct SyncLoop;

/// Controls a running sync loop; dropping it leaves the loop running until `stop`.
pub struct SyncLoopHandle {
    wake: Arc<Notify>,
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl SyncLoop {
    /// Starts syncing `device` in the background on the current tokio runtime.
    pub fn spawn(device: Device, schedule: Schedule) -> SyncLoopHandle {
        let wake = Arc::new(Notify::new());
        let (stop, stopped) = watch::channel(false);
        let task = tokio::spawn(run(device, schedule, Arc::clone(&wake), stopped));
        SyncLoopHandle { wake, stop, task }
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
        let _ = self.task.await;
    }
}

async fn run(device: Device, schedule: Schedule, wake: Arc<Notify>, mut stopped: watch::Receiver<bool>) {
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
                failures = 0;
                next = Instant::now() + schedule.periodic;
            }
            Err(CoreError::Wiped) => return,
            Err(err) => {
                failures += 1;
                let mut random = [0u8; 8];
                getrandom::fill(&mut random).expect("the operating system provides randomness");
                let wait = retry_delay(&schedule, failures, u64::from_le_bytes(random));
                tracing::info!(%err, failures, ?wait, "sync failed; retrying later");
                next = Instant::now() + wait;
            }
        }
    }
}
