-- Each person's upload of a blob in progress, apart from everyone else's:
-- nobody can append to, or spoil, another's upload. A finished upload whose
-- bytes hash to the blob's name becomes the blob (or, if the desk holds it
-- already, proves its uploader holds it too) and its staging is dropped.
CREATE TABLE blob_uploads (
    hash TEXT NOT NULL,
    user_id TEXT NOT NULL,
    received BIGINT NOT NULL,
    PRIMARY KEY (hash, user_id)
);
CREATE TABLE blob_upload_chunks (
    hash TEXT NOT NULL,
    user_id TEXT NOT NULL,
    at BIGINT NOT NULL,
    bytes BLOB NOT NULL,
    PRIMARY KEY (hash, user_id, at)
);
