-- Part requests as plain rows for the parts desk's queries.
CREATE TABLE part_requests (
    id TEXT PRIMARY KEY REFERENCES documents (id),
    ticket_id TEXT NOT NULL,
    org_id TEXT NOT NULL,
    part_number TEXT NOT NULL,
    description TEXT NOT NULL,
    quantity BIGINT NOT NULL,
    status TEXT NOT NULL,
    warehouse TEXT,
    tracking_number TEXT,
    requested_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX part_requests_status ON part_requests (status);
CREATE INDEX part_requests_ticket ON part_requests (ticket_id);
