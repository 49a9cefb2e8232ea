DROP INDEX tasks_search_trigrams;
