DROP TABLE task_events;
DROP TABLE task_documents;
DROP TABLE documents;
DROP TABLE operations;
DROP TABLE tasks;
