//! Every length and count the protocol accepts, in one place.

/// The largest blob (photo, signature, file) the desk stores or serves: a
/// downscaled photo is far smaller, a diagnostic file may not be.
pub const MAX_BLOB_BYTES: usize = 64 * 1024 * 1024;

/// Bounds on what a document may hold; checked after every merge at the desk.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldLimits {
    /// Names, numbers, codes, one-line reasons.
    pub short_text: usize,
    /// Descriptions, notes, article bodies.
    pub long_text: usize,
    /// Entries across one document's logs.
    pub log_entries: usize,
    /// How far ahead of the desk's clock a device's time may be, in
    /// milliseconds. Device clocks are wrong in the field; a week ahead is
    /// still a clock, further is not, and the desk refuses it.
    pub max_clock_ahead_ms: i64,
    /// How far before the desk's clock a device's time may be: old records
    /// are old, but not older than this (it bounds the arithmetic on them).
    pub max_clock_behind_ms: i64,
    /// The longest a timed entry (a time entry, a visit) may run, in milliseconds.
    pub max_duration_ms: i64,
}

impl Default for FieldLimits {
    fn default() -> Self {
        Self {
            short_text: 1_024,
            long_text: 64 * 1_024,
            log_entries: 10_000,
            max_clock_ahead_ms: 7 * 24 * 3_600_000,
            max_clock_behind_ms: 100 * 366 * 24 * 3_600_000,
            max_duration_ms: 31 * 24 * 3_600_000,
        }
    }
}

/// Bounds on what one sync message may carry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WireLimits {
    /// Bytes of one message on the wire, header included.
    pub max_message: usize,
    /// Bytes of a body once decompressed.
    pub max_body: usize,
    /// Documents pushed or pulled in one message.
    pub max_documents: usize,
    /// Bytes of automerge data for one document in one message.
    pub max_document_bytes: usize,
    /// Change hashes listed for one document.
    pub max_heads: usize,
    /// Refusals and conflicts reported for one document.
    pub max_reports: usize,
}

impl Default for WireLimits {
    fn default() -> Self {
        Self {
            max_message: 8 * 1024 * 1024,
            max_body: 32 * 1024 * 1024,
            max_documents: 2_000,
            max_document_bytes: 4 * 1024 * 1024,
            max_heads: 64,
            max_reports: 256,
        }
    }
}
