//! The operations of a running task: which remain, running them with a
//! bounded number in flight, and recording each one as it ends.

use std::collections::HashSet;
use std::sync::Arc;

use chrono::Utc;
use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use crate::catalog::Prefecture;
use crate::domain::{Card, Counters, EventKind, OperationOutcome, Progress, Task, TaskId};
use crate::runner::Inner;
use crate::runner::heartbeat::Signals;
use crate::runner::retry::retry_unavailable;
use crate::scrape::{CardFilter, OperationReport, SearchError, ServerNotice, Site};
use crate::store::StoreError;

/// One operation to run: a keyword on a prefecture's site.
pub(super) struct Operation {
    prefecture: Prefecture,
    site: Site,
    keyword: String,
}

/// Everything the operations of one task share.
pub(super) struct TaskRun {
    pub inner: Arc<Inner>,
    pub id: TaskId,
    pub filter: CardFilter,
    pub cancel: CancellationToken,
    pub progress: watch::Sender<Progress>,
    pub signals: Arc<Signals>,
}

/// The operations not recorded yet, keyword by keyword so that operations in
/// flight spread over many hosts.
pub(super) async fn pending_operations(inner: &Inner, task: &Task) -> Result<Vec<Operation>, StoreError> {
    let done: HashSet<(String, String)> = inner.store.recorded_operations(task.id).await?.into_iter().collect();
    let mut operations = Vec::new();
    for keyword in task.spec.keywords.iter() {
        for code in &task.spec.targets {
            if done.contains(&(code.clone(), keyword.to_owned())) {
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
            operations.push(Operation { prefecture: prefecture.clone(), site, keyword: keyword.to_owned() });
        }
    }
    Ok(operations)
}

/// Runs the operations with at most `operation_concurrency` in flight;
/// returns whether all of them ran (none was cut short by a stop or a
/// shutdown).
pub(super) async fn run_operations(run: &Arc<TaskRun>, operations: Vec<Operation>) -> bool {
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
            let span =
                tracing::info_span!("operation", prefecture = %operation.prefecture.code, keyword = %operation.keyword);
            in_flight.spawn(run_operation(run.clone(), operation).instrument(span));
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
    let Operation { prefecture, site, keyword } = operation;
    run.progress.send_modify(|p| {
        p.in_flight_operations += 1;
        p.current_prefecture = Some(prefecture.code.clone());
        p.current_keyword = Some(keyword.clone());
    });
    run.inner.announce(&run.progress.borrow());
    let mut search = run.inner.scraper.search(&site, &keyword, run.filter.clone());
    let mut cards: Vec<Card> = Vec::new();
    let ended = loop {
        let next = search.next_page(&run.cancel).await;
        log_notices(&run, search.take_notices()).await;
        match next {
            Ok(Some(page)) => cards.extend(page.cards),
            Ok(None) => break Ok(search.report(None)),
            Err(SearchError::Failed(error)) => break Ok(search.report(Some(error))),
            Err(SearchError::Cancelled { .. }) => break Err(()),
        }
    };
    let counters = match ended {
        Ok(report) => record(&run, &prefecture, &keyword, report, &cards).await,
        Err(()) => {
            keep_partial(&run, &prefecture, &keyword, &cards).await;
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

/// Keeps what a stopped operation found; the operation itself is not
/// recorded, so a restart or a resumption runs it again. A worker that lost
/// the task to another keeps nothing: the task is no longer its own.
async fn keep_partial(run: &TaskRun, prefecture: &Prefecture, keyword: &str, cards: &[Card]) {
    if cards.is_empty() || run.signals.lost() {
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
    let outcome = OperationOutcome {
        prefecture_code: prefecture.code.clone(),
        keyword: keyword.to_owned(),
        items_found: report.items_found,
        pages_fetched: report.pages_fetched,
        duration: report.duration,
        error: report.error,
    };
    let written =
        retry_unavailable(&run.inner.abort, || run.inner.store.record_operation(run.id, &outcome, cards, Utc::now()));
    match written.await {
        Ok(counters) => {
            crate::metrics::operation_recorded(outcome.error.is_some());
            Some(counters)
        }
        Err(e) => {
            tracing::error!(task = %run.id, error = %e, "could not record an operation; it runs again on resumption");
            None
        }
    }
}
