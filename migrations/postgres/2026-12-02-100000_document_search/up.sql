-- A trigram index of the documents' search text: ListDocuments' words are
-- LIKE '% word%' filters, which it serves for rare words (GIN's pending
-- list batches the insertions of a crawl).
CREATE INDEX documents_search_trigrams ON documents USING gin (search_text gin_trgm_ops);
