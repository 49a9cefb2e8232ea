//! The scheduler: a loop in each server that fires the watches whose due
//! time has come, counts the news of their runs when the tasks end, and
//! delivers the notifications those news call for.
//!
//! Every decision is the watch service's, at the time of an injectable
//! [`Clock`]; the state lives in the database (due times, runs, the queue
//! of notifications), so several replicas can run the loop at once — each
//! due time fires once, each run is counted once, each attempt is made by
//! one replica — and a restart loses nothing.

pub mod clock;
pub mod delivery;
pub mod email;
#[cfg(test)]
mod tests;
pub mod webhook;

use std::sync::Arc;
use std::time::Duration;

use tokio::task::{JoinHandle, JoinSet};
use tokio_util::sync::CancellationToken;

pub use clock::{Clock, ManualClock, SystemClock};
pub use delivery::RetryPolicy;

use crate::domain::TaskId;
use crate::scheduler::delivery::Senders;
use crate::scheduler::email::{EmailError, EmailSender};
use crate::scheduler::webhook::WebhookSender;
use crate::service::WatchService;

/// Notifications in flight at once.
const MAX_IN_FLIGHT: usize = 16;
/// How long a notification is held for one attempt: past this, a replica
/// that died mid-attempt no longer holds it.
const ATTEMPT_HOLD: Duration = Duration::from_secs(300);
/// On shutdown, how long attempts in flight may finish.
const DELIVERY_GRACE: Duration = Duration::from_secs(5);

/// An SMTP relay for email digests.
#[derive(Debug, Clone)]
pub struct SmtpConfig {
    pub url: String,
    /// The `From` of the digests.
    pub from: String,
}

/// How the scheduler works.
#[derive(Debug, Clone)]
pub struct SchedulerConfig {
    /// How often it looks for due times, ended runs and notifications
    /// besides being woken.
    pub poll: Duration,
    pub retry: RetryPolicy,
    pub smtp: Option<SmtpConfig>,
    /// Sent with webhook POSTs.
    pub user_agent: String,
    /// Deadline of one webhook POST or one SMTP exchange.
    pub delivery_timeout: Duration,
}

impl Default for SchedulerConfig {
    fn default() -> Self {
        SchedulerConfig {
            poll: Duration::from_secs(1),
            retry: RetryPolicy { attempts: 10, base_delay: Duration::from_secs(30) },
            smtp: None,
            user_agent: format!("scrape-tasks/{}", env!("CARGO_PKG_VERSION")),
            delivery_timeout: Duration::from_secs(30),
        }
    }
}

/// Why the scheduler could not be built.
#[derive(Debug, thiserror::Error)]
pub enum SchedulerError {
    #[error("HTTP client for webhooks: {0}")]
    Http(#[from] reqwest::Error),
    #[error(transparent)]
    Email(#[from] EmailError),
}

/// The scheduler of one server.
#[derive(Debug)]
pub struct Scheduler {
    service: WatchService,
    clock: Arc<dyn Clock>,
    config: SchedulerConfig,
    senders: Senders,
}

impl Scheduler {
    pub fn new(
        service: WatchService,
        clock: Arc<dyn Clock>,
        config: SchedulerConfig,
    ) -> Result<Scheduler, SchedulerError> {
        let webhook = WebhookSender::new(&config.user_agent, config.delivery_timeout)?;
        let email = match &config.smtp {
            Some(smtp) => Some(EmailSender::new(&smtp.url, &smtp.from, config.delivery_timeout)?),
            None => None,
        };
        Ok(Scheduler { service, clock, config, senders: Senders { webhook, email } })
    }

    /// Runs the loop until `shutdown`; attempts in flight then have a few
    /// seconds to finish (one cut short is tried again after its hold).
    pub fn start(self, shutdown: CancellationToken) -> JoinHandle<()> {
        tokio::spawn(self.run(shutdown))
    }

    async fn run(self, shutdown: CancellationToken) {
        let wake = self.service.wake_signal();
        let mut deliveries: JoinSet<()> = JoinSet::new();
        tracing::debug!("scheduler started");
        while !shutdown.is_cancelled() {
            let woken = wake.notified();
            let now = self.clock.now();
            match self.service.tick(now).await {
                Ok(tick) => {
                    for task in tick.started {
                        self.wake_at_end(task, shutdown.clone());
                    }
                }
                Err(e) => tracing::warn!(error = %e, "scheduler: could not fire or count runs; trying again"),
            }
            while deliveries.try_join_next().is_some() {}
            let room = MAX_IN_FLIGHT.saturating_sub(deliveries.len());
            if room > 0 {
                match self.service.take_notifications(now, ATTEMPT_HOLD, room).await {
                    Ok(outgoing) => {
                        for outgoing in outgoing {
                            deliveries.spawn(self.deliver(outgoing));
                        }
                    }
                    Err(e) => tracing::warn!(error = %e, "scheduler: could not read the notifications"),
                }
            }
            let wait = self.pause(now).await;
            tokio::select! {
                () = woken => {}
                () = tokio::time::sleep(wait) => {}
                Some(_) = deliveries.join_next(), if !deliveries.is_empty() => {}
                () = shutdown.cancelled() => {}
            }
        }
        if tokio::time::timeout(DELIVERY_GRACE, async { while deliveries.join_next().await.is_some() {} })
            .await
            .is_err()
        {
            tracing::info!("scheduler: notifications still in flight are tried again after a restart");
            deliveries.abort_all();
        }
        tracing::debug!("scheduler stopped");
    }

    /// How long to sleep: until the next due time, at most a poll.
    async fn pause(&self, now: chrono::DateTime<chrono::Utc>) -> Duration {
        let until_due = match self.service.next_due_at().await {
            Ok(Some(next)) => (next - now).to_std().unwrap_or(Duration::ZERO),
            _ => self.config.poll,
        };
        until_due.min(self.config.poll)
    }

    /// Wakes the loop as soon as a run's task ends here, so that its news
    /// are counted at once (a task that ends on another replica is seen at
    /// the next poll).
    fn wake_at_end(&self, task: TaskId, shutdown: CancellationToken) {
        let (tasks, wake) = (self.service.tasks().clone(), self.service.wake_signal());
        tokio::spawn(async move {
            let Ok(mut progress) = tasks.subscribe(task).await else { return };
            loop {
                if progress.borrow_and_update().status.is_terminal() {
                    break;
                }
                tokio::select! {
                    changed = progress.changed() => if changed.is_err() { break },
                    () = shutdown.cancelled() => return,
                }
            }
            wake.notify_one();
        });
    }

    /// One attempt at a notification, then its outcome recorded.
    fn deliver(&self, outgoing: crate::service::Outgoing) -> impl Future<Output = ()> + Send + 'static {
        let (service, senders, clock, policy) =
            (self.service.clone(), self.senders.clone(), self.clock.clone(), self.config.retry);
        async move {
            let catalog = service.catalog().clone();
            let outcome = delivery::attempt(&senders, &outgoing, &catalog, policy, || clock.now()).await;
            match &outcome {
                crate::service::AttemptOutcome::Delivered { message } => {
                    tracing::info!(watch = %outgoing.watch.id, %message, "notification delivered");
                }
                crate::service::AttemptOutcome::Failed { error, retry_at } => {
                    tracing::warn!(watch = %outgoing.watch.id, %error, retry = ?retry_at, "notification failed");
                }
            }
            if let Err(e) = service.record_attempt(&outgoing.notification, outcome, clock.now()).await {
                tracing::warn!(error = %e, "could not record a notification attempt; it is tried again after its hold");
            }
        }
    }
}
