//! The task runner: a bounded pool of workers that claim pending tasks from
//! the store under a lease, run their operations concurrently, publish their
//! progress, and stop them on request or on shutdown.

mod announcer;
mod execution;
mod follow;
mod heartbeat;
pub mod hub;
mod operation;
mod retry;

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::Utc;
use tokio::sync::Notify;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::catalog::Catalog;
use crate::domain::TaskId;
use crate::scrape::Scraper;
use crate::store::Store;

pub use hub::ProgressHub;

/// How the runner works.
#[derive(Debug, Clone)]
pub struct RunnerConfig {
    /// Tasks run at once by this server; 0 makes an API-only replica.
    pub workers: usize,
    /// Operations of one task in flight at once.
    pub operation_concurrency: usize,
    /// How long a claim holds without renewal; a task whose worker died is
    /// claimed again after this.
    pub lease: Duration,
    /// How often a running task's lease is renewed (and a stop sent to
    /// another replica noticed).
    pub heartbeat: Duration,
    /// How often an idle worker looks for work it was not told about.
    pub poll_interval: Duration,
    /// On shutdown, how long operations in flight may run before they are
    /// aborted.
    pub shutdown_grace: Duration,
    /// Identifies this server in the `owner` column of the tasks it runs.
    pub owner: String,
    /// Where task exports are written.
    pub export_dir: std::path::PathBuf,
}

impl Default for RunnerConfig {
    fn default() -> Self {
        RunnerConfig {
            workers: 4,
            operation_concurrency: 32,
            lease: Duration::from_secs(30),
            heartbeat: Duration::from_secs(10),
            poll_interval: Duration::from_secs(2),
            shutdown_grace: Duration::from_secs(10),
            owner: default_owner(),
            export_dir: std::path::PathBuf::from("./exports"),
        }
    }
}

/// `<host>-<pid>-<random>`: unique per process, readable in the database.
pub fn default_owner() -> String {
    let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "scrape-server".into());
    format!("{host}-{}-{:08x}", std::process::id(), fastrand::u32(..))
}

/// A task running on this server.
struct Running {
    /// Aborts its operations.
    cancel: CancellationToken,
    /// Where a client's stop is noted (as opposed to a shutdown).
    signals: Arc<heartbeat::Signals>,
}

pub(crate) struct Inner {
    store: Store,
    scraper: Scraper,
    catalog: Arc<Catalog>,
    hub: Arc<ProgressHub>,
    config: RunnerConfig,
    /// Rings when a task is queued.
    wake: Notify,
    running: Mutex<HashMap<TaskId, Running>>,
    /// Tasks run by another replica that this one streams.
    followers: Mutex<HashMap<TaskId, Arc<follow::Follower>>>,
    /// Once cancelled, no task or operation starts.
    draining: CancellationToken,
    /// Once cancelled, operations in flight are aborted.
    abort: CancellationToken,
}

/// Runs tasks; cheap to clone.
#[derive(Clone)]
pub struct Runner {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Runner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runner").field("config", &self.inner.config).finish_non_exhaustive()
    }
}

/// The worker pool, to await on shutdown.
#[derive(Debug)]
pub struct Workers {
    set: JoinSet<()>,
}

impl Runner {
    pub fn new(
        store: Store,
        scraper: Scraper,
        catalog: Arc<Catalog>,
        hub: Arc<ProgressHub>,
        config: RunnerConfig,
    ) -> Runner {
        Runner {
            inner: Arc::new(Inner {
                store,
                scraper,
                catalog,
                hub,
                config,
                wake: Notify::new(),
                running: Mutex::new(HashMap::new()),
                followers: Mutex::new(HashMap::new()),
                draining: CancellationToken::new(),
                abort: CancellationToken::new(),
            }),
        }
    }

    /// Starts the workers.
    pub fn start(&self) -> Workers {
        let mut set = JoinSet::new();
        for n in 0..self.inner.config.workers {
            set.spawn(worker(self.inner.clone(), n));
        }
        Workers { set }
    }

    /// Tells an idle worker that a task was queued.
    pub fn wake(&self) {
        self.inner.wake.notify_one();
    }

    /// Stops a task if it runs on this server; returns whether it did.
    pub fn stop_local(&self, id: TaskId) -> bool {
        self.inner.stop_local(id)
    }

    /// Whether a task runs on this server.
    pub fn runs_here(&self, id: TaskId) -> bool {
        self.inner.running_tasks().contains_key(&id)
    }

    /// Follows a task that another replica runs, publishing its progress on
    /// this server's hub (needed only when replicas share a database).
    pub fn follow_remote(&self, id: TaskId) {
        if !self.inner.store.is_embedded() && !self.runs_here(id) {
            self.inner.follow(id);
        }
    }

    /// Acts on a notice from another replica.
    pub fn on_notice(&self, notice: crate::store::Notice) {
        self.inner.on_notice(notice);
    }

    /// Stops claiming tasks, gives operations in flight the grace period,
    /// aborts the rest, and waits for every worker to hand its task back.
    pub async fn shutdown(&self, mut workers: Workers) {
        self.inner.draining.cancel();
        let drained = tokio::time::timeout(self.inner.config.shutdown_grace, async {
            while workers.set.join_next().await.is_some() {}
        })
        .await;
        if drained.is_err() {
            tracing::info!("shutdown grace period over: aborting operations in flight");
            self.inner.abort.cancel();
            while workers.set.join_next().await.is_some() {}
        }
    }
}

impl Inner {
    fn running_tasks(&self) -> std::sync::MutexGuard<'_, HashMap<TaskId, Running>> {
        self.running.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn stop_local(&self, id: TaskId) -> bool {
        match self.running_tasks().get(&id) {
            Some(running) => {
                running.signals.stop.store(true, Ordering::SeqCst);
                running.cancel.cancel();
                true
            }
            None => false,
        }
    }
}

/// Claims and runs tasks until the runner drains.
async fn worker(inner: Arc<Inner>, n: usize) {
    tracing::debug!(worker = n, "worker started");
    while !inner.draining.is_cancelled() {
        match inner.store.claim_next(&inner.config.owner, Utc::now(), inner.config.lease).await {
            Ok(Some(claim)) => {
                // There may be more: let another idle worker look.
                inner.wake.notify_one();
                let span = tracing::info_span!("task", task = %claim.task.id);
                tracing::Instrument::instrument(execution::execute(inner.clone(), claim), span).await;
            }
            Ok(None) => {
                tokio::select! {
                    () = inner.wake.notified() => {}
                    () = tokio::time::sleep(inner.config.poll_interval) => {}
                    () = inner.draining.cancelled() => {}
                }
            }
            Err(e) => {
                tracing::warn!(worker = n, error = %e, "could not claim a task; retrying");
                tokio::select! {
                    () = tokio::time::sleep(inner.config.poll_interval) => {}
                    () = inner.draining.cancelled() => {}
                }
            }
        }
    }
    tracing::debug!(worker = n, "worker stopped");
}
