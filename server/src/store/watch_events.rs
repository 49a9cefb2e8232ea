//! The log of each watch, and the queue of notifications to deliver: rows
//! in the database, so that a delivery survives a restart and replicas
//! never send the same attempt twice.

use std::time::Duration;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, RunQueryDsl};

use crate::domain::{Channel, Notification, TaskId, WatchEvent, WatchEventKind, WatchId};
use crate::store::convert::{micros_after, to_micros};
use crate::store::schema::{watch_events, watch_notifications};
use crate::store::watch_rows::{self, NewWatchEventRow, NotificationRow, WatchEventRow};
use crate::store::{Store, StoreError, with_conn};

/// Most events listed per watch: the newest are kept.
pub const MAX_EVENTS_PER_WATCH: i64 = 500;

/// Which events a stream reads next.
#[derive(Debug, Clone, Copy, Default)]
pub struct EventsAfter {
    /// Only this watch's.
    pub watch: Option<WatchId>,
    /// Only those written after this one.
    pub sequence: Option<i64>,
    /// Only those at or after this time.
    pub since: Option<DateTime<Utc>>,
}

/// How a delivery attempt ended.
#[derive(Debug, Clone)]
pub enum AttemptOutcome {
    Delivered {
        message: String,
    },
    /// Failed; tried again at `retry_at`, or given up when `None`.
    Failed {
        error: String,
        retry_at: Option<DateTime<Utc>>,
    },
}

impl Store {
    /// Adds an event to a watch's log.
    pub async fn add_watch_event(
        &self,
        watch: WatchId,
        kind: WatchEventKind,
        message: String,
        task: Option<TaskId>,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let mut row = NewWatchEventRow::new(&watch.to_string(), kind, message, to_micros(at));
        row.task_id = task.map(|t| t.to_string());
        with_conn!(self, writer, |conn| {
            diesel::insert_into(watch_events::table).values(&row).execute(conn).await?;
        });
        Ok(())
    }

    /// A watch's events, oldest first (the latest [`MAX_EVENTS_PER_WATCH`]).
    pub async fn watch_events(&self, watch: WatchId) -> Result<Vec<WatchEvent>, StoreError> {
        let key = watch.to_string();
        let mut rows: Vec<WatchEventRow> = with_conn!(self, reader, |conn| {
            watch_events::table
                .filter(watch_events::watch_id.eq(&key))
                .order(watch_events::id.desc())
                .limit(MAX_EVENTS_PER_WATCH)
                .select(WatchEventRow::as_select())
                .load(conn)
                .await?
        });
        rows.reverse();
        rows.into_iter().map(watch_rows::watch_event).collect()
    }

    /// Events in the order they were written, after `after`.
    pub async fn events_after(&self, after: EventsAfter, limit: usize) -> Result<Vec<WatchEvent>, StoreError> {
        let key = after.watch.map(|w| w.to_string());
        let rows: Vec<WatchEventRow> = with_conn!(self, reader, |conn| {
            let mut query = watch_events::table.select(WatchEventRow::as_select()).into_boxed();
            if let Some(key) = &key {
                query = query.filter(watch_events::watch_id.eq(key));
            }
            if let Some(sequence) = after.sequence {
                query = query.filter(watch_events::id.gt(sequence));
            }
            if let Some(since) = after.since {
                query = query.filter(watch_events::at.ge(to_micros(since)));
            }
            query.order(watch_events::id.asc()).limit(i64::try_from(limit).unwrap_or(i64::MAX)).load(conn).await?
        });
        rows.into_iter().map(watch_rows::watch_event).collect()
    }

    /// The sequence of the latest event written (0 when there is none).
    pub async fn latest_event_sequence(&self) -> Result<i64, StoreError> {
        let latest: Option<i64> = with_conn!(self, reader, |conn| {
            watch_events::table.select(diesel::dsl::max(watch_events::id)).first(conn).await?
        });
        Ok(latest.unwrap_or(0))
    }

    /// Takes up to `limit` notifications of these channels whose next
    /// attempt is due, each for one attempt held `hold` ahead (an attempt
    /// cut short by a crash is tried again after it). A notification another
    /// replica took first is left to it, and so are the channels this one
    /// cannot serve (a replica without an SMTP relay leaves the emails).
    pub async fn claim_notifications(
        &self,
        channels: &[Channel],
        now: DateTime<Utc>,
        hold: Duration,
        limit: usize,
    ) -> Result<Vec<Notification>, StoreError> {
        let now_us = to_micros(now);
        let held_until = micros_after(now, hold);
        let channels: Vec<&str> = channels.iter().map(|c| c.as_str()).collect();
        let due: Vec<NotificationRow> = with_conn!(self, reader, |conn| {
            watch_notifications::table
                .filter(watch_notifications::next_attempt_at.le(now_us))
                .filter(watch_notifications::channel.eq_any(&channels))
                .order(watch_notifications::next_attempt_at.asc())
                .limit(i64::try_from(limit).unwrap_or(i64::MAX))
                .select(NotificationRow::as_select())
                .load(conn)
                .await?
        });
        let mut claimed = Vec::new();
        for row in due {
            let took = with_conn!(self, writer, |conn| {
                diesel::update(
                    watch_notifications::table
                        .filter(watch_notifications::id.eq(&row.id))
                        .filter(watch_notifications::next_attempt_at.eq(row.next_attempt_at))
                        .filter(watch_notifications::attempts.eq(row.attempts)),
                )
                .set((
                    watch_notifications::next_attempt_at.eq(held_until),
                    watch_notifications::attempts.eq(row.attempts + 1),
                ))
                .execute(conn)
                .await?
            });
            if took == 1 {
                let corrupt = |what: &str, value: &str| StoreError::Corrupt(format!("{what} {value:?}"));
                claimed.push(Notification {
                    id: row.id.parse().map_err(|_| corrupt("notification id", &row.id))?,
                    watch_id: row.watch_id.parse().map_err(|_| corrupt("watch id", &row.watch_id))?,
                    run_id: row.run_id.parse().map_err(|_| corrupt("run id", &row.run_id))?,
                    task_id: row.task_id.parse().map_err(|_| corrupt("task id", &row.task_id))?,
                    channel: watch_rows::channel_from(&row.channel)?,
                    attempts: u32::try_from(row.attempts + 1).unwrap_or(u32::MAX),
                });
            }
        }
        Ok(claimed)
    }

    /// Records how an attempt ended, with its event in the watch's log. An
    /// attempt that another one replaced (its hold ran out) changes nothing.
    pub async fn record_attempt(
        &self,
        notification: &Notification,
        outcome: AttemptOutcome,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let id = notification.id.to_string();
        let now_us = to_micros(now);
        let attempts = i32::try_from(notification.attempts).unwrap_or(i32::MAX);
        let watch = notification.watch_id.to_string();
        let (kind, message, next, delivered, error) = match outcome {
            AttemptOutcome::Delivered { message } => {
                (WatchEventKind::NotificationSent, message, None, Some(now_us), None)
            }
            AttemptOutcome::Failed { error, retry_at: Some(at) } => {
                let message = format!(
                    "{} attempt {} failed: {error}; next attempt at {}",
                    notification.channel.as_str(),
                    notification.attempts,
                    at.to_rfc3339()
                );
                (WatchEventKind::NotificationFailed, message, Some(to_micros(at)), None, Some(error))
            }
            AttemptOutcome::Failed { error, retry_at: None } => {
                let message = format!(
                    "{} given up after {} attempt(s): {error}",
                    notification.channel.as_str(),
                    notification.attempts
                );
                (WatchEventKind::NotificationAbandoned, message, None, None, Some(error))
            }
        };
        let mut event = NewWatchEventRow::new(&watch, kind, message, now_us);
        event.task_id = Some(notification.task_id.to_string());
        with_conn!(self, writer, |conn| {
            conn.transaction::<_, StoreError, _>(async |conn| {
                let changed = diesel::update(
                    watch_notifications::table
                        .filter(watch_notifications::id.eq(&id))
                        .filter(watch_notifications::attempts.eq(attempts))
                        .filter(watch_notifications::delivered_at.is_null()),
                )
                .set((
                    watch_notifications::next_attempt_at.eq(next),
                    watch_notifications::delivered_at.eq(delivered),
                    watch_notifications::last_error.eq(error),
                ))
                .execute(conn)
                .await?;
                if changed == 1 {
                    diesel::insert_into(watch_events::table).values(&event).execute(conn).await?;
                }
                Ok(())
            })
            .await?
        });
        Ok(())
    }
}
