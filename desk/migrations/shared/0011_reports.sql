-- What the reports count: labour recorded on tickets, one row per finished
-- time entry, and the points each ticket charged. The desk fills both from
-- the documents right after this migration.
CREATE TABLE ticket_time (
    ticket_id TEXT NOT NULL REFERENCES documents (id),
    entry_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    user_id TEXT NOT NULL,
    org_id TEXT NOT NULL,
    started_at BIGINT NOT NULL,
    ended_at BIGINT NOT NULL,
    PRIMARY KEY (ticket_id, entry_id)
);
CREATE INDEX ticket_time_started ON ticket_time (started_at);
ALTER TABLE tickets ADD COLUMN points_charged BIGINT;
CREATE INDEX tickets_created ON tickets (created_at);
