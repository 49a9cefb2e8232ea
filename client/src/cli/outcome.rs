//! How a task stands for a person and for an exit code: its status, with a
//! task that succeeded although some of its operations failed told apart.

use std::process::ExitCode;

use crate::cli::exit;
use crate::cli::json::status_name;
use crate::pb;

/// A task's status as `scrapectl` shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Not ended yet: pending, running (or a status this client does not know).
    Active(pb::TaskStatus),
    /// Every operation succeeded.
    Succeeded,
    /// The task succeeded, but `failed` of its `total` operations did not:
    /// some prefectures were not searched.
    PartlySucceeded {
        failed: u32,
        total: u32,
    },
    Failed,
    Cancelled,
}

impl Outcome {
    /// From a status and the progress that counts the failed operations.
    pub fn of(status: pb::TaskStatus, progress: Option<&pb::Progress>) -> Outcome {
        match status {
            pb::TaskStatus::Succeeded => match progress {
                Some(p) if p.failed_operations > 0 => {
                    Outcome::PartlySucceeded { failed: p.failed_operations, total: p.total_operations }
                }
                _ => Outcome::Succeeded,
            },
            pb::TaskStatus::Failed => Outcome::Failed,
            pb::TaskStatus::Cancelled => Outcome::Cancelled,
            active => Outcome::Active(active),
        }
    }

    pub fn of_progress(progress: &pb::Progress) -> Outcome {
        Outcome::of(progress.status(), Some(progress))
    }

    pub fn of_task(task: &pb::Task) -> Outcome {
        Outcome::of(task.status(), task.progress.as_ref())
    }

    /// `succeeded`, `succeeded, 2 of 6 operations failed`, `running`…
    pub fn label(self) -> String {
        match self {
            Outcome::Active(status) => status_name(status).to_owned(),
            Outcome::Succeeded => status_name(pb::TaskStatus::Succeeded).to_owned(),
            Outcome::PartlySucceeded { failed, total } => format!("succeeded, {failed} of {total} operations failed"),
            Outcome::Failed => status_name(pb::TaskStatus::Failed).to_owned(),
            Outcome::Cancelled => status_name(pb::TaskStatus::Cancelled).to_owned(),
        }
    }

    /// The exit code of `scrapectl watch` for a task that ended this way.
    pub fn exit_code(self) -> ExitCode {
        match self {
            Outcome::Succeeded => ExitCode::SUCCESS,
            Outcome::PartlySucceeded { .. } => ExitCode::from(exit::PARTLY_FAILED),
            Outcome::Failed | Outcome::Cancelled | Outcome::Active(_) => ExitCode::from(exit::TASK_DID_NOT_SUCCEED),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn progress(status: pb::TaskStatus, failed: u32, total: u32) -> pb::Progress {
        pb::Progress {
            status: status.into(),
            failed_operations: failed,
            total_operations: total,
            completed_operations: total,
            ..Default::default()
        }
    }

    #[test]
    fn a_task_that_succeeded_with_failed_operations_says_how_many_of_how_many() {
        let outcome = Outcome::of_progress(&progress(pb::TaskStatus::Succeeded, 2, 6));
        assert_eq!(outcome, Outcome::PartlySucceeded { failed: 2, total: 6 });
        assert_eq!(outcome.label(), "succeeded, 2 of 6 operations failed");
        assert_eq!(outcome.exit_code(), ExitCode::from(4));
    }

    #[test]
    fn a_task_whose_every_operation_succeeded_is_plainly_succeeded() {
        let outcome = Outcome::of_progress(&progress(pb::TaskStatus::Succeeded, 0, 6));
        assert_eq!(outcome.label(), "succeeded");
        assert_eq!(outcome.exit_code(), ExitCode::SUCCESS);
    }

    #[test]
    fn failed_and_cancelled_tasks_keep_their_status_and_exit_code_3_whatever_their_failures() {
        for status in [pb::TaskStatus::Failed, pb::TaskStatus::Cancelled] {
            let outcome = Outcome::of_progress(&progress(status, 3, 6));
            assert_eq!(outcome.label(), status_name(status));
            assert_eq!(outcome.exit_code(), ExitCode::from(3));
        }
    }

    #[test]
    fn a_task_without_progress_is_told_by_its_status_alone() {
        let task = pb::Task { status: pb::TaskStatus::Succeeded.into(), ..Default::default() };
        assert_eq!(Outcome::of_task(&task), Outcome::Succeeded);
        let running = pb::Task { status: pb::TaskStatus::Running.into(), ..Default::default() };
        assert_eq!(Outcome::of_task(&running).label(), "running");
    }
}
