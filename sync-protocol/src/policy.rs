//! What a company's desk asks of its devices when they are out of reach.
//!
//! The desk sets a policy per company; each sync reply carries the device's
//! in a header, and the device keeps the last it received and enforces it
//! with no desk in sight (see [`contact_lock`]).

use serde::{Deserialize, Serialize};

use crate::ids::Timestamp;

/// The reply header carrying the device's policy, as compact JSON.
pub const POLICY_HEADER: &str = "x-outpost-device-policy";

/// The longest contact window a desk may set, in days.
pub const MAX_CONTACT_WINDOW_DAYS: u32 = 365;

const DAY_MS: i64 = 24 * 3_600_000;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct DevicePolicy {
    /// Days a device may go without reaching the desk before it locks its
    /// data until it does (1 to 365); none: it never locks for that.
    /// (No `serde(default)`: a missing field is none all the same, and a
    /// JSON array is then refused instead of read as an empty policy.)
    pub contact_window_days: Option<u32>,
}

impl DevicePolicy {
    /// The header value: JSON of visible ASCII only.
    pub fn to_header(&self) -> String {
        serde_json::to_string(self).expect("a policy serialises")
    }

    pub fn from_header(text: &str) -> Option<Self> {
        serde_json::from_str(text).ok().filter(Self::is_valid)
    }

    pub fn is_valid(&self) -> bool {
        self.contact_window_days.is_none_or(|d| (1..=MAX_CONTACT_WINDOW_DAYS).contains(&d))
    }
}

/// What the device knows of time, kept across restarts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DeviceTime {
    /// The device's clock now.
    pub now: Timestamp,
    /// How far the desk's clock ran ahead of the device's at the last round (ms).
    pub offset_ms: i64,
    /// The latest desk time the device has ever known: its clock corrected
    /// by the offset, at the latest it was read.
    pub latest_seen: Timestamp,
}

impl DeviceTime {
    /// The desk's time as best the device knows it. Never earlier than a
    /// time already seen: winding the device's clock back does not wind this back.
    pub fn desk_now(&self) -> Timestamp {
        Timestamp(self.now.0.saturating_add(self.offset_ms).max(self.latest_seen.0))
    }
}

/// Why the device's data is locked, if it is: the desk was last reached at
/// `last_contact` (desk time) and the policy's window has passed since.
pub fn contact_lock(policy: &DevicePolicy, last_contact: Timestamp, time: &DeviceTime) -> Option<String> {
    let days = policy.contact_window_days?;
    let away = time.desk_now().0.saturating_sub(last_contact.0);
    (away > i64::from(days) * DAY_MS).then(|| {
        format!(
            "this device has not reached the desk for {} days, more than the {days} your company allows; \
             its data stays locked until it syncs",
            away / DAY_MS
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: Timestamp = Timestamp(1_790_000_000_000);

    fn time(now: Timestamp, offset_ms: i64, latest_seen: Timestamp) -> DeviceTime {
        DeviceTime { now, offset_ms, latest_seen }
    }

    #[test]
    fn the_window_counts_in_the_desks_time() {
        let policy = DevicePolicy { contact_window_days: Some(14) };
        let at = |days: i64| T.plus_millis(days * DAY_MS);
        assert_eq!(contact_lock(&policy, T, &time(at(14), 0, T)), None, "the last day of the window");
        let locked = contact_lock(&policy, T, &time(at(15), 0, T)).expect("past the window");
        assert!(locked.contains("15 days") && locked.contains("14"), "{locked}");
        // A device clock two days slow is corrected by the offset the desk measured.
        assert!(contact_lock(&policy, T, &time(at(13), 2 * DAY_MS, T)).is_some());
        assert_eq!(contact_lock(&DevicePolicy::default(), T, &time(at(400), 0, T)), None, "no window, no lock");
    }

    #[test]
    fn winding_the_clock_back_does_not_unlock() {
        let policy = DevicePolicy { contact_window_days: Some(14) };
        let seen = T.plus_millis(20 * DAY_MS);
        assert!(contact_lock(&policy, T, &time(T.plus_millis(DAY_MS), 0, seen)).is_some());
        assert_eq!(time(T, 0, seen).desk_now(), seen);
        assert_eq!(time(T.plus_millis(30 * DAY_MS), 0, seen).desk_now(), T.plus_millis(30 * DAY_MS));
    }

    #[test]
    fn a_policy_travels_as_a_header_and_bad_ones_are_refused() {
        let policy = DevicePolicy { contact_window_days: Some(14) };
        assert_eq!(policy.to_header(), r#"{"contact_window_days":14}"#);
        assert_eq!(DevicePolicy::from_header(&policy.to_header()), Some(policy));
        assert_eq!(DevicePolicy::from_header("{}"), Some(DevicePolicy::default()));
        for bad in
            [r#"{"contact_window_days":0}"#, r#"{"contact_window_days":366}"#, r#"{"other":1}"#, "[]", "not json"]
        {
            assert_eq!(DevicePolicy::from_header(bad), None, "{bad}");
        }
    }
}
