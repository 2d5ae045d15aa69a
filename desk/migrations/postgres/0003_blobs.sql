-- Content-addressed blobs (photos, signatures, files), uploaded in chunks.
CREATE TABLE blobs (
    hash TEXT PRIMARY KEY,
    received BIGINT NOT NULL,
    complete BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE TABLE blob_chunks (
    hash TEXT NOT NULL REFERENCES blobs (hash),
    at BIGINT NOT NULL,
    bytes BYTEA NOT NULL,
    PRIMARY KEY (hash, at)
);
-- Which documents reference a blob: access to a blob goes through them.
CREATE TABLE blob_refs (
    hash TEXT NOT NULL,
    doc_id TEXT NOT NULL REFERENCES documents (id),
    PRIMARY KEY (hash, doc_id)
);
