//! Workflow status as a deterministic fold over a transitions log.
//!
//! Status is never stored. Each ticket and part request keeps an append-only
//! list of moves `{from, to, at, by}`; every replica folds the list in its
//! automerge order (which respects causality: a move appended after seeing
//! another sorts after it) with the rules below, so all replicas agree.
//!
//! A move that the rules refuse stays in the log and is reported as a
//! [`Conflict`], so nobody's action vanishes silently. The desk outranks a
//! device: a desk cancel, close or reassign that was valid from the status
//! the desk saw stands even when a concurrent device move got in first.

mod part_request;
mod ticket;

use std::fmt;

pub use part_request::{fold_part_request, part_move_refusal, PartRequestState};
pub use ticket::{
    fold_ticket, is_assigned_to, ticket_move_refusal, ticket_timeline, AppliedMove, Stretch, TicketState,
};

use crate::ids::{EntryId, Timestamp};
use crate::model::Actor;

/// Why a move was not applied.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MoveRefusal {
    /// This role may never make this move.
    RoleMayNot,
    /// The move does not lead anywhere from the status the document was in.
    NotFromStatus,
    /// A field move by someone the ticket is not assigned to.
    NotAssignee,
    /// A move to `Assigned` that names nobody.
    NoAssignee,
    /// A field move on a part request of another company.
    OtherOrg,
}

impl fmt::Display for MoveRefusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::RoleMayNot => "their role may not make this move",
            Self::NotFromStatus => "this move does not follow from the status it was in",
            Self::NotAssignee => "the work was assigned to someone else",
            Self::NoAssignee => "an assignment must name an engineer or a partner company",
            Self::OtherOrg => "the request belongs to another company",
        })
    }
}

/// What became of a move that did not go as its author expected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The author had not seen the latest status, but the move was still valid.
    AppliedAnyway,
    /// A desk move that overrode a concurrent device move.
    DeskOverrode,
    /// The move was kept in the log and not applied.
    NotApplied(MoveRefusal),
}

/// A move whose author saw another status than the one it met, or that the
/// rules did not apply; shown to people in plain words by [`Conflict::explain`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Conflict<S> {
    pub entry: EntryId,
    pub by: Actor,
    pub at: Timestamp,
    /// The status the author saw.
    pub seen: S,
    pub attempted: S,
    /// The status the document was in when the fold reached this move.
    pub met: S,
    pub outcome: Outcome,
}

/// Statuses that can name themselves in plain words.
pub trait StatusName: Copy + Eq + fmt::Debug {
    fn name(self) -> &'static str;
}

impl StatusName for crate::model::TicketStatus {
    fn name(self) -> &'static str {
        self.as_str()
    }
}

impl StatusName for crate::model::PartStatus {
    fn name(self) -> &'static str {
        self.as_str()
    }
}

impl<S: StatusName> Conflict<S> {
    /// One sentence a dispatcher or an engineer can read.
    pub fn explain(&self) -> String {
        let who = self.by.role.as_str();
        let to = self.attempted.name();
        let met = self.met.name();
        match self.outcome {
            Outcome::AppliedAnyway => format!(
                "A {who} moved it to {to} at {} without having seen that it was already {met}; the move still made sense and was applied.",
                self.at
            ),
            Outcome::DeskOverrode => format!(
                "The desk moved it to {to} at {} while it was {met} on a device; the desk's decision stands, and the device's work is kept.",
                self.at
            ),
            Outcome::NotApplied(why) => format!(
                "A {who}'s move to {to} at {} was not applied because it was {met} and {why}; everything else they recorded is kept.",
                self.at
            ),
        }
    }
}

/// One move as the generic fold sees it.
struct Step<S> {
    id: EntryId,
    from: S,
    to: S,
    at: Timestamp,
    by: Actor,
}

/// The rules of one workflow, over a status and whatever else the fold tracks.
trait Rules {
    type Status: StatusName;
    type Extra;
    fn status(&self) -> Self::Status;
    /// `Ok` if `step` may be applied to the current state.
    fn check(&self, step: &Step<Self::Status>, extra: &Self::Extra) -> Result<(), MoveRefusal>;
    /// Desk moves that stand even when a concurrent device move got in first.
    fn desk_outranks(&self, step: &Step<Self::Status>, extra: &Self::Extra) -> bool;
    fn apply(&mut self, step: &Step<Self::Status>, extra: &Self::Extra);
}

/// Folds `steps` in order over `state`, returning the conflicts it resolved.
fn fold<R: Rules>(
    state: &mut R,
    steps: impl IntoIterator<Item = (Step<R::Status>, R::Extra)>,
) -> Vec<Conflict<R::Status>> {
    let mut conflicts = Vec::new();
    for (step, extra) in steps {
        let met = state.status();
        let outcome = match state.check(&step, &extra) {
            Ok(()) if step.from == met => None,
            Ok(()) => Some(Outcome::AppliedAnyway),
            Err(_) if state.desk_outranks(&step, &extra) => Some(Outcome::DeskOverrode),
            Err(why) => Some(Outcome::NotApplied(why)),
        };
        if !matches!(outcome, Some(Outcome::NotApplied(_))) {
            state.apply(&step, &extra);
        }
        if let Some(outcome) = outcome {
            conflicts.push(Conflict {
                entry: step.id,
                by: step.by,
                at: step.at,
                seen: step.from,
                attempted: step.to,
                met,
                outcome,
            });
        }
    }
    conflicts
}
