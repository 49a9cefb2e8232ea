//! Tasks: starting, reading, listing, stopping, restarting, deleting and
//! purging them.

use std::time::Duration;

use chrono::Utc;

use crate::domain::{EventKind, Progress, RawTaskSpec, Task, TaskId, TaskSpec, TaskSummary, Violations, WatchId};
use crate::service::progress::wait_terminal;
use crate::service::{Page, Purge, ServiceError, TaskDetails, TaskListing, TaskService, page_token};
use crate::store::{Change, Inserted, NewTask, Notice, StopOutcome, TaskPage, TaskSearch};

/// How long `StopTask` waits for a running task to reach `CANCELLED` before
/// answering with its state at that moment.
pub const STOP_WAIT: Duration = Duration::from_secs(10);

impl TaskService {
    /// Validates and queues a task for the caller named `by` (the name of
    /// its token, when the server has tokens), within the pending-task
    /// quotas; a known request id returns its task.
    pub async fn start_task(&self, raw: RawTaskSpec, by: Option<&str>) -> Result<Task, ServiceError> {
        self.start(raw, by, None).await
    }

    /// Starts a run of a watch: a task like any other (the same checks),
    /// linked to its watch.
    pub async fn start_watch_run(&self, raw: RawTaskSpec, watch: WatchId) -> Result<Task, ServiceError> {
        self.start(raw, None, Some(watch)).await
    }

    async fn start(&self, raw: RawTaskSpec, by: Option<&str>, watch: Option<WatchId>) -> Result<Task, ServiceError> {
        let spec = TaskSpec::parse_within(raw, &self.catalog, &self.limits.spec)?;
        let id = TaskId::new();
        let search_text = self.search_text(id, &spec);
        let every_prefecture = spec.regions.is_empty() && spec.prefectures.is_empty();
        let skipped = self
            .catalog
            .unsupported_in(&spec.regions, every_prefecture)
            .map(|p| format!("{} ({}): {}", p.name, p.code, p.unsupported.as_deref().unwrap_or_default()))
            .collect();
        let new = NewTask {
            id,
            spec: spec.clone(),
            search_text,
            skipped,
            now: Utc::now(),
            created_by: by.map(str::to_owned),
            quota: self.limits.pending,
            watch,
        };
        match self.store.insert_task(new).await? {
            Inserted::Created(task) => {
                tracing::info!(task = %task.id, operations = task.counters.total_operations, "task queued");
                self.runner.wake();
                Ok(task)
            }
            // A retry of the same request: the same task.
            Inserted::SameRequest(task) if task.spec == spec => Ok(task),
            Inserted::SameRequest(task) => Err(ServiceError::AlreadyExists(format!(
                "request_id {:?} was already used to start task {} with other parameters: \
                 send the same parameters to get that task back, or another request_id",
                spec.request_id.unwrap_or_default(),
                task.id
            ))),
            Inserted::ExportNameTaken(holder) => Err(Violations::one(
                "export.file_name",
                format!("is already the export file of task {holder}: choose another name (or delete that task)"),
            )
            .into()),
            Inserted::OverQuota(exceeded) => {
                tracing::info!(quota = exceeded.subject(), "task refused: quota full");
                Err(ServiceError::ResourceExhausted { subject: exceeded.subject(), message: exceeded.to_string() })
            }
        }
    }

    /// A task, with its totals per keyword and prefecture and its live
    /// progress when it runs here.
    pub async fn get_task(&self, id: TaskId) -> Result<TaskDetails, ServiceError> {
        let task = self.task(id).await?;
        let operations = self.store.operations(id).await?;
        let progress = self.live_progress(&task);
        let summary = TaskSummary::of(&task, &operations);
        let events = self.store.task_events(id).await?;
        // The last export of the current run (a restart starts a new one).
        let export_error = events
            .iter()
            .rev()
            .take_while(|e| e.kind != EventKind::Restarted)
            .find(|e| matches!(e.kind, EventKind::Exported | EventKind::ExportFailed))
            .filter(|e| e.kind == EventKind::ExportFailed)
            .map(|e| e.message.clone());
        Ok(TaskDetails { task, operations, summary, progress, export_error })
    }

    pub async fn task(&self, id: TaskId) -> Result<Task, ServiceError> {
        self.store.task(id).await?.ok_or_else(|| ServiceError::task_not_found(id))
    }

    /// A page of tasks, in the listing's order.
    pub async fn list_tasks(&self, listing: TaskListing) -> Result<Page<Task>, ServiceError> {
        Ok(self.tasks_page(listing, false).await?.0)
    }

    /// A page of tasks, in the listing's order, and how many tasks match its
    /// filters in all (one `COUNT` of the tasks' rows).
    pub async fn list_tasks_with_total(&self, listing: TaskListing) -> Result<(Page<Task>, u64), ServiceError> {
        let (page, total) = self.tasks_page(listing, true).await?;
        Ok((page, total.unwrap_or_default()))
    }

    async fn tasks_page(&self, listing: TaskListing, count: bool) -> Result<(Page<Task>, Option<u64>), ServiceError> {
        let text = listing.query.text.as_ref();
        let search = TaskSearch {
            // A whole task id is looked up by key.
            id: text.and_then(|q| q.as_str().parse::<TaskId>().ok()),
            // Tasks over every prefecture do not list them in their search text.
            text_names_a_place: text.and_then(|q| q.folded()).is_some_and(|q| self.names_a_place(q)),
            id_prefix: text.and_then(|q| super::search_text::id_prefix(q.as_str())),
            query: listing.query,
        };
        let size = listing.size.get();
        let order = listing.order;
        let page = TaskPage { order, after: listing.cursor.as_ref(), limit: size + 1 };
        let tasks = self.store.list_tasks(&search, &page).await?;
        let total = if count { Some(self.store.count_tasks(&search).await?) } else { None };
        let page = Page::of(tasks, size, |(_, after)| page_token::task_token(after, order));
        Ok((page.map(|(task, _)| task), total))
    }

    /// Stops a pending or running task and returns it (cancelled, unless
    /// its worker could not stop within `STOP_WAIT`, ten seconds).
    pub async fn stop_task(&self, id: TaskId) -> Result<Task, ServiceError> {
        match self.store.request_stop(id, Utc::now()).await? {
            StopOutcome::NotFound => Err(ServiceError::task_not_found(id)),
            StopOutcome::AlreadyFinished(task) => Err(ServiceError::FailedPrecondition(format!(
                "task {id} already ended ({}): only pending or running tasks can be stopped",
                task.status
            ))),
            StopOutcome::CancelledPending(task) => {
                tracing::info!(task = %id, "pending task cancelled");
                self.hub.publish(Progress::of(&task));
                Ok(task)
            }
            StopOutcome::Requested(task) => {
                let rx = self.subscribe_to(&task);
                if !self.runner.stop_local(id) {
                    // Running on another replica: tell it now (its heartbeat
                    // would notice within a third of the lease anyway).
                    self.store.notify(&Notice::stop(id)).await;
                }
                let _ = tokio::time::timeout(STOP_WAIT, wait_terminal(rx)).await;
                self.task(id).await
            }
        }
    }

    /// Stops every pending or running task; returns how many it stopped.
    pub async fn stop_all_tasks(&self) -> Result<usize, ServiceError> {
        let ids = self.store.active_task_ids().await?;
        let stops = futures_util::future::join_all(ids.into_iter().map(|id| self.stop_task(id))).await;
        let mut stopped = 0;
        for stop in stops {
            match stop {
                Ok(_) => stopped += 1,
                // Ended, or deleted, meanwhile: nothing to stop.
                Err(ServiceError::FailedPrecondition(_) | ServiceError::NotFound(_)) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(stopped)
    }

    /// Takes a finished task back to pending; its next run replaces its
    /// results.
    pub async fn restart_task(&self, id: TaskId) -> Result<Task, ServiceError> {
        match self.store.restart_task(id, Utc::now()).await? {
            Change::Done(task) => {
                tracing::info!(task = %id, "task restarted");
                self.runner.wake();
                Ok(*task)
            }
            Change::Refused(status) => Err(ServiceError::FailedPrecondition(format!(
                "task {id} is {status}: only a finished task (succeeded, failed or cancelled) can be restarted"
            ))),
            Change::NotFound => Err(ServiceError::task_not_found(id)),
        }
    }

    /// Deletes a task that is not running, its results, and the documents
    /// no other task found.
    pub async fn delete_task(&self, id: TaskId) -> Result<(), ServiceError> {
        match self.store.delete_task(id).await? {
            Change::Done(_) => {
                tracing::info!(task = %id, "task deleted");
                // Streams of a deleted pending task end with its last state.
                self.hub.close(id);
                Ok(())
            }
            Change::Refused(status) => {
                Err(ServiceError::FailedPrecondition(format!("task {id} is {status}: stop it before deleting it")))
            }
            Change::NotFound => Err(ServiceError::task_not_found(id)),
        }
    }

    /// How many tasks have each status, for the metrics.
    pub async fn task_counts(&self) -> Result<Vec<(crate::domain::TaskStatus, u64)>, ServiceError> {
        Ok(self.store.task_counts().await?)
    }

    /// Deletes finished tasks; returns how many were deleted.
    pub async fn purge_tasks(&self, purge: Purge) -> Result<usize, ServiceError> {
        let deleted = self.store.purge_tasks(&purge.statuses, purge.completed_before).await?;
        tracing::info!(deleted, "tasks purged");
        Ok(deleted)
    }
}
