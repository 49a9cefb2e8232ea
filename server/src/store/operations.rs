//! Operations: one row per prefecture × keyword of a task once it ended,
//! and while it runs, where it stands. Both are written by the store's
//! writer (store/writer.rs), page by page, with the task's counters.

use diesel::prelude::*;
use diesel_async::RunQueryDsl;

use crate::domain::{InFlightOperation, OperationResult, ResultQuery, TaskId};
use crate::store::models::{OperationRow, ProgressRow};
use crate::store::schema::{operation_progress, operations};
use crate::store::{Store, StoreError, with_conn};

/// Where a page of operations starts: after this (prefecture, keyword).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperationCursor {
    pub prefecture_code: String,
    pub keyword: String,
}

impl Store {
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

    /// The operations of a task that started and have not ended (what a
    /// resumed task goes on with), by prefecture code and keyword.
    pub async fn operations_in_flight(&self, task: TaskId) -> Result<Vec<InFlightOperation>, StoreError> {
        let task_id = task.to_string();
        let rows: Vec<ProgressRow> = with_conn!(self, reader, |conn| {
            operation_progress::table
                .filter(operation_progress::task_id.eq(&task_id))
                .order((operation_progress::prefecture_code.asc(), operation_progress::keyword.asc()))
                .select(ProgressRow::as_select())
                .load(conn)
                .await?
        });
        rows.into_iter().map(InFlightOperation::try_from).collect()
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
