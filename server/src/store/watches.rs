//! Watches: creation, lookup, listing newest first, updates, pause and
//! resume, deletion. Each change is logged in the watch's events in the
//! same transaction.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, RunQueryDsl};

use crate::domain::{Watch, WatchEventKind, WatchId, WatchSpec};
use crate::store::convert::to_micros;
use crate::store::schema::{watch_events, watches};
use crate::store::watch_rows::{self, NewWatchEventRow, RunRow, WatchRow, spec_change};
use crate::store::{Store, StoreError, with_conn};

/// Where a page of watches starts: strictly after this watch, newest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WatchCursor {
    pub created_at: i64,
    pub id: String,
}

impl WatchCursor {
    pub fn after(watch: &Watch) -> WatchCursor {
        WatchCursor { created_at: to_micros(watch.created_at), id: watch.id.to_string() }
    }
}

/// Pausing or resuming, with the due time that follows.
#[derive(Debug, Clone, Copy)]
pub enum PauseChange {
    Pause,
    /// Resume, next due at this time.
    Resume(Option<DateTime<Utc>>),
}

impl Store {
    /// Inserts a watch, first due at `next_run_at`.
    pub async fn insert_watch(
        &self,
        id: WatchId,
        spec: &WatchSpec,
        next_run_at: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Result<Watch, StoreError> {
        let columns = spec_change(spec);
        let now_us = to_micros(now);
        let row = WatchRow {
            id: id.to_string(),
            name: columns.name,
            task: columns.task,
            cron_expression: columns.cron_expression,
            time_zone: columns.time_zone,
            interval_ms: columns.interval_ms,
            paused: false,
            next_run_at: next_run_at.map(to_micros),
            webhook_url: columns.webhook_url,
            webhook_secret: columns.webhook_secret,
            email_to: columns.email_to,
            last_run_id: None,
            created_at: now_us,
            updated_at: now_us,
        };
        let event =
            NewWatchEventRow::new(&row.id, WatchEventKind::Created, format!("created: {}", spec.schedule), now_us);
        with_conn!(self, writer, |conn| {
            conn.transaction::<_, StoreError, _>(async |conn| {
                diesel::insert_into(watches::table).values(&row).execute(conn).await?;
                diesel::insert_into(watch_events::table).values(&event).execute(conn).await?;
                Ok(())
            })
            .await?
        });
        watch_rows::watch(row, None)
    }

    pub async fn watch(&self, id: WatchId) -> Result<Option<Watch>, StoreError> {
        let id = id.to_string();
        let rows: Vec<WatchRow> = with_conn!(self, reader, |conn| {
            watches::table.filter(watches::id.eq(&id)).select(WatchRow::as_select()).load(conn).await?
        });
        Ok(self.with_last_runs(rows).await?.into_iter().next())
    }

    /// Watches newest first, starting after `cursor`.
    pub async fn list_watches(&self, cursor: Option<&WatchCursor>, limit: usize) -> Result<Vec<Watch>, StoreError> {
        let rows: Vec<WatchRow> = with_conn!(self, reader, |conn| {
            let mut query = watches::table.select(WatchRow::as_select()).into_boxed();
            if let Some(cursor) = cursor {
                query = query.filter(
                    watches::created_at
                        .lt(cursor.created_at)
                        .or(watches::created_at.eq(cursor.created_at).and(watches::id.lt(&cursor.id))),
                );
            }
            query
                .order((watches::created_at.desc(), watches::id.desc()))
                .limit(i64::try_from(limit).unwrap_or(i64::MAX))
                .load(conn)
                .await?
        });
        self.with_last_runs(rows).await
    }

    /// Replaces a watch's spec, and its next due time when `next_run_at` is
    /// given; `None` when there is no such watch.
    pub async fn update_watch(
        &self,
        id: WatchId,
        spec: &WatchSpec,
        next_run_at: Option<Option<DateTime<Utc>>>,
        message: String,
        now: DateTime<Utc>,
    ) -> Result<Option<Watch>, StoreError> {
        let id = id.to_string();
        let columns = spec_change(spec);
        let now_us = to_micros(now);
        let event = NewWatchEventRow::new(&id, WatchEventKind::Updated, message, now_us);
        let updated = with_conn!(self, writer, |conn| {
            conn.transaction::<_, StoreError, _>(async |conn| {
                let target = watches::table.filter(watches::id.eq(&id));
                let changed =
                    diesel::update(target).set((&columns, watches::updated_at.eq(now_us))).execute(conn).await?;
                if changed == 0 {
                    return Ok(false);
                }
                if let Some(next) = next_run_at {
                    diesel::update(target).set(watches::next_run_at.eq(next.map(to_micros))).execute(conn).await?;
                }
                diesel::insert_into(watch_events::table).values(&event).execute(conn).await?;
                Ok(true)
            })
            .await?
        });
        if !updated {
            return Ok(None);
        }
        self.watch(id.parse().map_err(|_| StoreError::Corrupt(format!("watch id {id}")))?).await
    }

    /// Pauses or resumes a watch (a watch already in that state is left as
    /// it is); `None` when there is no such watch.
    pub async fn set_paused(
        &self,
        id: WatchId,
        change: PauseChange,
        now: DateTime<Utc>,
    ) -> Result<Option<Watch>, StoreError> {
        let key = id.to_string();
        let now_us = to_micros(now);
        let (paused, next, event) = match change {
            PauseChange::Pause => (
                true,
                None,
                NewWatchEventRow::new(&key, WatchEventKind::Paused, "paused: no run until resumed", now_us),
            ),
            PauseChange::Resume(next) => {
                let message = match next {
                    Some(at) => format!("resumed: next run at {}", at.to_rfc3339()),
                    None => "resumed: the schedule never fires again".to_owned(),
                };
                (false, next.map(to_micros), NewWatchEventRow::new(&key, WatchEventKind::Resumed, message, now_us))
            }
        };
        let found = with_conn!(self, writer, |conn| {
            conn.transaction::<_, StoreError, _>(async |conn| {
                let changed =
                    diesel::update(watches::table.filter(watches::id.eq(&key)).filter(watches::paused.eq(!paused)))
                        .set((
                            watches::paused.eq(paused),
                            watches::next_run_at.eq(next),
                            watches::updated_at.eq(now_us),
                        ))
                        .execute(conn)
                        .await?;
                if changed == 1 {
                    diesel::insert_into(watch_events::table).values(&event).execute(conn).await?;
                }
                let exists: i64 = watches::table.filter(watches::id.eq(&key)).count().get_result(conn).await?;
                Ok(exists > 0)
            })
            .await?
        });
        if !found {
            return Ok(None);
        }
        self.watch(id).await
    }

    /// Deletes a watch, its runs, news, log and pending notifications; the
    /// tasks of its runs stay. Returns whether it existed.
    pub async fn delete_watch(&self, id: WatchId) -> Result<bool, StoreError> {
        let id = id.to_string();
        let deleted = with_conn!(self, writer, |conn| {
            diesel::delete(watches::table.filter(watches::id.eq(&id))).execute(conn).await?
        });
        Ok(deleted > 0)
    }

    /// The earliest due time of any watch, for the scheduler's sleep.
    pub async fn next_due_at(&self) -> Result<Option<DateTime<Utc>>, StoreError> {
        let next: Option<i64> = with_conn!(self, reader, |conn| {
            watches::table
                .filter(watches::next_run_at.is_not_null())
                .select(diesel::dsl::min(watches::next_run_at))
                .first(conn)
                .await?
        });
        next.map(crate::store::convert::from_micros).transpose()
    }
}

impl Store {
    /// The watches with their last run and its task's status: two more
    /// queries for a whole page, whatever its size.
    async fn with_last_runs(&self, rows: Vec<WatchRow>) -> Result<Vec<Watch>, StoreError> {
        let run_ids: Vec<String> = rows.iter().filter_map(|r| r.last_run_id.clone()).collect();
        let mut runs: HashMap<String, (RunRow, Option<String>)> = self
            .runs_with_status(&run_ids)
            .await?
            .into_iter()
            .map(|(run, status)| (run.id.clone(), (run, status)))
            .collect();
        rows.into_iter()
            .map(|row| {
                let run = row.last_run_id.as_ref().and_then(|id| runs.remove(id));
                watch_rows::watch(row, run)
            })
            .collect()
    }
}
