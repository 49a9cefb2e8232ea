DROP TABLE task_creators;
