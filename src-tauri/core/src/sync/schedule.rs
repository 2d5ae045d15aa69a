//! When the background loop syncs: soon after edits, periodically, and on
//! failure after an exponentially growing, jittered wait.

use std::time::Duration;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Schedule {
    /// How long after an edit to sync, so a burst of edits goes in one round.
    pub after_edit: Duration,
    /// How often to sync when nothing happens (to hear of the desk's changes).
    pub periodic: Duration,
    /// The wait after the first failure; it doubles with each failure after.
    pub first_retry: Duration,
    pub max_retry: Duration,
}

impl Default for Schedule {
    fn default() -> Self {
        Self {
            after_edit: Duration::from_secs(2),
            periodic: Duration::from_secs(60),
            first_retry: Duration::from_secs(2),
            max_retry: Duration::from_secs(300),
        }
    }
}

/// The wait after `failures` failures in a row (at least 1): half of the
/// doubled wait is fixed, half is random, so devices that lost the desk
/// together do not all come back in the same second.
pub fn retry_delay(schedule: &Schedule, failures: u32, random: u64) -> Duration {
    let doublings = failures.saturating_sub(1).min(20);
    let full = schedule.first_retry.saturating_mul(1 << doublings).min(schedule.max_retry);
    let millis = u64::try_from(full.as_millis()).unwrap_or(u64::MAX);
    let half = millis / 2;
    Duration::from_millis(half + random % (millis - half + 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_double_up_to_the_cap_and_stay_within_their_jitter_band() {
        let s = Schedule::default();
        for (failures, full) in [(1, 2_000), (2, 4_000), (3, 8_000), (8, 256_000), (9, 300_000), (40, 300_000)] {
            for random in [0, 1, 777, u64::MAX] {
                let wait = retry_delay(&s, failures, random).as_millis() as u64;
                assert!((full / 2..=full).contains(&wait), "failure {failures}: {wait} ms outside {full}/2..={full}");
            }
        }
        assert_ne!(retry_delay(&s, 5, 1), retry_delay(&s, 5, 12_345), "the jitter spreads devices out");
    }
}
