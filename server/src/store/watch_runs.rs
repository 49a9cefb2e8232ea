//! The runs of watches: claiming a due time (once, whichever replica gets
//! there first), linking a run to its task, and counting its news when the
//! task has ended — the documents this watch had never seen — with the
//! notifications they call for, in one transaction.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};
use diesel_async::{AsyncConnection, RunQueryDsl};

use crate::domain::{Channel, RunId, Schedule, TaskId, TaskTemplate, WatchEventKind, WatchId, WatchRun};
use crate::store::convert::{from_micros, to_micros};
use crate::store::schema::{
    documents, task_documents, tasks, watch_documents, watch_events, watch_notifications, watch_runs, watches,
};
use crate::store::watch_rows::{self, NewWatchEventRow, NotificationRow, RunRow, schedule_from};
use crate::store::{Store, StoreError, with_conn};

/// A watch whose due time has come.
#[derive(Debug, Clone)]
pub struct DueWatch {
    pub id: WatchId,
    pub due: DateTime<Utc>,
    pub schedule: Schedule,
}

/// A run waiting for its task.
#[derive(Debug, Clone)]
pub struct UnstartedRun {
    pub run: WatchRun,
    pub task: TaskTemplate,
}

/// A run whose task had ended, once counted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndedRun {
    pub watch_id: WatchId,
    pub run_id: RunId,
    pub task_id: Option<TaskId>,
    pub new_documents: u64,
    /// Notifications queued for its news.
    pub notifications: usize,
}

impl Store {
    /// The watches due at `now` (not paused), soonest first.
    pub async fn due_watches(&self, now: DateTime<Utc>, limit: usize) -> Result<Vec<DueWatch>, StoreError> {
        type Due = (String, Option<i64>, Option<String>, Option<String>, Option<i64>);
        let rows: Vec<Due> = with_conn!(self, reader, |conn| {
            watches::table
                .filter(watches::next_run_at.le(to_micros(now)))
                .filter(watches::paused.eq(false))
                .order(watches::next_run_at.asc())
                .limit(i64::try_from(limit).unwrap_or(i64::MAX))
                .select((
                    watches::id,
                    watches::next_run_at,
                    watches::cron_expression,
                    watches::time_zone,
                    watches::interval_ms,
                ))
                .load(conn)
                .await?
        });
        rows.into_iter()
            .filter_map(|(id, due, cron, zone, interval)| due.map(|due| (id, due, cron, zone, interval)))
            .map(|(id, due, cron, zone, interval)| {
                Ok(DueWatch {
                    id: id.parse().map_err(|_| StoreError::Corrupt(format!("watch id {id:?}")))?,
                    due: from_micros(due)?,
                    schedule: schedule_from(cron.as_deref(), zone.as_deref(), interval)?,
                })
            })
            .collect()
    }

    /// Claims the due time `due` of a watch: moves its next due time to
    /// `next` and records a run for `slot`, only if the watch is still due
    /// at `due` — so among replicas that read the same due time, exactly one
    /// claims it. Returns the run, or `None` when another claimed it first.
    pub async fn claim_due(
        &self,
        watch: WatchId,
        due: DateTime<Utc>,
        slot: DateTime<Utc>,
        next: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Result<Option<RunId>, StoreError> {
        let key = watch.to_string();
        let run = RunId::new();
        let row = RunRow {
            id: run.to_string(),
            watch_id: key.clone(),
            due_at: Some(to_micros(slot)),
            requested_at: to_micros(now),
            task_id: None,
            ended_at: None,
            new_documents: None,
        };
        let claimed = with_conn!(self, writer, |conn| {
            conn.transaction::<_, StoreError, _>(async |conn| {
                let moved = diesel::update(
                    watches::table
                        .filter(watches::id.eq(&key))
                        .filter(watches::next_run_at.eq(to_micros(due)))
                        .filter(watches::paused.eq(false)),
                )
                .set(watches::next_run_at.eq(next.map(to_micros)))
                .execute(conn)
                .await?;
                if moved == 0 {
                    return Ok(false);
                }
                // The unique (watch, due time) pair is the last guard: a due
                // time runs once, even if the schedule came back to it.
                let inserted =
                    diesel::insert_into(watch_runs::table).values(&row).on_conflict_do_nothing().execute(conn).await?;
                if inserted == 1 {
                    diesel::update(watches::table.filter(watches::id.eq(&key)))
                        .set(watches::last_run_id.eq(&row.id))
                        .execute(conn)
                        .await?;
                }
                Ok(inserted == 1)
            })
            .await?
        });
        Ok(claimed.then_some(run))
    }

    /// Records a run started by hand; `None` when there is no such watch.
    pub async fn insert_manual_run(&self, watch: WatchId, now: DateTime<Utc>) -> Result<Option<RunId>, StoreError> {
        let key = watch.to_string();
        let run = RunId::new();
        let row = RunRow {
            id: run.to_string(),
            watch_id: key.clone(),
            due_at: None,
            requested_at: to_micros(now),
            task_id: None,
            ended_at: None,
            new_documents: None,
        };
        let inserted = with_conn!(self, writer, |conn| {
            conn.transaction::<_, StoreError, _>(async |conn| {
                let updated = diesel::update(watches::table.filter(watches::id.eq(&key)))
                    .set(watches::last_run_id.eq(&row.id))
                    .execute(conn)
                    .await?;
                if updated == 0 {
                    return Ok(false);
                }
                diesel::insert_into(watch_runs::table).values(&row).execute(conn).await?;
                Ok(true)
            })
            .await?
        });
        Ok(inserted.then_some(run))
    }

    /// Runs whose task is not created yet, oldest first, with the task their
    /// watch starts.
    pub async fn unstarted_runs(&self, limit: usize) -> Result<Vec<UnstartedRun>, StoreError> {
        let rows: Vec<(RunRow, String)> = with_conn!(self, reader, |conn| {
            watch_runs::table
                .inner_join(watches::table.on(watches::id.eq(watch_runs::watch_id)))
                .filter(watch_runs::task_id.is_null())
                .filter(watch_runs::ended_at.is_null())
                .order(watch_runs::requested_at.asc())
                .limit(i64::try_from(limit).unwrap_or(i64::MAX))
                .select((RunRow::as_select(), watches::task))
                .load(conn)
                .await?
        });
        rows.into_iter()
            .map(|(run, task)| {
                let template = watch_rows::task_from_json(&task)?;
                Ok(UnstartedRun { run: watch_rows::watch_run(run, None)?, task: template })
            })
            .collect()
    }

    /// Links a run to its task and logs the start; false when the run had
    /// its task already (another replica started it) or is gone.
    pub async fn set_run_task(&self, run: &WatchRun, task: TaskId, now: DateTime<Utc>) -> Result<bool, StoreError> {
        let run_id = run.id.to_string();
        let task_id = task.to_string();
        let message = match run.due_at {
            Some(due) => format!("run due at {} started task {task}", due.to_rfc3339()),
            None => format!("run started by hand: task {task}"),
        };
        let mut event =
            NewWatchEventRow::new(&run.watch_id.to_string(), WatchEventKind::RunStarted, message, to_micros(now));
        event.task_id = Some(task_id.clone());
        event.due_at = run.due_at.map(to_micros);
        Ok(with_conn!(self, writer, |conn| {
            conn.transaction::<_, StoreError, _>(async |conn| {
                let linked = diesel::update(
                    watch_runs::table
                        .filter(watch_runs::id.eq(&run_id))
                        .filter(watch_runs::task_id.is_null())
                        .filter(watch_runs::ended_at.is_null()),
                )
                .set(watch_runs::task_id.eq(&task_id))
                .execute(conn)
                .await?;
                if linked == 1 {
                    diesel::insert_into(watch_events::table).values(&event).execute(conn).await?;
                }
                Ok(linked == 1)
            })
            .await?
        }))
    }

    /// Ends a run whose task was refused (its places left the catalog…),
    /// with the reason in the watch's log.
    pub async fn run_not_started(&self, run: &WatchRun, reason: String, now: DateTime<Utc>) -> Result<(), StoreError> {
        let run_id = run.id.to_string();
        let now_us = to_micros(now);
        let mut event = NewWatchEventRow::new(&run.watch_id.to_string(), WatchEventKind::RunNotStarted, reason, now_us);
        event.due_at = run.due_at.map(to_micros);
        with_conn!(self, writer, |conn| {
            conn.transaction::<_, StoreError, _>(async |conn| {
                let ended = diesel::update(
                    watch_runs::table.filter(watch_runs::id.eq(&run_id)).filter(watch_runs::ended_at.is_null()),
                )
                .set((watch_runs::ended_at.eq(now_us), watch_runs::new_documents.eq(0_i64)))
                .execute(conn)
                .await?;
                if ended == 1 {
                    diesel::insert_into(watch_events::table).values(&event).execute(conn).await?;
                }
                Ok(())
            })
            .await?
        });
        Ok(())
    }

    /// Runs whose task has ended (or was deleted) but whose news are not
    /// counted yet.
    pub async fn ended_uncounted_runs(&self, limit: usize) -> Result<Vec<RunId>, StoreError> {
        let rows: Vec<(String, Option<String>)> = with_conn!(self, reader, |conn| {
            watch_runs::table
                .left_join(tasks::table.on(tasks::id.nullable().eq(watch_runs::task_id)))
                .filter(watch_runs::task_id.is_not_null())
                .filter(watch_runs::ended_at.is_null())
                .order(watch_runs::requested_at.asc())
                .limit(i64::try_from(limit).unwrap_or(i64::MAX))
                .select((watch_runs::id, tasks::status.nullable()))
                .load(conn)
                .await?
        });
        let mut ended = Vec::new();
        for (id, status) in rows {
            if watch_rows::is_terminal(status.as_deref())? {
                ended.push(id.parse().map_err(|_| StoreError::Corrupt(format!("run id {id:?}")))?);
            }
        }
        Ok(ended)
    }

    /// Counts a run's news, once: the documents its task found that the
    /// watch had never seen become the watch's (one INSERT … SELECT from
    /// the task's links), the run and the watch's log record how many, and
    /// a run with news queues one notification per channel of the watch.
    /// `None` when the run was counted already (by another replica).
    pub async fn count_run_news(&self, run: RunId, now: DateTime<Utc>) -> Result<Option<EndedRun>, StoreError> {
        let run_id = run.to_string();
        let now_us = to_micros(now);
        let counted: Option<(RunRow, u64, usize)> = with_conn!(self, writer, |conn| {
            conn.transaction::<_, StoreError, _>(async |conn| {
                let claimed = diesel::update(
                    watch_runs::table.filter(watch_runs::id.eq(&run_id)).filter(watch_runs::ended_at.is_null()),
                )
                .set(watch_runs::ended_at.eq(now_us))
                .execute(conn)
                .await?;
                if claimed == 0 {
                    return Ok(None);
                }
                let row: RunRow = watch_runs::table.find(&run_id).select(RunRow::as_select()).first(conn).await?;
                let task_id = row.task_id.clone().unwrap_or_default();
                // One row per link; the first (prefecture, keyword) pair in
                // order is the one the news are filed under.
                let news = task_documents::table
                    .inner_join(documents::table)
                    .filter(task_documents::task_id.eq(&task_id))
                    .order((task_documents::prefecture_code, task_documents::keyword, task_documents::link))
                    .select((
                        row.watch_id.as_str().into_sql::<Text>(),
                        documents::link,
                        documents::title,
                        documents::description,
                        documents::published_on,
                        documents::date_label,
                        task_documents::prefecture_code,
                        task_documents::keyword,
                        task_documents::task_id,
                        now_us.into_sql::<BigInt>(),
                    ));
                let inserted = diesel::insert_into(watch_documents::table)
                    .values(news)
                    .into_columns((
                        watch_documents::watch_id,
                        watch_documents::link,
                        watch_documents::title,
                        watch_documents::description,
                        watch_documents::published_on,
                        watch_documents::date_label,
                        watch_documents::prefecture_code,
                        watch_documents::keyword,
                        watch_documents::task_id,
                        watch_documents::first_seen_at,
                    ))
                    .on_conflict_do_nothing()
                    .execute(conn)
                    .await?;
                let new_documents = inserted as u64;
                diesel::update(watch_runs::table.find(&run_id))
                    .set(watch_runs::new_documents.eq(i64::try_from(inserted).unwrap_or(i64::MAX)))
                    .execute(conn)
                    .await?;
                let status: Option<String> =
                    tasks::table.find(&task_id).select(tasks::status).first(conn).await.optional()?;
                let message = match &status {
                    Some(status) => format!("task {task_id} {status}: {new_documents} new document(s)"),
                    None => format!("task {task_id} was deleted before it ended: no news"),
                };
                let mut event = NewWatchEventRow::new(&row.watch_id, WatchEventKind::RunEnded, message, now_us);
                event.task_id = row.task_id.clone();
                event.new_documents = Some(i64::try_from(inserted).unwrap_or(i64::MAX));
                event.due_at = row.due_at;
                diesel::insert_into(watch_events::table).values(&event).execute(conn).await?;
                let mut queued = 0;
                if new_documents > 0 {
                    let (webhook, email_to): (Option<String>, String) = watches::table
                        .filter(watches::id.eq(&row.watch_id))
                        .select((watches::webhook_url, watches::email_to))
                        .first(conn)
                        .await?;
                    let channels = [(Channel::Webhook, webhook.is_some()), (Channel::Email, email_to != "[]")];
                    for (channel, wanted) in channels {
                        if !wanted {
                            continue;
                        }
                        let notification = NotificationRow {
                            id: uuid::Uuid::now_v7().to_string(),
                            watch_id: row.watch_id.clone(),
                            run_id: run_id.clone(),
                            task_id: task_id.clone(),
                            channel: channel.as_str().to_owned(),
                            attempts: 0,
                            next_attempt_at: Some(now_us),
                            delivered_at: None,
                            last_error: None,
                            created_at: now_us,
                        };
                        diesel::insert_into(watch_notifications::table).values(&notification).execute(conn).await?;
                        queued += 1;
                    }
                }
                Ok(Some((row, new_documents, queued)))
            })
            .await?
        });
        let Some((row, new_documents, notifications)) = counted else { return Ok(None) };
        let run = watch_rows::watch_run(row, None)?;
        Ok(Some(EndedRun {
            watch_id: run.watch_id,
            run_id: run.id,
            task_id: run.task_id,
            new_documents,
            notifications,
        }))
    }

    /// Runs by id, with their task's status.
    pub(crate) async fn runs_with_status(&self, ids: &[String]) -> Result<Vec<(RunRow, Option<String>)>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        Ok(with_conn!(self, reader, |conn| {
            watch_runs::table
                .left_join(tasks::table.on(tasks::id.nullable().eq(watch_runs::task_id)))
                .filter(watch_runs::id.eq_any(ids))
                .select((RunRow::as_select(), tasks::status.nullable()))
                .load(conn)
                .await?
        }))
    }

    /// A watch's runs, newest first.
    pub async fn watch_runs(&self, watch: WatchId, limit: usize) -> Result<Vec<WatchRun>, StoreError> {
        let key = watch.to_string();
        let rows: Vec<(RunRow, Option<String>)> = with_conn!(self, reader, |conn| {
            watch_runs::table
                .left_join(tasks::table.on(tasks::id.nullable().eq(watch_runs::task_id)))
                .filter(watch_runs::watch_id.eq(&key))
                .order(watch_runs::requested_at.desc())
                .limit(i64::try_from(limit).unwrap_or(i64::MAX))
                .select((RunRow::as_select(), tasks::status.nullable()))
                .load(conn)
                .await?
        });
        rows.into_iter().map(|(run, status)| watch_rows::watch_run(run, status)).collect()
    }
}

impl Store {
    /// One run, with its task's status.
    pub async fn watch_run(&self, id: RunId) -> Result<Option<WatchRun>, StoreError> {
        let found = self.runs_with_status(&[id.to_string()]).await?;
        found.into_iter().next().map(|(run, status)| watch_rows::watch_run(run, status)).transpose()
    }
}
