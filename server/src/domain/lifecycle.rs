//! The task lifecycle as a state machine: which moves a task's status
//! allows, where each leads, and what each sets or clears. The store applies
//! these moves; it decides none of them.
//!
//! ```text
//! Pending ──Claim──▶ Running ──Finish──▶ Succeeded | Failed | Cancelled
//!    │                 │ ▲                         │
//!    │                 │ └─Claim (resume), Release │
//!    └──CancelPending──┼──▶ Cancelled              │
//!                      └─RequestStop (stays Running, flagged)
//! Succeeded | Failed | Cancelled ──Restart──▶ Pending
//! ```

use crate::domain::{EventKind, TaskStatus};

/// How a task that ran ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Ending {
    Succeeded,
    /// Every operation failed.
    Failed,
    /// A client stopped it.
    Cancelled,
}

impl Ending {
    pub fn status(self) -> TaskStatus {
        match self {
            Ending::Succeeded => TaskStatus::Succeeded,
            Ending::Failed => TaskStatus::Failed,
            Ending::Cancelled => TaskStatus::Cancelled,
        }
    }
}

/// A move of the lifecycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Transition {
    /// A worker takes a pending task, or a running one whose worker is gone
    /// (its lease expired, or it was handed back): it resumes.
    Claim,
    /// A stop of a task that had not started: it ends at once.
    CancelPending,
    /// A stop of a running task: its worker is told, and ends it.
    RequestStop,
    /// The worker ends the task.
    Finish(Ending),
    /// The worker gives a running task back (on shutdown), to be resumed.
    Release,
    /// A finished task is queued again; its results are cleared.
    Restart,
}

/// What a move does to one timestamp or field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mark {
    Keep,
    /// Set to the move's time (or value).
    Set,
    /// Set only when it has no value yet.
    SetIfUnset,
    Clear,
}

/// Everything a move changes besides the status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Effects {
    pub started_at: Mark,
    pub completed_at: Mark,
    /// The worker that runs the task and its lease.
    pub owner: Mark,
    pub stop_requested: Mark,
    /// The error is set by `Finish` (from the worker) and cleared by `Restart`.
    pub error: Mark,
    /// Counters, recorded operations and the task's links to documents go.
    pub clears_results: bool,
}

impl Transition {
    /// The statuses the move applies from.
    pub fn from(self) -> &'static [TaskStatus] {
        match self {
            Transition::Claim => &[TaskStatus::Pending, TaskStatus::Running],
            Transition::CancelPending => &[TaskStatus::Pending],
            Transition::RequestStop | Transition::Finish(_) | Transition::Release => &[TaskStatus::Running],
            Transition::Restart => &[TaskStatus::Succeeded, TaskStatus::Failed, TaskStatus::Cancelled],
        }
    }

    /// Whether the move applies to a task in `status`.
    pub fn applies_to(self, status: TaskStatus) -> bool {
        self.from().contains(&status)
    }

    /// The status after the move.
    pub fn to(self) -> TaskStatus {
        match self {
            Transition::Claim | Transition::RequestStop | Transition::Release => TaskStatus::Running,
            Transition::CancelPending => TaskStatus::Cancelled,
            Transition::Finish(ending) => ending.status(),
            Transition::Restart => TaskStatus::Pending,
        }
    }

    pub fn effects(self) -> Effects {
        let keep = Effects {
            started_at: Mark::Keep,
            completed_at: Mark::Keep,
            owner: Mark::Keep,
            stop_requested: Mark::Keep,
            error: Mark::Keep,
            clears_results: false,
        };
        match self {
            Transition::Claim => Effects { started_at: Mark::SetIfUnset, owner: Mark::Set, ..keep },
            Transition::CancelPending => {
                Effects { completed_at: Mark::Set, stop_requested: Mark::Set, owner: Mark::Clear, ..keep }
            }
            Transition::RequestStop => Effects { stop_requested: Mark::Set, ..keep },
            Transition::Finish(_) => Effects { completed_at: Mark::Set, owner: Mark::Clear, error: Mark::Set, ..keep },
            Transition::Release => Effects { owner: Mark::Clear, ..keep },
            Transition::Restart => Effects {
                started_at: Mark::Clear,
                completed_at: Mark::Clear,
                owner: Mark::Clear,
                stop_requested: Mark::Clear,
                error: Mark::Clear,
                clears_results: true,
            },
        }
    }

    /// The event the move logs, if any (`resumed`: the claimed task had
    /// started before).
    pub fn event(self, resumed: bool) -> Option<EventKind> {
        match self {
            Transition::Claim if resumed => Some(EventKind::Resumed),
            Transition::Claim => Some(EventKind::Started),
            Transition::CancelPending | Transition::Finish(Ending::Cancelled) => Some(EventKind::Stopped),
            Transition::RequestStop => Some(EventKind::StopRequested),
            Transition::Finish(Ending::Failed) => Some(EventKind::Failed),
            Transition::Finish(Ending::Succeeded) => Some(EventKind::Succeeded),
            Transition::Release => None,
            Transition::Restart => Some(EventKind::Restarted),
        }
    }
}

/// What a client's stop does to a task in `status`: `None` once it has ended.
pub fn stop(status: TaskStatus) -> Option<Transition> {
    [Transition::CancelPending, Transition::RequestStop].into_iter().find(|t| t.applies_to(status))
}

/// Whether a task in `status` may be deleted: a running one must be
/// stopped first (its worker still writes to it).
pub fn deletable(status: TaskStatus) -> bool {
    status != TaskStatus::Running
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL_MOVES: [Transition; 8] = [
        Transition::Claim,
        Transition::CancelPending,
        Transition::RequestStop,
        Transition::Finish(Ending::Succeeded),
        Transition::Finish(Ending::Failed),
        Transition::Finish(Ending::Cancelled),
        Transition::Release,
        Transition::Restart,
    ];

    #[test]
    fn completed_at_is_set_exactly_by_the_moves_into_a_terminal_status() {
        for t in ALL_MOVES {
            let sets = matches!(t.effects().completed_at, Mark::Set);
            assert_eq!(sets, t.to().is_terminal(), "{t:?}");
            if !t.to().is_terminal() {
                let leaves_terminal = t.from().iter().any(|s| s.is_terminal());
                assert_eq!(leaves_terminal, t.effects().completed_at == Mark::Clear, "{t:?}");
            }
        }
    }

    #[test]
    fn only_a_claim_starts_and_only_a_restart_clears_the_start() {
        for t in ALL_MOVES {
            let started = t.effects().started_at;
            match t {
                Transition::Claim => assert_eq!(started, Mark::SetIfUnset),
                Transition::Restart => assert_eq!(started, Mark::Clear),
                _ => assert_eq!(started, Mark::Keep, "{t:?}"),
            }
        }
    }

    #[test]
    fn a_stop_cancels_a_pending_task_flags_a_running_one_and_leaves_an_ended_one() {
        assert_eq!(stop(TaskStatus::Pending), Some(Transition::CancelPending));
        assert_eq!(stop(TaskStatus::Running), Some(Transition::RequestStop));
        for status in [TaskStatus::Succeeded, TaskStatus::Failed, TaskStatus::Cancelled] {
            assert_eq!(stop(status), None);
            assert!(Transition::Restart.applies_to(status));
        }
        assert!(!Transition::Restart.applies_to(TaskStatus::Running));
        assert!(!deletable(TaskStatus::Running) && deletable(TaskStatus::Pending));
    }
}
