-- Failed pairing attempts, for the throttle: per address and in total.
CREATE TABLE pairing_failures (
    address TEXT NOT NULL,
    at BIGINT NOT NULL
);
CREATE INDEX pairing_failures_at ON pairing_failures (at);
CREATE INDEX pairing_failures_address ON pairing_failures (address, at);

-- Who added each blob reference (the author the document's entry names).
-- A reference lets a document's readers reach a blob only if its author
-- holds the blob. References from before this migration have no author and
-- were written under the earlier rules: they stay as they were.
ALTER TABLE blob_refs ADD COLUMN author TEXT;
-- People who hold a blob's bytes: they uploaded them, proved them again,
-- or could already reach the blob when they referenced it.
CREATE TABLE blob_holders (
    hash TEXT NOT NULL,
    user_id TEXT NOT NULL,
    PRIMARY KEY (hash, user_id)
);
-- Who sent each chunk of an upload in progress.
ALTER TABLE blob_chunks ADD COLUMN uploaded_by TEXT;
-- Uploads that prove possession of a blob the desk already holds whole.
CREATE TABLE blob_proofs (
    hash TEXT NOT NULL,
    user_id TEXT NOT NULL,
    received BIGINT NOT NULL,
    PRIMARY KEY (hash, user_id)
);
