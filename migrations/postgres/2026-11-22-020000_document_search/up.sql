-- A trigram index of the documents' search text: ListDocuments' query is a
-- LIKE '%…%', which this index serves for rare words.
CREATE INDEX documents_search_trigrams ON documents USING gin (search_text gin_trgm_ops);
