-- Failed pairing attempts, for the throttle: per address and in total.
CREATE TABLE pairing_failures (
    address TEXT NOT NULL,
    at BIGINT NOT NULL
);
CREATE INDEX pairing_failures_at ON pairing_failures (at);
CREATE INDEX pairing_failures_address ON pairing_failures (address, at);

-- A document's references to blobs, with the person whose entry names each
-- (an attachment's or signature's author). A link lets the document's
-- readers reach the blob only while its author holds the blob. The older
-- `blob_refs` keep what they granted: they were written before any device
-- could name a hash it had not uploaded.
CREATE TABLE blob_links (
    hash TEXT NOT NULL,
    doc_id TEXT NOT NULL REFERENCES documents (id),
    author TEXT NOT NULL,
    PRIMARY KEY (hash, doc_id, author)
);
-- People who hold a blob's bytes: they uploaded them (or uploaded them
-- again to prove it), or could already reach the blob.
CREATE TABLE blob_holders (
    hash TEXT NOT NULL,
    user_id TEXT NOT NULL,
    PRIMARY KEY (hash, user_id)
);
-- Uploads now go through each uploader's own staging: uploads left
-- incomplete before this version start again from the first byte.
DELETE FROM blob_chunks WHERE hash IN (SELECT hash FROM blobs WHERE complete = 0);
DELETE FROM blobs WHERE complete = 0;

-- The feed position at which each reader was granted a document: a device
-- whose cursor is older gets the document whole, not just what changed
-- since. Grants from before this version count as made at the start.
ALTER TABLE document_readers ADD COLUMN granted_seq BIGINT NOT NULL DEFAULT 0;
