DROP TRIGGER documents_search_update;
DROP TRIGGER documents_search_delete;
DROP TRIGGER documents_search_insert;
DROP TABLE documents_search;
