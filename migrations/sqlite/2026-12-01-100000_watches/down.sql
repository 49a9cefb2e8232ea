DROP TABLE watch_notifications;
DROP TABLE watch_events;
DROP TABLE watch_documents;
DROP TABLE watch_runs;
DROP TABLE watches;
DROP INDEX tasks_by_watch;
ALTER TABLE tasks DROP COLUMN watch_id;
