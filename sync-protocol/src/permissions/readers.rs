//! Who may read a document, as a set of readers each store keeps beside
//! it. Each write of a document says what it grants now; what it granted
//! before and no longer does is withdrawn (a ticket moved to another
//! company takes its client, site and equipment along), unless another
//! document still grants it. Both the memory desk and the SQL desk keep
//! these grants by source, with the feed position each was made at, so a
//! device that gains a document gets it whole whatever its cursor, and a
//! device that loses one is told. Writing is another matter: whoever was
//! ever assigned may still send the work they did offline.

use crate::ids::{DocId, OrgId, UserId};
use crate::model::{Actor, Document};

/// One reader of a document: a person, a company, or every field user.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Reader {
    User(UserId),
    Org(OrgId),
    All,
}

impl Reader {
    /// The reader's key, as the SQL desk stores it.
    pub fn key(&self) -> String {
        match self {
            Self::User(user) => format!("user:{user}"),
            Self::Org(org) => format!("org:{org}"),
            Self::All => "all".to_owned(),
        }
    }

    /// The readers a field user counts as: themselves, their company, everyone.
    pub fn of(actor: &Actor) -> [Self; 3] {
        [Self::User(actor.user), Self::Org(actor.org), Self::All]
    }
}

/// What `document` grants as it reads now: its readers may read it, and,
/// for a ticket, the equipment, client and site it points to. A ticket's
/// readers are its creator and whoever the desk assigned it to last (the
/// engineer and the partner company). The references were checked readable
/// by the ticket's author before the ticket was stored, so a reference
/// grants nothing its author could not already read.
pub fn grants(document: &Document) -> Vec<(DocId, Reader)> {
    let readers: Vec<Reader> = match document {
        Document::Ticket(ticket) => std::iter::once(Reader::User(ticket.created_by.user))
            .chain(
                crate::workflow::fold_ticket(ticket)
                    .assignee
                    .into_iter()
                    .flat_map(|a| a.engineer.map(Reader::User).into_iter().chain(a.partner_org.map(Reader::Org))),
            )
            .collect(),
        Document::PartRequest(request) => vec![Reader::Org(request.org)],
        Document::ChecklistTemplate(_) | Document::KbArticle(_) => vec![Reader::All],
        Document::Directory(directory) if directory.everyone => vec![Reader::All],
        Document::Directory(directory) => vec![Reader::Org(directory.org)],
        Document::Equipment(_) | Document::Client(_) | Document::Site(_) => Vec::new(),
    };
    let mut docs = vec![document.id()];
    if let Document::Ticket(ticket) = document {
        docs.extend(ticket.equipment.iter().copied());
        docs.push(ticket.client);
        docs.extend(ticket.site.site);
    }
    let mut grants: Vec<(DocId, Reader)> =
        docs.into_iter().flat_map(|doc| readers.iter().map(move |reader| (doc, *reader))).collect();
    grants.sort();
    grants.dedup();
    grants
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::{EntryId, Timestamp};
    use crate::model::{Assignee, Role, Ticket, TicketStatus, Transition};

    fn actor(n: u128, role: Role) -> Actor {
        Actor { user: UserId::from_u128(n), org: OrgId::from_u128(100 + n), role }
    }

    #[test]
    fn a_ticket_grants_its_creator_and_desk_assignees_and_its_references() {
        let dispatcher = actor(1, Role::Dispatcher);
        let partner = actor(2, Role::PartnerEngineer);
        let mut ticket =
            Ticket::new(DocId::from_u128(9), dispatcher, Timestamp(0), "T-1".into(), "t".into(), DocId::from_u128(5));
        ticket.equipment.push(DocId::from_u128(6));
        ticket.transitions.push(Transition {
            id: EntryId::from_u128(1),
            from: TicketStatus::New,
            to: TicketStatus::Assigned,
            at: Timestamp(1),
            by: dispatcher,
            assignee: Some(Assignee { engineer: Some(partner.user), partner_org: Some(partner.org) }),
            reason: None,
        });
        // A field move naming someone grants nothing.
        ticket.transitions.push(Transition {
            id: EntryId::from_u128(2),
            from: TicketStatus::Assigned,
            to: TicketStatus::Assigned,
            at: Timestamp(2),
            by: partner,
            assignee: Some(Assignee { engineer: Some(UserId::from_u128(77)), partner_org: None }),
            reason: None,
        });
        let readers_of = |ticket: &Ticket, doc: u128| -> Vec<Reader> {
            let grants = grants(&Document::Ticket(ticket.clone()));
            grants.iter().filter(|(d, _)| *d == DocId::from_u128(doc)).map(|(_, r)| *r).collect()
        };
        let mut expected = vec![Reader::User(dispatcher.user), Reader::User(partner.user), Reader::Org(partner.org)];
        expected.sort();
        for doc in [9, 5, 6] {
            let mut got = readers_of(&ticket, doc);
            got.sort();
            assert_eq!(got, expected, "document {doc}");
        }

        // Moved to the desk's own engineer: the partner reads it no more.
        let engineer = actor(3, Role::Engineer);
        ticket.transitions.push(Transition {
            id: EntryId::from_u128(3),
            from: TicketStatus::Assigned,
            to: TicketStatus::Assigned,
            at: Timestamp(3),
            by: dispatcher,
            assignee: Some(Assignee { engineer: Some(engineer.user), partner_org: None }),
            reason: None,
        });
        let mut expected = vec![Reader::User(dispatcher.user), Reader::User(engineer.user)];
        expected.sort();
        for doc in [9, 5, 6] {
            let mut got = readers_of(&ticket, doc);
            got.sort();
            assert_eq!(got, expected, "document {doc} after the move");
        }
    }
}
