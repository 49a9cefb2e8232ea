DROP INDEX documents_search_trigrams;
