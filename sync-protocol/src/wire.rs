//! The wire format: versioned, length-bounded binary messages.
//!
//! ```text
//! offset  size  field
//!      0     4  magic  b"OPST"
//!      4     1  protocol version (2)
//!      5     1  message type: 1 sync request, 2 sync response, 3 wipe, 4 error
//!      6     1  flags: bit 0 = body is zstd-compressed; other bits must be 0
//!      7     1  reserved, must be 0
//!      8     4  body length in bytes, u32 little-endian; exactly this many follow
//!     12     n  body: the message in postcard encoding
//! ```
//!
//! Decoding untrusted bytes never panics and never allocates past the
//! limits in [`WireLimits`]: the header is checked before the body is
//! touched, a compressed body is inflated through a reader capped at
//! `max_body`, postcard allocates no more than the bytes it reads, and every
//! count and length in the decoded message is checked before it is used.
//! Automerge bytes inside a message stay opaque here; they are loaded (and
//! so checked) only by the session that applies them.

use std::io::Read;

use automerge::ChangeHash;
use serde::{Deserialize, Serialize};

use crate::ids::DocId;
use crate::limits::WireLimits;
use crate::model::DocKind;

/// The media type of a sync message over HTTP (`POST /v1/sync`).
pub const SYNC_CONTENT_TYPE: &str = "application/x-outpost-sync";

/// The request header in which a device says what its clock read when it
/// sent the round (ms since the epoch): the desk takes the times the
/// engineer entered offline corrected by the difference.
pub const DEVICE_CLOCK_HEADER: &str = "x-outpost-device-clock";

/// The reply header in which the desk says what its clock read as it
/// answered (ms since the epoch): the device learns its offset from it.
pub const DESK_CLOCK_HEADER: &str = "x-outpost-desk-clock";

pub const MAGIC: [u8; 4] = *b"OPST";
/// Version 2 added `SyncResponse::withdrawn`.
pub const PROTOCOL_VERSION: u8 = 2;
pub const HEADER_LEN: usize = 12;

const TYPE_SYNC_REQUEST: u8 = 1;
const TYPE_SYNC_RESPONSE: u8 = 2;
const TYPE_WIPE: u8 = 3;
const TYPE_ERROR: u8 = 4;
const FLAG_ZSTD: u8 = 1;
/// Bodies smaller than this are sent as they are; compressing them costs more than it saves.
const COMPRESS_FROM: usize = 512;
const ZSTD_LEVEL: i32 = 3;

/// A position in the desk's change feed: every document update up to and
/// including this sequence number has been delivered.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Cursor(pub u64);

/// Names one request/response exchange; the client picks it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RoundId(pub u64);

/// An automerge change hash as it travels.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Head(pub [u8; 32]);

impl From<ChangeHash> for Head {
    fn from(hash: ChangeHash) -> Self {
        Self(hash.0)
    }
}

impl From<Head> for ChangeHash {
    fn from(head: Head) -> Self {
        Self(head.0)
    }
}

pub fn to_heads(hashes: &[ChangeHash]) -> Vec<Head> {
    hashes.iter().copied().map(Head::from).collect()
}

pub fn to_change_hashes(heads: &[Head]) -> Vec<ChangeHash> {
    heads.iter().copied().map(ChangeHash::from).collect()
}

/// A device's side of one round: what it pushes and where it is in the feed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncRequest {
    pub round: RoundId,
    pub cursor: Cursor,
    /// Most documents the device wants in this page; the desk may send fewer.
    pub page_size: u32,
    pub pushes: Vec<DocPush>,
    /// Heads the device has for documents it pushed in earlier rounds whose
    /// new version its cursor has not reached yet, so they are not echoed.
    pub known: Vec<KnownHeads>,
    /// Documents the device needs whole again (its copy lacks changes).
    pub refetch: Vec<DocId>,
}

/// Changes to one document that the desk lacks.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocPush {
    pub doc: DocId,
    pub kind: DocKind,
    /// The device's heads once these changes are applied.
    pub heads: Vec<Head>,
    /// Automerge change chunks, back to back (never a whole saved document:
    /// the desk reads them strictly, chunk by chunk).
    #[serde(with = "serde_bytes")]
    pub changes: Vec<u8>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KnownHeads {
    pub doc: DocId,
    pub heads: Vec<Head>,
}

/// The desk's side of one round.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncResponse {
    pub round: RoundId,
    pub outcomes: Vec<PushOutcome>,
    pub updates: Vec<DocUpdate>,
    /// Where the device stands once it has applied `updates`.
    pub cursor: Cursor,
    /// More of the feed waits; ask again at once.
    pub more: bool,
    /// The device's cursor was ahead of the desk's feed (the desk was
    /// restored from a backup); the feed restarts from the beginning.
    pub cursor_reset: bool,
    /// Documents this device may no longer read (its ticket moved to another
    /// company or person). It drops each once nothing of its own on it
    /// waits for the desk.
    pub withdrawn: Vec<DocId>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushOutcome {
    pub doc: DocId,
    pub result: PushResult,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum PushResult {
    /// Applied. `refused` lists changes the desk neutralised with a
    /// compensating change of its own; everything else stands.
    Applied { seq: Option<u64>, refused: Vec<RefusalReport> },
    /// The author may not write this document; nothing was applied.
    Refused { reason: String },
    /// The changes depend on changes the desk lacks; send the document whole.
    MissingDependencies,
    /// The result would break the schema or its limits; nothing was applied.
    Invalid { reason: String },
}

/// A refused change, in words a person can read.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefusalReport {
    pub field: String,
    pub entry: Option<String>,
    pub reason: String,
}

/// A document's changes the device lacks.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocUpdate {
    pub doc: DocId,
    pub kind: DocKind,
    pub seq: u64,
    /// The desk's heads for the document; the device has them once applied.
    pub heads: Vec<Head>,
    #[serde(with = "serde_bytes")]
    pub changes: Vec<u8>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ErrorCode {
    BadRequest,
    Unauthorized,
    TooLarge,
    Unavailable,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorReport {
    pub code: ErrorCode,
    pub message: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ClientMessage {
    Sync(SyncRequest),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ServerMessage {
    Sync(SyncResponse),
    /// The device was revoked: erase local data and stop syncing.
    Wipe,
    Error(ErrorReport),
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    #[error("message of {0} bytes is shorter than its {HEADER_LEN}-byte header")]
    Truncated(usize),
    #[error("not an Outpost sync message")]
    BadMagic,
    #[error("protocol version {0} is not supported; this side speaks version {PROTOCOL_VERSION}")]
    UnsupportedVersion(u8),
    #[error("unknown message type {0}")]
    UnknownType(u8),
    #[error("unexpected message type {0} here")]
    UnexpectedType(u8),
    #[error("unknown flags {0:#04x} or reserved byte set")]
    UnknownFlags(u8),
    #[error("header declares {declared} body bytes but {actual} follow")]
    LengthMismatch { declared: usize, actual: usize },
    #[error("{what} is {size} bytes, over the limit of {limit}")]
    TooLarge { what: &'static str, size: usize, limit: usize },
    #[error("body does not decompress")]
    Decompress,
    #[error("body does not decode: {0}")]
    Body(String),
    #[error("{what}: {count} is over the limit of {limit}")]
    OverLimit { what: &'static str, count: usize, limit: usize },
    #[error("{0}")]
    Invalid(&'static str),
}

impl ClientMessage {
    pub fn encode(&self) -> Vec<u8> {
        match self {
            Self::Sync(request) => frame(TYPE_SYNC_REQUEST, &to_body(request)),
        }
    }

    pub fn decode(bytes: &[u8], limits: &WireLimits) -> Result<Self, WireError> {
        let (kind, body) = unframe(bytes, limits)?;
        match kind {
            TYPE_SYNC_REQUEST => {
                let request: SyncRequest = from_body(&body)?;
                request.check(limits)?;
                Ok(Self::Sync(request))
            }
            other => Err(WireError::UnexpectedType(other)),
        }
    }
}

impl ServerMessage {
    pub fn encode(&self) -> Vec<u8> {
        match self {
            Self::Sync(response) => frame(TYPE_SYNC_RESPONSE, &to_body(response)),
            Self::Wipe => frame(TYPE_WIPE, &[]),
            Self::Error(report) => frame(TYPE_ERROR, &to_body(report)),
        }
    }

    pub fn decode(bytes: &[u8], limits: &WireLimits) -> Result<Self, WireError> {
        let (kind, body) = unframe(bytes, limits)?;
        match kind {
            TYPE_SYNC_RESPONSE => {
                let response: SyncResponse = from_body(&body)?;
                response.check(limits)?;
                Ok(Self::Sync(response))
            }
            TYPE_WIPE if body.is_empty() => Ok(Self::Wipe),
            TYPE_WIPE => Err(WireError::Invalid("a wipe carries no body")),
            TYPE_ERROR => {
                let report: ErrorReport = from_body(&body)?;
                at_most("error message", report.message.len(), 4096)?;
                Ok(Self::Error(report))
            }
            other => Err(WireError::UnexpectedType(other)),
        }
    }
}

fn to_body<T: Serialize>(message: &T) -> Vec<u8> {
    // Serialising owned, plain data into a Vec cannot fail.
    postcard::to_stdvec(message).expect("postcard serialises plain data into a Vec")
}

fn from_body<'a, T: Deserialize<'a>>(body: &'a [u8]) -> Result<T, WireError> {
    let (value, rest) = postcard::take_from_bytes(body).map_err(|e| WireError::Body(e.to_string()))?;
    if rest.is_empty() {
        Ok(value)
    } else {
        Err(WireError::Body(format!("{} trailing bytes", rest.len())))
    }
}

fn frame(kind: u8, body: &[u8]) -> Vec<u8> {
    let compressed = (body.len() >= COMPRESS_FROM)
        .then(|| zstd::bulk::compress(body, ZSTD_LEVEL).ok())
        .flatten()
        .filter(|c| c.len() < body.len());
    let (flags, body) = match &compressed {
        Some(c) => (FLAG_ZSTD, c.as_slice()),
        None => (0, body),
    };
    let mut out = Vec::with_capacity(HEADER_LEN + body.len());
    out.extend_from_slice(&MAGIC);
    out.extend_from_slice(&[PROTOCOL_VERSION, kind, flags, 0]);
    let len = u32::try_from(body.len()).expect("a message body fits in u32 bytes");
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(body);
    out
}

/// Checks the header and returns the message type and the (inflated) body.
fn unframe(bytes: &[u8], limits: &WireLimits) -> Result<(u8, Vec<u8>), WireError> {
    if bytes.len() > limits.max_message {
        return Err(WireError::TooLarge { what: "message", size: bytes.len(), limit: limits.max_message });
    }
    let Some((header, body)) = bytes.split_first_chunk::<HEADER_LEN>() else {
        return Err(WireError::Truncated(bytes.len()));
    };
    if header[0..4] != MAGIC {
        return Err(WireError::BadMagic);
    }
    let (version, kind, flags, reserved) = (header[4], header[5], header[6], header[7]);
    if version != PROTOCOL_VERSION {
        return Err(WireError::UnsupportedVersion(version));
    }
    if !matches!(kind, TYPE_SYNC_REQUEST | TYPE_SYNC_RESPONSE | TYPE_WIPE | TYPE_ERROR) {
        return Err(WireError::UnknownType(kind));
    }
    if flags & !FLAG_ZSTD != 0 || reserved != 0 {
        return Err(WireError::UnknownFlags(flags | reserved));
    }
    let declared = u32::from_le_bytes([header[8], header[9], header[10], header[11]]) as usize;
    if declared != body.len() {
        return Err(WireError::LengthMismatch { declared, actual: body.len() });
    }
    if flags & FLAG_ZSTD == 0 {
        return Ok((kind, body.to_vec()));
    }
    let decoder = zstd::stream::read::Decoder::new(body).map_err(|_| WireError::Decompress)?;
    let mut inflated = Vec::new();
    let cap = limits.max_body as u64 + 1;
    decoder.take(cap).read_to_end(&mut inflated).map_err(|_| WireError::Decompress)?;
    if inflated.len() > limits.max_body {
        return Err(WireError::TooLarge { what: "decompressed body", size: inflated.len(), limit: limits.max_body });
    }
    Ok((kind, inflated))
}

fn at_most(what: &'static str, count: usize, limit: usize) -> Result<(), WireError> {
    if count > limit {
        Err(WireError::OverLimit { what, count, limit })
    } else {
        Ok(())
    }
}

impl SyncRequest {
    fn check(&self, limits: &WireLimits) -> Result<(), WireError> {
        at_most("pushed documents", self.pushes.len(), limits.max_documents)?;
        at_most("known-heads entries", self.known.len(), limits.max_documents)?;
        at_most("refetched documents", self.refetch.len(), limits.max_documents)?;
        for push in &self.pushes {
            at_most("heads of a pushed document", push.heads.len(), limits.max_heads)?;
            at_most("bytes of a pushed document", push.changes.len(), limits.max_document_bytes)?;
        }
        for known in &self.known {
            at_most("known heads of a document", known.heads.len(), limits.max_heads)?;
        }
        let mut ids: Vec<DocId> = self.pushes.iter().map(|p| p.doc).collect();
        ids.sort_unstable();
        if ids.windows(2).any(|w| w[0] == w[1]) {
            return Err(WireError::Invalid("a document is pushed twice in one request"));
        }
        Ok(())
    }
}

impl SyncResponse {
    fn check(&self, limits: &WireLimits) -> Result<(), WireError> {
        at_most("push outcomes", self.outcomes.len(), limits.max_documents)?;
        at_most("document updates", self.updates.len(), limits.max_documents)?;
        at_most("withdrawn documents", self.withdrawn.len(), limits.max_documents)?;
        for update in &self.updates {
            at_most("heads of an update", update.heads.len(), limits.max_heads)?;
            at_most("bytes of an update", update.changes.len(), limits.max_document_bytes)?;
            if update.seq > self.cursor.0 {
                return Err(WireError::Invalid("an update lies beyond the response's cursor"));
            }
        }
        for outcome in &self.outcomes {
            if let PushResult::Applied { refused, .. } = &outcome.result {
                at_most("refusals of a push", refused.len(), limits.max_reports)?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
