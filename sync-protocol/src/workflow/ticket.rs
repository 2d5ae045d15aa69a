//! The ticket workflow.
//!
//! ```text
//! New ─desk─▶ Assigned ─▶ Accepted ─▶ EnRoute ─▶ OnSite ─▶ Resolved ─desk─▶ Closed
//!                │  ▲         │          ▲  │        │  ▲       │
//!                │  └─────────┼──────────┼──┼────────┘  │       └─▶ OnSite (reopened on site)
//!                ▼            ▼          │  ▼           │
//!               New (declined)        WaitingParts ─────┘
//! any open status ─desk─▶ Cancelled;  any status ─desk─▶ Assigned (reassign, reopen)
//! ```
//! Field moves are made by the engineer (or partner company) the ticket is
//! assigned to; the desk may make any move.

use super::{fold, Conflict, MoveRefusal, Rules, Step};
use crate::ids::Timestamp;
use crate::model::{Actor, Assignee, Role, Ticket, TicketStatus};

/// What the transitions log of a ticket folds to.
#[derive(Clone, Debug, PartialEq)]
pub struct TicketState {
    pub status: TicketStatus,
    pub assignee: Option<Assignee>,
    pub conflicts: Vec<Conflict<TicketStatus>>,
    /// The moves that took effect, in fold order.
    pub moves: Vec<AppliedMove>,
}

/// A move that took effect: the status and assignee it left, when, by whom.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AppliedMove {
    pub status: TicketStatus,
    pub assignee: Option<Assignee>,
    pub at: Timestamp,
    pub by: Actor,
}

/// A stretch of a ticket's life in one status with one assignee.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Stretch {
    pub status: TicketStatus,
    pub assignee: Option<Assignee>,
    pub from: Timestamp,
    /// `None` while it lasts.
    pub until: Option<Timestamp>,
}

impl Stretch {
    /// How long it lasted, or has lasted at `now`.
    pub fn millis(&self, now: Timestamp) -> i64 {
        self.until.unwrap_or(now).0.saturating_sub(self.from.0).max(0)
    }
}

/// Folds the ticket's transitions into its status, assignee and conflicts.
pub fn fold_ticket(ticket: &Ticket) -> TicketState {
    let mut rules = TicketRules { status: TicketStatus::New, assignee: None, moves: Vec::new() };
    let steps =
        ticket.transitions.iter().map(|t| (Step { id: t.id, from: t.from, to: t.to, at: t.at, by: t.by }, t.assignee));
    let conflicts = fold(&mut rules, steps);
    TicketState { status: rules.status, assignee: rules.assignee, conflicts, moves: rules.moves }
}

/// The ticket's life as stretches of one status and one assignee, from
/// when it was opened: where the time went, and with whom. Move times come
/// from devices' clocks, so a stretch never starts before the one before it.
pub fn ticket_timeline(ticket: &Ticket) -> Vec<Stretch> {
    let mut stretches =
        vec![Stretch { status: TicketStatus::New, assignee: None, from: ticket.created_at, until: None }];
    for applied in fold_ticket(ticket).moves {
        let last = stretches.last_mut().expect("a timeline starts with its opening");
        let at = Timestamp(applied.at.0.max(last.from.0));
        if (last.status, last.assignee) == (applied.status, applied.assignee) {
            continue;
        }
        last.until = Some(at);
        stretches.push(Stretch { status: applied.status, assignee: applied.assignee, from: at, until: None });
    }
    if stretches.last().is_some_and(|s| s.status.is_terminal()) {
        // A closed or cancelled ticket is not waiting on anyone.
        if let Some(last) = stretches.last_mut() {
            last.until = Some(last.from);
        }
    }
    stretches
}

/// Why `actor` may not move a ticket in `status`, assigned to `assignee`,
/// to `to` (naming `new_assignee` on assignment); `None` if they may.
pub fn ticket_move_refusal(
    actor: &Actor,
    status: TicketStatus,
    assignee: Option<&Assignee>,
    to: TicketStatus,
    new_assignee: Option<&Assignee>,
) -> Option<MoveRefusal> {
    let rules = TicketRules { status, assignee: assignee.copied(), moves: Vec::new() };
    let step =
        Step { id: crate::ids::EntryId::from_u128(0), from: status, to, at: crate::ids::Timestamp(0), by: *actor };
    rules.check(&step, &new_assignee.copied()).err()
}

/// Whether a field move by `actor` is theirs to make on a ticket assigned to `assignee`.
pub fn is_assigned_to(assignee: Option<&Assignee>, actor: &Actor) -> bool {
    let Some(assignee) = assignee else {
        return false;
    };
    match actor.role {
        Role::Engineer => assignee.engineer == Some(actor.user),
        Role::PartnerEngineer => {
            assignee.partner_org == Some(actor.org) && assignee.engineer.is_none_or(|engineer| engineer == actor.user)
        }
        Role::Admin | Role::Dispatcher | Role::PartsDesk | Role::PartnerDispatcher => false,
    }
}

/// Whether a partner's dispatcher may hand a ticket assigned to `assignee`
/// to `new_assignee`: both their own company's, naming one of its engineers.
fn partner_routes_within(actor: &Actor, assignee: Option<&Assignee>, new_assignee: Option<&Assignee>) -> bool {
    let own = |a: Option<&Assignee>| a.is_some_and(|a| a.partner_org == Some(actor.org));
    own(assignee) && own(new_assignee) && new_assignee.is_some_and(|a| a.engineer.is_some())
}

fn is_field_move(from: TicketStatus, to: TicketStatus) -> bool {
    use TicketStatus::{Accepted, Assigned, EnRoute, New, OnSite, Resolved, WaitingParts};
    matches!(
        (from, to),
        (Assigned, Accepted)
            | (Accepted | WaitingParts, EnRoute)
            | (Accepted | EnRoute | WaitingParts, OnSite)
            | (OnSite, WaitingParts)
            | (OnSite | WaitingParts, Resolved)
            | (Resolved, OnSite)
            | (Assigned | Accepted, New)
    )
}

fn is_desk_move(from: TicketStatus, to: TicketStatus) -> bool {
    use TicketStatus::{Accepted, Assigned, Cancelled, Closed, EnRoute, New, Resolved, WaitingParts};
    match to {
        Assigned => true,
        Cancelled => !from.is_terminal(),
        Closed => from == Resolved,
        New => matches!(from, Assigned | Accepted | EnRoute | WaitingParts),
        _ => is_field_move(from, to),
    }
}

/// Statuses that field roles can ever move a ticket to.
fn is_field_target(to: TicketStatus) -> bool {
    !matches!(to, TicketStatus::Assigned | TicketStatus::Closed | TicketStatus::Cancelled)
}

fn names_someone(assignee: Option<&Assignee>) -> bool {
    assignee.is_some_and(|a| a.engineer.is_some() || a.partner_org.is_some())
}

struct TicketRules {
    status: TicketStatus,
    assignee: Option<Assignee>,
    moves: Vec<AppliedMove>,
}

impl Rules for TicketRules {
    type Status = TicketStatus;
    type Extra = Option<Assignee>;

    fn status(&self) -> TicketStatus {
        self.status
    }

    fn check(&self, step: &Step<TicketStatus>, new_assignee: &Option<Assignee>) -> Result<(), MoveRefusal> {
        match step.by.role {
            Role::Admin | Role::Dispatcher => {
                if !is_desk_move(self.status, step.to) {
                    return Err(MoveRefusal::NotFromStatus);
                }
                if step.to == TicketStatus::Assigned && !names_someone(new_assignee.as_ref()) {
                    return Err(MoveRefusal::NoAssignee);
                }
                Ok(())
            }
            Role::Engineer | Role::PartnerEngineer => {
                if !is_field_target(step.to) {
                    return Err(MoveRefusal::RoleMayNot);
                }
                if !is_assigned_to(self.assignee.as_ref(), &step.by) {
                    return Err(MoveRefusal::NotAssignee);
                }
                if !is_field_move(self.status, step.to) {
                    return Err(MoveRefusal::NotFromStatus);
                }
                Ok(())
            }
            Role::PartnerDispatcher => {
                if step.to != TicketStatus::Assigned
                    || self.status.is_terminal()
                    || self.status == TicketStatus::Resolved
                {
                    return Err(MoveRefusal::RoleMayNot);
                }
                if partner_routes_within(&step.by, self.assignee.as_ref(), new_assignee.as_ref()) {
                    Ok(())
                } else {
                    Err(MoveRefusal::OtherOrg)
                }
            }
            Role::PartsDesk => Err(MoveRefusal::RoleMayNot),
        }
    }

    fn desk_outranks(&self, step: &Step<TicketStatus>, new_assignee: &Option<Assignee>) -> bool {
        use TicketStatus::{Assigned, Cancelled, Closed};
        step.by.role.is_desk()
            && matches!(step.to, Cancelled | Closed | Assigned)
            && is_desk_move(step.from, step.to)
            && (step.to != Assigned || names_someone(new_assignee.as_ref()))
    }

    fn apply(&mut self, step: &Step<TicketStatus>, new_assignee: &Option<Assignee>) {
        self.status = step.to;
        match step.to {
            TicketStatus::Assigned => self.assignee = *new_assignee,
            TicketStatus::New => self.assignee = None,
            _ => {}
        }
        self.moves.push(AppliedMove { status: self.status, assignee: self.assignee, at: step.at, by: step.by });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::{DocId, EntryId, OrgId, Timestamp, UserId};
    use crate::model::Transition;
    use crate::workflow::Outcome;
    use TicketStatus::*;

    const SERVICE: OrgId = OrgId(uuid::Uuid::from_u128(1));
    const PARTNER: OrgId = OrgId(uuid::Uuid::from_u128(2));

    fn dispatcher() -> Actor {
        Actor { user: UserId::from_u128(10), org: SERVICE, role: Role::Dispatcher }
    }
    fn engineer(n: u128) -> Actor {
        Actor { user: UserId::from_u128(100 + n), org: SERVICE, role: Role::Engineer }
    }
    fn partner_engineer() -> Actor {
        Actor { user: UserId::from_u128(200), org: PARTNER, role: Role::PartnerEngineer }
    }
    fn to_engineer(actor: Actor) -> Option<Assignee> {
        Some(Assignee { engineer: Some(actor.user), partner_org: None })
    }

    struct Log(Ticket, u128);
    impl Log {
        fn new() -> Self {
            Self(
                Ticket::new(
                    DocId::from_u128(1),
                    dispatcher(),
                    Timestamp(0),
                    "T-1".into(),
                    "Disk failed".into(),
                    DocId::from_u128(2),
                ),
                0,
            )
        }
        fn push(&mut self, by: Actor, from: TicketStatus, to: TicketStatus, assignee: Option<Assignee>) -> &mut Self {
            self.1 += 1;
            self.0.transitions.push(Transition {
                id: EntryId::from_u128(self.1),
                from,
                to,
                at: Timestamp(self.1 as i64 * 1000),
                by,
                assignee,
                reason: None,
            });
            self
        }
        fn fold(&self) -> TicketState {
            fold_ticket(&self.0)
        }
    }

    #[test]
    fn the_timeline_says_where_the_time_went_and_with_whom() {
        let e = engineer(1);
        let mut log = Log::new();
        log.push(dispatcher(), New, Assigned, to_engineer(e))
            .push(e, Assigned, Accepted, None)
            .push(engineer(2), Accepted, EnRoute, None) // not the assignee: no effect
            .push(e, Accepted, EnRoute, None);
        // A device clock behind the desk's: its move cannot start before the last one.
        log.0.transitions.last_mut().unwrap().at = Timestamp(500);
        let timeline = ticket_timeline(&log.0);
        let shape: Vec<(TicketStatus, Option<i64>, Option<i64>)> =
            timeline.iter().map(|s| (s.status, Some(s.from.0), s.until.map(|t| t.0))).collect();
        assert_eq!(
            shape,
            vec![
                (New, Some(0), Some(1000)),
                (Assigned, Some(1000), Some(2000)),
                (Accepted, Some(2000), Some(2000)),
                (EnRoute, Some(2000), None),
            ]
        );
        assert_eq!(timeline[1].assignee, to_engineer(e), "with whom");
        assert_eq!(timeline[3].millis(Timestamp(9000)), 7000, "the current stretch runs until now");
    }

    #[test]
    fn a_partners_dispatcher_routes_within_the_company_only() {
        let partner_desk = Actor { user: UserId::from_u128(300), org: PARTNER, role: Role::PartnerDispatcher };
        let company = Some(Assignee { engineer: None, partner_org: Some(PARTNER) });
        let ours = Some(Assignee { engineer: Some(UserId::from_u128(301)), partner_org: Some(PARTNER) });
        let staff = to_engineer(engineer(1));
        let route = |assignee: &Option<Assignee>, to: &Option<Assignee>| {
            ticket_move_refusal(&partner_desk, Assigned, assignee.as_ref(), Assigned, to.as_ref())
        };
        assert_eq!(route(&company, &ours), None, "to its own engineer");
        assert_eq!(route(&company, &company), Some(MoveRefusal::OtherOrg), "naming an engineer");
        assert_eq!(route(&staff, &ours), Some(MoveRefusal::OtherOrg), "not a ticket of the company");
        assert_eq!(route(&company, &staff), Some(MoveRefusal::OtherOrg), "not to another company's engineer");
        assert_eq!(
            ticket_move_refusal(&partner_desk, Assigned, company.as_ref(), Cancelled, None),
            Some(MoveRefusal::RoleMayNot),
            "routing is all it does"
        );
        let mut log = Log::new();
        log.push(dispatcher(), New, Assigned, company).push(partner_desk, Assigned, Assigned, ours);
        let state = log.fold();
        assert_eq!((state.assignee, state.conflicts.len()), (ours, 0));
        assert!(log.0.assignments().any(|a| a.engineer == Some(UserId::from_u128(301))), "the engineer may work it");
    }

    #[test]
    fn a_ticket_without_transitions_is_new_and_unassigned() {
        let state = Log::new().fold();
        assert_eq!((state.status, state.assignee, state.conflicts.len()), (New, None, 0));
    }

    #[test]
    fn the_happy_path_runs_from_new_to_closed_without_conflicts() {
        let e = engineer(1);
        let mut log = Log::new();
        log.push(dispatcher(), New, Assigned, to_engineer(e))
            .push(e, Assigned, Accepted, None)
            .push(e, Accepted, EnRoute, None)
            .push(e, EnRoute, OnSite, None)
            .push(e, OnSite, WaitingParts, None)
            .push(e, WaitingParts, OnSite, None)
            .push(e, OnSite, Resolved, None)
            .push(dispatcher(), Resolved, Closed, None);
        let state = log.fold();
        assert_eq!(state.status, Closed);
        assert!(state.conflicts.is_empty(), "a clean path has nothing to report: {:?}", state.conflicts);
    }

    #[test]
    fn an_engineer_may_not_move_a_ticket_assigned_to_someone_else() {
        let mut log = Log::new();
        log.push(dispatcher(), New, Assigned, to_engineer(engineer(1))).push(engineer(2), Assigned, Accepted, None);
        let state = log.fold();
        assert_eq!(state.status, Assigned, "the intruder's move must not count");
        assert_eq!(state.conflicts[0].outcome, Outcome::NotApplied(MoveRefusal::NotAssignee));
    }

    #[test]
    fn an_engineer_may_not_cancel_close_or_assign() {
        let e = engineer(1);
        let assigned = Some(Assignee { engineer: Some(e.user), partner_org: None });
        for to in [Cancelled, Closed, Assigned] {
            assert_eq!(
                ticket_move_refusal(&e, Resolved, assigned.as_ref(), to, assigned.as_ref()),
                Some(MoveRefusal::RoleMayNot),
                "{to:?} is the desk's move"
            );
        }
    }

    #[test]
    fn an_engineer_may_not_skip_from_assigned_to_resolved() {
        let e = engineer(1);
        let assigned = Assignee { engineer: Some(e.user), partner_org: None };
        assert_eq!(
            ticket_move_refusal(&e, Assigned, Some(&assigned), Resolved, None),
            Some(MoveRefusal::NotFromStatus)
        );
    }

    #[test]
    fn a_desk_assignment_must_name_someone() {
        let empty = Assignee { engineer: None, partner_org: None };
        assert_eq!(
            ticket_move_refusal(&dispatcher(), New, None, Assigned, Some(&empty)),
            Some(MoveRefusal::NoAssignee)
        );
        assert_eq!(ticket_move_refusal(&dispatcher(), New, None, Assigned, None), Some(MoveRefusal::NoAssignee));
    }

    #[test]
    fn parts_desk_makes_no_ticket_moves() {
        let parts = Actor { user: UserId::from_u128(5), org: SERVICE, role: Role::PartsDesk };
        assert_eq!(ticket_move_refusal(&parts, OnSite, None, WaitingParts, None), Some(MoveRefusal::RoleMayNot));
    }

    #[test]
    fn any_engineer_of_the_assigned_partner_may_work_an_unnamed_partner_assignment() {
        let p = partner_engineer();
        let mut log = Log::new();
        log.push(dispatcher(), New, Assigned, Some(Assignee { engineer: None, partner_org: Some(PARTNER) }))
            .push(p, Assigned, Accepted, None);
        assert_eq!(log.fold().status, Accepted);
    }

    #[test]
    fn a_partner_engineer_may_not_move_another_partners_ticket() {
        let p = partner_engineer();
        let other = Assignee { engineer: None, partner_org: Some(OrgId::from_u128(3)) };
        assert_eq!(ticket_move_refusal(&p, Assigned, Some(&other), Accepted, None), Some(MoveRefusal::NotAssignee));
    }

    #[test]
    fn a_desk_cancel_beats_a_concurrent_on_site_whichever_sorts_first() {
        let e = engineer(1);
        let mut cancel_first = Log::new();
        cancel_first
            .push(dispatcher(), New, Assigned, to_engineer(e))
            .push(e, Assigned, Accepted, None)
            .push(dispatcher(), Accepted, Cancelled, None)
            .push(e, Accepted, OnSite, None);
        let state = cancel_first.fold();
        assert_eq!(state.status, Cancelled);
        assert_eq!(state.conflicts.len(), 1, "the engineer's move must be reported");
        assert_eq!(state.conflicts[0].outcome, Outcome::NotApplied(MoveRefusal::NotFromStatus));
        assert!(state.conflicts[0].explain().contains("cancelled"), "{}", state.conflicts[0].explain());

        let mut on_site_first = Log::new();
        on_site_first
            .push(dispatcher(), New, Assigned, to_engineer(e))
            .push(e, Assigned, Accepted, None)
            .push(e, Accepted, OnSite, None)
            .push(dispatcher(), Accepted, Cancelled, None);
        let state = on_site_first.fold();
        assert_eq!(state.status, Cancelled);
        assert_eq!(
            state.conflicts[0].outcome,
            Outcome::AppliedAnyway,
            "the desk did not see on-site; it is still reported"
        );
    }

    #[test]
    fn a_desk_close_stands_over_a_concurrent_reopen_on_site() {
        let e = engineer(1);
        let mut log = Log::new();
        log.push(dispatcher(), New, Assigned, to_engineer(e))
            .push(e, Assigned, Accepted, None)
            .push(e, Accepted, OnSite, None)
            .push(e, OnSite, Resolved, None)
            .push(e, Resolved, OnSite, None)
            .push(dispatcher(), Resolved, Closed, None);
        let state = log.fold();
        assert_eq!(state.status, Closed, "the desk outranks a device for close");
        assert_eq!(state.conflicts[0].outcome, Outcome::DeskOverrode);
    }

    #[test]
    fn a_reassignment_stops_the_old_engineers_concurrent_moves() {
        let (old, new) = (engineer(1), engineer(2));
        let mut log = Log::new();
        log.push(dispatcher(), New, Assigned, to_engineer(old))
            .push(old, Assigned, Accepted, None)
            .push(dispatcher(), Accepted, Assigned, to_engineer(new))
            .push(old, Accepted, EnRoute, None);
        let state = log.fold();
        assert_eq!((state.status, state.assignee), (Assigned, to_engineer(new)));
        assert_eq!(state.conflicts[0].outcome, Outcome::NotApplied(MoveRefusal::NotAssignee));
    }

    #[test]
    fn a_declined_ticket_goes_back_to_new_and_unassigned() {
        let e = engineer(1);
        let mut log = Log::new();
        log.push(dispatcher(), New, Assigned, to_engineer(e)).push(e, Assigned, New, None);
        let state = log.fold();
        assert_eq!((state.status, state.assignee), (New, None));
    }

    #[test]
    fn the_desk_may_reopen_a_closed_ticket_by_assigning_it() {
        let e = engineer(1);
        assert_eq!(ticket_move_refusal(&dispatcher(), Closed, None, Assigned, to_engineer(e).as_ref()), None);
        assert_eq!(ticket_move_refusal(&dispatcher(), Closed, None, Cancelled, None), Some(MoveRefusal::NotFromStatus));
    }
}
