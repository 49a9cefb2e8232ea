-- The operations of a task in flight, recorded page by page: where each one's
-- search goes on and what it counted so far, so that a resumed task continues
-- every operation at its next page. An operation's end moves it into
-- operations, in the same transaction.
CREATE TABLE operation_progress (
    task_id TEXT NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    prefecture_code TEXT NOT NULL,
    keyword TEXT NOT NULL,
    next_offset INTEGER NOT NULL,
    pages_fetched INTEGER NOT NULL,
    items_found BIGINT NOT NULL,
    elapsed_ms BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (task_id, prefecture_code, keyword)
);
