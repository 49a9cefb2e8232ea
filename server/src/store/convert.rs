//! Rows ⇄ domain values.

use chrono::{DateTime, NaiveDate, Utc};

use crate::domain::{Counters, EventKind, ExportFormat, ExportSpec, Task, TaskEvent, TaskSpec, TaskStatus};
use crate::store::StoreError;
use crate::store::models::{EventRow, TaskRow};

/// Stored times are microseconds since the Unix epoch.
pub(crate) fn to_micros(at: DateTime<Utc>) -> i64 {
    at.timestamp_micros()
}

pub(crate) fn from_micros(micros: i64) -> Result<DateTime<Utc>, StoreError> {
    DateTime::from_timestamp_micros(micros).ok_or_else(|| StoreError::Corrupt(format!("time {micros} out of range")))
}

pub(crate) fn to_json(list: &[String]) -> String {
    serde_json::to_string(list).expect("a list of strings serialises")
}

fn from_json(field: &str, text: &str) -> Result<Vec<String>, StoreError> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt(format!("{field}: {e}")))
}

pub(crate) fn to_date(date: Option<NaiveDate>) -> Option<String> {
    date.map(|d| d.format("%Y-%m-%d").to_string())
}

fn count(field: &str, value: i64) -> Result<u64, StoreError> {
    u64::try_from(value).map_err(|_| StoreError::Corrupt(format!("{field} is negative")))
}

fn count32(field: &str, value: i32) -> Result<u32, StoreError> {
    u32::try_from(value).map_err(|_| StoreError::Corrupt(format!("{field} is negative")))
}

impl TryFrom<TaskRow> for Task {
    type Error = StoreError;

    fn try_from(row: TaskRow) -> Result<Task, StoreError> {
        let export = match (row.export_file_name, row.export_format) {
            (Some(file_name), Some(format)) => Some(ExportSpec {
                file_name,
                format: ExportFormat::from_db(&format)
                    .ok_or_else(|| StoreError::Corrupt(format!("export format {format:?}")))?,
            }),
            _ => None,
        };
        Ok(Task {
            id: row.id.parse().map_err(|_| StoreError::Corrupt(format!("task id {:?}", row.id)))?,
            status: TaskStatus::from_db(&row.status)
                .ok_or_else(|| StoreError::Corrupt(format!("task status {:?}", row.status)))?,
            spec: TaskSpec {
                keywords: from_json("keywords", &row.keywords)?,
                regions: from_json("regions", &row.regions)?,
                prefectures: from_json("prefectures", &row.prefectures)?,
                targets: from_json("targets", &row.targets)?,
                exclude_keywords: from_json("exclude_keywords", &row.exclude_keywords)?,
                days_limit: u32::try_from(row.days_limit).ok().filter(|d| *d > 0),
                export,
                request_id: row.request_id,
            },
            counters: Counters {
                total_operations: count32("total_operations", row.total_operations)?,
                completed_operations: count32("completed_operations", row.completed_operations)?,
                failed_operations: count32("failed_operations", row.failed_operations)?,
                items_found: count("items_found", row.items_found)?,
                new_documents: count("new_documents", row.new_documents)?,
                pages_fetched: count("pages_fetched", row.pages_fetched)?,
            },
            error: row.error,
            created_at: from_micros(row.created_at)?,
            updated_at: from_micros(row.updated_at)?,
            started_at: row.started_at.map(from_micros).transpose()?,
            completed_at: row.completed_at.map(from_micros).transpose()?,
        })
    }
}

impl TryFrom<EventRow> for TaskEvent {
    type Error = StoreError;

    fn try_from(row: EventRow) -> Result<TaskEvent, StoreError> {
        Ok(TaskEvent {
            at: from_micros(row.at)?,
            kind: EventKind::from_db(&row.kind)
                .ok_or_else(|| StoreError::Corrupt(format!("event kind {:?}", row.kind)))?,
            message: row.message,
        })
    }
}
