-- The device's store: automerge documents, their projections, sync state.

-- One row per automerge document: a snapshot plus the change chunks appended
-- since (compacted into the snapshot every few dozen edits).
CREATE TABLE documents (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    snapshot BLOB NOT NULL,
    change_count INTEGER NOT NULL DEFAULT 0,
    -- The heads the desk acknowledged, 32 bytes each, concatenated.
    acked BLOB NOT NULL DEFAULT x'',
    -- 1 while the document may hold changes the desk lacks.
    dirty INTEGER NOT NULL DEFAULT 0,
    updated_at INTEGER NOT NULL
);
CREATE INDEX documents_dirty ON documents (dirty) WHERE dirty = 1;

CREATE TABLE document_changes (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    doc_id TEXT NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
    bytes BLOB NOT NULL
);
CREATE INDEX document_changes_doc ON document_changes (doc_id, seq);

-- Settings and sync state: pairing, the session's cursor, last sync.
CREATE TABLE device (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE tickets (
    id TEXT PRIMARY KEY,
    number TEXT NOT NULL,
    title TEXT NOT NULL,
    status TEXT NOT NULL,
    priority TEXT NOT NULL,
    support_level TEXT NOT NULL,
    assignee_user TEXT,
    assignee_org TEXT,
    client_id TEXT NOT NULL,
    site_id TEXT,
    address TEXT NOT NULL,
    region TEXT NOT NULL,
    contact_name TEXT NOT NULL,
    contact_phone TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    reaction_due INTEGER,
    resolution_due INTEGER,
    first_response_at INTEGER,
    -- The next deadline that counts while the ticket is open; NULL once done.
    due_at INTEGER,
    running_timer INTEGER NOT NULL DEFAULT 0,
    conflicts INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX tickets_due ON tickets (due_at);
CREATE INDEX tickets_status ON tickets (status);
CREATE INDEX tickets_client ON tickets (client_id);
CREATE INDEX tickets_site ON tickets (site_id);

CREATE TABLE ticket_equipment (
    ticket_id TEXT NOT NULL,
    equipment_id TEXT NOT NULL,
    PRIMARY KEY (ticket_id, equipment_id)
);
CREATE INDEX ticket_equipment_equipment ON ticket_equipment (equipment_id);

CREATE TABLE ticket_visits (
    ticket_id TEXT NOT NULL,
    arrived INTEGER NOT NULL,
    left_at INTEGER
);
CREATE INDEX ticket_visits_ticket ON ticket_visits (ticket_id);
CREATE INDEX ticket_visits_arrived ON ticket_visits (arrived);

-- Workflow conflicts the fold resolved, in words.
CREATE TABLE conflicts (
    doc_id TEXT NOT NULL,
    entry_id TEXT NOT NULL,
    at INTEGER NOT NULL,
    explanation TEXT NOT NULL,
    PRIMARY KEY (doc_id, entry_id)
);

CREATE TABLE equipment (
    id TEXT PRIMARY KEY,
    serial TEXT NOT NULL,
    model TEXT NOT NULL,
    vendor TEXT NOT NULL,
    client_id TEXT NOT NULL,
    site_id TEXT,
    location_note TEXT NOT NULL,
    covered_until INTEGER
);
CREATE INDEX equipment_serial ON equipment (serial COLLATE NOCASE);

CREATE TABLE part_requests (
    id TEXT PRIMARY KEY,
    ticket_id TEXT NOT NULL,
    part_number TEXT NOT NULL,
    description TEXT NOT NULL,
    quantity INTEGER NOT NULL,
    status TEXT NOT NULL,
    requested_by TEXT NOT NULL,
    requested_at INTEGER NOT NULL,
    tracking_number TEXT,
    installed_serial TEXT,
    removed_serial TEXT
);
CREATE INDEX part_requests_ticket ON part_requests (ticket_id);

-- Clients, sites, checklist templates, knowledge-base articles.
CREATE TABLE reference (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    detail TEXT NOT NULL
);
CREATE INDEX reference_kind ON reference (kind, name);

-- Full-text search: one row per document, over its own words; a ticket is
-- also found through its client, site and equipment rows.
CREATE VIRTUAL TABLE search USING fts5 (
    doc_id UNINDEXED,
    kind UNINDEXED,
    title,
    body,
    tokenize = 'unicode61 remove_diacritics 2'
);

-- What sync reported: edits the desk refused, documents it refused whole.
CREATE TABLE notices (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    doc_id TEXT NOT NULL,
    at INTEGER NOT NULL,
    kind TEXT NOT NULL,
    field TEXT,
    explanation TEXT NOT NULL
);

-- Photos, thumbnails, signatures: bytes kept until the desk has them.
CREATE TABLE blobs (
    hash TEXT PRIMARY KEY,
    doc_id TEXT NOT NULL,
    mime TEXT NOT NULL,
    bytes BLOB NOT NULL,
    -- Lower goes first: thumbnails and signatures before full images.
    upload_rank INTEGER NOT NULL,
    uploaded INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL
);
CREATE INDEX blobs_pending ON blobs (uploaded, upload_rank, created_at);
