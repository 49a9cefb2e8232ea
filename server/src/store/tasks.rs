//! Tasks: creation (idempotent by request id), lookup, listing in any of
//! their orders with keyset pagination, and counting.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, RunQueryDsl};

use crate::domain::order::keywords_key;
use crate::domain::{EventKind, Task, TaskId, TaskQuery, TaskSpec, TaskStatus, WatchId};
use crate::store::convert::{status_name, status_names, to_i32, to_json, to_micros};
use crate::store::dialect::Dialect;
use crate::store::models::TaskRow;
use crate::store::moves::event_row;
use crate::store::patterns;
use crate::store::quotas::{CreatorRow, PendingQuota, QuotaExceeded, to_i64};
use crate::store::schema::{task_creators, task_events, tasks};
use crate::store::task_order::{TaskCursor, TaskPage, in_page};
use crate::store::{Store, StoreError, with_conn};

/// A task to insert.
#[derive(Debug, Clone)]
pub struct NewTask {
    pub id: TaskId,
    pub spec: TaskSpec,
    /// Folded id, keywords and prefecture codes and names: what
    /// `ListTasks.query` matches.
    pub search_text: String,
    /// Prefectures in the task's scope left out, with why: logged once, as
    /// the task is created.
    pub skipped: Vec<String>,
    pub now: DateTime<Utc>,
    /// The name of the token the task was started with, if any.
    pub created_by: Option<String>,
    /// The pending-task quotas the insert must respect.
    pub quota: PendingQuota,
    /// The watch this task is a run of.
    pub watch: Option<WatchId>,
}

/// What an insert did.
#[derive(Debug, Clone)]
pub enum Inserted {
    /// A new task.
    Created(Task),
    /// Nothing: the task created earlier with the same request id is this
    /// one (its parameters may differ).
    SameRequest(Task),
    /// Nothing: another task writes its export to the same file.
    ExportNameTaken(TaskId),
    /// Nothing: a quota of pending tasks is full.
    OverQuota(QuotaExceeded),
}

/// How to find the tasks of a list: the client's query, planned by the
/// service.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TaskSearch {
    pub query: TaskQuery,
    /// The text names a prefecture or region: tasks over every prefecture
    /// match it too.
    pub text_names_a_place: bool,
    /// The text is a whole task id: only that task (found by its key).
    pub id: Option<TaskId>,
    /// The text may begin a task id (hexadecimal digits and hyphens, lower
    /// case): tasks whose id starts with it match too.
    pub id_prefix: Option<String>,
}

/// What a search of tasks is for: a page of them, or their count.
enum Wanted<'p> {
    Page(&'p TaskPage<'p>),
    Count,
}

/// What a search of tasks found.
enum Found {
    Rows(Vec<TaskRow>),
    Count(i64),
}

impl Store {
    /// Inserts a task, unless one with the same request id exists (which
    /// is returned, even when a quota is full: a retry is not a new task),
    /// another task exports to the same file name, or a pending-task quota
    /// is full.
    ///
    /// The quotas are counted in the insert's transaction: exact on SQLite,
    /// whose writes are serial; on PostgreSQL, concurrent inserts may
    /// overshoot a quota by as many as run at once.
    pub async fn insert_task(&self, new: NewTask) -> Result<Inserted, StoreError> {
        let row = new_row(&new);
        let mut events = vec![event_row(&row.id, EventKind::Created, created_message(&new.spec), new.now)];
        if !new.skipped.is_empty() {
            let message = format!("skipped, their sites are not supported: {}", new.skipped.join("; "));
            events.push(event_row(&row.id, EventKind::Skipped, message, new.now));
        }
        let request_id = row.request_id.clone();
        let export_name = row.export_file_name.clone();
        let creator = new.created_by.clone().map(|token_name| CreatorRow { task_id: row.id.clone(), token_name });
        let quota = new.quota;
        let pending = status_name(TaskStatus::Pending);
        /// Why nothing was inserted.
        enum Refused {
            SameRequest(Box<TaskRow>),
            ExportNameTaken(String),
            OverQuota(QuotaExceeded),
        }
        let outcome: Result<TaskRow, Refused> = with_conn!(self, writer, |conn| {
            conn.transaction::<_, StoreError, _>(async |conn| {
                if let Some(request_id) = &request_id {
                    // Two starts with one request id at once (a retry, a
                    // watch's run started by two replicas): the second
                    // waits for the first and finds its task.
                    conn.lock_name(&format!("request_id {request_id}")).await?;
                    let earlier: Option<TaskRow> = tasks::table
                        .filter(tasks::request_id.eq(request_id))
                        .select(TaskRow::as_select())
                        .first(conn)
                        .await
                        .optional()?;
                    if let Some(earlier) = earlier {
                        return Ok(Err(Refused::SameRequest(Box::new(earlier))));
                    }
                }
                if let Some(name) = &export_name {
                    conn.lock_name(name).await?;
                    let holder: Option<String> = tasks::table
                        .filter(tasks::export_file_name.eq(name))
                        .select(tasks::id)
                        .first(conn)
                        .await
                        .optional()?;
                    if let Some(holder) = holder {
                        return Ok(Err(Refused::ExportNameTaken(holder)));
                    }
                }
                if let Some(limit) = quota.total {
                    let count: i64 = tasks::table.filter(tasks::status.eq(pending)).count().get_result(conn).await?;
                    if count >= to_i64(limit) {
                        return Ok(Err(Refused::OverQuota(QuotaExceeded::Total { limit })));
                    }
                }
                if let (Some(limit), Some(creator)) = (quota.per_token, &creator) {
                    let count: i64 = task_creators::table
                        .inner_join(tasks::table)
                        .filter(task_creators::token_name.eq(&creator.token_name))
                        .filter(tasks::status.eq(pending))
                        .count()
                        .get_result(conn)
                        .await?;
                    if count >= to_i64(limit) {
                        let token = creator.token_name.clone();
                        return Ok(Err(Refused::OverQuota(QuotaExceeded::PerToken { limit, token })));
                    }
                }
                diesel::insert_into(tasks::table).values(&row).execute(conn).await?;
                for event in &events {
                    diesel::insert_into(task_events::table).values(event).execute(conn).await?;
                }
                if let Some(creator) = &creator {
                    diesel::insert_into(task_creators::table).values(creator).execute(conn).await?;
                }
                Ok(Ok(row))
            })
            .await?
        });
        Ok(match outcome {
            Ok(row) => Inserted::Created(Task::try_from(row)?),
            Err(Refused::SameRequest(earlier)) => Inserted::SameRequest(Task::try_from(*earlier)?),
            Err(Refused::ExportNameTaken(holder)) => Inserted::ExportNameTaken(
                holder.parse().map_err(|_| StoreError::Corrupt(format!("task id {holder:?}")))?,
            ),
            Err(Refused::OverQuota(exceeded)) => Inserted::OverQuota(exceeded),
        })
    }

    pub async fn task(&self, id: TaskId) -> Result<Option<Task>, StoreError> {
        let id = id.to_string();
        let row: Option<TaskRow> = with_conn!(self, reader, |conn| {
            tasks::table.find(&id).select(TaskRow::as_select()).first(conn).await.optional()?
        });
        row.map(Task::try_from).transpose()
    }

    /// A page of the tasks matching `search`, each with the cursor of a
    /// page that would start after it.
    pub async fn list_tasks(
        &self,
        search: &TaskSearch,
        page: &TaskPage<'_>,
    ) -> Result<Vec<(Task, TaskCursor)>, StoreError> {
        let Found::Rows(rows) = self.search_tasks(search, Wanted::Page(page)).await? else {
            return Err(StoreError::Corrupt("a page of tasks was counted".into()));
        };
        rows.into_iter()
            .map(|row| {
                let cursor = TaskCursor::after(&row, page.order);
                Ok((Task::try_from(row)?, cursor))
            })
            .collect()
    }

    /// How many tasks match `search`: one `COUNT` over the tasks' own rows
    /// (their indexes, when the filters allow), never their documents.
    pub async fn count_tasks(&self, search: &TaskSearch) -> Result<u64, StoreError> {
        match self.search_tasks(search, Wanted::Count).await? {
            Found::Count(count) => Ok(u64::try_from(count).unwrap_or(0)),
            Found::Rows(_) => Err(StoreError::Corrupt("tasks were listed instead of counted".into())),
        }
    }

    /// The tasks matching `search`, as `wanted`.
    async fn search_tasks(&self, search: &TaskSearch, wanted: Wanted<'_>) -> Result<Found, StoreError> {
        let query = &search.query;
        let statuses = status_names(&query.statuses);
        let text = query.text.as_ref().and_then(|t| t.folded());
        let words = text.map(patterns::whole_words);
        // The search text starts with the task's id as it is written.
        let id_prefix = search.id_prefix.as_deref().map(|p| patterns::starting_with(&format!(" {p}")));
        let id = search.id.map(|id| id.to_string());
        let watch = query.watch.map(|id| id.to_string());
        Ok(with_conn!(self, reader, |conn| {
            // A rare word is looked up in an index; a common one is found
            // fastest by walking the newest tasks until the page is full.
            let indexed = match text {
                Some(text) if !search.text_names_a_place && id.is_none() => {
                    let mut found = conn.indexed_matches(&format!(" {text} ")).await?;
                    if let (Some(ids), Some(prefix)) = (&mut found, &search.id_prefix) {
                        match conn.indexed_matches(&format!(" {prefix}")).await? {
                            Some(more) => ids.extend(more),
                            None => found = None,
                        }
                    }
                    found
                }
                _ => None,
            };
            let mut rows = tasks::table.select(TaskRow::as_select()).into_boxed();
            if !statuses.is_empty() {
                rows = rows.filter(tasks::status.eq_any(&statuses));
            }
            if let Some(after) = query.created_after {
                rows = rows.filter(tasks::created_at.ge(to_micros(after)));
            }
            if let Some(before) = query.created_before {
                rows = rows.filter(tasks::created_at.lt(to_micros(before)));
            }
            if let Some(watch) = &watch {
                rows = rows.filter(tasks::watch_id.eq(watch));
            }
            if let Some(id) = &id {
                rows = rows.filter(tasks::id.eq(id));
            } else if let Some(words) = &words {
                // Whole words only, never a fragment inside a word; the
                // index narrows the candidates when the words are rare.
                let matches = tasks::search_text.like(words).escape('\\');
                let everywhere = tasks::prefectures.eq("[]").and(tasks::regions.eq("[]"));
                rows = match (&indexed, search.text_names_a_place, &id_prefix) {
                    (Some(ids), _, None) => rows.filter(tasks::id.eq_any(ids).and(matches)),
                    (Some(ids), _, Some(id)) => {
                        let begins_id = tasks::search_text.like(id).escape('\\');
                        rows.filter(tasks::id.eq_any(ids).and(matches.or(begins_id)))
                    }
                    (None, true, None) => rows.filter(matches.or(everywhere)),
                    (None, true, Some(id)) => {
                        rows.filter(matches.or(everywhere).or(tasks::search_text.like(id).escape('\\')))
                    }
                    (None, false, None) => rows.filter(matches),
                    (None, false, Some(id)) => rows.filter(matches.or(tasks::search_text.like(id).escape('\\'))),
                };
            }
            match wanted {
                Wanted::Count => Found::Count(rows.count().get_result(conn).await?),
                Wanted::Page(page) => Found::Rows(in_page!(rows, page).load(conn).await?),
            }
        }))
    }

    /// Ids of the tasks a stop applies to, oldest first.
    pub async fn active_task_ids(&self) -> Result<Vec<TaskId>, StoreError> {
        let active = status_names(&[TaskStatus::Pending, TaskStatus::Running]);
        let ids: Vec<String> = with_conn!(self, reader, |conn| {
            tasks::table
                .filter(tasks::status.eq_any(&active))
                .order(tasks::created_at.asc())
                .select(tasks::id)
                .load(conn)
                .await?
        });
        ids.iter().map(|id| id.parse().map_err(|_| StoreError::Corrupt(format!("task id {id:?}")))).collect()
    }
}

fn new_row(new: &NewTask) -> TaskRow {
    let spec = &new.spec;
    let now = to_micros(new.now);
    TaskRow {
        id: new.id.to_string(),
        status: status_name(TaskStatus::Pending).to_owned(),
        keywords: to_json(spec.keywords.as_slice()),
        regions: to_json(&spec.regions),
        prefectures: to_json(&spec.prefectures),
        targets: to_json(&spec.targets),
        exclude_keywords: to_json(spec.exclude_keywords.as_slice()),
        days_limit: spec.days_limit.map_or(0, |d| i32::try_from(d).unwrap_or(i32::MAX)),
        export_file_name: spec.export.as_ref().map(|e| e.file_name.clone()),
        export_format: spec.export.as_ref().map(|e| e.format.as_str().to_owned()),
        request_id: spec.request_id.clone(),
        search_text: new.search_text.clone(),
        total_operations: to_i32(u32::try_from(spec.total_operations()).unwrap_or(u32::MAX)),
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
        watch_id: new.watch.map(|id| id.to_string()),
        keywords_key: keywords_key(spec.keywords.iter()),
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
