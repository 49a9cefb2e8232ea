//! Quotas of pending tasks, in total and per token, counted where tasks
//! are inserted; and the count of tasks by status, for the metrics.

use diesel::prelude::*;
use diesel_async::RunQueryDsl;

use crate::domain::TaskStatus;
use crate::store::convert::status_from;
use crate::store::schema::{task_creators, tasks};
use crate::store::{Store, StoreError, with_conn};

/// The most pending tasks allowed (`None`: no limit).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PendingQuota {
    /// Pending tasks of the whole service.
    pub total: Option<usize>,
    /// Pending tasks started with one token.
    pub per_token: Option<usize>,
}

/// Which quota a refused task would have exceeded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QuotaExceeded {
    #[error("{limit} tasks are already pending, the most this server queues: wait for some to start, or stop some")]
    Total { limit: usize },
    #[error(
        "{limit} tasks started with the token {token:?} are already pending, the most one token may queue: \
         wait for some to start, or stop some"
    )]
    PerToken { limit: usize, token: String },
}

impl QuotaExceeded {
    /// The quota's name, as clients see it in error details.
    pub fn subject(&self) -> &'static str {
        match self {
            QuotaExceeded::Total { .. } => "pending_tasks",
            QuotaExceeded::PerToken { .. } => "pending_tasks_per_token",
        }
    }
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = task_creators)]
pub(crate) struct CreatorRow {
    pub task_id: String,
    pub token_name: String,
}

pub(crate) fn to_i64(limit: usize) -> i64 {
    i64::try_from(limit).unwrap_or(i64::MAX)
}

impl Store {
    /// How many tasks have each status (statuses without tasks left out).
    pub async fn task_counts(&self) -> Result<Vec<(TaskStatus, u64)>, StoreError> {
        let rows: Vec<(String, i64)> = with_conn!(self, reader, |conn| {
            tasks::table.group_by(tasks::status).select((tasks::status, diesel::dsl::count_star())).load(conn).await?
        });
        rows.into_iter().map(|(status, n)| Ok((status_from(&status)?, u64::try_from(n).unwrap_or(0)))).collect()
    }
}
