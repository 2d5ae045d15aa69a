//! Strict reading of pushed automerge changes.
//!
//! A push carries automerge change chunks back to back. automerge's own
//! incremental loader skips what it cannot parse, which is right for a
//! device reading its own disk and wrong for a desk reading a stranger's
//! bytes: here every chunk must be a whole, valid change, or the push is
//! refused whole.

use std::collections::{BTreeMap, BTreeSet};

use automerge::{ActorId, AutoCommit, Change, ChangeHash};

/// automerge's chunk magic, then 4 checksum bytes and the chunk type.
const CHUNK_MAGIC: [u8; 4] = [0x85, 0x6f, 0x4a, 0x83];
const TYPE_CHANGE: u8 = 1;
const TYPE_COMPRESSED_CHANGE: u8 = 2;

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ChangesError {
    #[error("byte {0} does not start an automerge change")]
    NotAChange(usize),
    #[error("the chunk at byte {0} is not a change (only changes may be pushed)")]
    WrongChunk(usize),
    #[error("the change at byte {0} is cut short")]
    Truncated(usize),
    #[error("the change at byte {at} does not parse: {reason}")]
    Malformed { at: usize, reason: String },
    #[error("more than {0} changes in one push")]
    TooMany(usize),
    #[error("change {seq} of actor {actor} skips from {last}: an actor's changes are numbered one after another")]
    SequenceGap { actor: String, seq: u64, last: u64 },
    #[error("change {hash} claims the desk's own actor")]
    DeskActor { hash: String },
    #[error("change {hash} depends on itself or on a change after it")]
    BadDependency { hash: String },
}

/// Reads `bytes` as back-to-back change chunks, at most `max` of them.
pub fn read_changes(bytes: &[u8], max: usize) -> Result<Vec<Change>, ChangesError> {
    let mut changes = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        let rest = &bytes[at..];
        if rest.len() < 10 || rest[..4] != CHUNK_MAGIC {
            return Err(ChangesError::NotAChange(at));
        }
        if !matches!(rest[8], TYPE_CHANGE | TYPE_COMPRESSED_CHANGE) {
            return Err(ChangesError::WrongChunk(at));
        }
        let (body_len, len_bytes) = read_uleb128(&rest[9..]).ok_or(ChangesError::Truncated(at))?;
        let total = 9usize
            .checked_add(len_bytes)
            .and_then(|n| n.checked_add(body_len))
            .filter(|total| *total <= rest.len())
            .ok_or(ChangesError::Truncated(at))?;
        if changes.len() == max {
            return Err(ChangesError::TooMany(max));
        }
        let change =
            Change::try_from(&rest[..total]).map_err(|e| ChangesError::Malformed { at, reason: e.to_string() })?;
        changes.push(change);
        at += total;
    }
    Ok(changes)
}

/// Checks a push's changes against the document they are for, before any
/// of them is applied: each actor's changes continue that actor's sequence
/// one by one (automerge panics on a gap), no change claims the desk's own
/// actor (the desk numbers its compensating changes from the document), and
/// no change lists itself as its dependency. Changes the document already
/// holds are replays and pass. Changes whose dependencies are neither in the
/// document nor earlier in the push are left for the caller to report as
/// missing dependencies.
pub fn check_chain(doc: &mut AutoCommit, changes: &[Change], desk_actor: &ActorId) -> Result<(), ChangesError> {
    let mut last_seq: BTreeMap<ActorId, u64> = BTreeMap::new();
    if !changes.is_empty() {
        for meta in doc.get_changes_meta(&[]) {
            let last = last_seq.entry(meta.actor.into_owned()).or_default();
            *last = (*last).max(meta.seq);
        }
    }
    // Changes are checked in an order in which each one's dependencies come
    // first, as automerge will apply them.
    let mut seen: BTreeSet<ChangeHash> = BTreeSet::new();
    let mut waiting: Vec<&Change> = Vec::new();
    for change in changes {
        let hash = change.hash();
        if doc.get_change_by_hash(&hash).is_some() || !seen.insert(hash) {
            continue;
        }
        if change.actor_id() == desk_actor {
            return Err(ChangesError::DeskActor { hash: hash.to_string() });
        }
        if change.deps().contains(&hash) {
            return Err(ChangesError::BadDependency { hash: hash.to_string() });
        }
        waiting.push(change);
    }
    let mut ready: BTreeSet<ChangeHash> = BTreeSet::new();
    loop {
        let before = waiting.len();
        let mut still = Vec::with_capacity(waiting.len());
        for change in waiting {
            let deps_known =
                change.deps().iter().all(|dep| ready.contains(dep) || doc.get_change_by_hash(dep).is_some());
            if !deps_known {
                still.push(change);
                continue;
            }
            let last = last_seq.entry(change.actor_id().clone()).or_default();
            if change.seq() != *last + 1 {
                return Err(ChangesError::SequenceGap {
                    actor: change.actor_id().to_hex_string(),
                    seq: change.seq(),
                    last: *last,
                });
            }
            *last = change.seq();
            ready.insert(change.hash());
        }
        waiting = still;
        if waiting.is_empty() || waiting.len() == before {
            // What is left waits on changes the desk lacks: missing dependencies.
            return Ok(());
        }
    }
}

/// An unsigned LEB128 number that fits in `usize`, and how many bytes it took.
fn read_uleb128(bytes: &[u8]) -> Option<(usize, usize)> {
    let mut value: u64 = 0;
    for (i, byte) in bytes.iter().take(10).enumerate() {
        let part = u64::from(byte & 0x7f);
        let shift = 7 * i as u32;
        if shift >= 64 || (shift > 0 && part >> (64 - shift) != 0) {
            return None;
        }
        value |= part << shift;
        if byte & 0x80 == 0 {
            return usize::try_from(value).ok().map(|v| (v, i + 1));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use automerge::transaction::Transactable;
    use automerge::{AutoCommit, ROOT};

    use super::*;

    fn two_changes() -> Vec<u8> {
        let mut doc = AutoCommit::new();
        doc.put(ROOT, "a", 1).unwrap();
        doc.commit();
        doc.put(ROOT, "b", "two").unwrap();
        doc.commit();
        doc.save_after(&[])
    }

    #[test]
    fn back_to_back_changes_are_read_in_order() {
        let changes = read_changes(&two_changes(), 10).unwrap();
        assert_eq!(changes.len(), 2);
        assert_eq!(changes[1].deps(), &[changes[0].hash()]);
    }

    #[test]
    fn nothing_is_no_changes() {
        assert_eq!(read_changes(&[], 10).unwrap().len(), 0);
    }

    #[test]
    fn a_whole_document_is_not_a_change() {
        let mut doc = AutoCommit::new();
        doc.put(ROOT, "a", 1).unwrap();
        assert_eq!(read_changes(&doc.save(), 10).unwrap_err(), ChangesError::WrongChunk(0));
    }

    #[test]
    fn every_truncation_is_refused() {
        let bytes = two_changes();
        let first_len = {
            let mut doc = AutoCommit::new();
            doc.put(ROOT, "a", 1).unwrap();
            doc.save_after(&[]).len()
        };
        for len in 1..bytes.len() {
            if len == first_len {
                continue; // a whole first change is a valid push of one change
            }
            assert!(read_changes(&bytes[..len], 10).is_err(), "a {len}-byte prefix must be refused");
        }
    }

    #[test]
    fn trailing_garbage_is_refused() {
        let mut bytes = two_changes();
        bytes.extend_from_slice(b"junk");
        assert!(matches!(read_changes(&bytes, 10), Err(ChangesError::NotAChange(_))));
    }

    #[test]
    fn a_flipped_byte_inside_a_change_is_refused() {
        let mut bytes = two_changes();
        let last = bytes.len() - 1;
        bytes[last] ^= 0xff;
        assert!(read_changes(&bytes, 10).is_err());
    }

    #[test]
    fn more_changes_than_the_limit_are_refused() {
        assert_eq!(read_changes(&two_changes(), 1).unwrap_err(), ChangesError::TooMany(1));
    }

    #[test]
    fn an_absurd_length_prefix_is_refused_without_allocating_it() {
        let mut bytes = CHUNK_MAGIC.to_vec();
        bytes.extend_from_slice(&[0, 0, 0, 0, TYPE_CHANGE]);
        bytes.extend_from_slice(&[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]);
        assert!(read_changes(&bytes, 10).is_err());
    }
}
