//! The lifecycle of a task.

use std::fmt;

/// Where a task is in its lifecycle.
///
/// `Pending → Running → {Succeeded, Failed, Cancelled}`; a pending task can be
/// cancelled directly, and a restart takes a finished task back to `Pending`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TaskStatus {
    Pending,
    Running,
    Succeeded,
    Failed,
    Cancelled,
}

impl TaskStatus {
    pub const ALL: [TaskStatus; 5] =
        [TaskStatus::Pending, TaskStatus::Running, TaskStatus::Succeeded, TaskStatus::Failed, TaskStatus::Cancelled];

    /// Whether the task has ended (and `completed_at` is set).
    pub fn is_terminal(self) -> bool {
        matches!(self, TaskStatus::Succeeded | TaskStatus::Failed | TaskStatus::Cancelled)
    }

    /// Whether a stop applies to the task.
    pub fn is_active(self) -> bool {
        matches!(self, TaskStatus::Pending | TaskStatus::Running)
    }

    /// The lower-case name people see and type: `pending`, `running`…
    pub fn as_str(self) -> &'static str {
        match self {
            TaskStatus::Pending => "pending",
            TaskStatus::Running => "running",
            TaskStatus::Succeeded => "succeeded",
            TaskStatus::Failed => "failed",
            TaskStatus::Cancelled => "cancelled",
        }
    }

    /// The status a person named, in any case (`running`, `RUNNING`).
    pub fn from_name(name: &str) -> Option<TaskStatus> {
        TaskStatus::ALL.into_iter().find(|s| s.as_str().eq_ignore_ascii_case(name.trim()))
    }
}

impl fmt::Display for TaskStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
