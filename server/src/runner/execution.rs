//! Running one claimed task: its operations concurrently, its heartbeat, and
//! how it ends (succeeded, failed, cancelled, or handed back on shutdown).

use std::collections::HashSet;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use chrono::Utc;
use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::catalog::Prefecture;
use crate::domain::{Counters, EventKind, ExportSpec, Progress, Task, TaskId, TaskStatus};
use crate::export;
use crate::runner::sink::CollectedCards;
use crate::runner::{Inner, Running};
use crate::scrape::{Card, CardFilter, OperationReport};
use crate::store::{Claim, LeaseState, Notice, OperationRecord, StoreError};

/// Longest pause between two attempts at a store call while the database
/// is unavailable.
const STORE_RETRY_CAP: Duration = Duration::from_secs(5);

/// Retries `op` for as long as the store is unavailable (locked, restarting,
/// unreachable), with a growing pause, until `cancel` fires.
pub(super) async fn retry_unavailable<T, F, Fut>(cancel: &CancellationToken, mut op: F) -> Result<T, StoreError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, StoreError>>,
{
    let mut pause = Duration::from_millis(50);
    let mut attempt = 1;
    loop {
        match op().await {
            Err(e) if e.is_unavailable() && !cancel.is_cancelled() => {
                if attempt == 1 || attempt % 10 == 0 {
                    tracing::warn!(error = %e, attempt, "store unavailable; retrying");
                }
                tokio::select! {
                    () = tokio::time::sleep(pause) => {}
                    () = cancel.cancelled() => return Err(e),
                }
                pause = (pause * 2).min(STORE_RETRY_CAP);
                attempt += 1;
            }
            other => return other,
        }
    }
}

impl Inner {
    /// Tells replicas that follow the task that its state changed (nothing
    /// to do on an embedded database).
    fn announce(&self, progress: &Progress) {
        if self.store.is_embedded() {
            return;
        }
        let notice = Notice::Progress {
            task: progress.task_id.to_string(),
            prefecture: progress.current_prefecture.clone(),
            keyword: progress.current_keyword.clone(),
            in_flight: progress.in_flight_operations,
        };
        let store = self.store.clone();
        tokio::spawn(async move { store.notify(&notice).await });
    }
}

/// One operation to run: a keyword on a prefecture's site.
struct Operation {
    prefecture: Prefecture,
    keyword: String,
}

/// Everything the operations of one task share.
struct TaskRun {
    inner: Arc<Inner>,
    id: TaskId,
    filter: CardFilter,
    cancel: CancellationToken,
    progress: watch::Sender<Progress>,
}

pub(super) async fn execute(inner: Arc<Inner>, claim: Claim) {
    let task = claim.task;
    let id = task.id;
    let cancel = inner.abort.child_token();
    let stop = Arc::new(AtomicBool::new(claim.stop_requested));
    inner.running_tasks().insert(id, Running { cancel: cancel.clone(), stop: stop.clone() });
    tracing::info!(task = %id, resumed = claim.resumed, "task started");

    let mut progress = Progress::of(&task);
    progress.status = TaskStatus::Running;
    let sender = inner.hub.channel(progress.clone());
    inner.announce(&progress);
    sender.send_replace(progress);

    let lost = Arc::new(AtomicBool::new(false));
    let heartbeat = tokio::spawn(heartbeat(inner.clone(), id, cancel.clone(), stop.clone(), lost.clone()));

    let run = Arc::new(TaskRun {
        inner: inner.clone(),
        id,
        filter: CardFilter::new(task.spec.days_limit, &task.spec.exclude_keywords, Utc::now().date_naive()),
        cancel: cancel.clone(),
        progress: sender.clone(),
    });
    let finished_all = if stop.load(Ordering::SeqCst) {
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
    inner.running_tasks().remove(&id);
    let owner = &inner.config.owner;
    if lost.load(Ordering::SeqCst) {
        tracing::warn!(task = %id, "lease lost: another worker took the task over");
        inner.hub.close(id);
        return;
    }
    let ending = if stop.load(Ordering::SeqCst) {
        Some((TaskStatus::Cancelled, None))
    } else if finished_all {
        let counters = sender.borrow().counters;
        Some(verdict(&inner, id, counters).await)
    } else {
        None
    };
    match ending {
        Some((status, error)) => {
            if let Some(spec) = &task.spec.export {
                write_export(&inner, &task, spec, status, error.clone()).await;
            }
            let finished = retry_unavailable(&inner.abort, || {
                inner.store.finish_task(id, owner, status, error.clone(), Utc::now())
            })
            .await;
            match finished {
                Ok(Some(task)) => {
                    tracing::info!(task = %id, %status, "task ended");
                    publish_final(&inner, &sender, &task);
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
        None => {
            // Shutdown: leave the task running and ownerless, so the next
            // start resumes it where it stopped.
            if let Err(e) = inner.store.release_task(id, owner, Utc::now()).await {
                tracing::warn!(task = %id, error = %e, "could not release the task; it resumes after its lease");
            }
            tracing::info!(task = %id, "task handed back for resumption");
            inner.announce(&sender.borrow());
            inner.hub.close(id);
        }
    }
}

/// Writes the task's export as it ends; a failure is logged in the task's
/// events and does not change how the task ended.
async fn write_export(inner: &Inner, task: &Task, spec: &ExportSpec, status: TaskStatus, error: Option<String>) {
    let mut ending = task.clone();
    if let Ok(Some(stored)) = inner.store.task(task.id).await {
        ending = stored;
    }
    ending.status = status;
    ending.error = error;
    ending.completed_at = Some(Utc::now());
    let (kind, message) =
        match export::write_file(&inner.store, &inner.catalog, &ending, spec, &inner.config.export_dir).await {
            Ok((path, stats)) => {
                tracing::info!(task = %task.id, path = %path.display(), documents = stats.documents, "export written");
                (EventKind::Exported, format!("wrote {} documents to {}", stats.documents, spec.file_name))
            }
            Err(e) => {
                tracing::error!(task = %task.id, error = %e, "export failed");
                (EventKind::Exported, format!("export to {} failed: {e}", spec.file_name))
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
async fn verdict(inner: &Inner, id: TaskId, counters: Counters) -> (TaskStatus, Option<String>) {
    if counters.total_operations == 0 || counters.failed_operations < counters.total_operations {
        return (TaskStatus::Succeeded, None);
    }
    let example = match inner.store.operations(id).await {
        Ok(ops) => ops.into_iter().find_map(|op| {
            op.record.error.map(|e| format!("; e.g. {}/{}: {e}", op.record.prefecture_code, op.record.keyword))
        }),
        Err(_) => None,
    };
    (
        TaskStatus::Failed,
        Some(format!("all {} operations failed{}", counters.total_operations, example.unwrap_or_default())),
    )
}

/// The operations not recorded yet, keyword by keyword so that operations in
/// flight spread over many hosts.
async fn pending_operations(inner: &Inner, task: &Task) -> Result<Vec<Operation>, StoreError> {
    let done: HashSet<(String, String)> = inner.store.recorded_operations(task.id).await?.into_iter().collect();
    let mut operations = Vec::new();
    for keyword in &task.spec.keywords {
        for code in &task.spec.targets {
            if done.contains(&(code.clone(), keyword.clone())) {
                continue;
            }
            match inner.catalog.prefecture_by_code(code) {
                Some(prefecture) => {
                    operations.push(Operation { prefecture: prefecture.clone(), keyword: keyword.clone() })
                }
                None => tracing::warn!(task = %task.id, code, "prefecture no longer in the catalog; skipped"),
            }
        }
    }
    Ok(operations)
}

/// Runs the operations with at most `operation_concurrency` in flight;
/// returns whether all of them ran (none was cut short by a stop or a
/// shutdown).
async fn run_operations(run: &Arc<TaskRun>, operations: Vec<Operation>) -> bool {
    let limit = run.inner.config.operation_concurrency.max(1);
    let mut queue = operations.into_iter();
    let mut in_flight = JoinSet::new();
    let mut complete = true;
    loop {
        while in_flight.len() < limit {
            if run.cancel.is_cancelled() || run.inner.draining.is_cancelled() {
                complete &= queue.len() == 0;
                break;
            }
            let Some(operation) = queue.next() else { break };
            in_flight.spawn(run_operation(run.clone(), operation));
        }
        match in_flight.join_next().await {
            Some(Ok(ran)) => complete &= ran,
            Some(Err(e)) => {
                tracing::error!(task = %run.id, error = %e, "an operation panicked");
                complete = false;
            }
            None => break,
        }
    }
    complete && queue.len() == 0
}

/// Runs one operation and records it; returns whether it ran to its end.
async fn run_operation(run: Arc<TaskRun>, operation: Operation) -> bool {
    let Operation { prefecture, keyword } = operation;
    run.progress.send_modify(|p| {
        p.in_flight_operations += 1;
        p.current_prefecture = Some(prefecture.code.clone());
        p.current_keyword = Some(keyword.clone());
    });
    run.inner.announce(&run.progress.borrow());
    let mut sink = CollectedCards::default();
    let outcome =
        run.inner.scraper.run_operation(&prefecture.domain, &keyword, &run.filter, &run.cancel, &mut sink).await;
    let counters = match outcome {
        Ok(report) => record(&run, &prefecture, &keyword, report, &sink.cards).await,
        Err(_cancelled) => {
            keep_partial(&run, &prefecture, &keyword, &sink.cards).await;
            None
        }
    };
    let ran = counters.is_some();
    run.progress.send_modify(|p| {
        p.in_flight_operations = p.in_flight_operations.saturating_sub(1);
        // Operations end in any order: never let the counters go back.
        if let Some(counters) = counters
            && counters.completed_operations >= p.counters.completed_operations
        {
            p.counters = counters;
        }
    });
    run.inner.announce(&run.progress.borrow());
    ran
}

/// Keeps what a stopped operation found; the operation itself is not
/// recorded, so a restart or a resumption runs it again.
async fn keep_partial(run: &TaskRun, prefecture: &Prefecture, keyword: &str, cards: &[Card]) {
    if cards.is_empty() {
        return;
    }
    let stored = retry_unavailable(&run.inner.abort, || {
        run.inner.store.store_cards(run.id, &prefecture.code, keyword, cards, Utc::now())
    })
    .await;
    if let Err(e) = stored {
        tracing::warn!(task = %run.id, error = %e, "could not keep a stopped operation's cards");
    }
}

async fn record(
    run: &TaskRun,
    prefecture: &Prefecture,
    keyword: &str,
    report: OperationReport,
    cards: &[Card],
) -> Option<Counters> {
    if let Some(error) = &report.error {
        tracing::warn!(task = %run.id, prefecture = %prefecture.code, keyword, error, "operation failed");
    }
    let record = OperationRecord {
        prefecture_code: prefecture.code.clone(),
        keyword: keyword.to_owned(),
        items_found: report.items_found,
        pages_fetched: report.pages_fetched,
        duration: report.duration,
        error: report.error,
    };
    let written =
        retry_unavailable(&run.inner.abort, || run.inner.store.record_operation(run.id, &record, cards, Utc::now()));
    match written.await {
        Ok(counters) => Some(counters),
        Err(e) => {
            tracing::error!(task = %run.id, error = %e, "could not record an operation; it runs again on resumption");
            None
        }
    }
}

/// Renews the lease while the task runs; notices a stop sent through the
/// database, or a lease lost to another worker.
async fn heartbeat(
    inner: Arc<Inner>,
    id: TaskId,
    cancel: CancellationToken,
    stop: Arc<AtomicBool>,
    lost: Arc<AtomicBool>,
) {
    // The first tick is immediate: a stop that reached the database while
    // the task was being claimed is seen at once.
    let mut ticks = tokio::time::interval(inner.config.heartbeat);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        match inner.store.renew_lease(id, &inner.config.owner, Utc::now(), inner.config.lease).await {
            Ok(LeaseState::Held { stop_requested: true }) => {
                stop.store(true, Ordering::SeqCst);
                cancel.cancel();
            }
            Ok(LeaseState::Held { stop_requested: false }) => {}
            Ok(LeaseState::Lost) => {
                lost.store(true, Ordering::SeqCst);
                cancel.cancel();
                return;
            }
            Err(e) => tracing::warn!(task = %id, error = %e, "could not renew the lease"),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use super::*;

    #[tokio::test(start_paused = true)]
    async fn an_unavailable_store_is_retried_with_growing_pauses_until_it_answers() {
        let calls = Cell::new(0);
        let started = tokio::time::Instant::now();
        let result = retry_unavailable(&CancellationToken::new(), || {
            calls.set(calls.get() + 1);
            let n = calls.get();
            async move { if n < 5 { Err(StoreError::Unavailable("locked".into())) } else { Ok(n) } }
        })
        .await;
        assert_eq!(result.ok(), Some(5));
        // 50 + 100 + 200 + 400 ms of pauses, on the paused clock.
        assert_eq!(started.elapsed(), Duration::from_millis(750));
    }

    #[tokio::test(start_paused = true)]
    async fn other_store_errors_and_cancellation_end_the_retries() {
        let corrupt = retry_unavailable(&CancellationToken::new(), || async {
            Err::<(), _>(StoreError::Corrupt("bad row".into()))
        })
        .await;
        assert!(matches!(corrupt, Err(StoreError::Corrupt(_))));

        let cancel = CancellationToken::new();
        cancel.cancel();
        let gave_up =
            retry_unavailable(&cancel, || async { Err::<(), _>(StoreError::Unavailable("down".into())) }).await;
        assert!(matches!(gave_up, Err(StoreError::Unavailable(_))));
    }
}
