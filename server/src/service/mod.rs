//! The service layer: every rule of the task API, called by every front end
//! (gRPC, the dashboard) with domain values. Front ends decode their wire
//! form, hand requests to [`requests`] for checking, call the service, and
//! render what it returns; none of them reaches the store or the runner.

mod bulk;
mod error;
mod page_token;
mod progress;
pub mod requests;
mod results;
mod search_text;
mod tasks;
mod watch_events;
mod watch_notifications;
pub mod watch_requests;
mod watch_runs;
mod watches;

use std::sync::Arc;

use crate::catalog::Catalog;
use crate::domain::{OperationResult, Progress, SpecLimits, Task, TaskSummary};
use crate::runner::{ProgressHub, Runner};
use crate::store::{PendingQuota, Store};

pub use crate::store::AttemptOutcome;
pub use bulk::{Applied, MAX_TASKS_AT_ONCE, TaskAction};
pub use error::ServiceError;
pub use page_token::{InvalidPageToken, TaskTokenError};
pub use requests::{
    DocumentListRequest, DocumentListing, Purge, ResultListRequest, ResultListing, TaskListRequest, TaskListing,
};
pub use watch_events::StreamedEvent;
pub use watch_notifications::{MAX_LISTED, Outgoing};
pub use watch_requests::{NewsListRequest, NewsListing, WatchField, WatchListing};
pub use watch_runs::Tick;
pub use watches::{WatchService, WatchUpdate};

/// The task service: cheap to clone.
#[derive(Debug, Clone)]
pub struct TaskService {
    store: Store,
    catalog: Arc<Catalog>,
    hub: Arc<ProgressHub>,
    runner: Runner,
    limits: ServiceLimits,
}

/// The server's limits on what clients may ask.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ServiceLimits {
    /// The size of one task.
    pub spec: SpecLimits,
    /// Pending tasks in total and per token.
    pub pending: PendingQuota,
}

/// A task with what `GetTask` shows beyond its row.
#[derive(Debug, Clone)]
pub struct TaskDetails {
    pub task: Task,
    pub operations: Vec<OperationResult>,
    pub summary: TaskSummary,
    /// The live progress, when this server has it.
    pub progress: Progress,
    /// Why the export of its last run failed, if it did.
    pub export_error: Option<String>,
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

    /// The same page with each item converted.
    fn map<U>(self, convert: impl FnMut(T) -> U) -> Page<U> {
        Page { items: self.items.into_iter().map(convert).collect(), next_page_token: self.next_page_token }
    }
}

impl TaskService {
    pub fn new(store: Store, catalog: Arc<Catalog>, hub: Arc<ProgressHub>, runner: Runner) -> TaskService {
        TaskService { store, catalog, hub, runner, limits: ServiceLimits::default() }
    }

    /// The same service within `limits`.
    pub fn with_limits(self, limits: ServiceLimits) -> TaskService {
        TaskService { limits, ..self }
    }

    pub fn limits(&self) -> &ServiceLimits {
        &self.limits
    }

    pub fn catalog(&self) -> &Arc<Catalog> {
        &self.catalog
    }
}
