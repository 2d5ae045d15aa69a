-- The ticket search index reads its text from a table keyed by ticket with
-- a stable integer row, so replacing a ticket's text is an index lookup:
-- deleting from the FTS5 table by its unindexed id column scanned the
-- whole index on every ticket update.
DROP TRIGGER tickets_fts_insert;
DROP TRIGGER tickets_fts_update;
DROP TABLE tickets_fts;
CREATE TABLE ticket_search (
    row INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    search TEXT NOT NULL
);
INSERT INTO ticket_search (id, search) SELECT id, search FROM tickets;
CREATE VIRTUAL TABLE tickets_fts USING fts5(
    id UNINDEXED,
    search,
    content = 'ticket_search',
    content_rowid = 'row',
    tokenize = 'unicode61 remove_diacritics 2'
);
INSERT INTO tickets_fts (tickets_fts) VALUES ('rebuild');
CREATE TRIGGER ticket_search_insert AFTER INSERT ON ticket_search BEGIN
    INSERT INTO tickets_fts (rowid, id, search) VALUES (new.row, new.id, new.search);
END;
CREATE TRIGGER ticket_search_update AFTER UPDATE ON ticket_search BEGIN
    INSERT INTO tickets_fts (tickets_fts, rowid, id, search) VALUES ('delete', old.row, old.id, old.search);
    INSERT INTO tickets_fts (rowid, id, search) VALUES (new.row, new.id, new.search);
END;
CREATE TRIGGER tickets_search_insert AFTER INSERT ON tickets BEGIN
    INSERT INTO ticket_search (id, search) VALUES (new.id, new.search);
END;
CREATE TRIGGER tickets_search_update AFTER UPDATE OF search ON tickets BEGIN
    UPDATE ticket_search SET search = new.search WHERE id = new.id;
END;
CREATE TRIGGER ticket_search_delete AFTER DELETE ON ticket_search BEGIN
    INSERT INTO tickets_fts (tickets_fts, rowid, id, search) VALUES ('delete', old.row, old.id, old.search);
END;
CREATE TRIGGER tickets_search_delete AFTER DELETE ON tickets BEGIN
    DELETE FROM ticket_search WHERE id = old.id;
END;
