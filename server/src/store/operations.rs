//! Operation results: one row per prefecture × keyword of a task, written
//! with the task's counters in one transaction so nothing is counted twice.

use std::time::Duration;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, RunQueryDsl};

use crate::domain::{Counters, EventKind, TaskId};
use crate::scrape::Card;
use crate::store::convert::to_micros;
use crate::store::documents::insert_cards;
use crate::store::events::event_row;
use crate::store::models::{OperationRow, TaskRow};
use crate::store::schema::{operations, task_events, tasks};
use crate::store::write::{self, CardRows, OperationWrite};
use crate::store::{Backend, Store, StoreError, with_conn};

/// The outcome of one operation, to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperationRecord {
    pub prefecture_code: String,
    pub keyword: String,
    pub items_found: u64,
    pub pages_fetched: u32,
    pub duration: Duration,
    pub error: Option<String>,
}

/// Which operations of a task to list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OperationFilter {
    pub prefecture_code: Option<String>,
    pub keyword: Option<String>,
}

/// Where a page of operations starts: after this (prefecture, keyword).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperationCursor {
    pub prefecture_code: String,
    pub keyword: String,
}

/// A recorded operation, with the documents it was first to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedOperation {
    pub record: OperationRecord,
    pub new_documents: u64,
    pub finished_at: DateTime<Utc>,
}

impl Store {
    /// Records an operation with the cards it found and adds it to the
    /// task's counters, in one transaction, unless it was recorded already
    /// (a resumed task re-running it); returns the task's counters after the
    /// write.
    pub async fn record_operation(
        &self,
        task: TaskId,
        record: &OperationRecord,
        cards: &[Card],
        now: DateTime<Utc>,
    ) -> Result<Counters, StoreError> {
        let task_id = task.to_string();
        let now_us = to_micros(now);
        let write = OperationWrite {
            operation: OperationRow {
                task_id: task_id.clone(),
                prefecture_code: record.prefecture_code.clone(),
                keyword: record.keyword.clone(),
                items_found: i64::try_from(record.items_found).unwrap_or(i64::MAX),
                new_documents: 0,
                pages_fetched: i32::try_from(record.pages_fetched).unwrap_or(i32::MAX),
                duration_ms: i64::try_from(record.duration.as_millis()).unwrap_or(i64::MAX),
                error: record.error.clone(),
                finished_at: now_us,
            },
            cards: CardRows::new(&task_id, &record.prefecture_code, &record.keyword, cards, now_us),
            event: record.error.as_ref().map(|error| {
                let message = format!("{} / {}: {error}", record.prefecture_code, record.keyword);
                event_row(&task_id, EventKind::OperationFailed, message, now)
            }),
            now_us,
        };
        let row: TaskRow = match &self.backend {
            Backend::Sqlite { writer, .. } => {
                let mut conn = writer.get().await.map_err(StoreError::from_pool)?;
                conn.spawn_blocking(move |conn| conn.immediate_transaction(|conn| write::sqlite::record(conn, &write)))
                    .await?
            }
            Backend::Postgres { pool } => {
                let mut conn = pool.get().await.map_err(StoreError::from_pool)?;
                conn.transaction::<_, StoreError, _>(async |conn| {
                    insert_cards(conn, &write.cards).await?;
                    let op = &write.operation;
                    let new_documents: i64 =
                        write::first_found_by(op.task_id.clone(), op.prefecture_code.clone(), op.keyword.clone())
                            .get_result(conn)
                            .await?;
                    let row = OperationRow { new_documents, ..op.clone() };
                    let inserted = diesel::insert_into(operations::table)
                        .values(&row)
                        .on_conflict_do_nothing()
                        .execute(conn)
                        .await?;
                    if inserted == 1 {
                        diesel::update(tasks::table.find(&op.task_id))
                            .set(write::counters(&row, write.now_us))
                            .execute(conn)
                            .await?;
                        if let Some(event) = &write.event {
                            diesel::insert_into(task_events::table).values(event).execute(conn).await?;
                        }
                    }
                    Ok(tasks::table.find(&op.task_id).select(TaskRow::as_select()).first(conn).await?)
                })
                .await?
            }
        };
        Ok(crate::domain::Task::try_from(row)?.counters)
    }

    /// The (prefecture code, keyword) pairs of a task already recorded.
    pub async fn recorded_operations(&self, task: TaskId) -> Result<Vec<(String, String)>, StoreError> {
        let task_id = task.to_string();
        with_conn!(self, reader, |conn| {
            Ok(operations::table
                .filter(operations::task_id.eq(&task_id))
                .select((operations::prefecture_code, operations::keyword))
                .load(conn)
                .await?)
        })
    }

    /// Every recorded operation of a task, by prefecture code and keyword.
    pub async fn operations(&self, task: TaskId) -> Result<Vec<RecordedOperation>, StoreError> {
        self.list_operations(task, &OperationFilter::default(), None, usize::MAX).await
    }

    /// Recorded operations of a task matching `filter`, by prefecture code
    /// and keyword, starting after `cursor`.
    pub async fn list_operations(
        &self,
        task: TaskId,
        filter: &OperationFilter,
        cursor: Option<&OperationCursor>,
        limit: usize,
    ) -> Result<Vec<RecordedOperation>, StoreError> {
        let task_id = task.to_string();
        let rows: Vec<OperationRow> = with_conn!(self, reader, |conn| {
            let mut query = operations::table
                .filter(operations::task_id.eq(&task_id))
                .select(OperationRow::as_select())
                .into_boxed();
            if let Some(code) = &filter.prefecture_code {
                query = query.filter(operations::prefecture_code.eq(code));
            }
            if let Some(keyword) = &filter.keyword {
                query = query.filter(operations::keyword.eq(keyword));
            }
            if let Some(c) = cursor {
                query =
                    query.filter(operations::prefecture_code.gt(&c.prefecture_code).or(
                        operations::prefecture_code.eq(&c.prefecture_code).and(operations::keyword.gt(&c.keyword)),
                    ));
            }
            query
                .order((operations::prefecture_code.asc(), operations::keyword.asc()))
                .limit(i64::try_from(limit).unwrap_or(i64::MAX))
                .load(conn)
                .await?
        });
        rows.into_iter()
            .map(|row| {
                Ok(RecordedOperation {
                    record: OperationRecord {
                        prefecture_code: row.prefecture_code,
                        keyword: row.keyword,
                        items_found: u64::try_from(row.items_found).unwrap_or_default(),
                        pages_fetched: u32::try_from(row.pages_fetched).unwrap_or_default(),
                        duration: Duration::from_millis(u64::try_from(row.duration_ms).unwrap_or_default()),
                        error: row.error,
                    },
                    new_documents: u64::try_from(row.new_documents).unwrap_or_default(),
                    finished_at: crate::store::convert::from_micros(row.finished_at)?,
                })
            })
            .collect()
    }
}
