//! Live progress: the stored state overlaid with what a worker of this
//! server knows, and subscriptions that see every change.

use tokio::sync::watch;

use crate::domain::{Progress, Task, TaskId};
use crate::service::{ServiceError, TaskService};

impl TaskService {
    /// The stored state, overlaid with the in-memory fields of a task
    /// running on this server.
    pub fn live_progress(&self, task: &Task) -> Progress {
        match self.hub.subscribe(task.id) {
            Some(rx) if !task.status.is_terminal() => {
                let mut live = rx.borrow().clone();
                // The worker publishes counters as they are stored: show the
                // fresher of the two (stored ones that neither covers nor
                // are covered by belong to another run).
                if task.counters.covers(&live.counters) {
                    live.counters = task.counters;
                } else if !live.counters.covers(&task.counters) {
                    return Progress::of(task);
                }
                live
            }
            _ => Progress::of(task),
        }
    }

    /// A live view of a task's progress: its current state at once, then
    /// every change (the latest when several happen between two reads),
    /// ending after a terminal state.
    pub async fn subscribe(&self, id: TaskId) -> Result<watch::Receiver<Progress>, ServiceError> {
        if let Some(rx) = self.hub.subscribe(id) {
            return Ok(rx);
        }
        let task = self.task(id).await?;
        let rx = self.subscribe_to(&task);
        if !task.status.is_terminal() {
            // The task may have ended between the read and the subscription,
            // without anyone left to publish it: look again.
            if let Some(now) = self.store.task(id).await?
                && now.status.is_terminal()
            {
                self.hub.publish(Progress::of(&now));
            }
        }
        Ok(rx)
    }

    pub(super) fn subscribe_to(&self, task: &Task) -> watch::Receiver<Progress> {
        if task.status.is_terminal() {
            // A finished task: its final state, and the end.
            return watch::channel(Progress::of(task)).1;
        }
        let rx = self.hub.channel(Progress::of(task)).subscribe();
        self.runner.follow_remote(task.id);
        rx
    }
}

/// Waits until the progress is terminal (or its channel closes).
pub(super) async fn wait_terminal(mut rx: watch::Receiver<Progress>) -> Progress {
    loop {
        let current = rx.borrow_and_update().clone();
        if current.status.is_terminal() || rx.changed().await.is_err() {
            return rx.borrow().clone();
        }
    }
}
