DROP TRIGGER documents_search_delete;
DROP TABLE search_progress;
DROP TABLE documents_search;
