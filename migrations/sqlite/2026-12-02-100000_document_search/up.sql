-- A trigram index of the documents' search text for ListDocuments' words.
-- The store's writer fills it in batches between its commits (not a
-- trigger on the crawl's inserts); search_progress says up to which rowid.
CREATE VIRTUAL TABLE documents_search USING fts5(search_text, content = 'documents', content_rowid = 'rowid', tokenize = 'trigram');
CREATE TABLE search_progress (
    name TEXT PRIMARY KEY NOT NULL,
    indexed_up_to BIGINT NOT NULL
);
INSERT INTO search_progress (name, indexed_up_to) VALUES ('documents', 0);
-- A deleted document leaves the index. Should the newest documents go, new
-- ones may take their rowids again: the mark goes back to the newest left.
CREATE TRIGGER documents_search_delete AFTER DELETE ON documents
WHEN old.rowid <= (SELECT indexed_up_to FROM search_progress WHERE name = 'documents')
BEGIN
    INSERT INTO documents_search (documents_search, rowid, search_text) VALUES ('delete', old.rowid, old.search_text);
    UPDATE search_progress SET indexed_up_to = (SELECT coalesce(max(rowid), 0) FROM documents)
        WHERE name = 'documents' AND indexed_up_to > (SELECT coalesce(max(rowid), 0) FROM documents);
END;
