//! The live state of a task, as streamed to subscribers.

use chrono::{DateTime, TimeDelta, Utc};

use crate::domain::{Counters, Task, TaskId, TaskStatus};

/// A snapshot of a task's progress. Counters come from the store; the current
/// prefecture and keyword and the in-flight count exist only while a worker
/// runs the task.
#[derive(Debug, Clone, PartialEq)]
pub struct Progress {
    pub task_id: TaskId,
    pub status: TaskStatus,
    pub counters: Counters,
    pub current_prefecture: Option<String>,
    pub current_keyword: Option<String>,
    pub in_flight_operations: u32,
    pub started_at: Option<DateTime<Utc>>,
    pub completed_at: Option<DateTime<Utc>>,
}

impl Progress {
    /// The progress of a task as stored.
    pub fn of(task: &Task) -> Progress {
        Progress {
            task_id: task.id,
            status: task.status,
            counters: task.counters,
            current_prefecture: None,
            current_keyword: None,
            in_flight_operations: 0,
            started_at: task.started_at,
            completed_at: task.completed_at,
        }
    }

    /// Time spent running: until the end, or until `now` while running.
    pub fn elapsed(&self, now: DateTime<Utc>) -> TimeDelta {
        match self.started_at {
            Some(start) => (self.completed_at.unwrap_or(now) - start).max(TimeDelta::zero()),
            None => TimeDelta::zero(),
        }
    }
}
