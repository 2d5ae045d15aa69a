-- Grants remember their source: the document whose write made them (a
-- ticket grants its readers its client, site and equipment). A source that
-- stops granting (its ticket moved to another company) takes its grants
-- back, and a reader left with none is withdrawn: its devices are told to
-- drop the document. The desk fills the new table from the documents as
-- they read now, right after this migration.
CREATE TABLE document_grants (
    doc_id TEXT NOT NULL REFERENCES documents (id),
    reader TEXT NOT NULL,
    source_id TEXT NOT NULL,
    granted_seq BIGINT NOT NULL,
    PRIMARY KEY (doc_id, reader, source_id)
);
DROP TABLE document_readers;
ALTER TABLE document_grants RENAME TO document_readers;
CREATE INDEX document_readers_reader ON document_readers (reader, doc_id);
CREATE INDEX document_readers_source ON document_readers (source_id);

-- Readers who lost a document, at the feed position they lost it.
CREATE TABLE document_withdrawals (
    seq BIGINT NOT NULL,
    doc_id TEXT NOT NULL,
    reader TEXT NOT NULL
);
CREATE INDEX document_withdrawals_reader ON document_withdrawals (reader, seq);
