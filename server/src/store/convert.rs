//! Rows ⇄ domain values, and the names statuses, event kinds and export
//! formats are stored under. A row that does not decode is an error
//! ([`StoreError::Corrupt`]), wherever it is read.

use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};

use crate::domain::{
    Counters, Document, EventKind, ExportFormat, ExportSpec, InFlightOperation, Keywords, OperationOutcome,
    OperationProgress, OperationResult, Task, TaskEvent, TaskSpec, TaskStatus,
};
use crate::store::StoreError;
use crate::store::models::{CountersRow, DocumentRow, EventRow, OperationRow, ProgressRow, TaskRow};

/// Stored times are microseconds since the Unix epoch.
pub(crate) fn to_micros(at: DateTime<Utc>) -> i64 {
    at.timestamp_micros()
}

pub(crate) fn from_micros(micros: i64) -> Result<DateTime<Utc>, StoreError> {
    DateTime::from_timestamp_micros(micros).ok_or_else(|| corrupt("time", micros))
}

/// `now + duration`, in stored microseconds.
pub(crate) fn micros_after(now: DateTime<Utc>, duration: Duration) -> i64 {
    to_micros(now).saturating_add(i64::try_from(duration.as_micros()).unwrap_or(i64::MAX / 2))
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

fn from_date(text: Option<&str>) -> Result<Option<NaiveDate>, StoreError> {
    text.map(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").map_err(|_| corrupt("date", d))).transpose()
}

fn corrupt(what: &str, value: impl std::fmt::Debug) -> StoreError {
    StoreError::Corrupt(format!("{what} {value:?}"))
}

fn count(field: &str, value: i64) -> Result<u64, StoreError> {
    u64::try_from(value).map_err(|_| corrupt(field, value))
}

fn count32(field: &str, value: i32) -> Result<u32, StoreError> {
    u32::try_from(value).map_err(|_| corrupt(field, value))
}

/// A count to store: counts beyond the column's range are clamped.
pub(crate) fn to_i64(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

pub(crate) fn to_i32(value: u32) -> i32 {
    i32::try_from(value).unwrap_or(i32::MAX)
}

/// Statuses, event kinds and export formats are stored under their names;
/// reading one back takes the exact name (people's spellings are parsed
/// elsewhere, by the front ends).
pub(crate) fn status_name(status: TaskStatus) -> &'static str {
    status.as_str()
}

pub(crate) fn status_from(name: &str) -> Result<TaskStatus, StoreError> {
    TaskStatus::ALL.into_iter().find(|s| s.as_str() == name).ok_or_else(|| corrupt("task status", name))
}

pub(crate) fn status_names(statuses: &[TaskStatus]) -> Vec<&'static str> {
    statuses.iter().map(|s| s.as_str()).collect()
}

fn event_from(name: &str) -> Result<EventKind, StoreError> {
    EventKind::ALL.into_iter().find(|k| k.as_str() == name).ok_or_else(|| corrupt("event kind", name))
}

fn format_from(name: &str) -> Result<ExportFormat, StoreError> {
    ExportFormat::ALL.into_iter().find(|f| f.as_str() == name).ok_or_else(|| corrupt("export format", name))
}

impl TryFrom<TaskRow> for Task {
    type Error = StoreError;

    fn try_from(row: TaskRow) -> Result<Task, StoreError> {
        let export = match (row.export_file_name, row.export_format) {
            (Some(file_name), Some(format)) => Some(ExportSpec { file_name, format: format_from(&format)? }),
            (None, None) => None,
            (name, format) => return Err(corrupt("export", (name, format))),
        };
        Ok(Task {
            id: row.id.parse().map_err(|_| corrupt("task id", &row.id))?,
            status: status_from(&row.status)?,
            spec: TaskSpec {
                keywords: Keywords::from_stored(from_json("keywords", &row.keywords)?),
                regions: from_json("regions", &row.regions)?,
                prefectures: from_json("prefectures", &row.prefectures)?,
                targets: from_json("targets", &row.targets)?,
                exclude_keywords: Keywords::from_stored(from_json("exclude_keywords", &row.exclude_keywords)?),
                days_limit: match row.days_limit {
                    0 => None,
                    days => Some(u32::try_from(days).map_err(|_| corrupt("days_limit", days))?),
                },
                export,
                request_id: row.request_id,
            },
            counters: Counters::try_from(CountersRow {
                total_operations: row.total_operations,
                completed_operations: row.completed_operations,
                failed_operations: row.failed_operations,
                items_found: row.items_found,
                new_documents: row.new_documents,
                pages_fetched: row.pages_fetched,
            })?,
            error: row.error,
            created_at: from_micros(row.created_at)?,
            updated_at: from_micros(row.updated_at)?,
            started_at: row.started_at.map(from_micros).transpose()?,
            completed_at: row.completed_at.map(from_micros).transpose()?,
            watch_id: row.watch_id.map(|id| id.parse().map_err(|_| corrupt("watch id", &id))).transpose()?,
        })
    }
}

impl TryFrom<CountersRow> for Counters {
    type Error = StoreError;

    fn try_from(row: CountersRow) -> Result<Counters, StoreError> {
        Ok(Counters {
            total_operations: count32("total_operations", row.total_operations)?,
            completed_operations: count32("completed_operations", row.completed_operations)?,
            failed_operations: count32("failed_operations", row.failed_operations)?,
            items_found: count("items_found", row.items_found)?,
            new_documents: count("new_documents", row.new_documents)?,
            pages_fetched: count("pages_fetched", row.pages_fetched)?,
        })
    }
}

/// Where an operation in flight stands, as stored.
pub(crate) fn progress_from(row: &ProgressRow) -> Result<OperationProgress, StoreError> {
    let elapsed = u64::try_from(row.elapsed_ms).map_err(|_| corrupt("elapsed_ms", row.elapsed_ms))?;
    Ok(OperationProgress {
        next_offset: count32("next_offset", row.next_offset)?,
        pages_fetched: count32("pages_fetched", row.pages_fetched)?,
        items_found: count("items_found", row.items_found)?,
        elapsed: Duration::from_millis(elapsed),
    })
}

/// The row of an operation in flight.
pub(crate) fn progress_row(
    task_id: &str,
    prefecture_code: &str,
    keyword: &str,
    progress: &OperationProgress,
    at_us: i64,
) -> ProgressRow {
    ProgressRow {
        task_id: task_id.to_owned(),
        prefecture_code: prefecture_code.to_owned(),
        keyword: keyword.to_owned(),
        next_offset: to_i32(progress.next_offset),
        pages_fetched: to_i32(progress.pages_fetched),
        items_found: to_i64(progress.items_found),
        elapsed_ms: to_millis(progress.elapsed),
        updated_at: at_us,
    }
}

/// A duration to store, in milliseconds (clamped).
pub(crate) fn to_millis(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

impl TryFrom<ProgressRow> for InFlightOperation {
    type Error = StoreError;

    fn try_from(row: ProgressRow) -> Result<InFlightOperation, StoreError> {
        let progress = progress_from(&row)?;
        Ok(InFlightOperation { prefecture_code: row.prefecture_code, keyword: row.keyword, progress })
    }
}

impl TryFrom<EventRow> for TaskEvent {
    type Error = StoreError;

    fn try_from(row: EventRow) -> Result<TaskEvent, StoreError> {
        Ok(TaskEvent { at: from_micros(row.at)?, kind: event_from(&row.kind)?, message: row.message })
    }
}

impl TryFrom<OperationRow> for OperationResult {
    type Error = StoreError;

    fn try_from(row: OperationRow) -> Result<OperationResult, StoreError> {
        let duration = u64::try_from(row.duration_ms).map_err(|_| corrupt("duration_ms", row.duration_ms))?;
        Ok(OperationResult {
            outcome: OperationOutcome {
                prefecture_code: row.prefecture_code,
                keyword: row.keyword,
                items_found: count("items_found", row.items_found)?,
                pages_fetched: count32("pages_fetched", row.pages_fetched)?,
                duration: Duration::from_millis(duration),
                error: row.error,
            },
            new_documents: count("new_documents", row.new_documents)?,
            finished_at: from_micros(row.finished_at)?,
        })
    }
}

/// A document as found under a task's prefecture and keyword (or, listed
/// over all tasks, those of the task that first found it).
pub(crate) fn document(
    prefecture_code: String,
    keyword: String,
    keywords: Vec<String>,
    row: DocumentRow,
) -> Result<Document, StoreError> {
    Ok(Document {
        published_on: from_date(row.published_on.as_deref())?,
        link: row.link,
        title: row.title,
        description: row.description,
        date_label: row.date_label,
        prefecture_code,
        keyword,
        keywords,
        first_seen_at: from_micros(row.first_seen_at)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_kind_and_format_round_trips_through_its_stored_name() {
        for status in TaskStatus::ALL {
            assert_eq!(status_from(status_name(status)).ok(), Some(status));
        }
        for kind in EventKind::ALL {
            assert_eq!(event_from(kind.as_str()).ok(), Some(kind));
        }
        for format in ExportFormat::ALL {
            assert_eq!(format_from(format.as_str()).ok(), Some(format));
        }
        assert!(matches!(status_from("RUNNING"), Err(StoreError::Corrupt(_))), "stored names are exact");
    }
}
