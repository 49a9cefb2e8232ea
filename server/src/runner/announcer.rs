//! Progress notices to the replicas that follow a task (PostgreSQL only),
//! coalesced: one notice in flight per task and at most one every
//! [`NOTICE_GAP`]; the changes made meanwhile go out together in the next,
//! so that progress moving with every page never floods the database.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio_util::sync::{CancellationToken, DropGuard};

use crate::domain::Progress;
use crate::runner::Inner;
use crate::store::Notice;

/// Shortest time between two notices of one task. A follower reads the
/// task's stored state on each (and once a second without any).
const NOTICE_GAP: Duration = Duration::from_millis(100);

/// The notice telling followers that a task's state changed, with the live
/// fields only its worker knows.
pub(super) fn notice(progress: &Progress) -> Notice {
    Notice::Progress {
        task: progress.task_id.to_string(),
        prefecture: progress.current_prefecture.clone(),
        keyword: progress.current_keyword.clone(),
        in_flight: progress.in_flight_operations,
    }
}

/// Announces the changes of a running task's progress until the guard is
/// dropped; `None` on an embedded database, which nobody follows.
pub(super) fn announce_changes(inner: &Arc<Inner>, progress: &watch::Sender<Progress>) -> Option<DropGuard> {
    if inner.store.is_embedded() {
        return None;
    }
    let stop = CancellationToken::new();
    tokio::spawn(announce(inner.clone(), progress.subscribe(), stop.clone()));
    Some(stop.drop_guard())
}

async fn announce(inner: Arc<Inner>, mut changes: watch::Receiver<Progress>, stop: CancellationToken) {
    changes.mark_unchanged();
    loop {
        tokio::select! {
            changed = changes.changed() => if changed.is_err() { return },
            () = stop.cancelled() => return,
        }
        let notice = notice(&changes.borrow_and_update());
        // A notice being sent is never cut: the loop stops between two.
        inner.store.notify(&notice).await;
        tokio::select! {
            () = tokio::time::sleep(NOTICE_GAP) => {}
            () = stop.cancelled() => return,
        }
    }
}
