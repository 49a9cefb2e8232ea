//! One action on many tasks chosen by hand (rows ticked in a list): each
//! task gets the same call as on its own, and the outcome of every one is
//! kept, done or refused with why.

use futures_util::future::join_all;

use crate::domain::{TaskId, Violations};
use crate::service::{ServiceError, TaskService};

/// Most tasks one call may name: several pages of a list, and a bounded
/// amount of work (a stop waits for each running task to end).
pub const MAX_TASKS_AT_ONCE: usize = 100;

/// What can be done to tasks chosen by hand.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskAction {
    Stop,
    Restart,
    Delete,
}

impl TaskAction {
    pub const ALL: [TaskAction; 3] = [TaskAction::Stop, TaskAction::Restart, TaskAction::Delete];

    pub fn as_str(self) -> &'static str {
        match self {
            TaskAction::Stop => "stop",
            TaskAction::Restart => "restart",
            TaskAction::Delete => "delete",
        }
    }

    pub fn from_name(name: &str) -> Option<TaskAction> {
        TaskAction::ALL.into_iter().find(|a| a.as_str() == name)
    }
}

/// What an action did to each task it was asked for, in the order asked.
#[derive(Debug, Default)]
pub struct Applied {
    pub done: Vec<TaskId>,
    /// The tasks it was not done to, with the error each one gave (a task
    /// in the wrong state, one deleted meanwhile, a database that failed).
    pub refused: Vec<(TaskId, ServiceError)>,
}

impl TaskService {
    /// Applies `action` to every task of `ids` (repeats counted once), all
    /// at once, as [`TaskService::stop_task`], [`TaskService::restart_task`]
    /// or [`TaskService::delete_task`] would one by one. Fails only when
    /// `ids` is empty or longer than [`MAX_TASKS_AT_ONCE`]; every other
    /// failure is that task's refusal.
    pub async fn apply_to_each(&self, action: TaskAction, ids: &[TaskId]) -> Result<Applied, ServiceError> {
        let mut unique: Vec<TaskId> = Vec::with_capacity(ids.len());
        for id in ids {
            if !unique.contains(id) {
                unique.push(*id);
            }
        }
        if unique.is_empty() {
            return Err(Violations::one("task_ids", "name at least one task").into());
        }
        if unique.len() > MAX_TASKS_AT_ONCE {
            return Err(Violations::one("task_ids", format!("at most {MAX_TASKS_AT_ONCE} tasks at once")).into());
        }
        let outcomes = join_all(unique.iter().map(|&id| async move {
            let outcome = match action {
                TaskAction::Stop => self.stop_task(id).await.map(drop),
                TaskAction::Restart => self.restart_task(id).await.map(drop),
                TaskAction::Delete => self.delete_task(id).await,
            };
            (id, outcome)
        }))
        .await;
        let mut applied = Applied::default();
        for (id, outcome) in outcomes {
            match outcome {
                Ok(()) => applied.done.push(id),
                Err(e) => applied.refused.push((id, e)),
            }
        }
        tracing::info!(
            action = action.as_str(),
            done = applied.done.len(),
            refused = applied.refused.len(),
            "bulk action"
        );
        Ok(applied)
    }
}
