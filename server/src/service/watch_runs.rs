//! The runs of watches, at a time the caller gives (the scheduler's clock):
//! firing the due times that have come (once each, and only the latest of
//! those missed), starting their tasks through the task service, and
//! counting the news of the runs whose task has ended.

use chrono::{DateTime, Utc};

use crate::domain::{Task, TaskId, TaskTemplate, WatchId, WatchRun};
use crate::service::watches::watch_not_found;
use crate::service::{ServiceError, WatchService};
use crate::store::EndedRun;

/// Watches, runs or counts handled per step of a tick.
const BATCH: usize = 100;

/// What one tick of the scheduler did.
#[derive(Debug, Clone, Default)]
pub struct Tick {
    /// Due times claimed by this server.
    pub fired: usize,
    /// Tasks started for runs.
    pub started: Vec<TaskId>,
    /// Runs whose news were counted.
    pub ended: Vec<EndedRun>,
}

impl WatchService {
    /// Everything due at `now`: fires the watches whose due time has come,
    /// starts the tasks of runs that have none, counts the news of runs
    /// whose task ended.
    pub async fn tick(&self, now: DateTime<Utc>) -> Result<Tick, ServiceError> {
        let fired = self.fire_due(now).await?;
        let started = self.start_unstarted(now).await?;
        let ended = self.count_ended_runs(now).await?;
        if fired > 0 || !started.is_empty() || !ended.is_empty() {
            self.written.notify_waiters();
        }
        Ok(Tick { fired, started, ended })
    }

    /// Claims each due time that has come. A watch whose scheduler was away
    /// for several due times fires once, for the latest of them; its next
    /// due time is then in the future.
    pub async fn fire_due(&self, now: DateTime<Utc>) -> Result<usize, ServiceError> {
        let mut fired = 0;
        for due in self.store.due_watches(now, BATCH).await? {
            let firing = due.schedule.catch_up(due.due, now);
            if let Some(run) = self.store.claim_due(due.id, due.due, firing.slot, firing.next, now).await? {
                tracing::info!(watch = %due.id, run = %run, due = %firing.slot, "watch due");
                fired += 1;
            }
        }
        Ok(fired)
    }

    /// Starts the task of each run that has none yet (just fired, or left
    /// by a server that stopped in between: the run's request id finds the
    /// task if it was created).
    pub async fn start_unstarted(&self, now: DateTime<Utc>) -> Result<Vec<TaskId>, ServiceError> {
        let mut started = Vec::new();
        for unstarted in self.store.unstarted_runs(BATCH).await? {
            if let Some(task) = self.start_run(&unstarted.run, &unstarted.task, now).await? {
                started.push(task.id);
            }
        }
        Ok(started)
    }

    /// Starts a run's task, checked like any task; a refused one ends the
    /// run, with the reason in the watch's log.
    async fn start_run(
        &self,
        run: &WatchRun,
        template: &TaskTemplate,
        now: DateTime<Utc>,
    ) -> Result<Option<Task>, ServiceError> {
        match self.tasks.start_watch_run(template.raw(run.id.request_id()), run.watch_id).await {
            Ok(task) => {
                if self.store.set_run_task(run, task.id, now).await? {
                    tracing::info!(watch = %run.watch_id, task = %task.id, "watch run started");
                }
                Ok(Some(task))
            }
            Err(ServiceError::InvalidArgument(violations)) => {
                tracing::warn!(watch = %run.watch_id, %violations, "watch run refused");
                self.store.run_not_started(run, format!("the run's task was refused: {violations}"), now).await?;
                Ok(None)
            }
            Err(other) => Err(other),
        }
    }

    /// Counts the news of every run whose task has ended.
    pub async fn count_ended_runs(&self, now: DateTime<Utc>) -> Result<Vec<EndedRun>, ServiceError> {
        let mut ended = Vec::new();
        for run in self.store.ended_uncounted_runs(BATCH).await? {
            if let Some(counted) = self.store.count_run_news(run, now).await? {
                tracing::info!(
                    watch = %counted.watch_id,
                    new_documents = counted.new_documents,
                    notifications = counted.notifications,
                    "watch run ended"
                );
                ended.push(counted);
            }
        }
        Ok(ended)
    }

    /// Starts a run now, outside the schedule (also when paused); returns
    /// its task.
    pub async fn run_now(&self, id: WatchId) -> Result<Task, ServiceError> {
        let now = Utc::now();
        let watch = self.get_watch(id).await?;
        let run = self.store.insert_manual_run(id, now).await?.ok_or_else(|| watch_not_found(id))?;
        let run = WatchRun {
            id: run,
            watch_id: id,
            due_at: None,
            requested_at: now,
            task_id: None,
            task_status: None,
            ended_at: None,
            new_documents: None,
        };
        let task = self.start_run(&run, &watch.spec.task, now).await;
        self.written.notify_waiters();
        match task? {
            Some(task) => {
                self.wake.notify_one();
                Ok(task)
            }
            None => Err(ServiceError::FailedPrecondition(format!(
                "watch {id}: its task was refused (see its events); update the watch's task"
            ))),
        }
    }
}
