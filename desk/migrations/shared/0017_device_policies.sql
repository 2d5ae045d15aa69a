-- What each company asks of its devices out of reach (`outpost_sync::policy`):
-- days a device may go without reaching the desk before it locks its data.
-- No row, or NULL: no such limit.
CREATE TABLE device_policies (
    org_id TEXT PRIMARY KEY REFERENCES orgs (id),
    contact_window_days BIGINT,
    updated_at BIGINT NOT NULL
);
