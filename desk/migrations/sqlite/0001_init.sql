-- Accounts: companies, people, their API tokens, their devices and pairing codes.
CREATE TABLE orgs (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    is_service BIGINT NOT NULL
);
CREATE TABLE users (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES orgs (id),
    name TEXT NOT NULL,
    role TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE TABLE api_tokens (
    token_hash TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id),
    label TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT,
    revoked_at BIGINT
);
CREATE TABLE devices (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id),
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL,
    last_seen_at BIGINT,
    revoked_at BIGINT
);
CREATE TABLE pairing_codes (
    code_hash TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id),
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT
);

-- Documents: a compacted snapshot plus the change chunks appended since.
CREATE TABLE documents (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    snapshot BLOB NOT NULL,
    heads TEXT NOT NULL,
    seq BIGINT NOT NULL,
    pending_changes BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE TABLE document_changes (
    doc_id TEXT NOT NULL REFERENCES documents (id),
    n BIGINT NOT NULL,
    bytes BLOB NOT NULL,
    PRIMARY KEY (doc_id, n)
);
-- Who may read a document, besides the desk's people: 'user:<id>', 'org:<id>' or 'all'.
CREATE TABLE document_readers (
    doc_id TEXT NOT NULL REFERENCES documents (id),
    reader TEXT NOT NULL,
    PRIMARY KEY (doc_id, reader)
);
CREATE INDEX document_readers_reader ON document_readers (reader, doc_id);

-- The change feed: one entry per document update, with the heads it left.
CREATE TABLE feed (
    seq BIGINT PRIMARY KEY,
    doc_id TEXT NOT NULL REFERENCES documents (id),
    heads TEXT NOT NULL,
    at BIGINT NOT NULL
);
CREATE INDEX feed_doc_seq ON feed (doc_id, seq);
-- One row; writers take it in their transaction, so sequence numbers commit in order.
CREATE TABLE feed_counter (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    seq BIGINT NOT NULL
);
INSERT INTO feed_counter (id, seq) VALUES (1, 0);

-- What the desk refused or neutralised, and why.
CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at BIGINT NOT NULL,
    user_id TEXT,
    device_id TEXT,
    doc_id TEXT,
    action TEXT NOT NULL,
    detail TEXT NOT NULL
);
CREATE INDEX audit_log_at ON audit_log (at);
