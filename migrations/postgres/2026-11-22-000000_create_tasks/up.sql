-- Times are microseconds since the Unix epoch (UTC); lists are JSON arrays.
CREATE TABLE tasks (
    id TEXT PRIMARY KEY NOT NULL,
    status TEXT NOT NULL,
    keywords TEXT NOT NULL,
    regions TEXT NOT NULL,
    prefectures TEXT NOT NULL,
    targets TEXT NOT NULL,
    exclude_keywords TEXT NOT NULL,
    days_limit INTEGER NOT NULL DEFAULT 0,
    export_file_name TEXT,
    export_format TEXT,
    request_id TEXT UNIQUE,
    search_text TEXT NOT NULL,
    total_operations INTEGER NOT NULL,
    completed_operations INTEGER NOT NULL DEFAULT 0,
    failed_operations INTEGER NOT NULL DEFAULT 0,
    items_found BIGINT NOT NULL DEFAULT 0,
    new_documents BIGINT NOT NULL DEFAULT 0,
    pages_fetched BIGINT NOT NULL DEFAULT 0,
    error TEXT,
    stop_requested BOOLEAN NOT NULL DEFAULT FALSE,
    owner TEXT,
    lease_expires_at BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    started_at BIGINT,
    completed_at BIGINT
);
CREATE INDEX tasks_by_creation ON tasks (created_at DESC, id DESC);
CREATE INDEX tasks_by_status ON tasks (status, created_at DESC, id DESC);
CREATE INDEX tasks_by_completion ON tasks (completed_at) WHERE completed_at IS NOT NULL;

CREATE TABLE operations (
    task_id TEXT NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    prefecture_code TEXT NOT NULL,
    keyword TEXT NOT NULL,
    items_found BIGINT NOT NULL,
    new_documents BIGINT NOT NULL,
    pages_fetched INTEGER NOT NULL,
    duration_ms BIGINT NOT NULL,
    error TEXT,
    finished_at BIGINT NOT NULL,
    PRIMARY KEY (task_id, prefecture_code, keyword)
);

CREATE TABLE documents (
    link TEXT PRIMARY KEY NOT NULL,
    title TEXT NOT NULL,
    description TEXT NOT NULL,
    published_on TEXT,
    date_label TEXT NOT NULL,
    prefecture_code TEXT NOT NULL,
    keyword TEXT NOT NULL,
    first_task_id TEXT NOT NULL,
    first_seen_at BIGINT NOT NULL,
    -- Folded title and description: what ListDocuments.query matches.
    search_text TEXT NOT NULL
);
CREATE INDEX documents_by_first_seen ON documents (first_seen_at DESC, link DESC);
-- The operation that first stored a document counts it as new.
CREATE INDEX documents_by_finder ON documents (first_task_id, prefecture_code, keyword);

CREATE TABLE task_documents (
    task_id TEXT NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    prefecture_code TEXT NOT NULL,
    keyword TEXT NOT NULL,
    link TEXT NOT NULL REFERENCES documents (link) ON DELETE CASCADE,
    PRIMARY KEY (task_id, prefecture_code, keyword, link)
);
CREATE INDEX task_documents_by_link ON task_documents (link);

CREATE TABLE task_events (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    task_id TEXT NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    at BIGINT NOT NULL,
    kind TEXT NOT NULL,
    message TEXT NOT NULL
);
CREATE INDEX task_events_by_task ON task_events (task_id, id);
