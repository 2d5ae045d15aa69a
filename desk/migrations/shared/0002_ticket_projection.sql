-- Tickets as plain rows for the dispatchers' queries; rewritten with every
-- write of the ticket's document, in the same transaction.
CREATE TABLE tickets (
    id TEXT PRIMARY KEY REFERENCES documents (id),
    number TEXT NOT NULL,
    title TEXT NOT NULL,
    status TEXT NOT NULL,
    priority TEXT NOT NULL,
    support_level TEXT NOT NULL,
    product_team TEXT NOT NULL,
    region TEXT NOT NULL,
    client_id TEXT NOT NULL,
    assignee_user TEXT,
    partner_org TEXT,
    reaction_due BIGINT,
    resolution_due BIGINT,
    first_response_at BIGINT,
    resolved_at BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    search TEXT NOT NULL
);
CREATE INDEX tickets_status ON tickets (status);
CREATE INDEX tickets_assignee ON tickets (assignee_user);
CREATE INDEX tickets_partner ON tickets (partner_org);
CREATE INDEX tickets_resolution_due ON tickets (resolution_due);
