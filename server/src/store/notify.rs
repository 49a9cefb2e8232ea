//! PostgreSQL `LISTEN/NOTIFY` between replicas: a stop reaches the replica
//! running the task at once, and progress reaches replicas that stream it.
//! On SQLite (one server) both ends are no-ops. Notices are hints: the
//! database stays the source of truth, and heartbeats and polling cover a
//! lost notice.

use std::time::Duration;

use diesel::sql_types::Text;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::domain::TaskId;
use crate::store::{Backend, Store, StoreError};

const CHANNEL: &str = "scrape_tasks";
/// How often an idle listening connection is checked.
const PING: Duration = Duration::from_secs(5);

/// What one replica tells the others.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Notice {
    /// A client asked this task to stop.
    Stop { task: String },
    /// The task's stored state changed; the live fields are the owner's.
    Progress {
        task: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        prefecture: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        keyword: Option<String>,
        #[serde(default)]
        in_flight: u32,
    },
}

impl Notice {
    pub fn stop(task: TaskId) -> Notice {
        Notice::Stop { task: task.to_string() }
    }

    /// The task the notice is about.
    pub fn task(&self) -> Option<TaskId> {
        match self {
            Notice::Stop { task } | Notice::Progress { task, .. } => task.parse().ok(),
        }
    }
}

impl Store {
    /// Tells the other replicas (PostgreSQL only; best effort).
    pub async fn notify(&self, notice: &Notice) {
        let Backend::Postgres { pool } = &self.backend else { return };
        let payload = serde_json::to_string(notice).expect("notices serialise");
        let sent: Result<(), StoreError> = async {
            let mut conn = pool.get().await.map_err(StoreError::from_pool)?;
            diesel::sql_query("SELECT pg_notify($1, $2)")
                .bind::<Text, _>(CHANNEL)
                .bind::<Text, _>(&payload)
                .execute(&mut *conn)
                .await?;
            Ok(())
        }
        .await;
        if let Err(e) = sent {
            tracing::debug!(error = %e, "notice not sent; the others will poll");
        }
    }

    /// The notices of the other replicas, until `shutdown` (PostgreSQL only:
    /// `None` on SQLite). A dedicated connection listens and reconnects on
    /// its own after the database goes away.
    pub fn listen(&self, url: String, shutdown: CancellationToken) -> Option<mpsc::Receiver<Notice>> {
        let Backend::Postgres { .. } = &self.backend else { return None };
        let (tx, rx) = mpsc::channel(256);
        tokio::spawn(async move {
            let mut pause = Duration::from_millis(200);
            while !shutdown.is_cancelled() {
                match listen_once(&url, &tx, &shutdown).await {
                    Ok(()) => return,
                    Err(e) => {
                        tracing::warn!(error = %e, "listening for notices failed; reconnecting");
                        tokio::select! {
                            () = tokio::time::sleep(pause) => {}
                            () = shutdown.cancelled() => return,
                        }
                        pause = (pause * 2).min(Duration::from_secs(5));
                    }
                }
            }
        });
        Some(rx)
    }
}

/// Listens on one connection until it fails (`Err`) or shutdown (`Ok`).
async fn listen_once(url: &str, tx: &mpsc::Sender<Notice>, shutdown: &CancellationToken) -> Result<(), StoreError> {
    let mut conn = AsyncPgConnection::establish(url).await.map_err(|e| StoreError::Unavailable(e.to_string()))?;
    diesel::sql_query(format!("LISTEN {CHANNEL}")).execute(&mut conn).await?;
    tracing::debug!("listening for notices");
    loop {
        let received = {
            let mut notifications = std::pin::pin!(conn.notifications_stream());
            tokio::select! {
                next = notifications.next() => Some(next),
                () = tokio::time::sleep(PING) => None,
                () = shutdown.cancelled() => return Ok(()),
            }
        };
        match received {
            Some(Some(Ok(notification))) => match serde_json::from_str::<Notice>(&notification.payload) {
                Ok(notice) => {
                    if tx.send(notice).await.is_err() {
                        return Ok(());
                    }
                }
                Err(e) => tracing::warn!(error = %e, "unreadable notice ignored"),
            },
            Some(Some(Err(e))) => return Err(e.into()),
            Some(None) => return Err(StoreError::Unavailable("the notice stream ended".into())),
            // Quiet for a while: make sure the connection is still alive.
            None => {
                diesel::sql_query("SELECT 1").execute(&mut conn).await?;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notices_round_trip_as_small_json() {
        let id = TaskId::new();
        let stop = Notice::stop(id);
        let text = serde_json::to_string(&stop).expect("json");
        assert_eq!(text, format!(r#"{{"kind":"stop","task":"{id}"}}"#));
        assert_eq!(serde_json::from_str::<Notice>(&text).ok(), Some(stop));
        let progress =
            Notice::Progress { task: id.to_string(), prefecture: Some("56".into()), keyword: None, in_flight: 3 };
        let back: Notice = serde_json::from_str(&serde_json::to_string(&progress).expect("json")).expect("parse");
        assert_eq!(back, progress);
        assert_eq!(back.task(), Some(id));
    }
}
