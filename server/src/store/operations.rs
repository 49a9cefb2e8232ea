//! Operation results: one row per prefecture × keyword of a task, written
//! with its cards and the task's counters in one transaction, so nothing is
//! counted twice.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, RunQueryDsl};

use crate::domain::{Card, Counters, EventKind, OperationOutcome, OperationResult, ResultQuery, Task, TaskId};
use crate::store::convert::{to_i32, to_i64, to_micros};
use crate::store::dialect::Dialect;
use crate::store::documents::card_rows;
use crate::store::models::{OperationRow, TaskRow};
use crate::store::moves::event_row;
use crate::store::schema::{documents, operations, task_events, tasks};
use crate::store::{Store, StoreError, with_conn};

/// Where a page of operations starts: after this (prefecture, keyword).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperationCursor {
    pub prefecture_code: String,
    pub keyword: String,
}

impl Store {
    /// Records an operation with the cards it found and adds it to the
    /// task's counters, in one transaction, unless it was recorded already
    /// (a resumed task re-running it); returns the task's counters after the
    /// write.
    pub async fn record_operation(
        &self,
        task: TaskId,
        outcome: &OperationOutcome,
        cards: &[Card],
        now: DateTime<Utc>,
    ) -> Result<Counters, StoreError> {
        let task_id = task.to_string();
        let now_us = to_micros(now);
        let (docs, links) = card_rows(&task_id, &outcome.prefecture_code, &outcome.keyword, cards, now_us);
        let operation = OperationRow {
            task_id: task_id.clone(),
            prefecture_code: outcome.prefecture_code.clone(),
            keyword: outcome.keyword.clone(),
            items_found: to_i64(outcome.items_found),
            new_documents: 0,
            pages_fetched: to_i32(outcome.pages_fetched),
            duration_ms: i64::try_from(outcome.duration.as_millis()).unwrap_or(i64::MAX),
            error: outcome.error.clone(),
            finished_at: now_us,
        };
        let failure = outcome.error.as_ref().map(|error| {
            let message = format!("{} / {}: {error}", outcome.prefecture_code, outcome.keyword);
            event_row(&task_id, EventKind::OperationFailed, message, now)
        });
        let row: TaskRow = with_conn!(self, writer, |conn| {
            conn.transaction::<_, StoreError, _>(async |conn| {
                conn.insert_cards(docs, links).await?;
                // The documents this operation was first to store count as
                // new, even when it runs again after a crash or a restart.
                let new_documents: i64 = documents::table
                    .filter(documents::first_task_id.eq(&operation.task_id))
                    .filter(documents::prefecture_code.eq(&operation.prefecture_code))
                    .filter(documents::keyword.eq(&operation.keyword))
                    .count()
                    .get_result(conn)
                    .await?;
                let row = OperationRow { new_documents, ..operation };
                let inserted =
                    diesel::insert_into(operations::table).values(&row).on_conflict_do_nothing().execute(conn).await?;
                if inserted == 1 {
                    diesel::update(tasks::table.find(&row.task_id))
                        .set((
                            tasks::completed_operations.eq(tasks::completed_operations + 1),
                            tasks::failed_operations.eq(tasks::failed_operations + i32::from(row.error.is_some())),
                            tasks::items_found.eq(tasks::items_found + row.items_found),
                            tasks::new_documents.eq(tasks::new_documents + row.new_documents),
                            tasks::pages_fetched.eq(tasks::pages_fetched + i64::from(row.pages_fetched)),
                            tasks::updated_at.eq(now_us),
                        ))
                        .execute(conn)
                        .await?;
                    if let Some(event) = &failure {
                        diesel::insert_into(task_events::table).values(event).execute(conn).await?;
                    }
                }
                Ok(tasks::table.find(&row.task_id).select(TaskRow::as_select()).first(conn).await?)
            })
            .await?
        });
        Ok(Task::try_from(row)?.counters)
    }

    /// Stores cards found by a task's operation without recording the
    /// operation (what a stopped operation had found), in one transaction:
    /// documents seen for the first time are inserted (and attributed to
    /// this operation), every card is linked to the task.
    pub async fn store_cards(
        &self,
        task: TaskId,
        prefecture_code: &str,
        keyword: &str,
        cards: &[Card],
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let (docs, links) = card_rows(&task.to_string(), prefecture_code, keyword, cards, to_micros(now));
        with_conn!(self, writer, |conn| {
            conn.transaction::<_, StoreError, _>(async |conn| {
                conn.insert_cards(docs, links).await?;
                Ok(())
            })
            .await?
        });
        Ok(())
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
    pub async fn operations(&self, task: TaskId) -> Result<Vec<OperationResult>, StoreError> {
        self.list_operations(task, &ResultQuery::default(), None, usize::MAX).await
    }

    /// Recorded operations of a task matching `query`, by prefecture code
    /// and keyword, starting after `cursor`.
    pub async fn list_operations(
        &self,
        task: TaskId,
        query: &ResultQuery,
        cursor: Option<&OperationCursor>,
        limit: usize,
    ) -> Result<Vec<OperationResult>, StoreError> {
        let task_id = task.to_string();
        let rows: Vec<OperationRow> = with_conn!(self, reader, |conn| {
            let mut rows = operations::table
                .filter(operations::task_id.eq(&task_id))
                .select(OperationRow::as_select())
                .into_boxed();
            if let Some(code) = &query.prefecture_code {
                rows = rows.filter(operations::prefecture_code.eq(code));
            }
            if let Some(keyword) = &query.keyword {
                rows = rows.filter(operations::keyword.eq(keyword));
            }
            if let Some(c) = cursor {
                rows =
                    rows.filter(operations::prefecture_code.gt(&c.prefecture_code).or(
                        operations::prefecture_code.eq(&c.prefecture_code).and(operations::keyword.gt(&c.keyword)),
                    ));
            }
            rows.order((operations::prefecture_code.asc(), operations::keyword.asc()))
                .limit(i64::try_from(limit).unwrap_or(i64::MAX))
                .load(conn)
                .await?
        });
        rows.into_iter().map(OperationResult::try_from).collect()
    }
}
