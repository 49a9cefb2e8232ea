//! The event log of a task: why it is where it is.

use chrono::{DateTime, Utc};

/// What happened to a task.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventKind {
    Created,
    Started,
    /// Claimed again after its worker stopped (crash or shutdown).
    Resumed,
    OperationFailed,
    StopRequested,
    Stopped,
    Restarted,
    Succeeded,
    Failed,
    Exported,
    /// The export file could not be written; the task keeps its status.
    ExportFailed,
    /// A prefecture of the task was skipped (its site is not supported).
    Skipped,
    /// A site's server asked us to slow down (429, 503): every request to
    /// it paused.
    SlowedDown,
}

impl EventKind {
    pub const ALL: [EventKind; 13] = [
        EventKind::Created,
        EventKind::Started,
        EventKind::Resumed,
        EventKind::OperationFailed,
        EventKind::StopRequested,
        EventKind::Stopped,
        EventKind::Restarted,
        EventKind::Succeeded,
        EventKind::Failed,
        EventKind::Exported,
        EventKind::ExportFailed,
        EventKind::Skipped,
        EventKind::SlowedDown,
    ];

    /// The snake-case name people and logs see: `operation_failed`.
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Created => "created",
            EventKind::Started => "started",
            EventKind::Resumed => "resumed",
            EventKind::OperationFailed => "operation_failed",
            EventKind::StopRequested => "stop_requested",
            EventKind::Stopped => "stopped",
            EventKind::Restarted => "restarted",
            EventKind::Succeeded => "succeeded",
            EventKind::Failed => "failed",
            EventKind::Exported => "exported",
            EventKind::ExportFailed => "export_failed",
            EventKind::Skipped => "skipped",
            EventKind::SlowedDown => "slowed_down",
        }
    }

    /// Whether the event reports a problem (shown as such).
    pub fn is_failure(self) -> bool {
        matches!(self, EventKind::OperationFailed | EventKind::Failed | EventKind::ExportFailed)
    }
}

/// One entry of a task's log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskEvent {
    pub at: DateTime<Utc>,
    pub kind: EventKind,
    pub message: String,
}
