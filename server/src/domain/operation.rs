//! Operations: one keyword searched on one prefecture's site, and what it
//! found.

use std::time::Duration;

use chrono::{DateTime, Utc};

/// How one operation ended, as its worker records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperationOutcome {
    pub prefecture_code: String,
    pub keyword: String,
    /// Distinct cards kept by the task's filter.
    pub items_found: u64,
    pub pages_fetched: u32,
    pub duration: Duration,
    /// Why it stopped early, after retries; what it found before stays.
    pub error: Option<String>,
}

/// A recorded operation, with the documents it was the first to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperationResult {
    pub outcome: OperationOutcome,
    pub new_documents: u64,
    pub finished_at: DateTime<Utc>,
}

impl OperationResult {
    pub fn prefecture_code(&self) -> &str {
        &self.outcome.prefecture_code
    }

    pub fn keyword(&self) -> &str {
        &self.outcome.keyword
    }
}

/// How far an operation went, recorded page by page while it runs: where
/// its search goes on and what it has counted, so that a resumed task
/// continues it at its next page and counts nothing twice.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OperationProgress {
    /// Offset of the next page to fetch.
    pub next_offset: u32,
    pub pages_fetched: u32,
    /// Distinct cards kept by the task's filter so far.
    pub items_found: u64,
    /// Time spent on it so far, over every run of the task.
    pub elapsed: Duration,
}

impl OperationProgress {
    /// Whether two progresses stand at the same place (the time spent
    /// aside, which is stored to the millisecond).
    pub fn same_place(&self, other: &OperationProgress) -> bool {
        (self.next_offset, self.pages_fetched, self.items_found)
            == (other.next_offset, other.pages_fetched, other.items_found)
    }
}

/// An operation of a task that started and has not ended: what a resumed
/// task goes on with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InFlightOperation {
    pub prefecture_code: String,
    pub keyword: String,
    pub progress: OperationProgress,
}
