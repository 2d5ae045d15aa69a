//! References grant nothing by themselves.
//!
//! A ticket names its client, site, equipment, checklist template and part
//! requests; a part request names its ticket and the equipment the part
//! goes into; an equipment record names its client and site. The desk lets a ticket's readers read what it names, so
//! a reference an author adds must point at a document of the kind the
//! field expects that the author may already read (or creates in the same
//! round). The desk knows who may read what; this module says which
//! references are new and puts right the ones that fail.

use std::collections::BTreeMap;

use super::{Refusal, RefusalReason, WholeRefusal};
use crate::ids::DocId;
use crate::model::{DocKind, Document};

/// One document a field points at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Reference {
    pub field: &'static str,
    pub doc: DocId,
    pub kind: DocKind,
}

/// Every reference a document holds.
pub fn references(document: &Document) -> Vec<Reference> {
    let at = |field, doc, kind| Reference { field, doc, kind };
    match document {
        Document::Ticket(t) => {
            let mut refs = vec![at("client", t.client, DocKind::Client)];
            refs.extend(t.site.site.map(|s| at("site", s, DocKind::Site)));
            refs.extend(t.checklist_template.map(|c| at("checklist_template", c, DocKind::ChecklistTemplate)));
            refs.extend(t.equipment.iter().map(|e| at("equipment", *e, DocKind::Equipment)));
            refs.extend(t.part_requests.iter().map(|p| at("part_requests", *p, DocKind::PartRequest)));
            refs
        }
        Document::PartRequest(p) => {
            let mut refs = vec![at("ticket", p.ticket, DocKind::Ticket)];
            refs.extend(p.equipment.map(|e| at("equipment", e, DocKind::Equipment)));
            refs
        }
        Document::Equipment(e) => {
            let mut refs = vec![at("client", e.client, DocKind::Client)];
            refs.extend(e.site.map(|s| at("site", s, DocKind::Site)));
            refs
        }
        Document::Client(_)
        | Document::Site(_)
        | Document::ChecklistTemplate(_)
        | Document::KbArticle(_)
        | Document::Directory(_) => Vec::new(),
    }
}

/// The references `after` holds that `before` did not.
pub fn new_references(before: Option<&Document>, after: &Document) -> Vec<Reference> {
    let old = before.map(references).unwrap_or_default();
    references(after).into_iter().filter(|r| !old.iter().any(|o| o.field == r.field && o.doc == r.doc)).collect()
}

/// Puts right the new references of `corrected` that do not name a
/// document of the expected kind in `readable` (the documents the author
/// may read, with their kinds). A new document whose own identity rests on
/// a bad reference (a ticket's client, a part request's ticket, an
/// equipment record's client) is refused whole; list entries are dropped;
/// other fields go back to what they were.
pub fn review_references(
    before: Option<&Document>,
    corrected: &mut Document,
    readable: &BTreeMap<DocId, DocKind>,
) -> Result<Vec<Refusal>, WholeRefusal> {
    let bad: Vec<Reference> =
        new_references(before, corrected).into_iter().filter(|r| readable.get(&r.doc) != Some(&r.kind)).collect();
    let mut refused = Vec::new();
    for reference in bad {
        let entry = Some(super::EntryKey::Doc(reference.doc));
        refused.push(Refusal { field: reference.field, entry, reason: RefusalReason::UnreadableReference });
        match (&mut *corrected, before) {
            (Document::Ticket(t), before) => {
                let old = before.and_then(|b| match b {
                    Document::Ticket(b) => Some(b),
                    _ => None,
                });
                match reference.field {
                    "equipment" => t.equipment.retain(|e| *e != reference.doc),
                    "part_requests" => t.part_requests.retain(|p| *p != reference.doc),
                    "site" => t.site.site = old.and_then(|o| o.site.site),
                    "checklist_template" => t.checklist_template = old.and_then(|o| o.checklist_template),
                    _ => match old {
                        Some(old) => t.client = old.client,
                        None => return Err(WholeRefusal::UnreadableReference(reference.field)),
                    },
                }
            }
            (Document::Equipment(e), before) => match (reference.field, before) {
                ("site", Some(Document::Equipment(old))) => e.site = old.site,
                ("site", _) => e.site = None,
                ("client", Some(Document::Equipment(old))) => e.client = old.client,
                _ => return Err(WholeRefusal::UnreadableReference(reference.field)),
            },
            (Document::PartRequest(p), before) => match (reference.field, before) {
                ("equipment", Some(Document::PartRequest(old))) => p.equipment = old.equipment,
                ("equipment", _) => p.equipment = None,
                (_, Some(Document::PartRequest(old))) => p.ticket = old.ticket,
                _ => return Err(WholeRefusal::UnreadableReference(reference.field)),
            },
            _ => return Err(WholeRefusal::UnreadableReference(reference.field)),
        }
    }
    Ok(refused)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::Timestamp;
    use crate::model::{PartRequest, Ticket};
    use crate::sample::Cast;

    fn ticket(client: u128) -> Ticket {
        let cast = Cast::default();
        Ticket::new(
            DocId::from_u128(1),
            cast.engineer,
            Timestamp(0),
            "T-1".into(),
            "x".into(),
            DocId::from_u128(client),
        )
    }

    #[test]
    fn only_new_references_are_reviewed() {
        let before = ticket(2);
        let mut after = before.clone();
        after.equipment.push(DocId::from_u128(3));
        let new = new_references(Some(&Document::Ticket(before)), &Document::Ticket(after));
        assert_eq!(new, vec![Reference { field: "equipment", doc: DocId::from_u128(3), kind: DocKind::Equipment }]);
    }

    #[test]
    fn an_unreadable_equipment_link_is_dropped_and_a_readable_one_kept() {
        let before = Document::Ticket(ticket(2));
        let mut after = ticket(2);
        after.equipment = vec![DocId::from_u128(3), DocId::from_u128(4)];
        let mut corrected = Document::Ticket(after);
        let readable =
            BTreeMap::from([(DocId::from_u128(3), DocKind::Equipment), (DocId::from_u128(4), DocKind::Ticket)]);
        let refused = review_references(Some(&before), &mut corrected, &readable).unwrap();
        assert_eq!(refused.len(), 1, "a ticket named where equipment belongs is the wrong kind");
        let Document::Ticket(t) = corrected else { unreachable!() };
        assert_eq!(t.equipment, vec![DocId::from_u128(3)]);
    }

    #[test]
    fn a_new_ticket_for_an_unreadable_client_is_refused_whole() {
        let mut created = Document::Ticket(ticket(9));
        assert_eq!(
            review_references(None, &mut created, &BTreeMap::new()),
            Err(WholeRefusal::UnreadableReference("client"))
        );
    }

    #[test]
    fn a_part_request_on_an_unreadable_ticket_is_refused_whole() {
        let cast = Cast::default();
        let request =
            PartRequest::new(DocId::from_u128(5), DocId::from_u128(1), cast.engineer, Timestamp(0), "PSU".into(), 1);
        let mut created = Document::PartRequest(request);
        assert_eq!(
            review_references(None, &mut created, &BTreeMap::new()),
            Err(WholeRefusal::UnreadableReference("ticket"))
        );
    }
}
