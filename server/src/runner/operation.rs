//! The operations of a running task: which remain (and where those cut short
//! stopped), running them with a bounded number fetching at once, and
//! writing each page as it comes and each end through the store's writer,
//! never waiting for a commit to fetch on.

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use chrono::Utc;
use futures_util::StreamExt;
use futures_util::stream::FuturesOrdered;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use crate::catalog::Prefecture;
use crate::domain::{Counters, EventKind, OperationProgress, Progress, Task, TaskId};
use crate::runner::Inner;
use crate::runner::heartbeat::Signals;
use crate::runner::retry::retry_unavailable;
use crate::scrape::{CardFilter, SearchError, SearchState, ServerNotice, Site};
use crate::store::{Acknowledgement, Step, StoreError, Write, WriteError};

/// One operation to run: a keyword on a prefecture's site.
pub(super) struct Operation {
    prefecture: Prefecture,
    site: Site,
    keyword: String,
    /// Where it stood when an earlier run of the task was cut short: it
    /// goes on from there.
    resume_from: Option<OperationProgress>,
}

/// Everything the operations of one task share.
pub(super) struct TaskRun {
    pub inner: Arc<Inner>,
    pub id: TaskId,
    pub filter: CardFilter,
    pub cancel: CancellationToken,
    pub progress: watch::Sender<Progress>,
    pub signals: Arc<Signals>,
    /// The operations in flight (prefecture code, keyword), in the order
    /// they started: the live progress shows the latest.
    pub in_flight: Mutex<Vec<(String, String)>>,
}

/// The operations not recorded yet, keyword by keyword so that operations in
/// flight spread over many hosts; those an earlier run left in flight come
/// first, each from where it stood.
pub(super) async fn pending_operations(inner: &Inner, task: &Task) -> Result<Vec<Operation>, StoreError> {
    let done: HashSet<(String, String)> = inner.store.recorded_operations(task.id).await?.into_iter().collect();
    let mut in_flight: HashMap<(String, String), OperationProgress> = inner
        .store
        .operations_in_flight(task.id)
        .await?
        .into_iter()
        .map(|op| ((op.prefecture_code, op.keyword), op.progress))
        .collect();
    let mut operations = Vec::new();
    for keyword in task.spec.keywords.iter() {
        for code in &task.spec.targets {
            let place = (code.clone(), keyword.to_owned());
            if done.contains(&place) {
                continue;
            }
            let Some(prefecture) = inner.catalog.prefecture_by_code(code) else {
                tracing::warn!(task = %task.id, code, "prefecture no longer in the catalog; skipped");
                continue;
            };
            if let Some(why) = &prefecture.unsupported {
                // A task created before its site was marked unsupported.
                tracing::warn!(task = %task.id, code, why, "site not supported; skipped");
                continue;
            }
            let Some(site) =
                inner.scraper.site(&prefecture.domain, prefecture.base_url.as_deref(), prefecture.profile.as_deref())
            else {
                // The server checks every catalog entry's profile at start-up.
                tracing::error!(task = %task.id, code, profile = ?prefecture.profile, "unknown site profile; skipped");
                continue;
            };
            let resume_from = in_flight.remove(&place);
            operations.push(Operation {
                prefecture: prefecture.clone(),
                site,
                keyword: keyword.to_owned(),
                resume_from,
            });
        }
    }
    operations.sort_by_key(|op| op.resume_from.is_none());
    Ok(operations)
}

/// Runs the operations with at most `operation_concurrency` fetching at
/// once (an operation whose pages are all fetched frees its slot while its
/// last writes are committed); returns whether all of them ran (none was
/// cut short by a stop, a shutdown or a refused write).
pub(super) async fn run_operations(run: &Arc<TaskRun>, operations: Vec<Operation>) -> bool {
    let slots = Arc::new(Semaphore::new(run.inner.config.operation_concurrency.max(1)));
    let mut queue = operations.into_iter().peekable();
    let mut running = JoinSet::new();
    let mut complete = true;
    let stopping = || run.cancel.is_cancelled() || run.inner.draining.is_cancelled();
    loop {
        let starting = queue.peek().is_some() && !stopping();
        tokio::select! {
            slot = slots.clone().acquire_owned(), if starting => {
                if stopping() {
                    continue;
                }
                let (Ok(slot), Some(operation)) = (slot, queue.next()) else { break };
                let span = tracing::info_span!(
                    "operation",
                    prefecture = %operation.prefecture.code,
                    keyword = %operation.keyword
                );
                running.spawn(run_operation(run.clone(), operation, slot).instrument(span));
            }
            Some(joined) = running.join_next(), if !running.is_empty() => match joined {
                Ok(ran) => complete &= ran,
                Err(e) => {
                    tracing::error!(task = %run.id, error = %e, "an operation panicked");
                    complete = false;
                }
            },
            else => break,
        }
    }
    complete && queue.len() == 0
}

/// Runs one operation, shown in flight while it fetches; returns whether
/// it ran to its end and was recorded.
async fn run_operation(run: Arc<TaskRun>, operation: Operation, slot: OwnedSemaphorePermit) -> bool {
    let Operation { prefecture, site, keyword, resume_from } = operation;
    run.began(&prefecture.code, &keyword);
    let (mut writes, fetched) = fetch_pages(&run, &prefecture.code, &site, &keyword, resume_from).await;
    // Its pages are fetched: the next operation starts while its last
    // writes are committed.
    drop(slot);
    run.ended(&prefecture.code, &keyword);
    // Every write queued is answered before the operation counts as over:
    // the task then ends, or is handed back, after its last page is stored.
    let settled = writes.settle().await;
    match (fetched, settled) {
        (Ok(failed), Ok(())) => {
            crate::metrics::operation_recorded(failed);
            true
        }
        _ => false,
    }
}

/// Why an operation stopped before its end was recorded.
enum Halt {
    /// A stop, a shutdown, or a lost lease cancelled it.
    Cancelled,
    /// A write was not applied: what was stored stays, and a resumption
    /// goes on from there.
    Refused,
}

/// Searches page by page from `resume_from` (or the first page), queueing
/// each page's cards and progress as a write without waiting for it, then
/// the end; returns the writes still to be answered, and whether the end
/// was queued (and then whether the operation failed).
async fn fetch_pages<'a>(
    run: &'a TaskRun,
    code: &'a str,
    site: &Site,
    keyword: &'a str,
    resume_from: Option<OperationProgress>,
) -> (Writes<'a>, Result<bool, Halt>) {
    let start = resume_from.unwrap_or_default();
    let mut writes = Writes { run, code, keyword, written: start, pending: FuturesOrdered::new() };
    let seen = match resume_from {
        Some(_) => {
            let links = retry_unavailable(&run.inner.abort, || run.inner.store.operation_links(run.id, code, keyword));
            match links.await {
                Ok(links) => links,
                Err(e) => {
                    tracing::error!(task = %run.id, code, keyword, error = %e, "could not read what the operation stored");
                    return (writes, Err(Halt::Refused));
                }
            }
        }
        None => HashSet::new(),
    };
    let state =
        SearchState { offset: start.next_offset, pages_fetched: start.pages_fetched, items_found: start.items_found };
    let mut search = run.inner.scraper.resume(site, keyword, run.filter.clone(), state, seen);
    let clock = Instant::now();
    let ended = loop {
        let page = match writes.while_acknowledging(search.next_page(&run.cancel)).await {
            Ok(page) => page,
            Err(halt) => break Err(halt),
        };
        log_notices(run, search.take_notices()).await;
        match page {
            Ok(Some(page)) => {
                let after = OperationProgress {
                    next_offset: page.state.offset,
                    pages_fetched: page.state.pages_fetched,
                    items_found: page.state.items_found,
                    elapsed: start.elapsed + clock.elapsed(),
                };
                if let Err(halt) = writes.queue(after, Step::Page(page.cards)).await {
                    break Err(halt);
                }
            }
            Ok(None) => break Ok(None),
            Err(SearchError::Failed(error)) => break Ok(Some(error)),
            Err(SearchError::Cancelled { .. }) => break Err(Halt::Cancelled),
        }
    };
    let queued = match ended {
        Ok(error) => {
            if let Some(error) = &error {
                tracing::warn!(task = %run.id, prefecture = %code, keyword, error, "operation failed");
            }
            let report = search.report(None);
            let after = OperationProgress {
                next_offset: writes.written.next_offset,
                pages_fetched: report.pages_fetched,
                items_found: report.items_found,
                elapsed: start.elapsed + clock.elapsed(),
            };
            let failed = error.is_some();
            writes.queue(after, Step::End { error }).await.map(|()| failed)
        }
        Err(halt) => Err(halt),
    };
    (writes, queued)
}

/// Says in the task's log when a site's server asked us to slow down.
async fn log_notices(run: &TaskRun, notices: Vec<ServerNotice>) {
    for notice in notices {
        let ServerNotice::SlowedDown { host, server, status, pause } = notice;
        let message = format!(
            "{host} (server {server}) answered HTTP {status}: every request to that server paused for {:.1} s",
            pause.as_secs_f64()
        );
        if let Err(e) = run.inner.store.add_event(run.id, EventKind::SlowedDown, message, Utc::now()).await {
            tracing::warn!(task = %run.id, error = %e, "could not log a slow-down");
        }
    }
}

/// The writes of one operation: queued in order, each from where the
/// previous one left it, answered in the same order.
struct Writes<'a> {
    run: &'a TaskRun,
    code: &'a str,
    keyword: &'a str,
    /// Where the operation stands once the writes queued are applied.
    written: OperationProgress,
    /// The answers not received yet, in the order of the writes.
    pending: FuturesOrdered<Acknowledgement>,
}

impl Writes<'_> {
    /// Queues a write; waits only while the writer's queue is full.
    async fn queue(&mut self, after: OperationProgress, step: Step) -> Result<(), Halt> {
        let run = self.run;
        let write = Write {
            task: run.id,
            owner: run.inner.config.owner.clone(),
            prefecture_code: self.code.to_owned(),
            keyword: self.keyword.to_owned(),
            before: self.written,
            after,
            step,
            at: Utc::now(),
        };
        let answer = self.while_acknowledging(run.inner.store.queue_write(write)).await?;
        self.pending.push_back(answer);
        self.written = after;
        Ok(())
    }

    /// Awaits `work` while taking the answers that arrive meanwhile; gives
    /// up when a write is refused or the runner aborts.
    async fn while_acknowledging<F: Future>(&mut self, work: F) -> Result<F::Output, Halt> {
        let mut work = std::pin::pin!(work);
        loop {
            tokio::select! {
                biased;
                out = &mut work => return Ok(out),
                Some(answer) = self.pending.next(), if !self.pending.is_empty() => self.run.acknowledged(answer)?,
                () = self.run.inner.abort.cancelled() => return Err(Halt::Cancelled),
            }
        }
    }

    /// Takes every answer still to come (writes the runner gives up on when
    /// it aborts are dropped unless already committed).
    async fn settle(&mut self) -> Result<(), Halt> {
        let mut outcome = Ok(());
        while !self.pending.is_empty() {
            tokio::select! {
                biased;
                Some(answer) = self.pending.next() => {
                    if let Err(halt) = self.run.acknowledged(answer) {
                        outcome = Err(halt);
                    }
                }
                () = self.run.inner.abort.cancelled() => return Err(Halt::Cancelled),
            }
        }
        outcome
    }
}

impl TaskRun {
    /// An operation starts: the live progress shows it.
    fn began(&self, code: &str, keyword: &str) {
        let mut in_flight = self.in_flight.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        in_flight.push((code.to_owned(), keyword.to_owned()));
        self.show_in_flight(&in_flight);
    }

    /// An operation ends: the live progress shows the latest one started of
    /// those still in flight.
    fn ended(&self, code: &str, keyword: &str) {
        let mut in_flight = self.in_flight.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(i) = in_flight.iter().position(|(c, k)| c == code && k == keyword) {
            in_flight.remove(i);
        }
        self.show_in_flight(&in_flight);
    }

    /// Publishes the operations in flight (called with their lock held, so
    /// that two operations ending at once publish in order).
    fn show_in_flight(&self, in_flight: &[(String, String)]) {
        let latest = in_flight.last().cloned();
        self.progress.send_modify(|p| {
            p.in_flight_operations = u32::try_from(in_flight.len()).unwrap_or(u32::MAX);
            (p.current_prefecture, p.current_keyword) = latest.unzip();
        });
    }

    /// Takes a write's answer: the task's counters move on the live
    /// progress; a refusal stops the operation.
    fn acknowledged(&self, answer: Result<Counters, WriteError>) -> Result<(), Halt> {
        match answer {
            Ok(counters) => {
                // Answers of several operations arrive in any order: never
                // let the counters go back.
                self.progress.send_if_modified(|p| {
                    let newer = counters != p.counters && counters.covers(&p.counters);
                    if newer {
                        p.counters = counters;
                    }
                    newer
                });
                Ok(())
            }
            Err(WriteError::Lost) => {
                // Another worker runs the task now: this run stops, and
                // writes nothing more.
                self.signals.lost.store(true, std::sync::atomic::Ordering::SeqCst);
                self.cancel.cancel();
                Err(Halt::Refused)
            }
            Err(e) => {
                tracing::error!(task = %self.id, error = %e, "a write was not applied; the operation goes on from its last stored page on resumption");
                Err(Halt::Refused)
            }
        }
    }
}
