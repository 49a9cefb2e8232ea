//! Live progress for the pages, as Server-Sent Events: one `progress` event
//! per change of a followed task (coalesced by the service's watch channels,
//! so a slow browser gets the latest state, not a backlog), then `end` once
//! every followed task has ended.
//!
//! Each followed task has a producer that stops as soon as the browser goes
//! away (its send fails, or the channel reports it closed), when its task
//! ends, or when the server shuts down — nothing outlives the connection.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Path, RawQuery, State};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use futures_util::Stream;
use serde_json::json;
use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;

use crate::catalog::Catalog;
use crate::domain::{Outcome, Progress, Violations};
use crate::service::ServiceError;
use crate::web::params::Params;
use crate::web::{PageError, Shared, format, task_id};

/// Most tasks one list stream follows: a page of the list holds fewer.
const MAX_FOLLOWED: usize = 100;
/// A comment this often lets the server notice a browser that left while
/// nothing changed.
const KEEP_ALIVE: Duration = Duration::from_secs(15);

/// `GET /tasks/{id}/events`: the progress of one task.
pub async fn task(State(web): State<Shared>, Path(id): Path<String>) -> Result<Response, PageError> {
    let rx = web.service.subscribe(task_id(&id)?).await?;
    Ok(sse(vec![rx], web.service.catalog().clone(), web.shutdown.clone()))
}

/// `GET /events?ids=ID,ID…`: the progress of the active tasks of a list page.
/// Tasks deleted since the page was shown are left out.
pub async fn tasks(State(web): State<Shared>, RawQuery(raw): RawQuery) -> Result<Response, PageError> {
    let params = Params::from_query(raw);
    let ids: Vec<&str> = params.get("ids").unwrap_or_default().split(',').filter(|s| !s.trim().is_empty()).collect();
    let mut violations = Violations::new();
    if ids.len() > MAX_FOLLOWED {
        violations.add("ids", format!("at most {MAX_FOLLOWED} tasks can be followed at once"));
    }
    let mut receivers = Vec::new();
    for (i, id) in ids.iter().enumerate().take(MAX_FOLLOWED) {
        let Ok(id) = id.parse() else {
            violations.add(format!("ids[{i}]"), "not a task id");
            continue;
        };
        match web.service.subscribe(id).await {
            Ok(rx) => receivers.push(rx),
            Err(ServiceError::NotFound(_)) => {}
            Err(e) => return Err(e.into()),
        }
    }
    violations.into_result(())?;
    Ok(sse(receivers, web.service.catalog().clone(), web.shutdown.clone()))
}

fn sse(receivers: Vec<watch::Receiver<Progress>>, catalog: Arc<Catalog>, shutdown: CancellationToken) -> Response {
    let stream = futures_util::StreamExt::map(events(receivers, catalog, shutdown), Ok::<_, Infallible>);
    Sse::new(stream).keep_alive(KeepAlive::new().interval(KEEP_ALIVE)).into_response()
}

/// The events of the followed tasks, ending with `end` after the last
/// terminal state (but not on shutdown: the browser then reconnects to the
/// next server).
fn events(
    receivers: Vec<watch::Receiver<Progress>>,
    catalog: Arc<Catalog>,
    shutdown: CancellationToken,
) -> impl Stream<Item = Event> + Send + 'static {
    let (tx, rx) = mpsc::channel(16);
    for receiver in receivers {
        tokio::spawn(follow(receiver, tx.clone(), catalog.clone(), shutdown.clone()));
    }
    futures_util::stream::unfold(Some(rx), move |rx| {
        let shutdown = shutdown.clone();
        async move {
            let mut rx = rx?;
            match rx.recv().await {
                Some(event) => Some((event, Some(rx))),
                None if !shutdown.is_cancelled() => Some((Event::default().event("end").data("end"), None)),
                None => None,
            }
        }
    })
}

/// Sends one task's progress until it ends, the browser leaves, or the
/// server shuts down.
async fn follow(
    mut rx: watch::Receiver<Progress>,
    tx: mpsc::Sender<Event>,
    catalog: Arc<Catalog>,
    shutdown: CancellationToken,
) {
    loop {
        let progress = rx.borrow_and_update().clone();
        let terminal = progress.status.is_terminal();
        if tx.send(event(&progress, &catalog)).await.is_err() || terminal {
            return;
        }
        tokio::select! {
            // Closed without a terminal state: the task was handed back or
            // deleted; its page shows the rest.
            changed = rx.changed() => if changed.is_err() { return },
            () = tx.closed() => return,
            () = shutdown.cancelled() => return,
        }
    }
}

/// A `progress` event: the status, the percentage, and the text of every
/// `data-field` the pages show.
fn event(p: &Progress, catalog: &Catalog) -> Event {
    let c = &p.counters;
    let elapsed = if p.started_at.is_some() { format::duration(p.elapsed(Utc::now())) } else { "—".to_owned() };
    let data = json!({
        "id": p.task_id.to_string(),
        "status": p.status.as_str(),
        "outcome": Outcome::of(p.status, c).name(),
        "outcome_text": Outcome::of(p.status, c).text(),
        "active": p.status.is_active(),
        "percent": format::percent(c.percent()),
        "fields": {
            "completed": c.completed_operations,
            "total": c.total_operations,
            "items": c.items_found,
            "new_documents": c.new_documents,
            "pages": c.pages_fetched,
            "failed": c.failed_operations,
            "in_flight": p.in_flight_operations,
            "prefecture": p.current_prefecture.as_deref().map_or_else(|| "—".to_owned(), |code| format::prefecture(catalog, code)),
            "keyword": p.current_keyword.as_deref().unwrap_or("—"),
            "elapsed": elapsed,
        },
    });
    Event::default().event("progress").data(data.to_string())
}

#[cfg(test)]
mod tests {
    use futures_util::StreamExt;

    use super::*;
    use crate::domain::{Counters, TaskId, TaskStatus};

    fn progress(status: TaskStatus, completed: u32) -> Progress {
        Progress {
            task_id: TaskId::new(),
            status,
            counters: Counters { total_operations: 4, completed_operations: completed, ..Counters::default() },
            current_prefecture: Some("56".into()),
            current_keyword: Some("bovin".into()),
            in_flight_operations: 1,
            started_at: Some(Utc::now()),
            completed_at: None,
        }
    }

    #[tokio::test]
    async fn a_browser_that_leaves_releases_every_subscription() {
        let (first, rx1) = watch::channel(progress(TaskStatus::Running, 1));
        let (second, rx2) = watch::channel(progress(TaskStatus::Pending, 0));
        let mut stream = Box::pin(events(vec![rx1, rx2], Catalog::builtin(), CancellationToken::new()));
        assert!(stream.next().await.is_some(), "a first event");
        drop(stream);
        let released = async {
            first.closed().await;
            second.closed().await;
        };
        tokio::time::timeout(Duration::from_secs(5), released).await.expect("the producers stop with the browser");
    }

    #[tokio::test]
    async fn the_stream_ends_after_the_terminal_state() {
        let start = progress(TaskStatus::Running, 1);
        let (tx, rx) = watch::channel(start.clone());
        let stream = events(vec![rx], Catalog::builtin(), CancellationToken::new());
        let mut end = start;
        end.status = TaskStatus::Succeeded;
        end.counters.completed_operations = 4;
        tx.send_replace(end);
        let all: Vec<Event> =
            tokio::time::timeout(Duration::from_secs(5), stream.collect()).await.expect("the stream ends");
        let text: Vec<String> = all.iter().map(|e| format!("{e:?}")).collect();
        assert!(text.last().is_some_and(|e| e.contains("end")), "{text:?}");
        assert!(text.iter().any(|e| e.contains("succeeded")), "{text:?}");
        drop(tx);
    }
}
