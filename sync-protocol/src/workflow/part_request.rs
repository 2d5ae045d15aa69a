//! The part-request workflow.
//!
//! ```text
//!         warehouse          warehouse   warehouse  field        field
//! Requested ─────▶ Approved ─────▶ Picked ─────▶ Shipped ─────▶ Delivered ─────▶ Installed
//!   │  │ field        │ warehouse   │ warehouse                  │ field         │ field
//!   │  ▼              ▼             ▼                            ▼               ▼
//!   │ Cancelled    Cancelled     Cancelled                   ReturnSent ◀────────┘
//!   ▼ warehouse                                                  │ warehouse
//! Rejected                                                       ▼
//!                                                             Returned
//! ```
//! Every move belongs to one side, so the two never record the same fact
//! twice: the warehouse (parts desk, desk) approves, rejects, picks, ships,
//! cancels what it approved, and receives returns; the engineers of the
//! requesting company withdraw a request not yet approved, confirm
//! delivery, install, and send back a part not used or the faulty one
//! removed.

use super::{fold, Conflict, MoveRefusal, Rules, Step};
use crate::ids::OrgId;
use crate::model::{Actor, PartRequest, PartStatus, Role};

#[derive(Clone, Debug, PartialEq)]
pub struct PartRequestState {
    pub status: PartStatus,
    pub conflicts: Vec<Conflict<PartStatus>>,
}

pub fn fold_part_request(request: &PartRequest) -> PartRequestState {
    let mut rules = PartRules { status: PartStatus::Requested, org: request.org };
    let steps = request.transitions.iter().map(|t| (Step { id: t.id, from: t.from, to: t.to, at: t.at, by: t.by }, ()));
    let conflicts = fold(&mut rules, steps);
    PartRequestState { status: rules.status, conflicts }
}

/// Why `actor` may not move a request of `org` from `status` to `to`.
pub fn part_move_refusal(actor: &Actor, org: OrgId, status: PartStatus, to: PartStatus) -> Option<MoveRefusal> {
    let rules = PartRules { status, org };
    let step =
        Step { id: crate::ids::EntryId::from_u128(0), from: status, to, at: crate::ids::Timestamp(0), by: *actor };
    rules.check(&step, &()).err()
}

fn is_warehouse_move(from: PartStatus, to: PartStatus) -> bool {
    use PartStatus::{Approved, Cancelled, Picked, Rejected, Requested, ReturnSent, Returned, Shipped};
    matches!(
        (from, to),
        (Requested, Approved | Rejected)
            | (Approved, Picked)
            | (Picked, Shipped)
            | (Approved | Picked, Cancelled)
            | (ReturnSent, Returned)
    )
}

fn is_field_move(from: PartStatus, to: PartStatus) -> bool {
    use PartStatus::{Cancelled, Delivered, Installed, Requested, ReturnSent, Shipped};
    matches!(
        (from, to),
        (Requested, Cancelled) | (Shipped, Delivered) | (Delivered, Installed) | (Delivered | Installed, ReturnSent)
    )
}

fn is_field_target(to: PartStatus) -> bool {
    matches!(to, PartStatus::Cancelled | PartStatus::Delivered | PartStatus::Installed | PartStatus::ReturnSent)
}

struct PartRules {
    status: PartStatus,
    org: OrgId,
}

impl Rules for PartRules {
    type Status = PartStatus;
    type Extra = ();

    fn status(&self) -> PartStatus {
        self.status
    }

    fn check(&self, step: &Step<PartStatus>, (): &()) -> Result<(), MoveRefusal> {
        match step.by.role {
            Role::Admin | Role::Dispatcher | Role::PartsDesk => {
                if is_warehouse_move(self.status, step.to) {
                    Ok(())
                } else {
                    Err(MoveRefusal::NotFromStatus)
                }
            }
            Role::PartnerDispatcher => Err(MoveRefusal::RoleMayNot),
            Role::Engineer | Role::PartnerEngineer => {
                if !is_field_target(step.to) {
                    Err(MoveRefusal::RoleMayNot)
                } else if step.by.org != self.org {
                    Err(MoveRefusal::OtherOrg)
                } else if !is_field_move(self.status, step.to) {
                    Err(MoveRefusal::NotFromStatus)
                } else {
                    Ok(())
                }
            }
        }
    }

    fn desk_outranks(&self, step: &Step<PartStatus>, (): &()) -> bool {
        // A warehouse cancel or rejection stands over a concurrent field move.
        !step.by.role.is_field()
            && matches!(step.to, PartStatus::Cancelled | PartStatus::Rejected)
            && is_warehouse_move(step.from, step.to)
    }

    fn apply(&mut self, step: &Step<PartStatus>, (): &()) {
        self.status = step.to;
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn no_move_belongs_to_both_sides() {
        use crate::model::PartStatus::*;
        let all =
            [Requested, Approved, Picked, Shipped, Delivered, Installed, Rejected, Cancelled, Returned, ReturnSent];
        for from in all {
            for to in all {
                assert!(
                    !(is_warehouse_move(from, to) && is_field_move(from, to)),
                    "{} → {} is claimed by both sides",
                    from.as_str(),
                    to.as_str()
                );
            }
        }
    }

    use super::*;
    use crate::ids::{DocId, EntryId, Timestamp, UserId};
    use crate::model::PartTransition;
    use crate::workflow::Outcome;
    use PartStatus::*;

    const SERVICE: OrgId = OrgId(uuid::Uuid::from_u128(1));
    const PARTNER: OrgId = OrgId(uuid::Uuid::from_u128(2));

    fn parts_desk() -> Actor {
        Actor { user: UserId::from_u128(5), org: SERVICE, role: Role::PartsDesk }
    }
    fn engineer() -> Actor {
        Actor { user: UserId::from_u128(100), org: SERVICE, role: Role::Engineer }
    }

    fn request(moves: &[(Actor, PartStatus, PartStatus)]) -> PartRequest {
        let mut request =
            PartRequest::new(DocId::from_u128(1), DocId::from_u128(2), engineer(), Timestamp(0), "HDD-600".into(), 1);
        for (n, (by, from, to)) in moves.iter().enumerate() {
            request.transitions.push(PartTransition {
                id: EntryId::from_u128(n as u128 + 1),
                from: *from,
                to: *to,
                at: Timestamp(n as i64),
                by: *by,
                reason: None,
            });
        }
        request
    }

    #[test]
    fn a_part_travels_from_request_to_installation() {
        let (d, e) = (parts_desk(), engineer());
        let state = fold_part_request(&request(&[
            (d, Requested, Approved),
            (d, Approved, Picked),
            (d, Picked, Shipped),
            (e, Shipped, Delivered),
            (e, Delivered, Installed),
        ]));
        assert_eq!(state.status, Installed);
        assert!(state.conflicts.is_empty());
    }

    #[test]
    fn an_engineer_may_not_approve_their_own_request() {
        assert_eq!(part_move_refusal(&engineer(), SERVICE, Requested, Approved), Some(MoveRefusal::RoleMayNot));
    }

    #[test]
    fn an_engineer_may_not_cancel_once_the_part_is_picked() {
        assert_eq!(part_move_refusal(&engineer(), SERVICE, Picked, Cancelled), Some(MoveRefusal::NotFromStatus));
        assert_eq!(part_move_refusal(&parts_desk(), SERVICE, Picked, Cancelled), None);
    }

    #[test]
    fn an_engineer_of_another_company_may_not_touch_the_request() {
        let partner = Actor { user: UserId::from_u128(200), org: PARTNER, role: Role::PartnerEngineer };
        assert_eq!(part_move_refusal(&partner, SERVICE, Requested, Cancelled), Some(MoveRefusal::OtherOrg));
    }

    #[test]
    fn a_rejected_request_cannot_be_shipped() {
        let d = parts_desk();
        let state = fold_part_request(&request(&[(d, Requested, Rejected), (d, Requested, Approved)]));
        assert_eq!(state.status, Rejected);
        assert_eq!(state.conflicts[0].outcome, Outcome::NotApplied(MoveRefusal::NotFromStatus));
    }

    #[test]
    fn a_warehouse_rejection_stands_over_a_concurrent_withdrawal() {
        let (d, e) = (parts_desk(), engineer());
        let state = fold_part_request(&request(&[(e, Requested, Cancelled), (d, Requested, Rejected)]));
        assert_eq!(state.status, Rejected);
        assert_eq!(state.conflicts[0].outcome, Outcome::DeskOverrode);
    }

    #[test]
    fn a_faulty_part_goes_back_to_the_warehouse_after_installation() {
        let (d, e) = (parts_desk(), engineer());
        assert_eq!(part_move_refusal(&e, SERVICE, Installed, ReturnSent), None, "the engineer sends it back");
        assert_eq!(part_move_refusal(&d, SERVICE, Installed, ReturnSent), Some(MoveRefusal::NotFromStatus));
        assert_eq!(part_move_refusal(&d, SERVICE, ReturnSent, Returned), None, "the warehouse receives it");
        assert_eq!(part_move_refusal(&e, SERVICE, ReturnSent, Returned), Some(MoveRefusal::RoleMayNot));
        let state = fold_part_request(&request(&[
            (d, Requested, Approved),
            (d, Approved, Picked),
            (d, Picked, Shipped),
            (e, Shipped, Delivered),
            (e, Delivered, Installed),
            (e, Installed, ReturnSent),
            (d, ReturnSent, Returned),
        ]));
        assert_eq!((state.status, state.conflicts.len()), (Returned, 0));
    }

    #[test]
    fn only_the_engineer_confirms_delivery() {
        assert_eq!(part_move_refusal(&parts_desk(), SERVICE, Shipped, Delivered), Some(MoveRefusal::NotFromStatus));
        assert_eq!(part_move_refusal(&engineer(), SERVICE, Shipped, Delivered), None);
    }
}
