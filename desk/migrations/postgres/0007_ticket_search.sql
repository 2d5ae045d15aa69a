-- Full-text search over tickets: a generated tsvector with a GIN index.
-- The 'simple' configuration: tickets mix Russian and English, so no stemming.
ALTER TABLE tickets ADD COLUMN search_vector tsvector GENERATED ALWAYS AS (to_tsvector('simple', search)) STORED;
CREATE INDEX tickets_search_vector ON tickets USING GIN (search_vector);
