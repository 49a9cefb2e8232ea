-- Word search: a task's search text starts with its id as written (for id
-- prefixes) where it held the id folded (hyphens as spaces, same length);
-- a document's search text starts and ends with a space, so that every
-- word has a space on either side.
UPDATE tasks SET search_text = ' ' || id || substr(search_text, length(id) + 2)
    WHERE substr(search_text, 2, length(id)) <> id;
UPDATE documents SET search_text = ' ' || search_text || ' '
    WHERE search_text NOT LIKE ' %';
