-- The live follower reads the withdrawals made in a span of the feed.
CREATE INDEX document_withdrawals_seq ON document_withdrawals (seq);

-- Every desk process LISTENs on outpost_feed and looks at the feed when a
-- transaction that moved it commits, whichever process wrote. PostgreSQL
-- delivers a NOTIFY at commit (never for a rolled-back transaction) and
-- folds identical ones within a transaction into one.
CREATE FUNCTION outpost_feed_moved() RETURNS trigger AS $$
BEGIN
    PERFORM pg_notify('outpost_feed', '');
    RETURN NULL;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER feed_moved AFTER UPDATE ON feed_counter
    FOR EACH STATEMENT EXECUTE FUNCTION outpost_feed_moved();
