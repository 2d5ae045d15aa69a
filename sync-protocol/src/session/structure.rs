//! What a push did to the document's structure, not only to its values.
//!
//! The typed review compares hydrated values, and two documents can hydrate
//! equal while their structure differs: a log replaced by a new list holding
//! the same entries reads the same, yet a colleague's concurrent note on the
//! old list is gone with it. So before the typed review, the desk walks the
//! document as it was and checks, in the merged document:
//! - every container (map, list, text) keeps its object id at its place; a
//!   concurrent put at the same key is a conflict that keeps the old value
//!   among the conflicting ones, so honest concurrent work passes;
//! - every list element stays, in its order (log entries are never deleted,
//!   moved or overwritten), except where the author is a desk role, whose
//!   removals the typed review judges.
//!
//! Text objects are free text: characters come and go, the object stays.

use automerge::{AutoCommit, ChangeHash, ObjId, ObjType, ReadDoc, Value, ValueRef, ROOT};

/// A structural edit the desk refuses, with where it happened.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum StructureError {
    #[error("{path}: the container was replaced or removed; containers keep their identity for life")]
    ContainerReplaced { path: String },
    #[error("{path}: a list entry was removed, moved or overwritten; log entries are only ever added")]
    EntryRemoved { path: String },
    #[error("{path}: text holds a NUL character, which no store keeps as sent")]
    NulInText { path: String },
}

/// Checks that no text in the document, a key, a string or a text object,
/// holds a NUL character (PostgreSQL refuses it), conflicting values
/// included: a losing value today may win once the winner is deleted.
pub fn check_text(doc: &AutoCommit) -> Result<(), StructureError> {
    text_in(doc, &ROOT, ObjType::Map, "")
}

fn text_in(doc: &AutoCommit, obj: &ObjId, kind: ObjType, path: &str) -> Result<(), StructureError> {
    let nul = |path: String| StructureError::NulInText { path: path.escape_default().to_string() };
    let check_values = |values: Vec<(Value<'_>, ObjId)>, path: String| -> Result<(), StructureError> {
        for (value, id) in values {
            match value {
                Value::Object(child_kind) => text_in(doc, &id, child_kind, &path)?,
                Value::Scalar(scalar) => {
                    if matches!(scalar.as_ref(), automerge::ScalarValue::Str(text) if text.contains('\0')) {
                        return Err(nul(path));
                    }
                }
            }
        }
        Ok(())
    };
    match kind {
        ObjType::Map | ObjType::Table => {
            let keys: Vec<String> = doc.keys(obj).collect();
            for key in keys {
                let key_path = format!("{path}/{key}");
                if key.contains('\0') {
                    return Err(nul(key_path));
                }
                check_values(doc.get_all(obj, key.as_str()).unwrap_or_default(), key_path)?;
            }
            Ok(())
        }
        ObjType::List => (0..doc.length(obj))
            .try_for_each(|index| check_values(doc.get_all(obj, index).unwrap_or_default(), format!("{path}/{index}"))),
        ObjType::Text if doc.text(obj).is_ok_and(|text| text.contains('\0')) => Err(nul(path.to_owned())),
        ObjType::Text => Ok(()),
    }
}

/// Checks that going from `before` to the document's current heads keeps
/// every container and (unless `may_remove_entries`) every list element.
pub fn check_structure(
    doc: &AutoCommit,
    before: &[ChangeHash],
    may_remove_entries: bool,
) -> Result<(), StructureError> {
    if before.is_empty() {
        return Ok(());
    }
    walk(doc, before, &ROOT, ObjType::Map, "", may_remove_entries)
}

fn walk(
    doc: &AutoCommit,
    before: &[ChangeHash],
    obj: &ObjId,
    kind: ObjType,
    path: &str,
    may_remove_entries: bool,
) -> Result<(), StructureError> {
    match kind {
        ObjType::Map | ObjType::Table => {
            for item in doc.map_range_at(obj, .., before) {
                let ValueRef::Object(child_kind) = item.value else { continue };
                let child = item.id();
                let child_path = format!("{path}/{}", item.key);
                let still_there = doc.get_all(obj, item.key.as_ref()).is_ok_and(|values| {
                    values.iter().any(|(value, id)| matches!(value, Value::Object(_)) && *id == child)
                });
                if !still_there {
                    return Err(StructureError::ContainerReplaced { path: child_path });
                }
                walk(doc, before, &child, child_kind, &child_path, may_remove_entries)?;
            }
            Ok(())
        }
        ObjType::List => {
            let old: Vec<(ObjId, Option<ObjType>)> = doc
                .list_range_at(obj, .., before)
                .map(|item| {
                    let kind = match item.value {
                        ValueRef::Object(kind) => Some(kind),
                        ValueRef::Scalar(_) => None,
                    };
                    (item.id(), kind)
                })
                .collect();
            if old.is_empty() {
                return Ok(());
            }
            // Each old element must appear, in order, among the current
            // elements (any of a conflicting element's values counts).
            let length = doc.length(obj);
            let mut next = 0;
            let mut found = vec![false; old.len()];
            for index in 0..length {
                if next == old.len() {
                    break;
                }
                let values = doc.get_all(obj, index).unwrap_or_default();
                if values.iter().any(|(_, id)| *id == old[next].0) {
                    found[next] = true;
                    next += 1;
                }
            }
            if next < old.len() && !may_remove_entries {
                return Err(StructureError::EntryRemoved { path: format!("{path}/{next}") });
            }
            for (index, ((child, child_kind), kept)) in old.iter().zip(&found).enumerate() {
                match child_kind {
                    Some(child_kind) if *kept => {
                        walk(doc, before, child, *child_kind, &format!("{path}/{index}"), may_remove_entries)?;
                    }
                    _ => {}
                }
            }
            Ok(())
        }
        ObjType::Text => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use automerge::transaction::Transactable;
    use automerge::ActorId;

    use super::*;

    /// A document with a log of two entries and a text, as a device has it.
    fn base() -> AutoCommit {
        let mut doc = AutoCommit::new().with_actor(ActorId::from([1; 16]));
        let log = doc.put_object(ROOT, "work_log", ObjType::List).unwrap();
        for text in ["first", "second"] {
            let entry = doc.insert_object(&log, doc.length(&log), ObjType::Map).unwrap();
            doc.put(&entry, "text", text).unwrap();
        }
        let description = doc.put_object(ROOT, "description", ObjType::Text).unwrap();
        doc.splice_text(&description, 0, 0, "Disk failed").unwrap();
        doc.commit();
        doc
    }

    fn fork(doc: &mut AutoCommit, actor: u8) -> AutoCommit {
        doc.fork().with_actor(ActorId::from([actor; 16]))
    }

    #[test]
    fn appending_to_a_log_and_editing_text_keep_the_structure() {
        let mut doc = base();
        let before = doc.get_heads();
        let (_, log) = doc.get(ROOT, "work_log").unwrap().unwrap();
        let entry = doc.insert_object(&log, 2, ObjType::Map).unwrap();
        doc.put(&entry, "text", "third").unwrap();
        let (_, text) = doc.get(ROOT, "description").unwrap().unwrap();
        doc.splice_text(&text, 0, 4, "Array").unwrap();
        doc.commit();
        assert_eq!(check_structure(&doc, &before, false), Ok(()));
    }

    #[test]
    fn nul_characters_are_found_in_strings_keys_texts_and_conflicts() {
        assert_eq!(check_text(&base()), Ok(()));
        let mut doc = base();
        let (_, log) = doc.get(ROOT, "work_log").unwrap().unwrap();
        let (_, entry) = doc.get(&log, 1).unwrap().unwrap();
        doc.put(&entry, "text", "sec\0ond").unwrap();
        assert_eq!(check_text(&doc), Err(StructureError::NulInText { path: "/work_log/1/text".into() }));
        let mut doc = base();
        doc.put(ROOT, "bad\0key", 1).unwrap();
        assert!(check_text(&doc).is_err());
        let mut doc = base();
        let (_, text) = doc.get(ROOT, "description").unwrap().unwrap();
        doc.splice_text(&text, 0, 0, "\0").unwrap();
        assert!(check_text(&doc).is_err());
        // A conflict: the hostile value loses to the other, yet is found.
        let mut doc = base();
        let mut other = fork(&mut doc, 2);
        doc.put(ROOT, "title", "z\0").unwrap();
        other.put(ROOT, "title", "fine").unwrap();
        doc.merge(&mut other).unwrap();
        assert!(check_text(&doc).is_err());
    }

    #[test]
    fn a_log_replaced_by_an_equal_copy_is_refused() {
        let mut doc = base();
        let before = doc.get_heads();
        let log = doc.put_object(ROOT, "work_log", ObjType::List).unwrap();
        for text in ["first", "second"] {
            let entry = doc.insert_object(&log, doc.length(&log), ObjType::Map).unwrap();
            doc.put(&entry, "text", text).unwrap();
        }
        doc.commit();
        assert_eq!(
            check_structure(&doc, &before, false),
            Err(StructureError::ContainerReplaced { path: "/work_log".into() }),
            "the copy reads the same but the old list, and what others add to it, is gone"
        );
    }

    #[test]
    fn a_text_replaced_by_a_new_one_is_refused() {
        let mut doc = base();
        let before = doc.get_heads();
        let text = doc.put_object(ROOT, "description", ObjType::Text).unwrap();
        doc.splice_text(&text, 0, 0, "Disk failed").unwrap();
        doc.commit();
        assert!(matches!(check_structure(&doc, &before, false), Err(StructureError::ContainerReplaced { .. })));
    }

    #[test]
    fn a_deleted_log_entry_is_refused_unless_the_desk_removes_it() {
        let mut doc = base();
        let before = doc.get_heads();
        let (_, log) = doc.get(ROOT, "work_log").unwrap().unwrap();
        doc.delete(&log, 0).unwrap();
        doc.commit();
        assert_eq!(
            check_structure(&doc, &before, false),
            Err(StructureError::EntryRemoved { path: "/work_log/0".into() })
        );
        assert_eq!(check_structure(&doc, &before, true), Ok(()), "the typed review judges the desk's removals");
    }

    #[test]
    fn an_overwritten_log_entry_is_refused() {
        let mut doc = base();
        let before = doc.get_heads();
        let (_, log) = doc.get(ROOT, "work_log").unwrap().unwrap();
        let entry = doc.put_object(&log, 1, ObjType::Map).unwrap();
        doc.put(&entry, "text", "second").unwrap();
        doc.commit();
        assert!(check_structure(&doc, &before, false).is_err());
    }

    #[test]
    fn concurrent_appends_by_two_devices_pass() {
        let mut desk = base();
        let before = desk.get_heads();
        let mut a = fork(&mut desk, 2);
        let mut b = fork(&mut desk, 3);
        for (device, text) in [(&mut a, "from a"), (&mut b, "from b")] {
            let (_, log) = device.get(ROOT, "work_log").unwrap().unwrap();
            let entry = device.insert_object(&log, 2, ObjType::Map).unwrap();
            device.put(&entry, "text", text).unwrap();
            device.commit();
        }
        desk.merge(&mut a).unwrap();
        let after_a = desk.get_heads();
        desk.merge(&mut b).unwrap();
        assert_eq!(check_structure(&desk, &before, false), Ok(()));
        assert_eq!(check_structure(&desk, &after_a, false), Ok(()), "b's entry lands beside a's, not over it");
    }

    #[test]
    fn a_concurrent_put_of_the_same_key_is_a_conflict_not_a_replacement() {
        let mut desk = AutoCommit::new().with_actor(ActorId::from([1; 16]));
        desk.put_object(ROOT, "checklist", ObjType::Map).unwrap();
        desk.commit();
        let mut a = fork(&mut desk, 2);
        let mut b = fork(&mut desk, 3);
        for device in [&mut a, &mut b] {
            let (_, checklist) = device.get(ROOT, "checklist").unwrap().unwrap();
            let item = device.put_object(&checklist, "power", ObjType::Map).unwrap();
            device.put(&item, "done", true).unwrap();
            device.commit();
        }
        desk.merge(&mut b).unwrap();
        let with_b = desk.get_heads();
        desk.merge(&mut a).unwrap();
        assert_eq!(check_structure(&desk, &with_b, false), Ok(()), "both ticks stay, one wins the read");
    }
}
