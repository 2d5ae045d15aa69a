//! Field-level permissions: who may change what, as a pure function.
//!
//! [`review`] takes the author, the document before a set of changes and
//! after them, and sorts every field change into allowed and refused, with
//! reasons. When something is refused it also returns the corrected
//! document: `after` with each refused change undone and every allowed one
//! kept. The desk reconciles that onto the merged document as its own
//! compensating change, so the refused change stays in history but has no
//! effect, and nothing valid is dropped. The app calls the same rules to
//! offer only what the desk will accept.
//!
//! Org and role rules that need no other document live here; the desk adds
//! the ones that need its tables (which tickets a partner may read, whether
//! a part request's ticket is the author's).

mod equipment;
mod part_request;
mod readers;
mod references;
mod ticket;

pub use readers::{grants, Reader};
pub use references::{new_references, references, review_references, Reference};

use std::collections::BTreeMap;
use std::fmt;

use autosurgeon::Text;

use crate::ids::{DocId, EntryId};
use crate::model::{Actor, DocKind, Document};
use crate::workflow::MoveRefusal;

/// The outcome of reviewing a set of changes to one document.
#[allow(clippy::large_enum_variant)] // one per pushed document, never held in bulk
#[derive(Clone, Debug, PartialEq)]
pub enum Verdict {
    /// The author may not write this document at all; apply none of it.
    Refused(WholeRefusal),
    Reviewed(Review),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Review {
    pub allowed: Vec<FieldChange>,
    pub refused: Vec<Refusal>,
    /// `after` with the refused changes undone; `None` when nothing was refused.
    pub corrected: Option<Document>,
}

impl Review {
    pub fn is_clean(&self) -> bool {
        self.refused.is_empty()
    }
}

/// A change to one field, or to one entry of a log or map field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldChange {
    pub field: &'static str,
    pub entry: Option<EntryKey>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    pub field: &'static str,
    pub entry: Option<EntryKey>,
    pub reason: RefusalReason,
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.entry {
            Some(entry) => write!(f, "{} ({entry}): {}", self.field, self.reason),
            None => write!(f, "{}: {}", self.field, self.reason),
        }
    }
}

/// Which entry of a log or map a change touched.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum EntryKey {
    Entry(EntryId),
    Doc(DocId),
    Key(String),
}

impl fmt::Display for EntryKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Entry(id) => write!(f, "entry {id}"),
            Self::Doc(id) => write!(f, "document {id}"),
            Self::Key(key) => write!(f, "{key:?}"),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RefusalReason {
    #[error("only the desk may change this")]
    DeskOnly,
    #[error("this role may not change this")]
    RoleMayNot,
    #[error("this is set when the document is created and not changed after")]
    CreationOnly,
    #[error("log entries are only ever added, never changed or removed")]
    AppendOnly,
    #[error("an entry must name its own author")]
    ForgedAuthor,
    #[error("only the entry's author may finish it, and only once")]
    NotOwnEntry,
    #[error("this is set once and not changed after")]
    SetOnce,
    #[error("the move is not allowed: {0}")]
    Move(MoveRefusal),
    #[error("it names a document that is not of the expected kind or that its author may not read")]
    UnreadableReference,
    #[error("only the desk assigns: a field move names no assignee")]
    AssigneeInFieldMove,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum WholeRefusal {
    #[error("reference data is written by the desk alone")]
    ReferenceData,
    #[error("the ticket is not assigned to the author")]
    NotAssigned,
    #[error("the document belongs to another company")]
    OtherOrg,
    #[error("this role may not create or change a {0:?}")]
    RoleMayNotWrite(DocKind),
    #[error("the change turns the document into another kind")]
    KindChanged,
    #[error("its {0} names a document that is not of the expected kind or that its author may not read")]
    UnreadableReference(&'static str),
}

/// Sorts the changes from `before` (`None` for a new document) to `after`
/// made by `actor` into allowed and refused ones.
pub fn review(actor: &Actor, before: Option<&Document>, after: &Document) -> Verdict {
    if let Some(before) = before {
        if before.kind() != after.kind() || before.id() != after.id() {
            return Verdict::Refused(WholeRefusal::KindChanged);
        }
    }
    match after {
        Document::Ticket(after) => {
            let before = before.and_then(|b| match b {
                Document::Ticket(t) => Some(t),
                _ => None,
            });
            ticket::review(actor, before, after)
        }
        Document::Equipment(after) => {
            let before = before.and_then(|b| match b {
                Document::Equipment(e) => Some(e),
                _ => None,
            });
            equipment::review(actor, before, after)
        }
        Document::PartRequest(after) => {
            let before = before.and_then(|b| match b {
                Document::PartRequest(p) => Some(p),
                _ => None,
            });
            part_request::review(actor, before, after)
        }
        Document::Client(_)
        | Document::Site(_)
        | Document::ChecklistTemplate(_)
        | Document::KbArticle(_)
        | Document::Directory(_) => {
            if actor.role.is_desk() {
                let changed = before != Some(after);
                let allowed = if changed { vec![FieldChange { field: "document", entry: None }] } else { Vec::new() };
                Verdict::Reviewed(Review { allowed, refused: Vec::new(), corrected: None })
            } else {
                Verdict::Refused(WholeRefusal::ReferenceData)
            }
        }
    }
}

/// Whether `actor` may read `document`. Equipment, clients and sites are
/// readable to field users only through a ticket they may read; the caller
/// knows the links and says so in `linked_to_readable_ticket`.
pub fn may_read(actor: &Actor, document: &Document, linked_to_readable_ticket: bool) -> bool {
    if actor.role.reads_everything() {
        return true;
    }
    match document {
        Document::Ticket(ticket) => ticket::may_work_on(ticket, actor),
        Document::PartRequest(request) => request.org == actor.org,
        Document::Equipment(_) | Document::Client(_) | Document::Site(_) => linked_to_readable_ticket,
        Document::ChecklistTemplate(_) | Document::KbArticle(_) => true,
        Document::Directory(directory) => directory.everyone || directory.org == actor.org,
    }
}

/// A change to one entry of a log, as the rules see it.
enum EntryChange<'e, T> {
    Added(&'e T),
    Amended { before: &'e T, after: &'e T },
    Removed,
}

/// Entries of logs and lists that have an identity of their own.
trait Keyed: Clone + PartialEq {
    fn entry_key(&self) -> EntryKey;
}

impl Keyed for DocId {
    fn entry_key(&self) -> EntryKey {
        EntryKey::Doc(*self)
    }
}

/// Collects allowed and refused changes while building the corrected value.
struct Reviewer {
    allowed: Vec<FieldChange>,
    refused: Vec<Refusal>,
}

impl Reviewer {
    fn new() -> Self {
        Self { allowed: Vec::new(), refused: Vec::new() }
    }

    fn record(&mut self, field: &'static str, entry: Option<EntryKey>, rule: Result<(), RefusalReason>) -> bool {
        match rule {
            Ok(()) => {
                self.allowed.push(FieldChange { field, entry });
                true
            }
            Err(reason) => {
                self.refused.push(Refusal { field, entry, reason });
                false
            }
        }
    }

    /// A field replaced whole; restored from `before` when refused.
    fn value<T: Clone + PartialEq>(
        &mut self,
        field: &'static str,
        before: &T,
        corrected: &mut T,
        rule: Result<(), RefusalReason>,
    ) {
        if before != corrected && !self.record(field, None, rule) {
            corrected.clone_from(before);
        }
    }

    /// A text field; a refused edit is undone by the smallest text change.
    fn text(&mut self, field: &'static str, before: &Text, corrected: &mut Text, rule: Result<(), RefusalReason>) {
        if before.as_str() != corrected.as_str() && !self.record(field, None, rule) {
            corrected.update(before.as_str());
        }
    }

    /// A log: refused additions are dropped, refused amendments and removals restored.
    fn log<T: Keyed>(
        &mut self,
        field: &'static str,
        before: &[T],
        corrected: &mut Vec<T>,
        mut rule: impl FnMut(EntryChange<'_, T>) -> Result<(), RefusalReason>,
    ) {
        if before == corrected.as_slice() {
            return;
        }
        let before_by_key: BTreeMap<EntryKey, &T> = before.iter().map(|e| (e.entry_key(), e)).collect();
        let mut kept = Vec::with_capacity(corrected.len());
        for entry in corrected.drain(..) {
            let key = entry.entry_key();
            match before_by_key.get(&key) {
                None => {
                    if self.record(field, Some(key), rule(EntryChange::Added(&entry))) {
                        kept.push(entry);
                    }
                }
                Some(old) if **old == entry => kept.push(entry),
                Some(old) => {
                    let change = EntryChange::Amended { before: *old, after: &entry };
                    if self.record(field, Some(key), rule(change)) {
                        kept.push(entry);
                    } else {
                        kept.push((*old).clone());
                    }
                }
            }
        }
        let after_keys: std::collections::BTreeSet<EntryKey> = kept.iter().map(Keyed::entry_key).collect();
        for (index, old) in before.iter().enumerate() {
            let key = old.entry_key();
            if !after_keys.contains(&key) && !self.record(field, Some(key), rule(EntryChange::Removed)) {
                kept.insert(index.min(kept.len()), old.clone());
            }
        }
        *corrected = kept;
    }

    /// A map of named entries (checklist items, free attributes).
    fn map<V: Clone + PartialEq>(
        &mut self,
        field: &'static str,
        before: &BTreeMap<String, V>,
        corrected: &mut BTreeMap<String, V>,
        mut rule: impl FnMut(EntryChange<'_, V>) -> Result<(), RefusalReason>,
    ) {
        if before == corrected {
            return;
        }
        let keys: std::collections::BTreeSet<String> = before.keys().chain(corrected.keys()).cloned().collect();
        for key in keys {
            let entry = Some(EntryKey::Key(key.clone()));
            let change = match (before.get(&key), corrected.get(&key)) {
                (None, Some(new)) => EntryChange::Added(new),
                (Some(old), Some(new)) if old != new => EntryChange::Amended { before: old, after: new },
                (Some(_), None) => EntryChange::Removed,
                _ => continue,
            };
            if !self.record(field, entry, rule(change)) {
                match before.get(&key) {
                    Some(old) => corrected.insert(key, old.clone()),
                    None => corrected.remove(&key),
                };
            }
        }
    }

    fn finish(self, corrected: Document) -> Verdict {
        let corrected = (!self.refused.is_empty()).then_some(corrected);
        Verdict::Reviewed(Review { allowed: self.allowed, refused: self.refused, corrected })
    }
}

/// Ok if `allowed`, else the given reason.
fn rule(allowed: bool, reason: RefusalReason) -> Result<(), RefusalReason> {
    if allowed {
        Ok(())
    } else {
        Err(reason)
    }
}

/// An added entry must name its author; existing entries never change.
fn append_only<T>(
    actor: &Actor,
    change: EntryChange<'_, T>,
    author: impl Fn(&T) -> Actor,
) -> Result<(), RefusalReason> {
    match change {
        EntryChange::Added(entry) => rule(author(entry) == *actor, RefusalReason::ForgedAuthor),
        EntryChange::Amended { .. } | EntryChange::Removed => Err(RefusalReason::AppendOnly),
    }
}

#[cfg(test)]
mod tests;
