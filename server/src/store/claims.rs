//! The worker's side of the lifecycle: claiming a task under a lease,
//! renewing it, finishing the task or handing it back. Each move is guarded
//! by the task's status and owner, and logged, in one transaction.

use std::time::Duration;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, RunQueryDsl};

use crate::domain::{Ending, Task, TaskId, TaskStatus, Transition};
use crate::store::convert::{micros_after, status_name, status_names};
use crate::store::dialect::Dialect;
use crate::store::models::TaskRow;
use crate::store::moves::{Taker, change, event_row};
use crate::store::schema::{task_events, tasks};
use crate::store::{Store, StoreError, with_conn};

/// A task claimed by a worker.
#[derive(Debug, Clone)]
pub struct Claim {
    pub task: Task,
    /// It had been started before (by a worker that died or shut down).
    pub resumed: bool,
    /// A stop was requested while it was not running.
    pub stop_requested: bool,
}

/// What a lease renewal found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LeaseState {
    /// Still ours; `stop_requested` says whether a stop arrived.
    Held { stop_requested: bool },
    /// Another worker took the task, or it is no longer running.
    Lost,
}

impl Store {
    /// Claims the oldest task waiting for a worker: a pending one, or a
    /// running one whose lease expired (its worker died). The claim holds
    /// until `now + lease` unless renewed.
    pub async fn claim_next(
        &self,
        owner: &str,
        now: DateTime<Utc>,
        lease: Duration,
    ) -> Result<Option<Claim>, StoreError> {
        let taker = Taker { owner, lease_until: micros_after(now, lease) };
        let now_us = crate::store::convert::to_micros(now);
        let claimed: Option<(TaskRow, bool, bool)> = with_conn!(self, writer, |conn| {
            conn.transaction::<_, StoreError, _>(async |conn| {
                let Some((id, started_at, stop_requested)) = conn.next_claimable(now_us).await? else {
                    return Ok(None);
                };
                let resumed = started_at.is_some();
                diesel::update(tasks::table.find(&id))
                    .set(change(Transition::Claim, now, started_at, Some(taker), None))
                    .execute(conn)
                    .await?;
                if let Some(kind) = Transition::Claim.event(resumed) {
                    let verb = if resumed { "resumed" } else { "started" };
                    diesel::insert_into(task_events::table)
                        .values(&event_row(&id, kind, format!("{verb} by {owner}"), now))
                        .execute(conn)
                        .await?;
                }
                let row: TaskRow = tasks::table.find(&id).select(TaskRow::as_select()).first(conn).await?;
                Ok(Some((row, resumed, stop_requested)))
            })
            .await?
        });
        claimed
            .map(|(row, resumed, stop_requested)| Ok(Claim { task: Task::try_from(row)?, resumed, stop_requested }))
            .transpose()
    }

    /// Extends the lease of a task this owner runs.
    pub async fn renew_lease(
        &self,
        id: TaskId,
        owner: &str,
        now: DateTime<Utc>,
        lease: Duration,
    ) -> Result<LeaseState, StoreError> {
        let id = id.to_string();
        let until = micros_after(now, lease);
        let running = status_name(TaskStatus::Running);
        let stop: Option<bool> = with_conn!(self, writer, |conn| {
            diesel::update(tasks::table.find(&id).filter(tasks::owner.eq(owner)).filter(tasks::status.eq(running)))
                .set(tasks::lease_expires_at.eq(until))
                .returning(tasks::stop_requested)
                .get_result(conn)
                .await
                .optional()?
        });
        Ok(match stop {
            Some(stop_requested) => LeaseState::Held { stop_requested },
            None => LeaseState::Lost,
        })
    }

    /// Ends a task this owner runs; `None` when it was no longer ours.
    pub async fn finish_task(
        &self,
        id: TaskId,
        owner: &str,
        ending: Ending,
        error: Option<String>,
        now: DateTime<Utc>,
    ) -> Result<Option<Task>, StoreError> {
        let transition = Transition::Finish(ending);
        let message = match ending {
            Ending::Cancelled => "stopped".to_owned(),
            Ending::Failed => error.clone().unwrap_or_else(|| "failed".into()),
            Ending::Succeeded => "finished".to_owned(),
        };
        let row = self.move_owned(id, owner, transition, error, message, now).await?;
        row.map(Task::try_from).transpose()
    }

    /// Gives a running task back (on shutdown): it stays running, with no
    /// owner, so the next worker to look resumes it at once.
    pub async fn release_task(&self, id: TaskId, owner: &str, now: DateTime<Utc>) -> Result<(), StoreError> {
        self.move_owned(id, owner, Transition::Release, None, String::new(), now).await?;
        Ok(())
    }

    /// Releases every running task: for an embedded database, which only one
    /// server uses, tasks still running at start-up were left by a server
    /// that died, and can resume at once instead of after their lease.
    pub async fn release_all_running(&self, now: DateTime<Utc>) -> Result<usize, StoreError> {
        let from = status_names(Transition::Release.from());
        let release = change(Transition::Release, now, None, None, None);
        with_conn!(self, writer, |conn| {
            Ok(diesel::update(tasks::table.filter(tasks::status.eq_any(&from))).set(&release).execute(conn).await?)
        })
    }

    /// Applies a move of the worker `owner` to its task, with its event.
    async fn move_owned(
        &self,
        id: TaskId,
        owner: &str,
        transition: Transition,
        error: Option<String>,
        message: String,
        now: DateTime<Utc>,
    ) -> Result<Option<TaskRow>, StoreError> {
        let id = id.to_string();
        let from = status_names(transition.from());
        let set = change(transition, now, None, None, error);
        let event = transition.event(false).map(|kind| event_row(&id, kind, message, now));
        let row = with_conn!(self, writer, |conn| {
            conn.transaction::<_, StoreError, _>(async |conn| {
                let updated = diesel::update(
                    tasks::table.find(&id).filter(tasks::owner.eq(owner)).filter(tasks::status.eq_any(&from)),
                )
                .set(&set)
                .execute(conn)
                .await?;
                if updated == 0 {
                    return Ok(None);
                }
                if let Some(event) = &event {
                    diesel::insert_into(task_events::table).values(event).execute(conn).await?;
                }
                Ok(Some(tasks::table.find(&id).select(TaskRow::as_select()).first(conn).await?))
            })
            .await?
        });
        Ok(row)
    }
}
