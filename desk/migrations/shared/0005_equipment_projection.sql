-- Equipment as plain rows: lookup by serial, lists by client and site.
CREATE TABLE equipment (
    id TEXT PRIMARY KEY REFERENCES documents (id),
    serial TEXT NOT NULL,
    model TEXT NOT NULL,
    vendor TEXT NOT NULL,
    class TEXT NOT NULL,
    client_id TEXT NOT NULL,
    site_id TEXT,
    covered_until BIGINT,
    updated_at BIGINT NOT NULL
);
CREATE INDEX equipment_serial ON equipment (serial);
CREATE INDEX equipment_client ON equipment (client_id);
