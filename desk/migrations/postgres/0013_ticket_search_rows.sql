-- Nothing to do: PostgreSQL's ticket search is a generated column with a
-- GIN index, updated in place (SQLite's FTS5 table is rebuilt here).
SELECT 1;
