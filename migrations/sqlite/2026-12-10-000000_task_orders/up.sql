-- The orders of ListTasks beyond newest first, each served by an index that
-- ends like the list's tie-breaker (newest first, then id), so that a page
-- is read in order from where the previous one ended.
--
-- The keywords' sort key is written with each task (its keywords folded,
-- at most 100 characters); tasks created before this migration get their
-- stored keywords lower-cased, close enough to sort them among the others.
ALTER TABLE tasks ADD COLUMN keywords_key TEXT NOT NULL DEFAULT '';
UPDATE tasks SET keywords_key = substr(lower(replace(substr(keywords, 3, length(keywords) - 4), '","', ' ')), 1, 100);
CREATE INDEX tasks_by_status_desc ON tasks (status DESC, created_at DESC, id DESC);
CREATE INDEX tasks_by_keywords ON tasks (keywords_key, created_at DESC, id DESC);
CREATE INDEX tasks_by_keywords_desc ON tasks (keywords_key DESC, created_at DESC, id DESC);
