//! The service layer: every rule of the task API, called by the gRPC
//! services (and any other front end) with domain values.

mod error;
mod page_token;

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::{mpsc, watch};

use crate::catalog::Catalog;
use crate::domain::text::fold;
use crate::domain::{ExportFormat, Progress, RawTaskSpec, Task, TaskEvent, TaskId, TaskSpec, TaskStatus, Violations};
use crate::export::{self, ChunkSink, ExportError};
use crate::runner::{ProgressHub, Runner};
use crate::store::{
    Change, DocumentCursor, DocumentFilter, NewTask, Notice, OperationCursor, OperationFilter, RecordedOperation,
    StopOutcome, Store, StoredCard, TaskCursor, TaskFilter,
};

pub use error::ServiceError;
pub use page_token::InvalidPageToken;
pub use page_token::{document_cursor, operation_cursor, task_cursor};

/// Default and largest page sizes of the list calls.
pub const DEFAULT_PAGE_SIZE: usize = 50;
pub const MAX_PAGE_SIZE: usize = 1000;

/// How long `StopTask` waits for a running task to reach `CANCELLED` before
/// answering with its state at that moment.
const STOP_WAIT: Duration = Duration::from_secs(10);

/// The task service: cheap to clone.
#[derive(Debug, Clone)]
pub struct TaskService {
    store: Store,
    catalog: Arc<Catalog>,
    hub: Arc<ProgressHub>,
    runner: Runner,
}

/// A task with what `GetTask` shows beyond its row.
#[derive(Debug, Clone)]
pub struct TaskDetails {
    pub task: Task,
    pub operations: Vec<RecordedOperation>,
    /// The live progress, when this server has it.
    pub progress: Progress,
}

/// One page of a list.
#[derive(Debug, Clone)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_page_token: Option<String>,
}

impl<T> Page<T> {
    /// A page from `size + 1` items fetched: the extra one only says that
    /// there is a next page, which starts after the last item kept.
    fn of(mut items: Vec<T>, size: usize, token: impl Fn(&T) -> String) -> Page<T> {
        let next_page_token = if items.len() > size {
            items.truncate(size);
            items.last().map(token)
        } else {
            None
        };
        Page { items, next_page_token }
    }
}

impl TaskService {
    pub fn new(store: Store, catalog: Arc<Catalog>, hub: Arc<ProgressHub>, runner: Runner) -> TaskService {
        TaskService { store, catalog, hub, runner }
    }

    pub fn catalog(&self) -> &Arc<Catalog> {
        &self.catalog
    }

    /// Validates and queues a task; a known request id returns its task.
    pub async fn start_task(&self, raw: RawTaskSpec) -> Result<Task, ServiceError> {
        let spec = TaskSpec::parse(raw, &self.catalog)?;
        let id = TaskId::new();
        let search_text = self.search_text(id, &spec);
        let (task, created) = self.store.insert_task(NewTask { id, spec, search_text, now: Utc::now() }).await?;
        if created {
            tracing::info!(task = %task.id, operations = task.counters.total_operations, "task queued");
            self.runner.wake();
        }
        Ok(task)
    }

    /// A task, with its live progress when it runs here.
    pub async fn get_task(&self, id: TaskId) -> Result<TaskDetails, ServiceError> {
        let task = self.task(id).await?;
        let operations = self.store.operations(id).await?;
        let progress = self.live_progress(&task);
        Ok(TaskDetails { task, operations, progress })
    }

    pub async fn task(&self, id: TaskId) -> Result<Task, ServiceError> {
        self.store.task(id).await?.ok_or_else(|| ServiceError::task_not_found(id))
    }

    /// The stored state, overlaid with the in-memory fields of a task
    /// running on this server.
    pub fn live_progress(&self, task: &Task) -> Progress {
        match self.hub.subscribe(task.id) {
            Some(rx) if !task.status.is_terminal() => {
                let live = rx.borrow().clone();
                if live.counters.completed_operations >= task.counters.completed_operations {
                    live
                } else {
                    Progress::of(task)
                }
            }
            _ => Progress::of(task),
        }
    }

    /// A page of tasks, newest first.
    pub async fn list_tasks(
        &self,
        mut filter: TaskFilter,
        page_size: usize,
        page_token: Option<TaskCursor>,
    ) -> Result<Page<Task>, ServiceError> {
        // A whole task id is looked up by key.
        if let Some(id) = filter.query.as_deref().and_then(|q| q.parse::<TaskId>().ok()) {
            filter.id = Some(id.to_string());
        }
        filter.query = filter.query.map(|q| fold(&q)).filter(|q| !q.is_empty());
        // Tasks over every prefecture do not list them in their search text.
        filter.query_names_a_place = filter.query.as_deref().is_some_and(|q| self.names_a_place(q));
        let size = page_size.clamp(1, MAX_PAGE_SIZE);
        let tasks = self.store.list_tasks(&filter, page_token.as_ref(), size + 1).await?;
        Ok(Page::of(tasks, size, page_token::task_token))
    }

    /// Stops a pending or running task and returns it (cancelled, unless
    /// its worker could not stop within a few seconds).
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

    /// A page of a task's operation results, by prefecture code and keyword.
    pub async fn list_task_results(
        &self,
        id: TaskId,
        mut filter: OperationFilter,
        page_size: usize,
        page_token: Option<OperationCursor>,
    ) -> Result<Page<RecordedOperation>, ServiceError> {
        let task = self.task(id).await?;
        filter.keyword = filter.keyword.map(|k| task_keyword(&task, &k));
        let size = page_size.clamp(1, MAX_PAGE_SIZE);
        let ops = self.store.list_operations(id, &filter, page_token.as_ref(), size + 1).await?;
        Ok(Page::of(ops, size, page_token::operation_token))
    }

    /// A page of documents: those a task found (by prefecture, keyword and
    /// link), or all of them (newest first).
    pub async fn list_documents(
        &self,
        mut filter: DocumentFilter,
        page_size: usize,
        page_token: Option<DocumentCursor>,
    ) -> Result<Page<StoredCard>, ServiceError> {
        if let Some(id) = filter.task {
            let task = self.task(id).await?;
            filter.keyword = filter.keyword.map(|k| task_keyword(&task, &k));
        }
        filter.query = filter.query.map(|q| fold(&q)).filter(|q| !q.is_empty());
        let size = page_size.clamp(1, MAX_PAGE_SIZE);
        let in_task = filter.task.is_some();
        let docs = self.store.list_documents(&filter, page_token.as_ref(), size + 1).await?;
        Ok(Page::of(docs, size, |last| page_token::document_token(last, in_task)))
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

    /// Deletes finished tasks by status (all finished ones when empty) and
    /// completion time; returns how many were deleted.
    pub async fn purge_tasks(
        &self,
        statuses: Vec<TaskStatus>,
        completed_before: Option<DateTime<Utc>>,
    ) -> Result<usize, ServiceError> {
        let mut violations = Violations::new();
        for (i, status) in statuses.iter().enumerate() {
            if !status.is_terminal() {
                violations.add(
                    format!("statuses[{i}]"),
                    format!("{status} tasks cannot be purged: only succeeded, failed or cancelled ones"),
                );
            }
        }
        let statuses = if statuses.is_empty() {
            vec![TaskStatus::Succeeded, TaskStatus::Failed, TaskStatus::Cancelled]
        } else {
            statuses
        };
        violations.into_result(())?;
        let deleted = self.store.purge_tasks(&statuses, completed_before).await?;
        tracing::info!(deleted, "tasks purged");
        Ok(deleted)
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

    /// The export of a task, in chunks, produced while they are read.
    pub async fn export_task(
        &self,
        id: TaskId,
        format: ExportFormat,
    ) -> Result<mpsc::Receiver<Result<Vec<u8>, ServiceError>>, ServiceError> {
        let task = self.task(id).await?;
        let (tx, rx) = mpsc::channel(2);
        let (store, catalog) = (self.store.clone(), self.catalog.clone());
        tokio::spawn(async move {
            let mut sink = ChannelSink { tx: tx.clone() };
            match export::export(&store, &catalog, &task, format, &mut sink).await {
                Ok(_) | Err(ExportError::Closed) => {}
                Err(ExportError::Store(e)) => {
                    let _ = tx.send(Err(e.into())).await;
                }
                Err(e) => {
                    let _ = tx.send(Err(ServiceError::Internal(e.to_string()))).await;
                }
            }
        });
        Ok(rx)
    }

    /// The event log of a task.
    pub async fn task_events(&self, id: TaskId) -> Result<Vec<TaskEvent>, ServiceError> {
        self.task(id).await?;
        Ok(self.store.task_events(id).await?)
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

    fn subscribe_to(&self, task: &Task) -> watch::Receiver<Progress> {
        if task.status.is_terminal() {
            // A finished task: its final state, and the end.
            return watch::channel(Progress::of(task)).1;
        }
        let rx = self.hub.channel(Progress::of(task)).subscribe();
        self.runner.follow_remote(task.id);
        rx
    }

    /// What `ListTasks.query` matches: the id, keywords, and the names and
    /// codes of the prefectures and regions searched (left out for a task
    /// over every prefecture, which any place name matches), folded.
    fn search_text(&self, id: TaskId, spec: &TaskSpec) -> String {
        let mut parts = vec![id.to_string()];
        parts.extend(spec.keywords.iter().cloned());
        let every_prefecture = spec.regions.is_empty() && spec.prefectures.is_empty();
        for code in spec.targets.iter().filter(|_| !every_prefecture) {
            if let Some(p) = self.catalog.prefecture_by_code(code) {
                parts.push(format!("{} {}", p.code, p.name));
            }
        }
        for code in &spec.regions {
            parts.push(self.catalog.region_name(code).to_owned());
        }
        format!(" {} ", parts.iter().map(|p| fold(p)).collect::<Vec<_>>().join(" | "))
    }
}

impl TaskService {
    /// Whether a folded query appears in a prefecture's or region's name or code.
    fn names_a_place(&self, query: &str) -> bool {
        let hit = |code: &str, name: &str| fold(code).contains(query) || fold(name).contains(query);
        self.catalog.prefectures().iter().any(|p| hit(&p.code, &p.name))
            || self.catalog.regions().iter().any(|r| hit(&r.code, &r.name))
    }
}

/// Hands export chunks to a reader.
struct ChannelSink {
    tx: mpsc::Sender<Result<Vec<u8>, ServiceError>>,
}

impl ChunkSink for ChannelSink {
    async fn write(&mut self, chunk: Vec<u8>) -> Result<(), ExportError> {
        self.tx.send(Ok(chunk)).await.map_err(|_| ExportError::Closed)
    }
}

/// The task's own spelling of a keyword given in any case or accents.
fn task_keyword(task: &Task, keyword: &str) -> String {
    let folded = fold(keyword);
    task.spec.keywords.iter().find(|k| fold(k) == folded).cloned().unwrap_or_else(|| keyword.trim().to_owned())
}

/// Waits until the progress is terminal (or its channel closes).
async fn wait_terminal(mut rx: watch::Receiver<Progress>) -> Progress {
    loop {
        let current = rx.borrow_and_update().clone();
        if current.status.is_terminal() || rx.changed().await.is_err() {
            return rx.borrow().clone();
        }
    }
}

/// Status names accepted from people (CLI, dashboard): `running`, `RUNNING`…
pub fn parse_status(name: &str) -> Option<TaskStatus> {
    TaskStatus::from_db(&name.trim().to_ascii_lowercase())
}
