use outpost_sync::ids::{ContentHash, DocId, EntryId, Timestamp};
use outpost_sync::model::{
    Assignee, ChecklistTemplate, ChecklistTemplateItem, Document, PartStatus, PartTransition, Priority, Ticket,
    TicketStatus, Transition,
};
use outpost_sync::permissions::{review, Verdict};
use outpost_sync::sample::Cast;
use outpost_sync::workflow::{fold_part_request, fold_ticket};

use super::*;

const T0: Timestamp = Timestamp(1_790_000_000_000);

fn assigned_ticket(cast: &Cast) -> Ticket {
    let mut t = Ticket::new(
        DocId::from_u128(1),
        cast.dispatcher,
        T0,
        "T-1".into(),
        "Array degraded".into(),
        DocId::from_u128(2),
    );
    t.checklist_template = Some(DocId::from_u128(3));
    t.transitions.push(Transition {
        id: EntryId::from_u128(100),
        from: TicketStatus::New,
        to: TicketStatus::Assigned,
        at: T0,
        by: cast.dispatcher,
        assignee: Some(Assignee { engineer: Some(cast.engineer.user), partner_org: None }),
        reason: None,
    });
    t
}

fn template() -> ChecklistTemplate {
    ChecklistTemplate {
        id: DocId::from_u128(3),
        name: "Storage visit".into(),
        items: ["power", "logs"]
            .iter()
            .map(|k| ChecklistTemplateItem { key: (*k).into(), label: format!("Check {k}") })
            .collect(),
    }
}

struct Run {
    cast: Cast,
    ticket: Ticket,
    step: u128,
}

impl Run {
    fn new() -> Self {
        let cast = Cast::default();
        let ticket = assigned_ticket(&cast);
        Self { cast, ticket, step: 0 }
    }

    fn ctx(&mut self) -> Context {
        self.step += 1;
        Context {
            actor: self.cast.engineer,
            now: T0.plus_millis(self.step as i64 * 60_000),
            entry: EntryId::from_u128(1_000 + self.step),
        }
    }

    fn act(&mut self, action: TicketAction) -> CoreResult<()> {
        let ctx = self.ctx();
        let after = apply_to_ticket(&self.ticket, Some(&template()), &action, ctx)?;
        // Whatever the app makes, the desk accepts as it is.
        match review(&ctx.actor, Some(&Document::Ticket(self.ticket.clone())), &Document::Ticket(after.clone())) {
            Verdict::Reviewed(r) => assert!(r.is_clean(), "{action:?} made an edit the desk refuses: {:?}", r.refused),
            Verdict::Refused(why) => panic!("{action:?} refused whole: {why}"),
        }
        self.ticket = after;
        Ok(())
    }

    fn status(&self) -> TicketStatus {
        fold_ticket(&self.ticket).status
    }
}

#[test]
fn a_visit_from_acceptance_to_resolution_makes_only_edits_the_desk_accepts() {
    let mut run = Run::new();
    run.act(TicketAction::Accept).unwrap();
    run.act(TicketAction::EnRoute).unwrap();
    run.act(TicketAction::StartTimer { kind: Timer::Travel }).unwrap();
    run.act(TicketAction::Arrive { coordinates: Some(Location { lat: 55.75, lon: 37.62 }) }).unwrap();
    assert_eq!(run.status(), TicketStatus::OnSite);
    assert!(run.ticket.time_entries[0].end.is_some(), "arriving stops the travel timer");
    assert_eq!(run.ticket.visits.len(), 1);
    run.act(TicketAction::StartTimer { kind: Timer::Work }).unwrap();
    run.act(TicketAction::AddNote { text: "  Replaced disk 3.  ".into() }).unwrap();
    assert_eq!(run.ticket.work_log[0].text, "Replaced disk 3.", "notes are trimmed");
    run.act(TicketAction::Tick { item: "power".into(), done: true }).unwrap();
    run.act(TicketAction::EditDescription { text: "Array degraded; disk 3 failed.".into() }).unwrap();
    run.act(TicketAction::Sign { signer: "Ivan Petrov".into(), hash: ContentHash("a".repeat(64)), size: 900 }).unwrap();
    run.act(TicketAction::SetResolution { code: Some("replaced".into()), notes: "Disk swapped, rebuild done.".into() })
        .unwrap();
    run.act(TicketAction::Escalate { to: EscalationLevel::L2Remote, reason: "firmware advice".into() }).unwrap();
    run.act(TicketAction::Resolve).unwrap();
    assert_eq!(run.status(), TicketStatus::Resolved);
    assert!(run.ticket.visits[0].left.is_some(), "resolving ends the visit");
    assert!(run.ticket.time_entries.iter().all(|e| e.end.is_some()), "resolving stops the timers");
    assert_eq!(run.ticket.signature.as_ref().unwrap().signer_name, "Ivan Petrov");
}

#[test]
fn moves_out_of_order_are_refused_with_the_reason() {
    let mut run = Run::new();
    for action in [TicketAction::EnRoute, TicketAction::Arrive { coordinates: None }, TicketAction::Resolve] {
        let err = run.act(action.clone()).unwrap_err();
        assert!(matches!(err, CoreError::Refused(_) | CoreError::Invalid(_)), "{action:?}: {err}");
    }
    assert_eq!(run.status(), TicketStatus::Assigned);
    run.act(TicketAction::Accept).unwrap();
    let err = run.act(TicketAction::Accept).unwrap_err();
    assert!(err.to_string().contains("accepted"), "{err}");
}

#[test]
fn someone_else_s_ticket_cannot_be_moved() {
    let mut run = Run::new();
    let ctx = Context { actor: run.cast.second_engineer, ..run.ctx() };
    let err = apply_to_ticket(&run.ticket, None, &TicketAction::Accept, ctx).unwrap_err();
    assert!(matches!(err, CoreError::Refused(_)), "{err}");
}

#[test]
fn bad_input_is_refused_with_a_clear_reason() {
    let mut run = Run::new();
    run.act(TicketAction::Accept).unwrap();
    let cases = [
        (TicketAction::AddNote { text: "   ".into() }, "must not be empty"),
        (TicketAction::AddNote { text: "x".repeat(70_000) }, "at most"),
        (TicketAction::Tick { item: "coffee".into(), done: true }, "not an item"),
        (TicketAction::StopTimer, "no timer"),
        (TicketAction::Decline { reason: String::new() }, "must not be empty"),
        (TicketAction::Arrive { coordinates: Some(Location { lat: 91.0, lon: 0.0 }) }, "latitude"),
    ];
    for (action, expected) in cases {
        let err = run.act(action.clone()).unwrap_err();
        assert!(err.to_string().contains(expected), "{action:?} gave {err:?}, expected {expected:?}");
    }
    run.act(TicketAction::StartTimer { kind: Timer::Work }).unwrap();
    let err = run.act(TicketAction::StartTimer { kind: Timer::Travel }).unwrap_err();
    assert!(err.to_string().contains("already running"), "{err}");
    run.act(TicketAction::Escalate { to: EscalationLevel::L3Expert, reason: "vendor bug".into() }).unwrap();
    let err = run.act(TicketAction::Escalate { to: EscalationLevel::L2Remote, reason: "x".into() }).unwrap_err();
    assert!(err.to_string().contains("higher level"), "{err}");
    run.act(TicketAction::Arrive { coordinates: None }).unwrap();
    let err = run.act(TicketAction::Resolve).unwrap_err();
    assert!(err.to_string().contains("set the resolution"), "{err}");
}

#[test]
fn a_ticket_is_signed_once() {
    let mut run = Run::new();
    let sign = TicketAction::Sign { signer: "A".into(), hash: ContentHash("b".repeat(64)), size: 1 };
    run.act(sign.clone()).unwrap();
    assert!(matches!(run.act(sign).unwrap_err(), CoreError::Refused(_)));
}

#[test]
fn a_ticket_found_on_site_shares_the_site_and_gets_a_field_number() {
    let run = Run::new();
    let mut during = run.ticket.clone();
    during.site.address = "Moscow, Lenina 1".into();
    let new = NewTicket {
        title: "UPS battery swollen".into(),
        description: "Found next to the array.".into(),
        priority: Priority::P2,
        client: DocId::from_u128(99),
        found_during: Some(during),
        equipment: vec![],
    };
    let ctx = Context { actor: run.cast.engineer, now: T0, entry: EntryId::from_u128(5) };
    let id = DocId::new_v7(T0, [7; 10]);
    let t = new_ticket(&new, id, ctx).unwrap();
    assert_eq!(t.client, DocId::from_u128(2), "the client of the ticket it was found during");
    assert_eq!(t.site.address, "Moscow, Lenina 1");
    assert!(t.number.starts_with("F-2026-"), "{}", t.number);
    assert_eq!(fold_ticket(&t).status, TicketStatus::New, "the desk routes it");
    match review(&ctx.actor, None, &Document::Ticket(t)) {
        Verdict::Reviewed(r) => assert!(r.is_clean(), "{:?}", r.refused),
        Verdict::Refused(why) => panic!("{why}"),
    }
    let blank = NewTicket { title: " ".into(), ..new };
    assert!(new_ticket(&blank, id, ctx).is_err(), "a ticket needs a title");
}

#[test]
fn part_serials_are_recorded_once_the_part_is_delivered() {
    let run = Run::new();
    let ctx = Context { actor: run.cast.engineer, now: T0, entry: EntryId::from_u128(7) };
    let mut request = new_part_request(&run.ticket, DocId::from_u128(50), "HDD-600G", "spare disk", 1, ctx).unwrap();
    let serials =
        PartAction::RecordSerials { installed: Some("SN-NEW".into()), removed: Some("SN-OLD".into()), equipment: None };
    assert!(matches!(apply_to_part_request(&request, &serials, ctx), Err(CoreError::Refused(_))));
    assert!(matches!(apply_to_part_request(&request, &PartAction::Receive, ctx), Err(CoreError::Refused(_))));
    for (n, (from, to)) in [
        (PartStatus::Requested, PartStatus::Approved),
        (PartStatus::Approved, PartStatus::Picked),
        (PartStatus::Picked, PartStatus::Shipped),
    ]
    .into_iter()
    .enumerate()
    {
        request.transitions.push(PartTransition {
            id: EntryId::from_u128(200 + n as u128),
            from,
            to,
            at: T0,
            by: run.cast.parts_desk,
            reason: None,
        });
    }
    let request = apply_to_part_request(&request, &PartAction::Receive, ctx).unwrap();
    let request = apply_to_part_request(&request, &serials, Context { entry: EntryId::from_u128(8), ..ctx }).unwrap();
    assert_eq!(fold_part_request(&request).status, PartStatus::Installed);
    assert_eq!(request.removed_serial.as_deref(), Some("SN-OLD"));
    let none = PartAction::RecordSerials { installed: None, removed: None, equipment: None };
    assert!(matches!(apply_to_part_request(&request, &none, ctx), Err(CoreError::Invalid(_))));
    for quantity in [0, 10_001] {
        assert!(new_part_request(&run.ticket, DocId::from_u128(51), "X", "", quantity, ctx).is_err());
    }
}
