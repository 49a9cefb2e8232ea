//! The notifications of runs that found news: taken from the queue for an
//! attempt, with what they announce, and the outcome of each attempt
//! recorded in the watch's log.

use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::domain::{Channel, Document, Notification, Task, Watch, WatchRun};
use crate::service::{ServiceError, WatchService};
use crate::store::{AttemptOutcome, NewsFilter};

/// Most documents a notification lists; the count says how many there were.
pub const MAX_LISTED: usize = 1000;

/// A notification to send now, with everything it tells.
#[derive(Debug, Clone)]
pub struct Outgoing {
    pub notification: Notification,
    /// The watch as it is now (its current webhook and recipients).
    pub watch: Watch,
    pub run: WatchRun,
    /// The run's task, unless it was deleted.
    pub task: Option<Task>,
    /// The run's news, by prefecture, keyword and link (at most
    /// [`MAX_LISTED`]).
    pub documents: Vec<Document>,
    /// How many documents were new in all.
    pub total: u64,
}

impl WatchService {
    /// Takes the notifications due at `now` for one attempt each, held
    /// `hold` ahead (after which a crashed attempt is tried again), of the
    /// channels this server can deliver. One whose channel the watch no
    /// longer has is given up at once.
    pub async fn take_notifications(
        &self,
        now: DateTime<Utc>,
        hold: Duration,
        limit: usize,
    ) -> Result<Vec<Outgoing>, ServiceError> {
        let mut outgoing = Vec::new();
        let channels: &[Channel] = if self.sends_email() { &Channel::ALL } else { &[Channel::Webhook] };
        for notification in self.store.claim_notifications(channels, now, hold, limit).await? {
            let (Some(watch), Some(run)) =
                (self.store.watch(notification.watch_id).await?, self.store.watch_run(notification.run_id).await?)
            else {
                // Deleted meanwhile: its notifications went with it.
                continue;
            };
            let configured = match notification.channel {
                Channel::Webhook => watch.spec.webhook.is_some(),
                Channel::Email => !watch.spec.email_to.is_empty(),
            };
            if !configured {
                let error = match notification.channel {
                    Channel::Webhook => "the watch has no webhook any more",
                    Channel::Email => "the watch has no email recipients any more",
                }
                .to_owned();
                self.record_attempt(&notification, AttemptOutcome::Failed { error, retry_at: None }, now).await?;
                continue;
            }
            let filter = NewsFilter { since: None, task: Some(notification.task_id) };
            let mut documents = self.store.watch_news(watch.id, &filter, None, MAX_LISTED).await?;
            documents.sort_by(|a, b| {
                (&a.prefecture_code, &a.keyword, &a.link).cmp(&(&b.prefecture_code, &b.keyword, &b.link))
            });
            let task = self.store.task(notification.task_id).await?;
            let total = run.new_documents.unwrap_or(documents.len() as u64);
            outgoing.push(Outgoing { notification, watch, run, task, documents, total });
        }
        Ok(outgoing)
    }

    /// Records how an attempt ended, in the queue and the watch's log.
    pub async fn record_attempt(
        &self,
        notification: &Notification,
        outcome: AttemptOutcome,
        now: DateTime<Utc>,
    ) -> Result<(), ServiceError> {
        self.store.record_attempt(notification, outcome, now).await?;
        self.written.notify_waiters();
        Ok(())
    }
}
