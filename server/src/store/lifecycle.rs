//! Restarting, deleting and purging tasks. Documents are shared between
//! tasks: a document goes only when no remaining task found it.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, RunQueryDsl};

use crate::domain::{EventKind, Task, TaskId, TaskStatus};
use crate::store::convert::to_micros;
use crate::store::events::event_row;
use crate::store::models::TaskRow;
use crate::store::schema::{documents, operations, task_documents, task_events, tasks};
use crate::store::{Store, StoreError, with_conn};

/// What a state-changing request found.
#[derive(Debug, Clone)]
pub enum Change {
    /// Done; the task as it is now (for a deletion, as it was).
    Done(Box<Task>),
    /// The task's status does not allow it.
    Refused(TaskStatus),
    NotFound,
}

/// Tasks deleted at once by a purge, per transaction.
const PURGE_BATCH: usize = 200;
/// Links checked at once for remaining references (bound parameters).
const LINK_BATCH: usize = 500;

/// Deletes tasks (their operations, links and events cascade), then the
/// documents that only they had found; for use inside a transaction of
/// either backend.
macro_rules! delete_tasks {
    ($conn:ident, $ids:expr) => {{
        let ids: &[String] = $ids;
        let links: Vec<String> = task_documents::table
            .filter(task_documents::task_id.eq_any(ids))
            .select(task_documents::link)
            .distinct()
            .load($conn)
            .await?;
        diesel::delete(tasks::table.filter(tasks::id.eq_any(ids))).execute($conn).await?;
        for chunk in links.chunks(LINK_BATCH) {
            let still_found: Vec<String> = task_documents::table
                .filter(task_documents::link.eq_any(chunk))
                .select(task_documents::link)
                .distinct()
                .load($conn)
                .await?;
            let orphans: Vec<&String> = chunk.iter().filter(|l| !still_found.contains(l)).collect();
            if !orphans.is_empty() {
                diesel::delete(documents::table.filter(documents::link.eq_any(orphans))).execute($conn).await?;
            }
        }
    }};
}

impl Store {
    /// Takes a finished task back to pending: counters, timestamps, error
    /// and results cleared, so its next run replaces them.
    pub async fn restart_task(&self, id: TaskId, now: DateTime<Utc>) -> Result<Change, StoreError> {
        let id_text = id.to_string();
        let now_us = to_micros(now);
        let outcome: Result<TaskRow, Option<String>> = with_conn!(self, writer, |conn| {
            conn.transaction::<_, StoreError, _>(async |conn| {
                let Some(status): Option<String> =
                    tasks::table.find(&id_text).select(tasks::status).first(conn).await.optional()?
                else {
                    return Ok(Err(None));
                };
                if !TaskStatus::from_db(&status).is_some_and(TaskStatus::is_terminal) {
                    return Ok(Err(Some(status)));
                }
                diesel::delete(operations::table.filter(operations::task_id.eq(&id_text))).execute(conn).await?;
                diesel::delete(task_documents::table.filter(task_documents::task_id.eq(&id_text)))
                    .execute(conn)
                    .await?;
                diesel::update(tasks::table.find(&id_text))
                    .set((
                        tasks::status.eq(TaskStatus::Pending.as_str()),
                        tasks::completed_operations.eq(0),
                        tasks::failed_operations.eq(0),
                        tasks::items_found.eq(0_i64),
                        tasks::new_documents.eq(0_i64),
                        tasks::pages_fetched.eq(0_i64),
                        tasks::error.eq(None::<String>),
                        tasks::stop_requested.eq(false),
                        tasks::owner.eq(None::<String>),
                        tasks::lease_expires_at.eq(None::<i64>),
                        tasks::started_at.eq(None::<i64>),
                        tasks::completed_at.eq(None::<i64>),
                        tasks::updated_at.eq(now_us),
                    ))
                    .execute(conn)
                    .await?;
                diesel::insert_into(task_events::table)
                    .values(&event_row(&id_text, EventKind::Restarted, format!("restarted (was {status})"), now))
                    .execute(conn)
                    .await?;
                Ok(Ok(tasks::table.find(&id_text).select(TaskRow::as_select()).first(conn).await?))
            })
            .await?
        });
        change(outcome)
    }

    /// Deletes a task that is not running, with its operations, events and
    /// the documents no other task found.
    pub async fn delete_task(&self, id: TaskId) -> Result<Change, StoreError> {
        let id_text = id.to_string();
        let outcome: Result<TaskRow, Option<String>> = with_conn!(self, writer, |conn| {
            conn.transaction::<_, StoreError, _>(async |conn| {
                let Some(row): Option<TaskRow> =
                    tasks::table.find(&id_text).select(TaskRow::as_select()).first(conn).await.optional()?
                else {
                    return Ok(Err(None));
                };
                if row.status == TaskStatus::Running.as_str() {
                    return Ok(Err(Some(row.status)));
                }
                delete_tasks!(conn, std::slice::from_ref(&id_text));
                Ok(Ok(row))
            })
            .await?
        });
        change(outcome)
    }

    /// Deletes the finished tasks in `statuses` completed before `before`
    /// (any time when `None`); returns how many went.
    pub async fn purge_tasks(
        &self,
        statuses: &[TaskStatus],
        before: Option<DateTime<Utc>>,
    ) -> Result<usize, StoreError> {
        let statuses: Vec<&str> = statuses.iter().filter(|s| s.is_terminal()).map(|s| s.as_str()).collect();
        let before = before.map(to_micros);
        let mut deleted = 0;
        loop {
            let batch: usize = with_conn!(self, writer, |conn| {
                conn.transaction::<_, StoreError, _>(async |conn| {
                    let mut query = tasks::table
                        .filter(tasks::status.eq_any(&statuses))
                        .select(tasks::id)
                        .limit(PURGE_BATCH as i64)
                        .into_boxed();
                    if let Some(before) = before {
                        query = query.filter(tasks::completed_at.lt(before));
                    }
                    let ids: Vec<String> = query.load(conn).await?;
                    delete_tasks!(conn, &ids);
                    Ok(ids.len())
                })
                .await?
            });
            deleted += batch;
            if batch < PURGE_BATCH {
                return Ok(deleted);
            }
        }
    }

    /// Ids of the tasks a stop applies to.
    pub async fn active_task_ids(&self) -> Result<Vec<TaskId>, StoreError> {
        let ids: Vec<String> = with_conn!(self, reader, |conn| {
            tasks::table
                .filter(tasks::status.eq_any([TaskStatus::Pending.as_str(), TaskStatus::Running.as_str()]))
                .order(tasks::created_at.asc())
                .select(tasks::id)
                .load(conn)
                .await?
        });
        ids.iter().map(|id| id.parse().map_err(|_| StoreError::Corrupt(format!("task id {id:?}")))).collect()
    }
}

fn change(outcome: Result<TaskRow, Option<String>>) -> Result<Change, StoreError> {
    Ok(match outcome {
        Ok(row) => Change::Done(Box::new(Task::try_from(row)?)),
        Err(None) => Change::NotFound,
        Err(Some(status)) => Change::Refused(
            TaskStatus::from_db(&status).ok_or_else(|| StoreError::Corrupt(format!("task status {status:?}")))?,
        ),
    })
}
