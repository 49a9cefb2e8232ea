DROP INDEX tasks_by_keywords_desc;
DROP INDEX tasks_by_keywords;
DROP INDEX tasks_by_status_desc;
ALTER TABLE tasks DROP COLUMN keywords_key;
