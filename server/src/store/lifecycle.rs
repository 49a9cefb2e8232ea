//! The client's side of the lifecycle: stopping, restarting, deleting and
//! purging tasks, each move allowed or refused by the domain's state
//! machine. Documents are shared between tasks: a document goes only when no
//! remaining task found it.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, RunQueryDsl};

use crate::domain::lifecycle::{deletable, stop};
use crate::domain::{Task, TaskId, TaskStatus, Transition};
use crate::store::convert::{status_from, status_names, to_micros};
use crate::store::models::TaskRow;
use crate::store::moves::{change, event_row};
use crate::store::schema::{documents, operation_progress, operations, task_documents, task_events, tasks};
use crate::store::{Store, StoreError, with_conn};

/// What a restart or a deletion found.
#[derive(Debug, Clone)]
pub enum Change {
    /// Done; the task as it is now (for a deletion, as it was).
    Done(Box<Task>),
    /// The task's status does not allow it.
    Refused(TaskStatus),
    NotFound,
}

/// What a stop request did.
#[derive(Debug, Clone)]
pub enum StopOutcome {
    /// The task had not started: it is now cancelled.
    CancelledPending(Task),
    /// The task is running: its worker will stop it.
    Requested(Task),
    /// The task had already ended.
    AlreadyFinished(Task),
    NotFound,
}

/// Tasks deleted at once by a purge, per transaction.
const PURGE_BATCH: i64 = 200;
/// Links checked at once for remaining references (bound parameters).
const LINK_BATCH: usize = 500;

/// Which tasks a deletion takes.
#[derive(Debug, Clone, Copy)]
enum Pick<'a> {
    /// This task, unless it is running.
    One(&'a str),
    /// Up to a batch of finished tasks in these statuses, completed before
    /// a time if one is given.
    Finished { statuses: &'a [&'static str], before: Option<i64> },
}

/// What a deletion found: the tasks it deleted (with the row of a single
/// one), or why it deleted nothing.
enum Deleted {
    Tasks { count: usize, one: Option<Box<TaskRow>> },
    Refused(TaskStatus),
    NotFound,
}

impl Store {
    /// Asks a task to stop: a pending task is cancelled at once, a running
    /// one is flagged for its worker.
    pub async fn request_stop(&self, id: TaskId, now: DateTime<Utc>) -> Result<StopOutcome, StoreError> {
        let id = id.to_string();
        let found: Option<(TaskRow, Option<Transition>)> = with_conn!(self, writer, |conn| {
            conn.transaction::<_, StoreError, _>(async |conn| {
                let Some(status): Option<String> =
                    tasks::table.find(&id).select(tasks::status).first(conn).await.optional()?
                else {
                    return Ok(None);
                };
                let transition = stop(status_from(&status)?);
                if let Some(transition) = transition {
                    diesel::update(tasks::table.find(&id))
                        .set(change(transition, now, None, None, None))
                        .execute(conn)
                        .await?;
                    if let Some(kind) = transition.event(false) {
                        let message = match transition {
                            Transition::CancelPending => "stopped before it started",
                            _ => "stop requested",
                        };
                        diesel::insert_into(task_events::table)
                            .values(&event_row(&id, kind, message, now))
                            .execute(conn)
                            .await?;
                    }
                }
                let row: TaskRow = tasks::table.find(&id).select(TaskRow::as_select()).first(conn).await?;
                Ok(Some((row, transition)))
            })
            .await?
        });
        Ok(match found {
            None => StopOutcome::NotFound,
            Some((row, Some(Transition::CancelPending))) => StopOutcome::CancelledPending(Task::try_from(row)?),
            Some((row, Some(_))) => StopOutcome::Requested(Task::try_from(row)?),
            Some((row, None)) => StopOutcome::AlreadyFinished(Task::try_from(row)?),
        })
    }

    /// Takes a finished task back to pending: counters, timestamps, error,
    /// results and the progress of operations a stop cut short cleared, so
    /// its next run starts every operation from its first page.
    pub async fn restart_task(&self, id: TaskId, now: DateTime<Utc>) -> Result<Change, StoreError> {
        let id = id.to_string();
        let found: Result<TaskRow, Option<TaskStatus>> = with_conn!(self, writer, |conn| {
            conn.transaction::<_, StoreError, _>(async |conn| {
                let Some(status): Option<String> =
                    tasks::table.find(&id).select(tasks::status).first(conn).await.optional()?
                else {
                    return Ok(Err(None));
                };
                let status = status_from(&status)?;
                if !Transition::Restart.applies_to(status) {
                    return Ok(Err(Some(status)));
                }
                diesel::delete(operations::table.filter(operations::task_id.eq(&id))).execute(conn).await?;
                diesel::delete(operation_progress::table.filter(operation_progress::task_id.eq(&id)))
                    .execute(conn)
                    .await?;
                diesel::delete(task_documents::table.filter(task_documents::task_id.eq(&id))).execute(conn).await?;
                diesel::update(tasks::table.find(&id))
                    .set(change(Transition::Restart, now, None, None, None))
                    .execute(conn)
                    .await?;
                if let Some(kind) = Transition::Restart.event(false) {
                    diesel::insert_into(task_events::table)
                        .values(&event_row(&id, kind, format!("restarted (was {status})"), now))
                        .execute(conn)
                        .await?;
                }
                Ok(Ok(tasks::table.find(&id).select(TaskRow::as_select()).first(conn).await?))
            })
            .await?
        });
        Ok(match found {
            Ok(row) => Change::Done(Box::new(Task::try_from(row)?)),
            Err(Some(status)) => Change::Refused(status),
            Err(None) => Change::NotFound,
        })
    }

    /// Deletes a task that is not running, with its operations, events and
    /// the documents no other task found.
    pub async fn delete_task(&self, id: TaskId) -> Result<Change, StoreError> {
        let id = id.to_string();
        Ok(match self.delete_picked(Pick::One(&id)).await? {
            Deleted::Tasks { one: Some(row), .. } => Change::Done(Box::new(Task::try_from(*row)?)),
            Deleted::Tasks { one: None, .. } | Deleted::NotFound => Change::NotFound,
            Deleted::Refused(status) => Change::Refused(status),
        })
    }

    /// Deletes the finished tasks in `statuses` completed before `before`
    /// (any time when `None`); returns how many went.
    pub async fn purge_tasks(
        &self,
        statuses: &[TaskStatus],
        before: Option<DateTime<Utc>>,
    ) -> Result<usize, StoreError> {
        let finished: Vec<TaskStatus> = statuses.iter().copied().filter(|s| s.is_terminal()).collect();
        let statuses = status_names(&finished);
        let before = before.map(to_micros);
        let mut deleted = 0;
        loop {
            let batch = match self.delete_picked(Pick::Finished { statuses: &statuses, before }).await? {
                Deleted::Tasks { count, .. } => count,
                Deleted::Refused(_) | Deleted::NotFound => 0,
            };
            deleted += batch;
            if batch < PURGE_BATCH as usize {
                return Ok(deleted);
            }
        }
    }

    /// Deletes the picked tasks (their operations, links and events
    /// cascade), then the documents that only they had found, in one
    /// transaction.
    async fn delete_picked(&self, pick: Pick<'_>) -> Result<Deleted, StoreError> {
        let deleted = with_conn!(self, writer, |conn| {
            conn.transaction::<_, StoreError, _>(async |conn| {
                let (ids, one) = match pick {
                    Pick::One(id) => {
                        let Some(row): Option<TaskRow> =
                            tasks::table.find(id).select(TaskRow::as_select()).first(conn).await.optional()?
                        else {
                            return Ok(Deleted::NotFound);
                        };
                        let status = status_from(&row.status)?;
                        if !deletable(status) {
                            return Ok(Deleted::Refused(status));
                        }
                        (vec![id.to_owned()], Some(Box::new(row)))
                    }
                    Pick::Finished { statuses, before } => {
                        let mut query = tasks::table
                            .filter(tasks::status.eq_any(statuses))
                            .select(tasks::id)
                            .limit(PURGE_BATCH)
                            .into_boxed();
                        if let Some(before) = before {
                            query = query.filter(tasks::completed_at.lt(before));
                        }
                        (query.load::<String>(conn).await?, None)
                    }
                };
                let links: Vec<String> = task_documents::table
                    .filter(task_documents::task_id.eq_any(&ids))
                    .select(task_documents::link)
                    .distinct()
                    .load(conn)
                    .await?;
                diesel::delete(tasks::table.filter(tasks::id.eq_any(&ids))).execute(conn).await?;
                for chunk in links.chunks(LINK_BATCH) {
                    let still_found: Vec<String> = task_documents::table
                        .filter(task_documents::link.eq_any(chunk))
                        .select(task_documents::link)
                        .distinct()
                        .load(conn)
                        .await?;
                    let orphans: Vec<&String> = chunk.iter().filter(|l| !still_found.contains(l)).collect();
                    if !orphans.is_empty() {
                        diesel::delete(documents::table.filter(documents::link.eq_any(orphans))).execute(conn).await?;
                    }
                }
                Ok(Deleted::Tasks { count: ids.len(), one })
            })
            .await?
        });
        Ok(deleted)
    }
}
