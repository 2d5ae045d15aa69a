//! The permission rules, one sentence each.

use autosurgeon::Text;

use super::*;
use crate::ids::{ContentHash, EntryId, Timestamp};
use crate::model::{
    Assignee, Attachment, ChecklistItemState, Equipment, PartRequest, PartStatus, PartTransition, Points, Signature,
    Ticket, TicketStatus, TimeEntry, TimeKind, Transition, WorkLogEntry,
};
use crate::sample::{worked_ticket, Cast, Rng};

const NOW: Timestamp = Timestamp(1_790_000_000_000);

fn setup() -> (Cast, Ticket) {
    let cast = Cast::default();
    let ticket = worked_ticket(&mut Rng::new(7), &cast, 1, NOW);
    (cast, ticket)
}

fn reviewed(actor: &Actor, before: &Ticket, after: &Ticket) -> Review {
    match review(actor, Some(&Document::Ticket(before.clone())), &Document::Ticket(after.clone())) {
        Verdict::Reviewed(review) => review,
        Verdict::Refused(why) => {
            panic!("expected a field review, the document was refused whole: {why}")
        }
    }
}

fn corrected_ticket(review: &Review) -> &Ticket {
    match review.corrected.as_ref() {
        Some(Document::Ticket(t)) => t,
        other => panic!("a refusal must come with a corrected ticket, got {other:?}"),
    }
}

fn note(by: Actor, n: u128) -> WorkLogEntry {
    WorkLogEntry { id: EntryId::from_u128(n), at: NOW, by, text: "checked fans".into() }
}

#[test]
fn an_assigned_engineer_may_add_a_work_log_note() {
    let (cast, before) = setup();
    let mut after = before.clone();
    after.work_log.push(note(cast.engineer, 1));
    let review = reviewed(&cast.engineer, &before, &after);
    assert!(review.is_clean(), "{:?}", review.refused);
    assert_eq!(
        review.allowed,
        vec![FieldChange { field: "work_log", entry: Some(EntryKey::Entry(EntryId::from_u128(1))) }]
    );
}

#[test]
fn an_engineer_may_not_move_an_sla_deadline_and_the_correction_restores_it() {
    let (cast, before) = setup();
    let mut after = before.clone();
    after.sla.resolution_due = Some(NOW.plus_millis(99_000_000));
    after.work_log.push(note(cast.engineer, 1));
    let review = reviewed(&cast.engineer, &before, &after);
    assert_eq!(review.refused.len(), 1);
    assert_eq!((review.refused[0].field, &review.refused[0].reason), ("sla", &RefusalReason::DeskOnly));
    let fixed = corrected_ticket(&review);
    assert_eq!(fixed.sla, before.sla, "the deadline must be put back");
    assert_eq!(fixed.work_log.len(), before.work_log.len() + 1, "the valid note in the same push must be kept");
}

#[test]
fn an_engineer_may_not_touch_billing_or_entitlement() {
    let (cast, before) = setup();
    let mut after = before.clone();
    after.billing.points_charged = Some(Points { hundredths: 50 });
    after.entitlement.paid = true;
    let review = reviewed(&cast.engineer, &before, &after);
    let fields: Vec<_> = review.refused.iter().map(|r| r.field).collect();
    assert_eq!(fields, vec!["entitlement", "billing"]);
    assert_eq!(corrected_ticket(&review).billing, before.billing);
}

#[test]
fn an_engineer_may_not_reassign_a_ticket() {
    let (cast, before) = setup();
    let mut after = before.clone();
    after.transitions.push(Transition {
        id: EntryId::from_u128(9),
        from: TicketStatus::OnSite,
        to: TicketStatus::Assigned,
        at: NOW,
        by: cast.engineer,
        assignee: Some(Assignee { engineer: Some(cast.second_engineer.user), partner_org: None }),
        reason: None,
    });
    let review = reviewed(&cast.engineer, &before, &after);
    assert_eq!(review.refused[0].reason, RefusalReason::AssigneeInFieldMove, "only the desk names assignees");
    assert_eq!(corrected_ticket(&review).transitions, before.transitions, "the forbidden move is neutralised");
    after.transitions.last_mut().unwrap().assignee = None;
    let review = reviewed(&cast.engineer, &before, &after);
    assert_eq!(review.refused[0].reason, RefusalReason::Move(MoveRefusal::RoleMayNot));
}

#[test]
fn an_assignee_named_in_a_field_move_grants_nothing() {
    let (cast, before) = setup();
    let mut after = before.clone();
    after.transitions.push(Transition {
        id: EntryId::from_u128(9),
        from: TicketStatus::OnSite,
        to: TicketStatus::WaitingParts,
        at: NOW,
        by: cast.engineer,
        assignee: Some(Assignee {
            engineer: Some(cast.partner_engineer.user),
            partner_org: Some(cast.partner_engineer.org),
        }),
        reason: None,
    });
    let review = reviewed(&cast.engineer, &before, &after);
    assert_eq!(review.refused[0].reason, RefusalReason::AssigneeInFieldMove);
    assert!(
        !may_read(&cast.partner_engineer, &Document::Ticket(after), false),
        "a crafted move must not hand the ticket to another company's engineer"
    );
}

#[test]
fn a_dispatcher_may_reassign_and_move_deadlines() {
    let (cast, before) = setup();
    let mut after = before.clone();
    after.sla.resolution_due = None;
    after.transitions.push(Transition {
        id: EntryId::from_u128(9),
        from: TicketStatus::OnSite,
        to: TicketStatus::Assigned,
        at: NOW,
        by: cast.dispatcher,
        assignee: Some(Assignee { engineer: Some(cast.second_engineer.user), partner_org: None }),
        reason: Some("first engineer is ill".into()),
    });
    assert!(reviewed(&cast.dispatcher, &before, &after).is_clean());
}

#[test]
fn an_entry_that_names_someone_else_as_author_is_refused() {
    let (cast, before) = setup();
    let mut after = before.clone();
    after.work_log.push(note(cast.second_engineer, 1));
    let review = reviewed(&cast.engineer, &before, &after);
    assert_eq!(review.refused[0].reason, RefusalReason::ForgedAuthor);
    assert_eq!(corrected_ticket(&review).work_log, before.work_log);
}

#[test]
fn a_log_entry_once_written_cannot_be_edited_or_removed() {
    let (cast, before) = setup();
    let mut edited = before.clone();
    edited.work_log[0].text = "rewritten history".into();
    let review = reviewed(&cast.engineer, &before, &edited);
    assert_eq!(review.refused[0].reason, RefusalReason::AppendOnly);
    assert_eq!(corrected_ticket(&review).work_log, before.work_log);

    let mut removed = before.clone();
    removed.work_log.remove(1);
    let review = reviewed(&cast.dispatcher, &before, &removed);
    assert_eq!(review.refused[0].reason, RefusalReason::AppendOnly, "not even the desk removes log entries");
    assert_eq!(corrected_ticket(&review).work_log, before.work_log, "the removed entry is put back in its place");
}

#[test]
fn an_engineer_may_stop_their_own_running_time_entry_once() {
    let (cast, before) = setup();
    let running = before.time_entries.iter().position(|t| t.end.is_none()).expect("sample has a running entry");
    let mut stopped = before.clone();
    stopped.time_entries[running].end = Some(NOW.plus_millis(99_000_000));
    assert!(reviewed(&cast.engineer, &before, &stopped).is_clean());

    let mut restarted = stopped.clone();
    restarted.time_entries[running].end = Some(NOW.plus_millis(99_999_999));
    let review = reviewed(&cast.engineer, &stopped, &restarted);
    assert_eq!(review.refused[0].reason, RefusalReason::NotOwnEntry, "a finished entry stays finished");
}

#[test]
fn an_engineer_may_not_stop_a_colleagues_time_entry() {
    let (cast, mut before) = setup();
    before.transitions[0].assignee = Some(Assignee { engineer: Some(cast.engineer.user), partner_org: None });
    before.time_entries.push(TimeEntry {
        id: EntryId::from_u128(77),
        kind: TimeKind::Work,
        start: NOW,
        end: None,
        by: cast.second_engineer,
    });
    let mut after = before.clone();
    after.time_entries.last_mut().unwrap().end = Some(NOW.plus_millis(1000));
    let review = reviewed(&cast.engineer, &before, &after);
    assert_eq!(review.refused[0].reason, RefusalReason::NotOwnEntry);
}

#[test]
fn the_customer_signature_is_captured_once() {
    let (cast, before) = setup();
    let signature = Signature {
        signer_name: "И. Петров".into(),
        at: NOW,
        attachment: ContentHash("a".repeat(64)),
        by: cast.engineer,
    };
    let mut signed = before.clone();
    signed.signature = Some(signature.clone());
    assert!(reviewed(&cast.engineer, &before, &signed).is_clean());

    let mut resigned = signed.clone();
    resigned.signature = Some(Signature { signer_name: "Someone else".into(), ..signature });
    let review = reviewed(&cast.engineer, &signed, &resigned);
    assert_eq!(review.refused[0].reason, RefusalReason::SetOnce);
}

#[test]
fn ticking_a_checklist_item_must_name_the_engineer() {
    let (cast, before) = setup();
    let mut after = before.clone();
    after.checklist.insert("fans".into(), ChecklistItemState { done: true, by: cast.engineer, at: NOW });
    assert!(reviewed(&cast.engineer, &before, &after).is_clean());
    after.checklist.insert("psu".into(), ChecklistItemState { done: true, by: cast.dispatcher, at: NOW });
    let review = reviewed(&cast.engineer, &before, &after);
    assert_eq!(review.refused[0].entry, Some(EntryKey::Key("psu".into())));
    assert!(!corrected_ticket(&review).checklist.contains_key("psu"));
    assert!(corrected_ticket(&review).checklist.contains_key("fans"));
}

#[test]
fn an_engineer_may_edit_the_description_but_not_the_title() {
    let (cast, before) = setup();
    let mut after = before.clone();
    after.description = Text::with_value(format!("{} Also: fan noise.", before.description.as_str()));
    after.title = "Something else".into();
    let review = reviewed(&cast.engineer, &before, &after);
    assert_eq!(review.refused.len(), 1);
    assert_eq!((review.refused[0].field, &review.refused[0].reason), ("title", &RefusalReason::CreationOnly));
    assert_eq!(corrected_ticket(&review).description.as_str(), after.description.as_str());
}

#[test]
fn an_engineer_who_was_never_assigned_may_not_write_the_ticket_at_all() {
    let (cast, before) = setup();
    let mut after = before.clone();
    after.work_log.push(note(cast.second_engineer, 1));
    let verdict = review(&cast.second_engineer, Some(&Document::Ticket(before)), &Document::Ticket(after));
    assert_eq!(verdict, Verdict::Refused(WholeRefusal::NotAssigned));
}

#[test]
fn a_partner_engineer_may_not_write_another_partners_ticket() {
    let (cast, mut before) = setup();
    before.transitions[0].assignee = Some(Assignee { engineer: None, partner_org: Some(cast.partner) });
    let mut after = before.clone();
    after.work_log.push(note(cast.other_partner_engineer, 1));
    let verdict =
        review(&cast.other_partner_engineer, Some(&Document::Ticket(before.clone())), &Document::Ticket(after.clone()));
    assert_eq!(verdict, Verdict::Refused(WholeRefusal::NotAssigned));

    let mut own = before.clone();
    own.work_log.push(note(cast.partner_engineer, 2));
    assert!(reviewed(&cast.partner_engineer, &before, &own).is_clean(), "the assigned partner may write");
}

#[test]
fn an_engineer_reassigned_while_offline_still_syncs_their_notes() {
    let (cast, mut before) = setup();
    before.transitions.push(Transition {
        id: EntryId::from_u128(50),
        from: TicketStatus::OnSite,
        to: TicketStatus::Assigned,
        at: NOW,
        by: cast.dispatcher,
        assignee: Some(Assignee { engineer: Some(cast.second_engineer.user), partner_org: None }),
        reason: None,
    });
    let mut after = before.clone();
    after.work_log.push(note(cast.engineer, 1));
    assert!(reviewed(&cast.engineer, &before, &after).is_clean(), "nothing valid is ever dropped");
}

#[test]
fn an_engineer_creating_a_ticket_may_describe_it_but_not_set_its_sla() {
    let cast = Cast::default();
    let mut ticket = Ticket::new(
        crate::ids::DocId::from_u128(5),
        cast.engineer,
        NOW,
        "D-1".into(),
        "Found a second failed disk".into(),
        crate::ids::DocId::from_u128(6),
    );
    ticket.category = "hardware fault".into();
    ticket.sla.reaction_due = Some(NOW);
    let verdict = review(&cast.engineer, None, &Document::Ticket(ticket));
    let Verdict::Reviewed(review) = verdict else { panic!("engineers may create tickets") };
    assert_eq!(review.refused.iter().map(|r| r.field).collect::<Vec<_>>(), vec!["sla"]);
    assert_eq!(corrected_ticket(&review).category, "hardware fault");
    assert_eq!(corrected_ticket(&review).sla.reaction_due, None);
}

#[test]
fn the_parts_desk_may_add_a_note_but_not_attachments() {
    let (cast, before) = setup();
    let mut after = before.clone();
    after.work_log.push(note(cast.parts_desk, 1));
    after.attachments.push(Attachment {
        id: EntryId::from_u128(2),
        hash: ContentHash("b".repeat(64)),
        thumbnail: None,
        name: "x.jpg".into(),
        mime: "image/jpeg".into(),
        size: 1,
        at: NOW,
        by: cast.parts_desk,
    });
    let review = reviewed(&cast.parts_desk, &before, &after);
    assert_eq!(review.refused.iter().map(|r| r.field).collect::<Vec<_>>(), vec!["attachments"]);
}

#[test]
fn only_the_desk_writes_reference_data() {
    let cast = Cast::default();
    let kb = Document::KbArticle(crate::model::KbArticle {
        id: crate::ids::DocId::from_u128(1),
        title: "Resetting a RAID controller".into(),
        body: Text::with_value("Hold the reset button..."),
        tags: vec![],
        language: "en".into(),
        attributes: Default::default(),
    });
    assert_eq!(review(&cast.engineer, None, &kb), Verdict::Refused(WholeRefusal::ReferenceData));
    assert!(matches!(review(&cast.admin, None, &kb), Verdict::Reviewed(_)));
}

#[test]
fn a_change_may_not_turn_a_document_into_another_kind() {
    let (cast, ticket) = setup();
    let equipment = Equipment::new(ticket.id, "SN1".into(), "X".into(), ticket.client);
    let verdict = review(&cast.admin, Some(&Document::Ticket(ticket)), &Document::Equipment(equipment));
    assert_eq!(verdict, Verdict::Refused(WholeRefusal::KindChanged));
}

#[test]
fn partner_engineers_only_read_equipment() {
    let cast = Cast::default();
    let equipment =
        Equipment::new(crate::ids::DocId::from_u128(1), "SN1".into(), "X".into(), crate::ids::DocId::from_u128(2));
    let mut after = equipment.clone();
    after.location_note = "rack 4".into();
    let verdict = review(&cast.partner_engineer, Some(&Document::Equipment(equipment)), &Document::Equipment(after));
    assert_eq!(verdict, Verdict::Refused(WholeRefusal::RoleMayNotWrite(DocKind::Equipment)));
}

#[test]
fn an_engineer_may_not_change_an_equipment_serial_but_may_note_its_location() {
    let cast = Cast::default();
    let before =
        Equipment::new(crate::ids::DocId::from_u128(1), "SN1".into(), "X".into(), crate::ids::DocId::from_u128(2));
    let mut after = before.clone();
    after.location_note = "rack 4, unit 12".into();
    after.serial = "SN2".into();
    let Verdict::Reviewed(review) =
        review(&cast.engineer, Some(&Document::Equipment(before)), &Document::Equipment(after))
    else {
        panic!("engineers keep equipment records current")
    };
    assert_eq!(review.refused.iter().map(|r| r.field).collect::<Vec<_>>(), vec!["serial"]);
}

fn part_request(cast: &Cast) -> PartRequest {
    PartRequest::new(
        crate::ids::DocId::from_u128(1),
        crate::ids::DocId::from_u128(2),
        cast.partner_engineer,
        NOW,
        "HDD-600".into(),
        2,
    )
}

#[test]
fn a_partner_engineer_may_request_a_part_for_their_company_only() {
    let cast = Cast::default();
    let request = part_request(&cast);
    assert!(
        matches!(review(&cast.partner_engineer, None, &Document::PartRequest(request.clone())), Verdict::Reviewed(r) if r.is_clean())
    );
    assert_eq!(
        review(
            &cast.other_partner_engineer,
            Some(&Document::PartRequest(request.clone())),
            &Document::PartRequest(request)
        ),
        Verdict::Refused(WholeRefusal::OtherOrg)
    );
}

#[test]
fn a_forged_requester_is_put_right() {
    let cast = Cast::default();
    let mut request = part_request(&cast);
    request.requested_by = cast.engineer;
    request.org = cast.partner;
    let Verdict::Reviewed(review) = review(&cast.partner_engineer, None, &Document::PartRequest(request)) else {
        panic!("the request itself is the partner's to make")
    };
    assert_eq!(review.refused[0].reason, RefusalReason::ForgedAuthor);
    let Some(Document::PartRequest(fixed)) = review.corrected else { panic!("a correction is due") };
    assert_eq!(fixed.requested_by, cast.partner_engineer);
}

#[test]
fn only_the_warehouse_sets_tracking_numbers_and_approves() {
    let cast = Cast::default();
    let before = part_request(&cast);
    let mut after = before.clone();
    after.tracking_number = Some("CDEK-1234".into());
    after.transitions.push(PartTransition {
        id: EntryId::from_u128(3),
        from: PartStatus::Requested,
        to: PartStatus::Approved,
        at: NOW,
        by: cast.partner_engineer,
        reason: None,
    });
    let Verdict::Reviewed(engineer) = review(
        &cast.partner_engineer,
        Some(&Document::PartRequest(before.clone())),
        &Document::PartRequest(after.clone()),
    ) else {
        panic!()
    };
    assert_eq!(engineer.refused.iter().map(|r| r.field).collect::<Vec<_>>(), vec!["tracking_number", "transitions"]);
    after.transitions[0].by = cast.parts_desk;
    let Verdict::Reviewed(desk) =
        review(&cast.parts_desk, Some(&Document::PartRequest(before)), &Document::PartRequest(after))
    else {
        panic!()
    };
    assert!(desk.is_clean(), "{:?}", desk.refused);
}

#[test]
fn a_partner_reads_only_tickets_assigned_to_their_company() {
    let (cast, mut ticket) = setup();
    ticket.transitions[0].assignee = Some(Assignee { engineer: None, partner_org: Some(cast.partner) });
    let doc = Document::Ticket(ticket);
    assert!(may_read(&cast.partner_engineer, &doc, false));
    assert!(!may_read(&cast.other_partner_engineer, &doc, false));
    assert!(may_read(&cast.dispatcher, &doc, false));
}

#[test]
fn equipment_is_readable_to_field_users_only_through_their_tickets() {
    let cast = Cast::default();
    let equipment = Document::Equipment(Equipment::new(
        crate::ids::DocId::from_u128(1),
        "SN".into(),
        "M".into(),
        crate::ids::DocId::from_u128(2),
    ));
    assert!(!may_read(&cast.partner_engineer, &equipment, false));
    assert!(may_read(&cast.partner_engineer, &equipment, true));
}
