-- People by name, from the desk's directories: who did what, by name.
CREATE TABLE people (
    doc_id TEXT NOT NULL,
    id TEXT NOT NULL,
    org_id TEXT NOT NULL,
    name TEXT NOT NULL,
    role TEXT NOT NULL,
    PRIMARY KEY (doc_id, id)
);
CREATE INDEX people_id ON people (id);
