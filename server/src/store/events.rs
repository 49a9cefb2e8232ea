//! The event log of each task.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;

use crate::domain::{EventKind, TaskEvent, TaskId};
use crate::store::models::EventRow;
use crate::store::moves::event_row;
use crate::store::schema::task_events;
use crate::store::{Store, StoreError, with_conn};

/// Most events kept per task: a task failing on every one of 400 operations
/// must not flood its log; the newest are kept.
pub const MAX_EVENTS_PER_TASK: i64 = 500;

impl Store {
    /// Adds an event to a task's log.
    pub async fn add_event(
        &self,
        id: TaskId,
        kind: EventKind,
        message: String,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let row = event_row(&id.to_string(), kind, message, at);
        with_conn!(self, writer, |conn| {
            diesel::insert_into(task_events::table).values(&row).execute(conn).await?;
        });
        Ok(())
    }

    /// A task's events, oldest first (at most [`MAX_EVENTS_PER_TASK`], the newest).
    pub async fn task_events(&self, id: TaskId) -> Result<Vec<TaskEvent>, StoreError> {
        let id = id.to_string();
        let mut rows: Vec<EventRow> = with_conn!(self, reader, |conn| {
            task_events::table
                .filter(task_events::task_id.eq(&id))
                .order(task_events::id.desc())
                .limit(MAX_EVENTS_PER_TASK)
                .select(EventRow::as_select())
                .load(conn)
                .await?
        });
        rows.reverse();
        rows.into_iter().map(TaskEvent::try_from).collect()
    }
}
