//! The log of a watch and the notifications its runs call for.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::domain::{RunId, TaskId, WatchId};

/// What happened to a watch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WatchEventKind {
    Created,
    Updated,
    Paused,
    Resumed,
    RunStarted,
    RunEnded,
    RunNotStarted,
    NotificationSent,
    NotificationFailed,
    NotificationAbandoned,
}

impl WatchEventKind {
    pub const ALL: [WatchEventKind; 10] = [
        WatchEventKind::Created,
        WatchEventKind::Updated,
        WatchEventKind::Paused,
        WatchEventKind::Resumed,
        WatchEventKind::RunStarted,
        WatchEventKind::RunEnded,
        WatchEventKind::RunNotStarted,
        WatchEventKind::NotificationSent,
        WatchEventKind::NotificationFailed,
        WatchEventKind::NotificationAbandoned,
    ];

    /// The snake-case name people and logs see: `run_ended`.
    pub fn as_str(self) -> &'static str {
        match self {
            WatchEventKind::Created => "created",
            WatchEventKind::Updated => "updated",
            WatchEventKind::Paused => "paused",
            WatchEventKind::Resumed => "resumed",
            WatchEventKind::RunStarted => "run_started",
            WatchEventKind::RunEnded => "run_ended",
            WatchEventKind::RunNotStarted => "run_not_started",
            WatchEventKind::NotificationSent => "notification_sent",
            WatchEventKind::NotificationFailed => "notification_failed",
            WatchEventKind::NotificationAbandoned => "notification_abandoned",
        }
    }

    /// Whether the event reports a problem.
    pub fn is_failure(self) -> bool {
        matches!(
            self,
            WatchEventKind::RunNotStarted | WatchEventKind::NotificationFailed | WatchEventKind::NotificationAbandoned
        )
    }
}

/// One entry of a watch's log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WatchEvent {
    /// Increasing with each event written (streams resume after it).
    pub sequence: i64,
    pub watch_id: WatchId,
    pub at: DateTime<Utc>,
    pub kind: WatchEventKind,
    pub message: String,
    pub task_id: Option<TaskId>,
    pub new_documents: Option<u64>,
    pub due_at: Option<DateTime<Utc>>,
}

/// Where a run's news go.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Channel {
    Webhook,
    Email,
}

impl Channel {
    pub const ALL: [Channel; 2] = [Channel::Webhook, Channel::Email];

    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Webhook => "webhook",
            Channel::Email => "email",
        }
    }
}

/// A notification to deliver: one channel of one run that found news.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    pub id: Uuid,
    pub watch_id: WatchId,
    pub run_id: RunId,
    pub task_id: TaskId,
    pub channel: Channel,
    /// Attempts so far, this one included.
    pub attempts: u32,
}
