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
}

impl EventKind {
    const ALL: [EventKind; 10] = [
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
    ];

    /// The name stored in the database.
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
        }
    }

    pub fn from_db(name: &str) -> Option<EventKind> {
        EventKind::ALL.into_iter().find(|k| k.as_str() == name)
    }
}

/// One entry of a task's log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskEvent {
    pub at: DateTime<Utc>,
    pub kind: EventKind,
    pub message: String,
}
