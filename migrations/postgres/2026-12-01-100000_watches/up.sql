-- Watches: tasks started on a schedule, and what each watch has seen.
-- Times are microseconds since the Unix epoch (UTC); lists are JSON arrays.

-- The watch a task is a run of. No foreign key: a deleted watch's tasks
-- are kept, and still name it.
ALTER TABLE tasks ADD COLUMN watch_id TEXT;
CREATE INDEX tasks_by_watch ON tasks (watch_id, created_at DESC, id DESC) WHERE watch_id IS NOT NULL;

CREATE TABLE watches (
    id TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    -- The task each run starts (JSON: keywords, regions and prefectures as
    -- codes, exclude_keywords, days_limit, export).
    task TEXT NOT NULL,
    -- Either a cron expression in a time zone, or an interval.
    cron_expression TEXT,
    time_zone TEXT,
    interval_ms BIGINT,
    paused BOOLEAN NOT NULL DEFAULT FALSE,
    -- The next due time; NULL while paused. A replica claims a due time by
    -- moving it forward only if it is still the one it read.
    next_run_at BIGINT,
    webhook_url TEXT,
    webhook_secret TEXT,
    email_to TEXT NOT NULL DEFAULT '[]',
    last_run_id TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX watches_by_next_run ON watches (next_run_at) WHERE next_run_at IS NOT NULL;
CREATE INDEX watches_by_creation ON watches (created_at DESC, id DESC);

CREATE TABLE watch_runs (
    id TEXT PRIMARY KEY NOT NULL,
    watch_id TEXT NOT NULL REFERENCES watches (id) ON DELETE CASCADE,
    -- The scheduled time the run is for (each fires once); NULL for a run
    -- started by hand.
    due_at BIGINT,
    requested_at BIGINT NOT NULL,
    -- Its task, once created (with request id watch-run-ID, so a second
    -- attempt finds the same task).
    task_id TEXT,
    -- Set when the task ended and its news were counted.
    ended_at BIGINT,
    new_documents BIGINT,
    UNIQUE (watch_id, due_at)
);
CREATE INDEX watch_runs_open ON watch_runs (requested_at) WHERE ended_at IS NULL;

-- What each watch has seen: a document is news for the run that saw it
-- first. The document's text is kept here, so that the news outlive a
-- purge of the tasks that found them.
CREATE TABLE watch_documents (
    watch_id TEXT NOT NULL REFERENCES watches (id) ON DELETE CASCADE,
    link TEXT NOT NULL,
    title TEXT NOT NULL,
    description TEXT NOT NULL,
    published_on TEXT,
    date_label TEXT NOT NULL,
    prefecture_code TEXT NOT NULL,
    keyword TEXT NOT NULL,
    task_id TEXT NOT NULL,
    first_seen_at BIGINT NOT NULL,
    PRIMARY KEY (watch_id, link)
);
CREATE INDEX watch_documents_by_time ON watch_documents (watch_id, first_seen_at DESC, link DESC);
CREATE INDEX watch_documents_by_task ON watch_documents (watch_id, task_id);

CREATE TABLE watch_events (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    watch_id TEXT NOT NULL REFERENCES watches (id) ON DELETE CASCADE,
    at BIGINT NOT NULL,
    kind TEXT NOT NULL,
    message TEXT NOT NULL,
    task_id TEXT,
    new_documents BIGINT,
    due_at BIGINT
);
CREATE INDEX watch_events_by_watch ON watch_events (watch_id, id);

-- Notifications to deliver: one per channel of a run that found news,
-- retried with backoff until delivered or abandoned.
CREATE TABLE watch_notifications (
    id TEXT PRIMARY KEY NOT NULL,
    watch_id TEXT NOT NULL REFERENCES watches (id) ON DELETE CASCADE,
    run_id TEXT NOT NULL REFERENCES watch_runs (id) ON DELETE CASCADE,
    task_id TEXT NOT NULL,
    -- webhook or email
    channel TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    -- When the next attempt may start (an attempt under way holds it a
    -- while ahead); NULL once delivered or abandoned.
    next_attempt_at BIGINT,
    delivered_at BIGINT,
    last_error TEXT,
    created_at BIGINT NOT NULL
);
CREATE INDEX watch_notifications_due ON watch_notifications (next_attempt_at) WHERE next_attempt_at IS NOT NULL;
