//! Prometheus metrics: counters and a latency histogram, kept in atomics and
//! rendered in the text exposition format. Each desk process counts its own
//! work; Prometheus sums across processes.

use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: [f64; 10] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0];

#[derive(Default)]
pub struct Metrics {
    sync_rounds: AtomicU64,
    sync_wipes: AtomicU64,
    sync_bad_requests: AtomicU64,
    sync_bytes_in: AtomicU64,
    sync_bytes_out: AtomicU64,
    refused_edits: AtomicU64,
    merged_again: AtomicU64,
    latency_buckets: [AtomicU64; BUCKETS.len()],
    latency_count: AtomicU64,
    latency_micros_sum: AtomicU64,
}

/// How one sync request ended, for the counters.
#[derive(Clone, Copy, Debug)]
pub enum SyncCount {
    /// `merged_again`: what its merge read moved before it could write.
    Round {
        refused_edits: u64,
        merged_again: bool,
    },
    Wipe,
    BadRequest,
}

impl Metrics {
    pub fn record_sync(&self, count: SyncCount, bytes_in: usize, bytes_out: usize, took: Duration) {
        match count {
            SyncCount::Round { refused_edits, merged_again } => {
                self.sync_rounds.fetch_add(1, Ordering::Relaxed);
                self.refused_edits.fetch_add(refused_edits, Ordering::Relaxed);
                self.merged_again.fetch_add(u64::from(merged_again), Ordering::Relaxed);
            }
            SyncCount::Wipe => {
                self.sync_wipes.fetch_add(1, Ordering::Relaxed);
            }
            SyncCount::BadRequest => {
                self.sync_bad_requests.fetch_add(1, Ordering::Relaxed);
            }
        }
        self.sync_bytes_in.fetch_add(bytes_in as u64, Ordering::Relaxed);
        self.sync_bytes_out.fetch_add(bytes_out as u64, Ordering::Relaxed);
        let seconds = took.as_secs_f64();
        for (bucket, bound) in self.latency_buckets.iter().zip(BUCKETS) {
            if seconds <= bound {
                bucket.fetch_add(1, Ordering::Relaxed);
            }
        }
        self.latency_count.fetch_add(1, Ordering::Relaxed);
        self.latency_micros_sum.fetch_add(u64::try_from(took.as_micros()).unwrap_or(u64::MAX), Ordering::Relaxed);
    }

    pub fn render(&self) -> String {
        let get = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        let mut out = String::new();
        let mut counter = |name: &str, help: &str, labels: &str, value: u64| {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter\n{name}{labels} {value}");
        };
        counter("outpost_sync_rounds_total", "Sync rounds answered.", "", get(&self.sync_rounds));
        counter("outpost_sync_wipes_total", "Revoked devices told to wipe.", "", get(&self.sync_wipes));
        counter(
            "outpost_sync_bad_requests_total",
            "Sync requests refused as malformed.",
            "",
            get(&self.sync_bad_requests),
        );
        counter("outpost_sync_received_bytes_total", "Bytes of sync requests.", "", get(&self.sync_bytes_in));
        counter("outpost_sync_sent_bytes_total", "Bytes of sync responses.", "", get(&self.sync_bytes_out));
        counter("outpost_refused_edits_total", "Field changes the desk neutralised.", "", get(&self.refused_edits));
        counter(
            "outpost_sync_rounds_merged_again_total",
            "Rounds whose pushes were merged again under the write lock: what they read moved meanwhile.",
            "",
            get(&self.merged_again),
        );
        let name = "outpost_sync_duration_seconds";
        let _ = writeln!(out, "# HELP {name} Time to answer a sync request.\n# TYPE {name} histogram");
        for (bucket, bound) in self.latency_buckets.iter().zip(BUCKETS) {
            let _ = writeln!(out, "{name}_bucket{{le=\"{bound}\"}} {}", get(bucket));
        }
        let count = get(&self.latency_count);
        let _ = writeln!(out, "{name}_bucket{{le=\"+Inf\"}} {count}");
        let _ = writeln!(out, "{name}_sum {}", get(&self.latency_micros_sum) as f64 / 1e6);
        let _ = writeln!(out, "{name}_count {count}");
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_recorded_round_shows_in_counters_and_the_histogram() {
        let metrics = Metrics::default();
        metrics.record_sync(
            SyncCount::Round { refused_edits: 2, merged_again: true },
            100,
            40,
            Duration::from_millis(3),
        );
        metrics.record_sync(SyncCount::Wipe, 10, 12, Duration::from_millis(700));
        let text = metrics.render();
        assert!(text.contains("outpost_sync_rounds_total 1\n"), "{text}");
        assert!(text.contains("outpost_refused_edits_total 2\n"));
        assert!(text.contains("outpost_sync_rounds_merged_again_total 1\n"));
        assert!(text.contains("outpost_sync_received_bytes_total 110\n"));
        assert!(
            text.contains("outpost_sync_duration_seconds_bucket{le=\"0.005\"} 1\n"),
            "3 ms falls in the 5 ms bucket"
        );
        assert!(text.contains("outpost_sync_duration_seconds_bucket{le=\"1\"} 2\n"));
        assert!(text.contains("outpost_sync_duration_seconds_count 2\n"));
    }
}
