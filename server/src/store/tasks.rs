//! Tasks: creation, lookup, listing, claiming under a lease, stopping and
//! finishing. Every state change and its event are written in one transaction.

use std::time::Duration;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, RunQueryDsl};

use crate::domain::{EventKind, Task, TaskId, TaskSpec, TaskStatus};
use crate::store::convert::{to_json, to_micros};
use crate::store::events::event_row;
use crate::store::models::TaskRow;
use crate::store::schema::{task_events, tasks};
use crate::store::{Backend, Store, StoreError, with_conn};

/// A task to insert.
#[derive(Debug, Clone)]
pub struct NewTask {
    pub id: TaskId,
    pub spec: TaskSpec,
    /// Folded id, keywords and prefecture codes and names: what
    /// `ListTasks.query` matches.
    pub search_text: String,
    pub now: DateTime<Utc>,
}

/// Which tasks to list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TaskFilter {
    /// Any of these (all when empty).
    pub statuses: Vec<TaskStatus>,
    pub created_after: Option<DateTime<Utc>>,
    pub created_before: Option<DateTime<Utc>>,
    /// Folded text to find in the task's search text.
    pub query: Option<String>,
    /// The query names a prefecture or region: tasks over every prefecture
    /// match it too.
    pub query_names_a_place: bool,
    /// The query is a whole task id: only that task (found by its key).
    pub id: Option<String>,
}

/// Where a page of tasks starts: strictly after this task in the
/// newest-first order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskCursor {
    pub created_at: i64,
    pub id: String,
}

impl TaskCursor {
    pub fn after(task: &Task) -> TaskCursor {
        TaskCursor { created_at: to_micros(task.created_at), id: task.id.to_string() }
    }
}

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

const PENDING: &str = "pending";
const RUNNING: &str = "running";

impl Store {
    /// Inserts a task, or returns the task created earlier with the same
    /// request id (`created` is then false).
    pub async fn insert_task(&self, new: NewTask) -> Result<(Task, bool), StoreError> {
        let row = new_row(&new);
        let event = event_row(&row.id, EventKind::Created, created_message(&new.spec), new.now);
        let request_id = row.request_id.clone();
        let inserted = with_conn!(self, writer, |conn| {
            conn.transaction::<_, StoreError, _>(async |conn| {
                let inserted =
                    diesel::insert_into(tasks::table).values(&row).on_conflict_do_nothing().execute(conn).await?;
                if inserted == 1 {
                    diesel::insert_into(task_events::table).values(&event).execute(conn).await?;
                }
                Ok(inserted == 1)
            })
            .await?
        });
        let found = if inserted {
            self.task(new.id).await?
        } else {
            let request_id =
                request_id.ok_or_else(|| StoreError::Corrupt(format!("task id {} already exists", new.id)))?;
            self.task_by_request_id(&request_id).await?
        };
        let task = found.ok_or_else(|| StoreError::Corrupt("inserted task vanished".into()))?;
        Ok((task, inserted))
    }

    pub async fn task(&self, id: TaskId) -> Result<Option<Task>, StoreError> {
        let id = id.to_string();
        let row: Option<TaskRow> = with_conn!(self, reader, |conn| {
            tasks::table.find(&id).select(TaskRow::as_select()).first(conn).await.optional()?
        });
        row.map(Task::try_from).transpose()
    }

    async fn task_by_request_id(&self, request_id: &str) -> Result<Option<Task>, StoreError> {
        let row: Option<TaskRow> = with_conn!(self, writer, |conn| {
            tasks::table
                .filter(tasks::request_id.eq(request_id))
                .select(TaskRow::as_select())
                .first(conn)
                .await
                .optional()?
        });
        row.map(Task::try_from).transpose()
    }

    /// Tasks matching `filter`, newest first, starting after `cursor`.
    pub async fn list_tasks(
        &self,
        filter: &TaskFilter,
        cursor: Option<&TaskCursor>,
        limit: usize,
    ) -> Result<Vec<Task>, StoreError> {
        let statuses: Vec<&str> = filter.statuses.iter().map(|s| s.as_str()).collect();
        let pattern = filter.query.as_deref().map(like_pattern);
        // A rare word is looked up in the trigram index; a common one is
        // found fastest by walking the newest tasks until the page is full.
        let indexed = match filter.query.as_deref() {
            Some(query) if !filter.query_names_a_place && filter.id.is_none() => {
                self.rare_in_search_index(query).await?
            }
            _ => None,
        };
        let rows: Vec<TaskRow> = with_conn!(self, reader, |conn| {
            let mut query = tasks::table.select(TaskRow::as_select()).into_boxed();
            if !statuses.is_empty() {
                query = query.filter(tasks::status.eq_any(&statuses));
            }
            if let Some(after) = filter.created_after {
                query = query.filter(tasks::created_at.ge(to_micros(after)));
            }
            if let Some(before) = filter.created_before {
                query = query.filter(tasks::created_at.lt(to_micros(before)));
            }
            if let Some(id) = &filter.id {
                query = query.filter(tasks::id.eq(id));
            } else if let Some(phrase) = &indexed {
                query = query.filter(
                    diesel::dsl::sql::<diesel::sql_types::Bool>(
                        "tasks.rowid IN (SELECT rowid FROM tasks_search WHERE tasks_search MATCH ",
                    )
                    .bind::<diesel::sql_types::Text, _>(phrase.clone())
                    .sql(")"),
                );
            } else if let Some(pattern) = &pattern {
                let matches = tasks::search_text.like(pattern).escape('\\');
                if filter.query_names_a_place {
                    query = query.filter(matches.or(tasks::prefectures.eq("[]").and(tasks::regions.eq("[]"))));
                } else {
                    query = query.filter(matches);
                }
            }
            if let Some(cursor) = cursor {
                query = query.filter(
                    tasks::created_at
                        .lt(cursor.created_at)
                        .or(tasks::created_at.eq(cursor.created_at).and(tasks::id.lt(&cursor.id))),
                );
            }
            query
                .order((tasks::created_at.desc(), tasks::id.desc()))
                .limit(i64::try_from(limit).unwrap_or(i64::MAX))
                .load(conn)
                .await?
        });
        rows.into_iter().map(Task::try_from).collect()
    }

    /// On SQLite, the trigram-index phrase for `query` when few tasks match
    /// it (then the index finds them faster than a walk through every task).
    async fn rare_in_search_index(&self, query: &str) -> Result<Option<String>, StoreError> {
        /// Above this many matches, walking the newest tasks fills a page sooner.
        const RARE: i64 = 2000;
        let Backend::Sqlite { readers, .. } = &self.backend else { return Ok(None) };
        // Trigrams need three characters.
        if query.chars().count() < 3 {
            return Ok(None);
        }
        #[derive(QueryableByName)]
        struct Matches {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        let phrase = format!("\"{}\"", query.replace('"', "\"\""));
        let mut conn = readers.get().await.map_err(StoreError::from_pool)?;
        let matches: Matches = diesel::sql_query(format!(
            "SELECT count(*) AS n FROM (SELECT rowid FROM tasks_search WHERE tasks_search MATCH ? LIMIT {RARE})"
        ))
        .bind::<diesel::sql_types::Text, _>(&phrase)
        .get_result(&mut *conn)
        .await?;
        Ok((matches.n < RARE).then_some(phrase))
    }

    /// Claims the oldest task waiting for a worker: a pending one, or a
    /// running one whose lease expired (its worker died). The claim holds
    /// until `now + lease` unless renewed.
    pub async fn claim_next(
        &self,
        owner: &str,
        now: DateTime<Utc>,
        lease: Duration,
    ) -> Result<Option<Claim>, StoreError> {
        let now_us = to_micros(now);
        let until = now_us + i64::try_from(lease.as_micros()).unwrap_or(i64::MAX / 2);
        let claimable = || {
            tasks::table
                .filter(
                    tasks::status.eq(PENDING).or(tasks::status
                        .eq(RUNNING)
                        .and(tasks::lease_expires_at.is_null().or(tasks::lease_expires_at.lt(now_us)))),
                )
                .order((tasks::created_at.asc(), tasks::id.asc()))
                .select((tasks::id, tasks::started_at, tasks::stop_requested))
        };
        macro_rules! claim {
            ($conn:ident, $candidate:expr) => {
                $conn
                    .transaction::<_, StoreError, _>(async |conn| {
                        let candidate: Option<(String, Option<i64>, bool)> = $candidate.first(conn).await.optional()?;
                        let Some((id, started_at, stop_requested)) = candidate else { return Ok(None) };
                        diesel::update(tasks::table.find(&id))
                            .set((
                                tasks::status.eq(RUNNING),
                                tasks::owner.eq(owner),
                                tasks::lease_expires_at.eq(until),
                                tasks::started_at.eq(started_at.unwrap_or(now_us)),
                                tasks::updated_at.eq(now_us),
                            ))
                            .execute(conn)
                            .await?;
                        let resumed = started_at.is_some();
                        let (kind, message) = if resumed {
                            (EventKind::Resumed, format!("resumed by {owner}"))
                        } else {
                            (EventKind::Started, format!("started by {owner}"))
                        };
                        diesel::insert_into(task_events::table)
                            .values(&event_row(&id, kind, message, now))
                            .execute(conn)
                            .await?;
                        let row: TaskRow = tasks::table.find(&id).select(TaskRow::as_select()).first(conn).await?;
                        Ok(Some((row, resumed, stop_requested)))
                    })
                    .await?
            };
        }
        let claimed: Option<(TaskRow, bool, bool)> = match &self.backend {
            Backend::Sqlite { writer, .. } => {
                let mut conn = writer.get().await.map_err(StoreError::from_pool)?;
                let conn = &mut *conn;
                claim!(conn, claimable())
            }
            Backend::Postgres { pool } => {
                let mut conn = pool.get().await.map_err(StoreError::from_pool)?;
                let conn = &mut *conn;
                claim!(conn, claimable().for_update().skip_locked())
            }
        };
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
        let until = to_micros(now) + i64::try_from(lease.as_micros()).unwrap_or(i64::MAX / 2);
        with_conn!(self, writer, |conn| {
            let stop: Option<bool> =
                diesel::update(tasks::table.find(&id).filter(tasks::owner.eq(owner)).filter(tasks::status.eq(RUNNING)))
                    .set(tasks::lease_expires_at.eq(until))
                    .returning(tasks::stop_requested)
                    .get_result(conn)
                    .await
                    .optional()?;
            Ok(match stop {
                Some(stop_requested) => LeaseState::Held { stop_requested },
                None => LeaseState::Lost,
            })
        })
    }

    /// Asks a task to stop: a pending task is cancelled at once, a running
    /// one is flagged for its worker.
    pub async fn request_stop(&self, id: TaskId, now: DateTime<Utc>) -> Result<StopOutcome, StoreError> {
        let id_text = id.to_string();
        let now_us = to_micros(now);
        let outcome: Option<(TaskRow, &'static str)> = with_conn!(self, writer, |conn| {
            conn.transaction::<_, StoreError, _>(async |conn| {
                let Some(status): Option<String> =
                    tasks::table.find(&id_text).select(tasks::status).first(conn).await.optional()?
                else {
                    return Ok(None);
                };
                let kind = match status.as_str() {
                    PENDING => {
                        diesel::update(tasks::table.find(&id_text))
                            .set((
                                tasks::status.eq(TaskStatus::Cancelled.as_str()),
                                tasks::stop_requested.eq(true),
                                tasks::completed_at.eq(now_us),
                                tasks::updated_at.eq(now_us),
                            ))
                            .execute(conn)
                            .await?;
                        diesel::insert_into(task_events::table)
                            .values(&event_row(&id_text, EventKind::Stopped, "stopped before it started", now))
                            .execute(conn)
                            .await?;
                        "cancelled"
                    }
                    RUNNING => {
                        diesel::update(tasks::table.find(&id_text))
                            .set((tasks::stop_requested.eq(true), tasks::updated_at.eq(now_us)))
                            .execute(conn)
                            .await?;
                        diesel::insert_into(task_events::table)
                            .values(&event_row(&id_text, EventKind::StopRequested, "stop requested", now))
                            .execute(conn)
                            .await?;
                        "requested"
                    }
                    _ => "finished",
                };
                let row: TaskRow = tasks::table.find(&id_text).select(TaskRow::as_select()).first(conn).await?;
                Ok(Some((row, kind)))
            })
            .await?
        });
        Ok(match outcome {
            None => StopOutcome::NotFound,
            Some((row, "cancelled")) => StopOutcome::CancelledPending(Task::try_from(row)?),
            Some((row, "requested")) => StopOutcome::Requested(Task::try_from(row)?),
            Some((row, _)) => StopOutcome::AlreadyFinished(Task::try_from(row)?),
        })
    }

    /// Ends a task this owner runs with a terminal status.
    pub async fn finish_task(
        &self,
        id: TaskId,
        owner: &str,
        status: TaskStatus,
        error: Option<String>,
        now: DateTime<Utc>,
    ) -> Result<Option<Task>, StoreError> {
        debug_assert!(status.is_terminal());
        let id_text = id.to_string();
        let now_us = to_micros(now);
        let (kind, message) = match status {
            TaskStatus::Cancelled => (EventKind::Stopped, "stopped".to_owned()),
            TaskStatus::Failed => (EventKind::Failed, error.clone().unwrap_or_else(|| "failed".into())),
            _ => (EventKind::Succeeded, "finished".to_owned()),
        };
        let row: Option<TaskRow> = with_conn!(self, writer, |conn| {
            conn.transaction::<_, StoreError, _>(async |conn| {
                let updated = diesel::update(
                    tasks::table.find(&id_text).filter(tasks::owner.eq(owner)).filter(tasks::status.eq(RUNNING)),
                )
                .set((
                    tasks::status.eq(status.as_str()),
                    tasks::error.eq(&error),
                    tasks::completed_at.eq(now_us),
                    tasks::updated_at.eq(now_us),
                    tasks::owner.eq(None::<String>),
                    tasks::lease_expires_at.eq(None::<i64>),
                ))
                .execute(conn)
                .await?;
                if updated == 0 {
                    return Ok(None);
                }
                diesel::insert_into(task_events::table)
                    .values(&event_row(&id_text, kind, message, now))
                    .execute(conn)
                    .await?;
                Ok(Some(tasks::table.find(&id_text).select(TaskRow::as_select()).first(conn).await?))
            })
            .await?
        });
        row.map(Task::try_from).transpose()
    }

    /// Gives a running task back (on shutdown): it stays running, with no
    /// owner, so the next worker to look resumes it at once.
    pub async fn release_task(&self, id: TaskId, owner: &str, now: DateTime<Utc>) -> Result<(), StoreError> {
        let id = id.to_string();
        with_conn!(self, writer, |conn| {
            diesel::update(tasks::table.find(&id).filter(tasks::owner.eq(owner)).filter(tasks::status.eq(RUNNING)))
                .set((
                    tasks::owner.eq(None::<String>),
                    tasks::lease_expires_at.eq(None::<i64>),
                    tasks::updated_at.eq(to_micros(now)),
                ))
                .execute(conn)
                .await?;
        });
        Ok(())
    }

    /// Releases every running task: for an embedded database, which only one
    /// server uses, tasks still running at start-up were left by a server
    /// that died, and can resume at once instead of after their lease.
    pub async fn release_all_running(&self, now: DateTime<Utc>) -> Result<usize, StoreError> {
        with_conn!(self, writer, |conn| {
            Ok(diesel::update(tasks::table.filter(tasks::status.eq(RUNNING)))
                .set((
                    tasks::owner.eq(None::<String>),
                    tasks::lease_expires_at.eq(None::<i64>),
                    tasks::updated_at.eq(to_micros(now)),
                ))
                .execute(conn)
                .await?)
        })
    }
}

fn new_row(new: &NewTask) -> TaskRow {
    let spec = &new.spec;
    let now = to_micros(new.now);
    TaskRow {
        id: new.id.to_string(),
        status: TaskStatus::Pending.as_str().to_owned(),
        keywords: to_json(&spec.keywords),
        regions: to_json(&spec.regions),
        prefectures: to_json(&spec.prefectures),
        targets: to_json(&spec.targets),
        exclude_keywords: to_json(&spec.exclude_keywords),
        days_limit: spec.days_limit.map_or(0, |d| i32::try_from(d).unwrap_or(i32::MAX)),
        export_file_name: spec.export.as_ref().map(|e| e.file_name.clone()),
        export_format: spec.export.as_ref().map(|e| e.format.as_str().to_owned()),
        request_id: spec.request_id.clone(),
        search_text: new.search_text.clone(),
        total_operations: i32::try_from(spec.total_operations()).unwrap_or(i32::MAX),
        completed_operations: 0,
        failed_operations: 0,
        items_found: 0,
        new_documents: 0,
        pages_fetched: 0,
        error: None,
        stop_requested: false,
        owner: None,
        lease_expires_at: None,
        created_at: now,
        updated_at: now,
        started_at: None,
        completed_at: None,
    }
}

fn created_message(spec: &TaskSpec) -> String {
    format!(
        "created: {} keyword(s) × {} prefecture(s) = {} operations",
        spec.keywords.len(),
        spec.targets.len(),
        spec.total_operations()
    )
}

/// `%text%` with LIKE's wildcards in `text` escaped.
pub(crate) fn like_pattern(text: &str) -> String {
    let mut pattern = String::with_capacity(text.len() + 2);
    pattern.push('%');
    for ch in text.chars() {
        if matches!(ch, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(ch);
    }
    pattern.push('%');
    pattern
}
