-- The live follower reads the withdrawals made in a span of the feed.
CREATE INDEX document_withdrawals_seq ON document_withdrawals (seq);
