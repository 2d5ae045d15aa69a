-- Full-text search over tickets: an FTS5 index kept in step with the
-- projection's search text by triggers.
CREATE VIRTUAL TABLE tickets_fts USING fts5(id UNINDEXED, search, tokenize = 'unicode61 remove_diacritics 2');
INSERT INTO tickets_fts (id, search) SELECT id, search FROM tickets;
CREATE TRIGGER tickets_fts_insert AFTER INSERT ON tickets BEGIN
    INSERT INTO tickets_fts (id, search) VALUES (new.id, new.search);
END;
CREATE TRIGGER tickets_fts_update AFTER UPDATE OF search ON tickets BEGIN
    DELETE FROM tickets_fts WHERE id = old.id;
    INSERT INTO tickets_fts (id, search) VALUES (new.id, new.search);
END;
