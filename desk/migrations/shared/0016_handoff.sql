-- Hand-off files. Each device's Ed25519 public key (hex), made on the device
-- at pairing: its outbox files must be signed with the private half, which
-- never leaves it. A revoked device's key goes with it.
ALTER TABLE devices ADD COLUMN public_key TEXT;
-- The last outbox file taken from the device (files count up; an older one
-- is a copy and changes nothing), and the feed position it said the device
-- had reached: where the desk's next file for it starts.
ALTER TABLE devices ADD COLUMN handoff_sequence BIGINT;
ALTER TABLE devices ADD COLUMN handoff_cursor BIGINT;
-- The desk's own keys: `handoff` signs the files it writes for devices,
-- which learn its public half at pairing.
CREATE TABLE desk_keys (
    purpose TEXT PRIMARY KEY,
    secret TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
