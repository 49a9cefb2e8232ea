//! A task as stored: its request, status, counters and timestamps.

use chrono::{DateTime, Utc};

use crate::domain::{TaskId, TaskSpec, TaskStatus, WatchId};

/// Running totals of a task: pages and items move with each page fetched,
/// operations (and the documents they were first to store) as each ends.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counters {
    pub total_operations: u32,
    pub completed_operations: u32,
    pub failed_operations: u32,
    pub items_found: u64,
    pub new_documents: u64,
    pub pages_fetched: u64,
}

impl Counters {
    /// Completed share of the operations, from 0 to 100.
    pub fn percent(&self) -> f64 {
        if self.total_operations == 0 {
            100.0
        } else {
            f64::from(self.completed_operations) * 100.0 / f64::from(self.total_operations)
        }
    }

    /// Whether these counters are at least as far as `other` in every
    /// count. Counts only grow while a task runs, so of two snapshots taken
    /// after two writes, the later one covers the earlier.
    pub fn covers(&self, other: &Counters) -> bool {
        self.completed_operations >= other.completed_operations
            && self.failed_operations >= other.failed_operations
            && self.items_found >= other.items_found
            && self.new_documents >= other.new_documents
            && self.pages_fetched >= other.pages_fetched
    }
}

/// A task and everything known about it.
///
/// The timestamps obey the lifecycle: `started_at` is set once a worker starts
/// the task, `completed_at` exactly when the status is terminal; a restart
/// clears both.
#[derive(Debug, Clone, PartialEq)]
pub struct Task {
    pub id: TaskId,
    pub status: TaskStatus,
    pub spec: TaskSpec,
    pub counters: Counters,
    pub error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub completed_at: Option<DateTime<Utc>>,
    /// The watch whose run this task is; kept after the watch is deleted.
    pub watch_id: Option<WatchId>,
}

/// How a task went, for people: its status, except that a success with
/// failed operations is told apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Plain(TaskStatus),
    /// Succeeded, with `failed` of its `total` operations failed.
    PartlyFailed {
        failed: u32,
        total: u32,
    },
}

impl Outcome {
    pub fn of(status: TaskStatus, counters: &Counters) -> Outcome {
        if status == TaskStatus::Succeeded && counters.failed_operations > 0 {
            Outcome::PartlyFailed { failed: counters.failed_operations, total: counters.total_operations }
        } else {
            Outcome::Plain(status)
        }
    }

    /// A one-word name (for styles and scripts): the status, or `partial`.
    pub fn name(self) -> &'static str {
        match self {
            Outcome::Plain(status) => status.as_str(),
            Outcome::PartlyFailed { .. } => "partial",
        }
    }

    /// "succeeded, 2 of 28 operations failed", or the status.
    pub fn text(self) -> String {
        match self {
            Outcome::Plain(status) => status.as_str().to_owned(),
            Outcome::PartlyFailed { failed, total } => format!("succeeded, {failed} of {total} operations failed"),
        }
    }
}

impl Task {
    /// How it went, for people.
    pub fn outcome(&self) -> Outcome {
        Outcome::of(self.status, &self.counters)
    }
}
