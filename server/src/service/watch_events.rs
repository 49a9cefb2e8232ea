//! Watch events as a stream, for services that react to news: read from the
//! database, so that an event written by any replica reaches a stream on
//! any other, and a `RUN_ENDED` event comes with the run's news.

use std::collections::BTreeSet;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::domain::{Document, WatchEvent, WatchEventKind, WatchId};
use crate::service::watch_notifications::MAX_LISTED;
use crate::service::{ServiceError, WatchService};
use crate::store::{EventsAfter, NewsFilter};

/// How often a stream reads new events when nothing on this server rang.
const POLL: Duration = Duration::from_millis(500);
/// Events read at once.
const BATCH: usize = 200;
/// How long an event may take from its time to its commit. Replicas can
/// commit events out of the order of their sequence numbers; a stream reads
/// again the events this recent, so that an earlier one committed later is
/// still sent (once).
const SETTLE: TimeDelta = TimeDelta::seconds(5);

/// An event as a stream sends it.
#[derive(Debug, Clone)]
pub struct StreamedEvent {
    pub event: WatchEvent,
    /// For a `RUN_ENDED` event with news: the news (at most 1000).
    pub documents: Vec<Document>,
}

impl WatchService {
    /// The events of one watch (or of every watch), from `since` if given,
    /// then as they are written, until the receiver is dropped or
    /// `shutdown` is cancelled.
    pub async fn stream_events(
        &self,
        watch: Option<WatchId>,
        since: Option<DateTime<Utc>>,
        shutdown: CancellationToken,
    ) -> Result<mpsc::Receiver<Result<StreamedEvent, ServiceError>>, ServiceError> {
        if let Some(id) = watch {
            self.get_watch(id).await?;
        }
        // Without `since`, only what comes after this call.
        let start = match since {
            Some(_) => None,
            None => Some(self.store.latest_event_sequence().await?),
        };
        let (tx, rx) = mpsc::channel(16);
        let service = self.clone();
        tokio::spawn(async move {
            let mut reader = Reader { cursor: start, since, sent: BTreeSet::new() };
            loop {
                let woken = service.written.notified();
                match reader.next_batch(&service, watch).await {
                    Ok(events) => {
                        for event in events {
                            if tx.send(Ok(event)).await.is_err() {
                                return;
                            }
                        }
                    }
                    Err(e) => {
                        let _ = tx.send(Err(e)).await;
                        return;
                    }
                }
                tokio::select! {
                    () = woken => {}
                    () = tokio::time::sleep(POLL) => {}
                    () = tx.closed() => return,
                    () = shutdown.cancelled() => return,
                }
            }
        });
        Ok(rx)
    }
}

/// Where a stream is in the log.
struct Reader {
    /// Every event up to this sequence was sent (or predates the stream).
    cursor: Option<i64>,
    since: Option<DateTime<Utc>>,
    /// Events after the cursor already sent.
    sent: BTreeSet<i64>,
}

impl Reader {
    /// The events not sent yet, in order, with the news of runs that ended.
    async fn next_batch(
        &mut self,
        service: &WatchService,
        watch: Option<WatchId>,
    ) -> Result<Vec<StreamedEvent>, ServiceError> {
        let after =
            EventsAfter { watch, sequence: self.cursor, since: if self.cursor.is_none() { self.since } else { None } };
        let events = service.store.events_after(after, BATCH).await?;
        let full = events.len() == BATCH;
        let settled = Utc::now() - SETTLE;
        // The cursor moves past the events old enough that nothing written
        // before them can still commit (past all of them, for a full batch).
        let settled_up_to = events.iter().filter(|e| full || e.at < settled).map(|e| e.sequence).max();
        let mut fresh = Vec::new();
        for event in events {
            if !self.sent.insert(event.sequence) {
                continue;
            }
            let documents = match (event.kind, event.task_id, event.new_documents) {
                (WatchEventKind::RunEnded, Some(task), Some(n)) if n > 0 => {
                    let filter = NewsFilter { since: None, task: Some(task) };
                    service.store.watch_news(event.watch_id, &filter, None, MAX_LISTED).await?
                }
                _ => Vec::new(),
            };
            fresh.push((event, documents));
        }
        if let Some(settled_up_to) = settled_up_to {
            let cursor = self.cursor.map_or(settled_up_to, |c| c.max(settled_up_to));
            self.cursor = Some(cursor);
            self.sent = self.sent.split_off(&(cursor + 1));
        }
        Ok(fresh.into_iter().map(|(event, documents)| StreamedEvent { event, documents }).collect())
    }
}
