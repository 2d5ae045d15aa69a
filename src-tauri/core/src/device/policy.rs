//! The company's policy for a device out of reach, enforced offline: past
//! its contact window the device's data stays locked until it syncs.
//!
//! Time is the desk's as best the device knows it (its clock corrected by
//! the last offset the desk measured), and never earlier than the latest
//! such time already seen, so winding the device's clock back does not
//! reopen the window (`outpost_sync::policy`).

use outpost_sync::ids::Timestamp;
use outpost_sync::policy::{contact_lock, DevicePolicy, DeviceTime};

use super::{now, Device};
use crate::error::{CoreError, CoreResult};
use crate::store;

/// The last policy the desk sent (JSON).
const POLICY_KEY: &str = "device_policy";
/// The desk's time at the last sync that reached it (ms).
const LAST_CONTACT_KEY: &str = "last_contact_desk_ms";
/// The latest desk time this device has known (ms).
const LATEST_SEEN_KEY: &str = "latest_desk_time_ms";
/// How far the latest time seen must move before it is written again.
const LATEST_SEEN_STEP_MS: i64 = 60_000;

impl Device {
    /// Why the device's data is locked now, if it is. One query when the
    /// company set no window: this runs before every read and write.
    pub async fn lock_reason(&self) -> CoreResult<Option<String>> {
        let keys = [POLICY_KEY, LAST_CONTACT_KEY, crate::sync::CLOCK_OFFSET_KEY, LATEST_SEEN_KEY];
        let [policy, last_contact, offset, latest_seen] = self.store().settings(keys).await?;
        let number = |v: Option<String>| v.and_then(|v| v.parse::<i64>().ok());
        let policy: DevicePolicy = policy.and_then(|p| serde_json::from_str(&p).ok()).unwrap_or_default();
        let (Some(_), Some(last_contact)) = (policy.contact_window_days, number(last_contact)) else { return Ok(None) };
        let time = DeviceTime {
            now: now(),
            offset_ms: number(offset).unwrap_or(0),
            latest_seen: Timestamp(number(latest_seen).unwrap_or(0)),
        };
        let desk_now = time.desk_now();
        if desk_now.0 >= time.latest_seen.0 + LATEST_SEEN_STEP_MS {
            let mut tx = self.store().begin_write().await?;
            store::put_setting(&mut tx, LATEST_SEEN_KEY, &desk_now.0.to_string()).await?;
            tx.commit().await?;
        }
        Ok(contact_lock(&policy, Timestamp(last_contact), &time))
    }

    /// Refuses to read or change the data while it is locked.
    pub(crate) async fn gate(&self) -> CoreResult<()> {
        match self.lock_reason().await? {
            Some(reason) => Err(CoreError::Locked(reason)),
            None => Ok(()),
        }
    }
}

/// Records a sync that reached the desk: the policy it sent, and the
/// desk's time now as the last contact (and the latest time seen).
pub(crate) async fn record_contact(
    tx: &mut store::WriteTx,
    policy: Option<&DevicePolicy>,
    offset_ms: i64,
) -> CoreResult<()> {
    if let Some(policy) = policy {
        let json = serde_json::to_string(policy).map_err(|e| CoreError::Damaged(e.to_string()))?;
        store::put_setting(tx, POLICY_KEY, &json).await?;
    }
    let desk_now = now().0.saturating_add(offset_ms);
    store::put_setting(tx, LAST_CONTACT_KEY, &desk_now.to_string()).await?;
    // The desk says what time it is: a clock wound forward before this contact no longer counts.
    store::put_setting(tx, LATEST_SEEN_KEY, &desk_now.to_string()).await?;
    Ok(())
}

/// Records a file the desk signed for this device (a hand-off at a site
/// with no signal) as contact at the desk time it was written, unless a
/// later contact is known.
pub(crate) async fn record_file_contact(tx: &mut store::WriteTx, made_at: Timestamp) -> CoreResult<()> {
    for key in [LAST_CONTACT_KEY, LATEST_SEEN_KEY] {
        sqlx::query(
            "INSERT INTO device (key, value) VALUES (?1, ?2)
             ON CONFLICT (key) DO UPDATE SET value = CAST(max(CAST(value AS INTEGER), CAST(?2 AS INTEGER)) AS TEXT)",
        )
        .bind(key)
        .bind(made_at.0.to_string())
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}
