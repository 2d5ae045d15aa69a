//! Reading a document in one pass per object.
//!
//! autosurgeon reads a struct key by key and a list index by index, and
//! each `get` seeks through automerge's op set anew; for a worked ticket
//! (hundreds of fields across its logs) that was most of a device's first
//! sync. `OnePass` answers those reads from one `map_range` or
//! `list_range` per object, which return the same winning values `get`
//! does; text and anything unexpected go to the document itself. The
//! objects are read up front in one walk over the document (`iter`), which
//! costs a third of setting up a range per object: a ticket holds dozens
//! of small maps (each move, note and author is one).

use std::cell::RefCell;
use std::collections::HashMap;
use std::ops::RangeBounds;

use automerge::{self as am, AutoCommit, AutomergeError, ObjId, ObjType, Prop, Value};
use autosurgeon::ReadDoc;

pub(crate) struct OnePass<'a> {
    doc: &'a AutoCommit,
    objects: RefCell<HashMap<ObjId, Entries>>,
}

enum Entries {
    Map(HashMap<String, (Value<'static>, ObjId)>),
    List(Vec<(Value<'static>, ObjId)>),
    /// Text, or an object automerge would not list: read through the document.
    Direct,
}

impl<'a> OnePass<'a> {
    pub(crate) fn new(doc: &'a AutoCommit) -> Self {
        let mut objects: HashMap<ObjId, Entries> = HashMap::new();
        for am::iter::DocObjItem { obj, item } in am::ReadDoc::iter(doc) {
            let entries = objects.entry(ObjId::clone(&obj)).or_insert_with(|| match item {
                am::iter::DocItem::Map(_) => Entries::Map(HashMap::new()),
                am::iter::DocItem::List(_) => Entries::List(Vec::new()),
                am::iter::DocItem::Text(_) => Entries::Direct,
            });
            match (entries, item) {
                (Entries::Map(map), am::iter::DocItem::Map(item)) => {
                    let id = item.id();
                    map.insert(item.key.into_owned(), (item.value.into_value(), id));
                }
                (Entries::List(list), am::iter::DocItem::List(item)) => {
                    let id = item.id();
                    list.push((item.value.into_value(), id));
                }
                (entries, _) => *entries = Entries::Direct,
            }
        }
        // Objects without entries (empty ones) are read when asked for.
        Self { doc, objects: RefCell::new(objects) }
    }

    fn entries(&self, obj: &ObjId) -> Entries {
        match am::ReadDoc::object_type(self.doc, obj) {
            Ok(ObjType::Map | ObjType::Table) => Entries::Map(
                am::ReadDoc::map_range(self.doc, obj, ..)
                    .map(|item| {
                        let id = item.id();
                        (item.key.into_owned(), (item.value.into_value(), id))
                    })
                    .collect(),
            ),
            Ok(ObjType::List) => Entries::List(
                am::ReadDoc::list_range(self.doc, obj, ..)
                    .map(|item| {
                        let id = item.id();
                        (item.value.into_value(), id)
                    })
                    .collect(),
            ),
            Ok(ObjType::Text) | Err(_) => Entries::Direct,
        }
    }
}

impl ReadDoc for OnePass<'_> {
    type Parents<'b>
        = am::Parents<'b>
    where
        Self: 'b;

    fn get_heads(&self) -> Vec<am::ChangeHash> {
        ReadDoc::get_heads(self.doc)
    }

    fn get<P: Into<Prop>>(&self, obj: &ObjId, prop: P) -> Result<Option<(Value<'_>, ObjId)>, AutomergeError> {
        let prop = prop.into();
        let mut objects = self.objects.borrow_mut();
        let entries = objects.entry(obj.clone()).or_insert_with(|| self.entries(obj));
        match (entries, &prop) {
            (Entries::Map(map), Prop::Map(key)) => Ok(map.get(key).cloned()),
            (Entries::List(list), Prop::Seq(index)) => Ok(list.get(*index).cloned()),
            _ => {
                drop(objects);
                am::ReadDoc::get(self.doc, obj, prop)
            }
        }
    }

    fn object_type<O: AsRef<ObjId>>(&self, obj: O) -> Option<ObjType> {
        ReadDoc::object_type(self.doc, obj)
    }

    fn map_range<'b, O, R>(&'b self, obj: O, range: R) -> am::iter::MapRange<'b>
    where
        R: RangeBounds<String> + 'b,
        O: AsRef<ObjId>,
        R: RangeBounds<String>,
    {
        ReadDoc::map_range(self.doc, obj, range)
    }

    fn list_range<O: AsRef<ObjId>, R: RangeBounds<usize>>(&self, obj: O, range: R) -> am::iter::ListRange<'_> {
        ReadDoc::list_range(self.doc, obj, range)
    }

    fn length<O: AsRef<ObjId>>(&self, obj: O) -> usize {
        let obj = obj.as_ref();
        let mut objects = self.objects.borrow_mut();
        match objects.entry(obj.clone()).or_insert_with(|| self.entries(obj)) {
            Entries::Map(map) => map.len(),
            Entries::List(list) => list.len(),
            Entries::Direct => {
                drop(objects);
                ReadDoc::length(self.doc, obj)
            }
        }
    }

    fn text<O: AsRef<ObjId>>(&self, obj: O) -> Result<String, AutomergeError> {
        ReadDoc::text(self.doc, obj)
    }

    fn parents<O: AsRef<ObjId>>(&self, obj: O) -> Result<Self::Parents<'_>, AutomergeError> {
        ReadDoc::parents(self.doc, obj)
    }

    fn is_empty(&self) -> bool {
        ReadDoc::is_empty(self.doc)
    }
}

#[cfg(test)]
mod tests {
    use automerge::ActorId;

    use super::*;
    use crate::ids::Timestamp;
    use crate::model::{new_document, Document, Ticket};
    use crate::sample::{worked_ticket, Cast, Rng};

    fn both_ways(doc: &AutoCommit) -> (Ticket, Ticket) {
        let direct: Ticket = autosurgeon::hydrate(doc).expect("reads directly");
        let one_pass: Ticket = autosurgeon::hydrate(&OnePass::new(doc)).expect("reads in one pass");
        (direct, one_pass)
    }

    /// Worked tickets, and tickets two devices edited at once (conflicting
    /// keys, interleaved list inserts, removed entries, edited text), read
    /// the same through `OnePass` as through the document.
    #[test]
    fn one_pass_reads_what_the_document_holds() {
        let cast = Cast::default();
        let now = Timestamp(1_700_000_000_000);
        for seed in 0..40 {
            let mut rng = Rng::new(seed);
            let ticket = worked_ticket(&mut rng, &cast, seed, now);
            let mut a = new_document(&Document::Ticket(ticket.clone()), ActorId::from([1u8; 16])).unwrap();
            let (direct, one_pass) = both_ways(&a);
            assert_eq!(direct, one_pass, "seed {seed}: a worked ticket");

            let mut b = a.fork().with_actor(ActorId::from([2u8; 16]));
            let mut left = ticket.clone();
            left.title = format!("left {seed}");
            left.description.update(format!("{} and more on the left", left.description.as_str()));
            left.work_log.truncate(1);
            let mut right = ticket.clone();
            right.title = format!("right {seed}");
            right.priority = crate::model::Priority::P1;
            if let Some(note) = right.work_log.last_mut() {
                note.text = "changed on the right".into();
            }
            right.work_log.push(worked_ticket(&mut rng, &cast, seed + 100, now).work_log[0].clone());
            Document::Ticket(left).reconcile_into(&mut a).unwrap();
            Document::Ticket(right).reconcile_into(&mut b).unwrap();
            a.merge(&mut b).unwrap();
            let (direct, one_pass) = both_ways(&a);
            assert_eq!(direct, one_pass, "seed {seed}: after concurrent edits");
        }
    }
}
