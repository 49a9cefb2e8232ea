//! Rows as diesel reads and writes them.

use diesel::prelude::*;

use crate::store::schema::{documents, operation_progress, operations, task_documents, task_events, tasks};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = tasks, check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub(crate) struct TaskRow {
    pub id: String,
    pub status: String,
    pub keywords: String,
    pub regions: String,
    pub prefectures: String,
    pub targets: String,
    pub exclude_keywords: String,
    pub days_limit: i32,
    pub export_file_name: Option<String>,
    pub export_format: Option<String>,
    pub request_id: Option<String>,
    pub search_text: String,
    pub total_operations: i32,
    pub completed_operations: i32,
    pub failed_operations: i32,
    pub items_found: i64,
    pub new_documents: i64,
    pub pages_fetched: i64,
    pub error: Option<String>,
    pub stop_requested: bool,
    pub owner: Option<String>,
    pub lease_expires_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
    pub started_at: Option<i64>,
    pub completed_at: Option<i64>,
    /// The watch this task is a run of.
    pub watch_id: Option<String>,
    /// What the keywords order sorts by (see `domain::order::keywords_key`).
    pub keywords_key: String,
}

/// `None` is inserted as NULL, so that SQLite takes many rows in one statement.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = operations, check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
#[diesel(treat_none_as_default_value = false)]
pub(crate) struct OperationRow {
    pub task_id: String,
    pub prefecture_code: String,
    pub keyword: String,
    pub items_found: i64,
    pub new_documents: i64,
    pub pages_fetched: i32,
    pub duration_ms: i64,
    pub error: Option<String>,
    pub finished_at: i64,
}

/// A task's counters, as a write returns them.
#[derive(Debug, Clone, Copy, Queryable, Selectable)]
#[diesel(table_name = tasks, check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub(crate) struct CountersRow {
    pub total_operations: i32,
    pub completed_operations: i32,
    pub failed_operations: i32,
    pub items_found: i64,
    pub new_documents: i64,
    pub pages_fetched: i64,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = operation_progress, check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
#[diesel(treat_none_as_default_value = false)]
pub(crate) struct ProgressRow {
    pub task_id: String,
    pub prefecture_code: String,
    pub keyword: String,
    pub next_offset: i32,
    pub pages_fetched: i32,
    pub items_found: i64,
    pub elapsed_ms: i64,
    pub updated_at: i64,
}

/// `None` is inserted as NULL, never as DEFAULT: that lets SQLite take many
/// rows in one statement.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = documents, check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
#[diesel(treat_none_as_default_value = false)]
pub(crate) struct DocumentRow {
    pub link: String,
    pub title: String,
    pub description: String,
    pub published_on: Option<String>,
    pub date_label: String,
    pub prefecture_code: String,
    pub keyword: String,
    pub first_task_id: String,
    pub first_seen_at: i64,
    pub search_text: String,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = task_documents)]
#[diesel(treat_none_as_default_value = false)]
pub(crate) struct LinkRow {
    pub task_id: String,
    pub prefecture_code: String,
    pub keyword: String,
    pub link: String,
}

/// A change of a task's lifecycle: `None` leaves a column as it is,
/// `Some(None)` clears a nullable one.
#[derive(Debug, Clone, Default, AsChangeset)]
#[diesel(table_name = tasks)]
pub(crate) struct TaskChange {
    pub status: Option<String>,
    pub updated_at: Option<i64>,
    pub started_at: Option<Option<i64>>,
    pub completed_at: Option<Option<i64>>,
    pub owner: Option<Option<String>>,
    pub lease_expires_at: Option<Option<i64>>,
    pub stop_requested: Option<bool>,
    pub error: Option<Option<String>>,
    pub completed_operations: Option<i32>,
    pub failed_operations: Option<i32>,
    pub items_found: Option<i64>,
    pub new_documents: Option<i64>,
    pub pages_fetched: Option<i64>,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = task_events, check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub(crate) struct EventRow {
    pub at: i64,
    pub kind: String,
    pub message: String,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = task_events)]
pub(crate) struct NewEventRow {
    pub task_id: String,
    pub at: i64,
    pub kind: String,
    pub message: String,
}
