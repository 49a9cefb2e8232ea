//! Fan-out of live progress: one `watch` channel per active task, so every
//! subscriber sees the latest state (a slow one skips intermediate states
//! instead of queueing them) and any number can subscribe.

use std::collections::HashMap;
use std::sync::Mutex;

use tokio::sync::watch;

use crate::domain::{Progress, TaskId};

/// The live progress channels of the tasks this server knows to be active.
#[derive(Debug, Default)]
pub struct ProgressHub {
    channels: Mutex<HashMap<TaskId, watch::Sender<Progress>>>,
}

impl ProgressHub {
    pub fn new() -> ProgressHub {
        ProgressHub::default()
    }

    fn channels(&self) -> std::sync::MutexGuard<'_, HashMap<TaskId, watch::Sender<Progress>>> {
        self.channels.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The channel of a task, created with `initial` if there is none yet
    /// (an existing channel keeps its value).
    pub fn channel(&self, initial: Progress) -> watch::Sender<Progress> {
        self.channels().entry(initial.task_id).or_insert_with(|| watch::Sender::new(initial)).clone()
    }

    /// Subscribes to a task's channel, if it has one.
    pub fn subscribe(&self, task_id: TaskId) -> Option<watch::Receiver<Progress>> {
        self.channels().get(&task_id).map(watch::Sender::subscribe)
    }

    /// Publishes a state; a terminal one closes the channel (subscribers
    /// still receive it before they see the end).
    pub fn publish(&self, progress: Progress) {
        let terminal = progress.status.is_terminal();
        let mut channels = self.channels();
        if let Some(sender) = channels.get(&progress.task_id) {
            sender.send_replace(progress.clone());
        }
        if terminal {
            channels.remove(&progress.task_id);
        }
    }

    /// Drops a task's channel without a terminal state (on shutdown):
    /// subscribers see the end of their stream after the latest state.
    pub fn close(&self, task_id: TaskId) {
        self.channels().remove(&task_id);
    }

    /// Number of subscribers of a task's channel.
    pub fn subscribers(&self, task_id: TaskId) -> usize {
        self.channels().get(&task_id).map_or(0, watch::Sender::receiver_count)
    }
}
