//! Hand-off files: sync rounds carried by hand where there is never a
//! signal (a USB stick out of a mine, a laptop off a ship).
//!
//! A device's **outbox** holds what the desk lacks of it: the sync requests
//! it would send, and the files (photos, signatures) not uploaded yet. The
//! desk's **feed** for one device holds the pages of its feed that device
//! would pull. Each file is signed with its maker's Ed25519 key: a device's
//! key is made at pairing and only its public half leaves it; the desk's
//! public key reaches the device at pairing. A file is checked before
//! anything in it is used, and its messages are the wire's own, checked
//! again as any round's are.
//!
//! ```text
//! offset  size  field
//!      0     4  magic  b"OPHO"
//!      4     1  version (1)
//!      5     1  kind: 1 outbox (device → desk), 2 feed (desk → device)
//!      6     2  reserved, must be 0
//!      8     8  body length in bytes, u64 little-endian
//!     16     n  body: `Outbox` or `Feed` in postcard encoding
//!   16+n    64  Ed25519 signature of CONTEXT followed by bytes 0..16+n
//! ```
//!
//! Pure like the rest of this crate: key seeds come in as arguments.

use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};
pub use serde_bytes::ByteBuf;
use uuid::Uuid;

use crate::ids::Timestamp;
use crate::wire::Cursor;

pub const MAGIC: [u8; 4] = *b"OPHO";
pub const VERSION: u8 = 1;
const HEADER_LEN: usize = 16;
const SIGNATURE_LEN: usize = 64;
/// Signed ahead of the file's bytes, so a signature made for anything else
/// (a sync message, a future format) never passes for a hand-off file.
const CONTEXT: &[u8] = b"outpost hand-off file v1\0";

/// The conventional file name extension, for people and for file pickers.
pub const EXTENSION: &str = "outpost";

/// What a hand-off file may hold: generous for a week of photos on a stick,
/// bounded so a hostile file cannot make its reader allocate without end.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HandoffLimits {
    pub max_file: usize,
    pub max_messages: usize,
    pub max_blobs: usize,
}

impl Default for HandoffLimits {
    fn default() -> Self {
        Self { max_file: 1024 * 1024 * 1024, max_messages: 10_000, max_blobs: 100_000 }
    }
}

/// Which way a file goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// From a device to the desk.
    Outbox,
    /// From the desk to one device.
    Feed,
}

impl Direction {
    fn byte(self) -> u8 {
        match self {
            Self::Outbox => 1,
            Self::Feed => 2,
        }
    }

    fn from_byte(byte: u8) -> Option<Self> {
        match byte {
            1 => Some(Self::Outbox),
            2 => Some(Self::Feed),
            _ => None,
        }
    }
}

impl std::fmt::Display for Direction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Outbox => "a device's outbox (import it at the desk)",
            Self::Feed => "the desk's feed for a device (import it on that device)",
        })
    }
}

/// A file (photo, signature) the desk lacks.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HandoffBlob {
    /// SHA-256 of `bytes`, hex.
    pub hash: String,
    #[serde(with = "serde_bytes")]
    pub bytes: Vec<u8>,
}

/// Everything a device has that the desk lacks.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Outbox {
    pub device: Uuid,
    /// Counts up with each outbox the device writes: the desk takes each
    /// number once, so a copy of an old file changes nothing.
    pub sequence: u64,
    /// The device's clock when it wrote the file.
    pub made_at: Timestamp,
    /// How far the desk's clock ran ahead of the device's at its last
    /// contact: the desk corrects the times entered offline by it.
    pub clock_offset_ms: Option<i64>,
    /// Sync requests in the wire format (`ClientMessage::Sync`), in order.
    pub rounds: Vec<ByteBuf>,
    pub blobs: Vec<HandoffBlob>,
}

/// The pages of the desk's feed one device lacks.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Feed {
    pub device: Uuid,
    /// The desk's clock when it wrote the file.
    pub made_at: Timestamp,
    /// The feed position the pages start after: the device needs to have reached it.
    pub from: Cursor,
    /// Where the device stands once it has applied every page.
    pub to: Cursor,
    /// Sync responses in the wire format (`ServerMessage::Sync`), in order.
    pub pages: Vec<ByteBuf>,
    /// Files the desk holds whole from this device's person: uploaded, as far as the device is concerned.
    pub held: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Handoff {
    Outbox(Outbox),
    Feed(Feed),
}

impl Handoff {
    pub fn direction(&self) -> Direction {
        match self {
            Self::Outbox(_) => Direction::Outbox,
            Self::Feed(_) => Direction::Feed,
        }
    }

    /// The device the file is from (outbox) or for (feed).
    pub fn device(&self) -> Uuid {
        match self {
            Self::Outbox(outbox) => outbox.device,
            Self::Feed(feed) => feed.device,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum HandoffError {
    #[error("this is not an Outpost hand-off file")]
    NotAHandoff,
    #[error("hand-off file version {0} is not one this build reads (it reads {VERSION})")]
    Version(u8),
    #[error("the file is cut short or has bytes after its end: it was damaged on the way")]
    Length,
    #[error("the file is larger than the {0} bytes a hand-off file may be")]
    TooLarge(usize),
    #[error("the file's contents are malformed: {0}")]
    Malformed(String),
    #[error("the file is {found}, not {expected}")]
    WrongDirection { expected: Direction, found: Direction },
    #[error("the file's signature does not match: it was altered, or it was not made by whom it names")]
    BadSignature,
    #[error("{0:?} is not an Ed25519 public key")]
    BadKey(String),
}

/// A signing key from 32 random bytes (the caller reads the randomness).
pub fn signing_key(seed: &[u8; 32]) -> SigningKey {
    SigningKey::from_bytes(seed)
}

/// The public half of a key, hex, as the desk and the device keep it.
pub fn public_key_hex(seed: &[u8; 32]) -> String {
    hex_encode(signing_key(seed).verifying_key().as_bytes())
}

/// Reads a public key as `public_key_hex` writes it.
pub fn parse_public_key(hex: &str) -> Result<VerifyingKey, HandoffError> {
    let bad = || HandoffError::BadKey(hex.chars().take(80).collect());
    let bytes = hex_decode(hex.trim()).ok_or_else(bad)?;
    let bytes: [u8; 32] = bytes.try_into().map_err(|_| bad())?;
    VerifyingKey::from_bytes(&bytes).map_err(|_| bad())
}

/// Writes `handoff` as a file signed with the key made from `seed`.
pub fn seal(handoff: &Handoff, seed: &[u8; 32]) -> Vec<u8> {
    let body = match handoff {
        Handoff::Outbox(outbox) => postcard::to_stdvec(outbox),
        Handoff::Feed(feed) => postcard::to_stdvec(feed),
    }
    .expect("postcard encodes these types");
    let mut bytes = Vec::with_capacity(HEADER_LEN + body.len() + SIGNATURE_LEN);
    bytes.extend_from_slice(&MAGIC);
    bytes.extend_from_slice(&[VERSION, handoff.direction().byte(), 0, 0]);
    bytes.extend_from_slice(&(body.len() as u64).to_le_bytes());
    bytes.extend_from_slice(&body);
    let signature = signing_key(seed).sign(&signed_message(&bytes));
    bytes.extend_from_slice(&signature.to_bytes());
    bytes
}

fn signed_message(bytes: &[u8]) -> Vec<u8> {
    [CONTEXT, bytes].concat()
}

/// A file read but not yet trusted: its contents say whose key to check it
/// with (`handoff.device()`), and nothing in it may be used before `verify`.
#[derive(Debug)]
pub struct Unverified<'a> {
    handoff: Handoff,
    signed: &'a [u8],
    signature: Signature,
}

impl<'a> Unverified<'a> {
    /// Reads a file made by `seal`, expecting it to go `direction`. Never
    /// panics, and allocates no more than the file's own length.
    pub fn read(bytes: &'a [u8], direction: Direction, limits: &HandoffLimits) -> Result<Self, HandoffError> {
        if bytes.len() < HEADER_LEN || bytes[..4] != MAGIC {
            return Err(HandoffError::NotAHandoff);
        }
        if bytes.len() > limits.max_file {
            return Err(HandoffError::TooLarge(limits.max_file));
        }
        if bytes[4] != VERSION {
            return Err(HandoffError::Version(bytes[4]));
        }
        let found = Direction::from_byte(bytes[5]).ok_or(HandoffError::NotAHandoff)?;
        if bytes[6] != 0 || bytes[7] != 0 {
            return Err(HandoffError::Malformed("reserved header bytes are set".into()));
        }
        let length = u64::from_le_bytes(bytes[8..16].try_into().expect("eight bytes"));
        let expected = (HEADER_LEN as u64).checked_add(length).and_then(|n| n.checked_add(SIGNATURE_LEN as u64));
        if expected != Some(bytes.len() as u64) {
            return Err(HandoffError::Length);
        }
        if found != direction {
            return Err(HandoffError::WrongDirection { expected: direction, found });
        }
        let (signed, signature) = bytes.split_at(bytes.len() - SIGNATURE_LEN);
        let signature = Signature::from_bytes(signature.try_into().expect("sixty-four bytes"));
        let body = &signed[HEADER_LEN..];
        let malformed = |e: postcard::Error| HandoffError::Malformed(e.to_string());
        let handoff = match direction {
            Direction::Outbox => {
                let outbox: Outbox = postcard::from_bytes(body).map_err(malformed)?;
                check_counts(outbox.rounds.len(), outbox.blobs.len(), limits)?;
                Handoff::Outbox(outbox)
            }
            Direction::Feed => {
                let feed: Feed = postcard::from_bytes(body).map_err(malformed)?;
                check_counts(feed.pages.len(), feed.held.len(), limits)?;
                Handoff::Feed(feed)
            }
        };
        Ok(Self { handoff, signed, signature })
    }

    /// The device the file names, to find the key that must have signed it
    /// (an outbox) or to check the file is meant for this device (a feed).
    pub fn device(&self) -> Uuid {
        self.handoff.device()
    }

    /// The contents, once the signature checks out against `key`.
    pub fn verify(self, key: &VerifyingKey) -> Result<Handoff, HandoffError> {
        key.verify_strict(&signed_message(self.signed), &self.signature).map_err(|_| HandoffError::BadSignature)?;
        Ok(self.handoff)
    }
}

fn check_counts(messages: usize, blobs: usize, limits: &HandoffLimits) -> Result<(), HandoffError> {
    if messages > limits.max_messages {
        return Err(HandoffError::Malformed(format!("{messages} messages, more than {}", limits.max_messages)));
    }
    if blobs > limits.max_blobs {
        return Err(HandoffError::Malformed(format!("{blobs} files, more than {}", limits.max_blobs)));
    }
    Ok(())
}

fn hex_encode(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn hex_decode(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) || !text.is_ascii() {
        return None;
    }
    (0..text.len()).step_by(2).map(|i| u8::from_str_radix(&text[i..i + 2], 16).ok()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEVICE_SEED: [u8; 32] = [7; 32];
    const OTHER_SEED: [u8; 32] = [8; 32];

    fn outbox() -> Handoff {
        Handoff::Outbox(Outbox {
            device: Uuid::from_u128(42),
            sequence: 3,
            made_at: Timestamp(1_700_000_000_000),
            clock_offset_ms: Some(-90_000),
            rounds: vec![ByteBuf::from(vec![1, 2, 3])],
            blobs: vec![HandoffBlob { hash: "ab".repeat(32), bytes: b"a photo".to_vec() }],
        })
    }

    fn key(seed: &[u8; 32]) -> VerifyingKey {
        parse_public_key(&public_key_hex(seed)).unwrap()
    }

    fn read(bytes: &[u8]) -> Result<Handoff, HandoffError> {
        Unverified::read(bytes, Direction::Outbox, &HandoffLimits::default())?.verify(&key(&DEVICE_SEED))
    }

    #[test]
    fn a_sealed_file_reads_back_with_its_makers_key_only() {
        let file = seal(&outbox(), &DEVICE_SEED);
        assert_eq!(read(&file).unwrap(), outbox());
        let unverified = Unverified::read(&file, Direction::Outbox, &HandoffLimits::default()).unwrap();
        assert_eq!(unverified.device(), Uuid::from_u128(42));
        assert_eq!(unverified.verify(&key(&OTHER_SEED)).unwrap_err(), HandoffError::BadSignature);
    }

    #[test]
    fn any_altered_byte_is_refused() {
        let file = seal(&outbox(), &DEVICE_SEED);
        for at in 0..file.len() {
            let mut altered = file.clone();
            altered[at] ^= 0x01;
            assert!(read(&altered).is_err(), "byte {at} altered and still accepted");
        }
    }

    #[test]
    fn cut_or_padded_files_are_refused_in_words() {
        let file = seal(&outbox(), &DEVICE_SEED);
        for len in 0..file.len() {
            let err = read(&file[..len]).unwrap_err();
            assert!(matches!(err, HandoffError::NotAHandoff | HandoffError::Length), "{len}: {err}");
        }
        let mut padded = file.clone();
        padded.push(0);
        assert_eq!(read(&padded).unwrap_err(), HandoffError::Length);
        assert_eq!(read(b"PK\x03\x04 a zip file, say").unwrap_err(), HandoffError::NotAHandoff);
    }

    #[test]
    fn a_file_going_the_other_way_is_refused_before_its_body_is_read() {
        let file = seal(&outbox(), &DEVICE_SEED);
        let err = Unverified::read(&file, Direction::Feed, &HandoffLimits::default()).unwrap_err();
        assert_eq!(err, HandoffError::WrongDirection { expected: Direction::Feed, found: Direction::Outbox });
        assert!(err.to_string().contains("import it at the desk"), "{err}");
    }

    #[test]
    fn limits_bound_what_a_file_may_hold() {
        let file = seal(&outbox(), &DEVICE_SEED);
        let small = HandoffLimits { max_file: 64, ..HandoffLimits::default() };
        assert_eq!(Unverified::read(&file, Direction::Outbox, &small).unwrap_err(), HandoffError::TooLarge(64));
        let few = HandoffLimits { max_blobs: 0, ..HandoffLimits::default() };
        let err = Unverified::read(&file, Direction::Outbox, &few).unwrap_err();
        assert!(matches!(err, HandoffError::Malformed(_)), "{err}");
    }

    #[test]
    fn a_body_that_lies_about_its_lengths_is_malformed_not_a_panic() {
        // A header that matches the bytes, around a body claiming a vector of 2^60 entries.
        let body = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x0f];
        let mut file = MAGIC.to_vec();
        file.extend_from_slice(&[VERSION, 1, 0, 0]);
        file.extend_from_slice(&(body.len() as u64).to_le_bytes());
        file.extend_from_slice(&body);
        file.extend_from_slice(&[0; 64]);
        let err = Unverified::read(&file, Direction::Outbox, &HandoffLimits::default()).unwrap_err();
        assert!(matches!(err, HandoffError::Malformed(_)), "{err}");
    }

    #[test]
    fn public_keys_read_back_and_bad_ones_are_named() {
        let hex = public_key_hex(&DEVICE_SEED);
        assert_eq!(hex.len(), 64);
        assert_eq!(parse_public_key(&hex).unwrap(), key(&DEVICE_SEED));
        for bad in ["", "zz", &hex[..62], &format!("{hex}00"), "é".repeat(32).as_str()] {
            assert!(matches!(parse_public_key(bad), Err(HandoffError::BadKey(_))), "{bad:?}");
        }
    }
}
