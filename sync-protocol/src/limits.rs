//! Every length and count the protocol accepts, in one place.

/// Bounds on what a document may hold; checked after every merge at the desk.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldLimits {
    /// Names, numbers, codes, one-line reasons.
    pub short_text: usize,
    /// Descriptions, notes, article bodies.
    pub long_text: usize,
    /// Entries across one document's logs.
    pub log_entries: usize,
}

impl Default for FieldLimits {
    fn default() -> Self {
        Self { short_text: 1_024, long_text: 64 * 1_024, log_entries: 10_000 }
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
