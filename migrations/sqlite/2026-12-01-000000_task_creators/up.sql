-- Who started each task (the name of the token it came with), for the
-- pending-task quota of each token. Tasks started without a token have no row.
CREATE TABLE task_creators (
    task_id TEXT PRIMARY KEY NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    token_name TEXT NOT NULL
);
CREATE INDEX task_creators_by_name ON task_creators (token_name);
