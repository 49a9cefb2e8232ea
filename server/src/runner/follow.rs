//! Following a task that another replica runs: its progress is read from
//! the database whenever the owner sends a notice (and every second as a
//! fallback), and published on this replica's hub, so that a stream works
//! on any replica.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::Notify;

use crate::domain::{Progress, TaskId};
use crate::runner::Inner;
use crate::store::Notice;

/// How often a follower reads the database without a notice.
const POLL: Duration = Duration::from_secs(1);

/// The live fields the owner sent last.
#[derive(Debug, Default, Clone)]
struct Live {
    prefecture: Option<String>,
    keyword: Option<String>,
    in_flight: u32,
}

/// One followed task.
#[derive(Debug, Default)]
pub(super) struct Follower {
    wake: Notify,
    live: Mutex<Live>,
}

impl Inner {
    /// Starts following a task run elsewhere, unless it is already followed.
    pub(super) fn follow(self: &Arc<Inner>, id: TaskId) {
        let follower = {
            let mut followers = self.followers.lock().unwrap_or_else(|p| p.into_inner());
            if followers.contains_key(&id) {
                return;
            }
            let follower = Arc::new(Follower::default());
            followers.insert(id, follower.clone());
            follower
        };
        tokio::spawn(follow(self.clone(), id, follower));
    }

    /// Acts on another replica's notice.
    pub(super) fn on_notice(&self, notice: Notice) {
        let Some(id) = notice.task() else { return };
        match notice {
            Notice::Stop { .. } => {
                if self.stop_local(id) {
                    tracing::info!(task = %id, "stopped on another replica's request");
                }
            }
            Notice::Progress { prefecture, keyword, in_flight, .. } => {
                let followers = self.followers.lock().unwrap_or_else(|p| p.into_inner());
                if let Some(follower) = followers.get(&id) {
                    *follower.live.lock().unwrap_or_else(|p| p.into_inner()) = Live { prefecture, keyword, in_flight };
                    follower.wake.notify_one();
                }
            }
        }
    }
}

async fn follow(inner: Arc<Inner>, id: TaskId, follower: Arc<Follower>) {
    tracing::debug!(task = %id, "following a task run elsewhere");
    loop {
        if inner.running_tasks().contains_key(&id) {
            // Claimed here meanwhile: the local run publishes from now on.
            break;
        }
        if inner.hub.subscribers(id) == 0 {
            inner.hub.close(id);
            break;
        }
        match inner.store.task(id).await {
            Ok(Some(task)) => {
                let live = follower.live.lock().unwrap_or_else(|p| p.into_inner()).clone();
                let mut progress = Progress::of(&task);
                if !task.status.is_terminal() {
                    progress.current_prefecture = live.prefecture;
                    progress.current_keyword = live.keyword;
                    progress.in_flight_operations = live.in_flight;
                }
                if inner.running_tasks().contains_key(&id) {
                    break;
                }
                inner.hub.publish(progress);
                if task.status.is_terminal() {
                    break;
                }
            }
            Ok(None) => {
                inner.hub.close(id);
                break;
            }
            Err(e) => tracing::debug!(task = %id, error = %e, "following: store unavailable"),
        }
        tokio::select! {
            () = follower.wake.notified() => {}
            () = tokio::time::sleep(POLL) => {}
            () = inner.abort.cancelled() => break,
        }
    }
    inner.followers.lock().unwrap_or_else(|p| p.into_inner()).remove(&id);
    tracing::debug!(task = %id, "stopped following");
}
