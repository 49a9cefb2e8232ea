UPDATE documents SET search_text = trim(search_text);
UPDATE tasks SET search_text = ' ' || replace(id, '-', ' ') || substr(search_text, length(id) + 2);
