//! The watch service: every rule of `WatchService` for every front end —
//! creating, reading, listing, updating, pausing, resuming and deleting
//! watches, and reading their news. Runs and notifications are in
//! `watch_runs` and `watch_notifications`, the event stream in
//! `watch_events`.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use tokio::sync::Notify;

use crate::catalog::Catalog;
use crate::domain::{Document, RawWatch, Violations, Watch, WatchEvent, WatchId, WatchRun, WatchSpec, Webhook};
use crate::service::watch_requests::{NewsListing, WatchField, WatchListing, news_token, watch_token};
use crate::service::{Page, ServiceError, TaskService};
use crate::store::{PauseChange, Store};

/// The watch service: cheap to clone.
#[derive(Debug, Clone)]
pub struct WatchService {
    pub(super) store: Store,
    pub(super) tasks: TaskService,
    /// Whether this server can send email (`--smtp-url`).
    email: bool,
    /// Rings the scheduler when a due time may have moved closer.
    pub(super) wake: Arc<Notify>,
    /// Rings the event streams of this server when it writes events.
    pub(super) written: Arc<Notify>,
}

/// An update: the new values, and which fields to take from them.
#[derive(Debug, Clone)]
pub struct WatchUpdate {
    pub watch: RawWatch,
    /// From [`WatchField::parse_mask`]: never empty.
    pub fields: Vec<WatchField>,
}

pub(super) fn watch_not_found(id: WatchId) -> ServiceError {
    ServiceError::NotFound(format!("watch {id} not found"))
}

impl WatchService {
    /// The service over the task service (runs are tasks); `email` says
    /// whether the server has an SMTP relay for digests.
    pub fn new(store: Store, tasks: TaskService, email: bool) -> WatchService {
        WatchService { store, tasks, email, wake: Arc::new(Notify::new()), written: Arc::new(Notify::new()) }
    }

    pub fn catalog(&self) -> &Arc<Catalog> {
        self.tasks.catalog()
    }

    /// The task service its runs go through.
    pub fn tasks(&self) -> &TaskService {
        &self.tasks
    }

    /// Whether digests can be sent (the server has `--smtp-url`).
    pub fn sends_email(&self) -> bool {
        self.email
    }

    /// What the scheduler waits on besides its timer.
    pub fn wake_signal(&self) -> Arc<Notify> {
        self.wake.clone()
    }

    /// Checks a watch, and that its channels can be served here.
    fn spec(&self, raw: RawWatch) -> Result<WatchSpec, ServiceError> {
        let mut violations = Violations::new();
        if !raw.email_to.is_empty() && !self.email {
            violations.add("watch.email.to", "this server sends no email: start it with --smtp-url and --smtp-from");
        }
        Ok(violations.and(WatchSpec::parse(raw, self.catalog()))?)
    }

    /// Creates a watch, first due at its schedule's next time.
    pub async fn create_watch(&self, raw: RawWatch) -> Result<Watch, ServiceError> {
        let spec = self.spec(raw)?;
        let now = Utc::now();
        let next = spec.schedule.next_after(now);
        let watch = self.store.insert_watch(WatchId::new(), &spec, next, now).await?;
        tracing::info!(watch = %watch.id, schedule = %watch.spec.schedule, "watch created");
        self.changed();
        Ok(watch)
    }

    pub async fn get_watch(&self, id: WatchId) -> Result<Watch, ServiceError> {
        self.store.watch(id).await?.ok_or_else(|| watch_not_found(id))
    }

    /// A page of watches, newest first.
    pub async fn list_watches(&self, listing: WatchListing) -> Result<Page<Watch>, ServiceError> {
        let size = listing.size.get();
        let watches = self.store.list_watches(listing.cursor.as_ref(), size + 1).await?;
        Ok(Page::of(watches, size, watch_token))
    }

    /// Replaces the fields the update names; a new schedule counts from
    /// now. A webhook sent without a secret keeps the current secret.
    pub async fn update_watch(&self, id: WatchId, update: WatchUpdate) -> Result<Watch, ServiceError> {
        let current = self.get_watch(id).await?;
        let given = update.watch;
        let mut merged = raw_of(&current);
        for field in &update.fields {
            match field {
                WatchField::Name => merged.name = given.name.clone(),
                WatchField::Task => merged.task = given.task.clone(),
                WatchField::Schedule => merged.schedule = given.schedule.clone(),
                WatchField::Webhook => {
                    merged.webhook = given.webhook.clone().map(|mut hook| {
                        if hook.secret.is_empty()
                            && let Some(old) = &current.spec.webhook
                        {
                            hook.secret = old.secret.clone();
                        }
                        hook
                    });
                }
                WatchField::Email => merged.email_to = given.email_to.clone(),
            }
        }
        let spec = self.spec(merged)?;
        let now = Utc::now();
        let changed: Vec<&str> = update.fields.iter().map(|f| f.as_str()).collect();
        let reschedule =
            (spec.schedule != current.spec.schedule && !current.paused).then(|| spec.schedule.next_after(now));
        let message = format!("updated: {}", changed.join(", "));
        let watch =
            self.store.update_watch(id, &spec, reschedule, message, now).await?.ok_or_else(|| watch_not_found(id))?;
        tracing::info!(watch = %id, fields = %changed.join(","), "watch updated");
        self.changed();
        Ok(watch)
    }

    /// Stops future runs; one in flight ends and reports its news.
    pub async fn pause_watch(&self, id: WatchId) -> Result<Watch, ServiceError> {
        let watch =
            self.store.set_paused(id, PauseChange::Pause, Utc::now()).await?.ok_or_else(|| watch_not_found(id))?;
        self.changed();
        Ok(watch)
    }

    /// Resumes the schedule from now: due times missed while paused are
    /// not made up.
    pub async fn resume_watch(&self, id: WatchId) -> Result<Watch, ServiceError> {
        let current = self.get_watch(id).await?;
        let now = Utc::now();
        let next = current.spec.schedule.next_after(now);
        let watch =
            self.store.set_paused(id, PauseChange::Resume(next), now).await?.ok_or_else(|| watch_not_found(id))?;
        self.changed();
        Ok(watch)
    }

    /// Deletes a watch with its runs, news and log; the tasks stay.
    pub async fn delete_watch(&self, id: WatchId) -> Result<(), ServiceError> {
        if !self.store.delete_watch(id).await? {
            return Err(watch_not_found(id));
        }
        tracing::info!(watch = %id, "watch deleted");
        Ok(())
    }

    /// A page of a watch's news, newest first.
    pub async fn list_news(&self, listing: NewsListing) -> Result<Page<Document>, ServiceError> {
        self.get_watch(listing.watch).await?;
        let size = listing.size.get();
        let news = self.store.watch_news(listing.watch, &listing.filter, listing.cursor.as_ref(), size + 1).await?;
        Ok(Page::of(news, size, news_token))
    }

    /// A watch's log, oldest first.
    pub async fn watch_events(&self, id: WatchId) -> Result<Vec<WatchEvent>, ServiceError> {
        self.get_watch(id).await?;
        Ok(self.store.watch_events(id).await?)
    }

    /// A watch's latest runs, newest first.
    pub async fn watch_runs(&self, id: WatchId, limit: usize) -> Result<Vec<WatchRun>, ServiceError> {
        Ok(self.store.watch_runs(id, limit).await?)
    }

    /// The earliest due time of any watch.
    pub async fn next_due_at(&self) -> Result<Option<DateTime<Utc>>, ServiceError> {
        Ok(self.store.next_due_at().await?)
    }

    /// Tells the scheduler and the event streams that something changed.
    pub(super) fn changed(&self) {
        self.wake.notify_one();
        self.written.notify_waiters();
    }
}

/// A stored watch as the request that would make it (the secret included).
fn raw_of(watch: &Watch) -> RawWatch {
    let spec = &watch.spec;
    RawWatch {
        name: spec.name.clone(),
        task: spec.task.raw(String::new()),
        schedule: Some(spec.schedule.raw()),
        webhook: spec.webhook.as_ref().map(|w| Webhook { url: w.url.clone(), secret: w.secret.clone() }),
        email_to: spec.email_to.clone(),
    }
}
