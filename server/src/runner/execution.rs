//! Running one claimed task: its operations, its heartbeat, and how it ends
//! (succeeded, failed, cancelled, or handed back on shutdown).

use std::sync::Arc;

use chrono::Utc;
use tokio::sync::watch;

use crate::domain::{Counters, Ending, EventKind, ExportSpec, Progress, Task, TaskId, TaskStatus};
use crate::export;
use crate::runner::announcer::{self, announce_changes};
use crate::runner::heartbeat::{Signals, heartbeat};
use crate::runner::operation::{TaskRun, pending_operations, run_operations};
use crate::runner::retry::retry_unavailable;
use crate::runner::{Inner, Running};
use crate::scrape::CardFilter;
use crate::store::Claim;

impl Inner {
    /// Tells replicas that follow the task that its state changed (nothing
    /// to do on an embedded database).
    pub(super) fn announce(&self, progress: &Progress) {
        if self.store.is_embedded() {
            return;
        }
        let notice = announcer::notice(progress);
        let store = self.store.clone();
        tokio::spawn(async move { store.notify(&notice).await });
    }
}

pub(super) async fn execute(inner: Arc<Inner>, claim: Claim) {
    let task = claim.task;
    let id = task.id;
    let cancel = inner.abort.child_token();
    let signals = Arc::new(Signals::default());
    if claim.stop_requested {
        signals.stop.store(true, std::sync::atomic::Ordering::SeqCst);
    }
    inner.running_tasks().insert(id, Running { cancel: cancel.clone(), signals: signals.clone() });
    tracing::info!(task = %id, resumed = claim.resumed, "task started");

    let mut progress = Progress::of(&task);
    progress.status = TaskStatus::Running;
    let sender = inner.hub.channel(progress.clone());
    inner.announce(&progress);
    sender.send_replace(progress);

    let heartbeat = tokio::spawn(heartbeat(inner.clone(), id, cancel.clone(), signals.clone()));
    let announcing = announce_changes(&inner, &sender);

    let run = Arc::new(TaskRun {
        inner: inner.clone(),
        id,
        filter: CardFilter::new(task.spec.days_limit, &task.spec.exclude_keywords, Utc::now().date_naive()),
        cancel: cancel.clone(),
        progress: sender.clone(),
        signals: signals.clone(),
        in_flight: std::sync::Mutex::default(),
    });
    let finished_all = if signals.stopped() {
        cancel.cancel();
        false
    } else {
        match pending_operations(&inner, &task).await {
            Ok(operations) => run_operations(&run, operations).await,
            Err(e) => {
                tracing::error!(task = %id, error = %e, "could not read the task's recorded operations");
                false
            }
        }
    };

    heartbeat.abort();
    drop(announcing);
    inner.running_tasks().remove(&id);
    if signals.lost() {
        tracing::warn!(task = %id, "lease lost: another worker took the task over");
        inner.hub.close(id);
        return;
    }
    let ending = if signals.stopped() {
        Some((Ending::Cancelled, None))
    } else if finished_all {
        let counters = sender.borrow().counters;
        Some(verdict(&inner, id, counters).await)
    } else {
        None
    };
    match ending {
        Some((ending, error)) => finish(&inner, &task, &sender, ending, error).await,
        None => hand_back(&inner, id, &sender).await,
    }
}

/// Writes the export, if any, then records the end of the task.
async fn finish(inner: &Inner, task: &Task, sender: &watch::Sender<Progress>, ending: Ending, error: Option<String>) {
    let id = task.id;
    if let Some(spec) = &task.spec.export {
        write_export(inner, task, spec, ending, error.clone()).await;
    }
    let owner = &inner.config.owner;
    let finished =
        retry_unavailable(&inner.abort, || inner.store.finish_task(id, owner, ending, error.clone(), Utc::now())).await;
    match finished {
        Ok(Some(task)) => {
            tracing::info!(task = %id, status = %task.status, "task ended");
            publish_final(inner, sender, &task);
        }
        Ok(None) => {
            tracing::warn!(task = %id, "task was no longer ours to finish");
            inner.hub.close(id);
        }
        Err(e) => {
            tracing::error!(task = %id, error = %e, "could not record the end of the task");
            inner.hub.close(id);
        }
    }
}

/// Shutdown: leaves the task running and ownerless, so the next start
/// resumes it where it stopped.
async fn hand_back(inner: &Inner, id: TaskId, sender: &watch::Sender<Progress>) {
    if let Err(e) = inner.store.release_task(id, &inner.config.owner, Utc::now()).await {
        tracing::warn!(task = %id, error = %e, "could not release the task; it resumes after its lease");
    }
    tracing::info!(task = %id, "task handed back for resumption");
    inner.announce(&sender.borrow());
    inner.hub.close(id);
}

/// Writes the task's export as it ends; a failure is logged in the task's
/// events and does not change how the task ended.
async fn write_export(inner: &Inner, task: &Task, spec: &ExportSpec, ending: Ending, error: Option<String>) {
    let mut ending_task = task.clone();
    if let Ok(Some(stored)) = inner.store.task(task.id).await {
        ending_task = stored;
    }
    ending_task.status = ending.status();
    ending_task.error = error;
    ending_task.completed_at = Some(Utc::now());
    let complete = ending == Ending::Succeeded;
    let dir = &inner.config.export_dir;
    let written = export::write_file(&inner.store, &inner.catalog, &ending_task, spec, dir, complete).await;
    let (kind, message) = match written {
        Ok(export::Written::File(path, stats)) => {
            tracing::info!(task = %task.id, path = %path.display(), documents = stats.documents, "export written");
            (EventKind::Exported, format!("wrote {} documents to {}", stats.documents, spec.file_name))
        }
        Ok(export::Written::KeptEarlier(path)) => {
            tracing::info!(task = %task.id, path = %path.display(), "earlier export kept");
            let run = if ending == Ending::Cancelled { "stopped" } else { "failed" };
            (EventKind::Exported, format!("kept the earlier {}: this run {run} before its end", spec.file_name))
        }
        Err(e) => {
            tracing::error!(task = %task.id, error = %e, "export failed");
            (EventKind::ExportFailed, format!("export to {} failed: {e}", spec.file_name))
        }
    };
    if let Err(e) = inner.store.add_event(task.id, kind, message, Utc::now()).await {
        tracing::warn!(task = %task.id, error = %e, "could not log the export");
    }
}

/// Publishes the stored final state, keeping the last operation shown.
fn publish_final(inner: &Inner, sender: &watch::Sender<Progress>, task: &Task) {
    let last = sender.borrow().clone();
    let mut progress = Progress::of(task);
    progress.current_prefecture = last.current_prefecture;
    progress.current_keyword = last.current_keyword;
    inner.hub.publish(progress.clone());
    inner.announce(&progress);
    sender.send_replace(progress);
}

/// Succeeded, unless every operation failed.
async fn verdict(inner: &Inner, id: TaskId, counters: Counters) -> (Ending, Option<String>) {
    if counters.total_operations == 0 || counters.failed_operations < counters.total_operations {
        return (Ending::Succeeded, None);
    }
    let example = match inner.store.operations(id).await {
        Ok(ops) => ops.into_iter().find_map(|op| {
            let o = op.outcome;
            o.error.map(|e| format!("; e.g. {}/{}: {e}", o.prefecture_code, o.keyword))
        }),
        Err(_) => None,
    };
    (
        Ending::Failed,
        Some(format!("all {} operations failed{}", counters.total_operations, example.unwrap_or_default())),
    )
}
