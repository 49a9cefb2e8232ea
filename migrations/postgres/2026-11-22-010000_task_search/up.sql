-- A trigram index of the tasks' search text: ListTasks' query is a
-- LIKE '%…%', which this index serves for rare words.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX tasks_search_trigrams ON tasks USING gin (search_text gin_trgm_ops);
