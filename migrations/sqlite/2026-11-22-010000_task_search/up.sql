-- A trigram index of the tasks' search text, so that a ListTasks query for
-- a rare word does not scan every task. It follows the table by rowid (a
-- VACUUM renumbers rowids: rebuild it afterwards with
-- INSERT INTO tasks_search(tasks_search) VALUES ('rebuild')).
CREATE VIRTUAL TABLE tasks_search USING fts5(search_text, content = 'tasks', content_rowid = 'rowid', tokenize = 'trigram');
INSERT INTO tasks_search (tasks_search) VALUES ('rebuild');
CREATE TRIGGER tasks_search_insert AFTER INSERT ON tasks BEGIN
    INSERT INTO tasks_search (rowid, search_text) VALUES (new.rowid, new.search_text);
END;
CREATE TRIGGER tasks_search_delete AFTER DELETE ON tasks BEGIN
    INSERT INTO tasks_search (tasks_search, rowid, search_text) VALUES ('delete', old.rowid, old.search_text);
END;
CREATE TRIGGER tasks_search_update AFTER UPDATE OF search_text ON tasks BEGIN
    INSERT INTO tasks_search (tasks_search, rowid, search_text) VALUES ('delete', old.rowid, old.search_text);
    INSERT INTO tasks_search (rowid, search_text) VALUES (new.rowid, new.search_text);
END;
