-- A trigram index of the documents' search text (ListDocuments' query), like
-- the tasks' one. It follows the table by rowid: after a VACUUM, rebuild it
-- with INSERT INTO documents_search(documents_search) VALUES ('rebuild').
CREATE VIRTUAL TABLE documents_search USING fts5(search_text, content = 'documents', content_rowid = 'rowid', tokenize = 'trigram');
INSERT INTO documents_search (documents_search) VALUES ('rebuild');
CREATE TRIGGER documents_search_insert AFTER INSERT ON documents BEGIN
    INSERT INTO documents_search (rowid, search_text) VALUES (new.rowid, new.search_text);
END;
CREATE TRIGGER documents_search_delete AFTER DELETE ON documents BEGIN
    INSERT INTO documents_search (documents_search, rowid, search_text) VALUES ('delete', old.rowid, old.search_text);
END;
CREATE TRIGGER documents_search_update AFTER UPDATE OF search_text ON documents BEGIN
    INSERT INTO documents_search (documents_search, rowid, search_text) VALUES ('delete', old.rowid, old.search_text);
    INSERT INTO documents_search (rowid, search_text) VALUES (new.rowid, new.search_text);
END;
