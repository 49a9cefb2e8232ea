//! The heartbeat of a running task: it renews the task's lease, and notices
//! a stop sent through the database or a lease lost to another worker.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use chrono::Utc;
use tokio_util::sync::CancellationToken;

use crate::domain::TaskId;
use crate::runner::Inner;
use crate::store::LeaseState;

/// What the heartbeat tells the task's run.
#[derive(Debug, Default)]
pub(super) struct Signals {
    /// A client asked the task to stop (as opposed to a shutdown).
    pub stop: AtomicBool,
    /// Another worker took the task over: this run must write nothing more.
    pub lost: AtomicBool,
}

impl Signals {
    pub fn stopped(&self) -> bool {
        self.stop.load(Ordering::SeqCst)
    }

    pub fn lost(&self) -> bool {
        self.lost.load(Ordering::SeqCst)
    }
}

/// Renews the lease every heartbeat period until aborted; cancels `cancel`
/// when a stop arrives or the lease is lost.
pub(super) async fn heartbeat(inner: Arc<Inner>, id: TaskId, cancel: CancellationToken, signals: Arc<Signals>) {
    // The first tick is immediate: a stop that reached the database while
    // the task was being claimed is seen at once.
    let mut ticks = tokio::time::interval(inner.config.heartbeat);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        match inner.store.renew_lease(id, &inner.config.owner, Utc::now(), inner.config.lease).await {
            Ok(LeaseState::Held { stop_requested: true }) => {
                signals.stop.store(true, Ordering::SeqCst);
                cancel.cancel();
            }
            Ok(LeaseState::Held { stop_requested: false }) => {}
            Ok(LeaseState::Lost) => {
                signals.lost.store(true, Ordering::SeqCst);
                cancel.cancel();
                return;
            }
            Err(e) => tracing::warn!(task = %id, error = %e, "could not renew the lease"),
        }
    }
}
