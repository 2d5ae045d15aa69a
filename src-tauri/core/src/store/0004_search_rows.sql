-- The search index reads its text from a plain table keyed by document, so
-- replacing a document's row is an index lookup: deleting from the FTS5
-- table by its unindexed doc_id column scanned the whole index, once per
-- stored document (most of a first sync's time).
CREATE TABLE search_rows (
    row INTEGER PRIMARY KEY,
    doc_id TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    title TEXT NOT NULL,
    body TEXT NOT NULL
);
INSERT INTO search_rows (doc_id, kind, title, body) SELECT doc_id, kind, title, body FROM search;
DROP TABLE search;
CREATE VIRTUAL TABLE search USING fts5 (
    doc_id UNINDEXED,
    kind UNINDEXED,
    title,
    body,
    content = 'search_rows',
    content_rowid = 'row',
    tokenize = 'unicode61 remove_diacritics 2'
);
INSERT INTO search (search) VALUES ('rebuild');
CREATE TRIGGER search_rows_insert AFTER INSERT ON search_rows BEGIN
    INSERT INTO search (rowid, doc_id, kind, title, body) VALUES (new.row, new.doc_id, new.kind, new.title, new.body);
END;
CREATE TRIGGER search_rows_delete AFTER DELETE ON search_rows BEGIN
    INSERT INTO search (search, rowid, doc_id, kind, title, body)
        VALUES ('delete', old.row, old.doc_id, old.kind, old.title, old.body);
END;
CREATE TRIGGER search_rows_update AFTER UPDATE ON search_rows BEGIN
    INSERT INTO search (search, rowid, doc_id, kind, title, body)
        VALUES ('delete', old.row, old.doc_id, old.kind, old.title, old.body);
    INSERT INTO search (rowid, doc_id, kind, title, body) VALUES (new.row, new.doc_id, new.kind, new.title, new.body);
END;
