//! The rows of the watch tables, and how they become domain values.

use std::time::Duration;

use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use crate::domain::{
    Channel, ExportFormat, ExportSpec, Keywords, Schedule, TaskStatus, TaskTemplate, Watch, WatchEvent, WatchEventKind,
    WatchRun, WatchSpec, Webhook,
};
use crate::store::StoreError;
use crate::store::convert::{from_micros, status_from, to_json};
use crate::store::schema::{watch_events, watch_notifications, watch_runs, watches};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = watches, check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
#[diesel(treat_none_as_default_value = false)]
pub(crate) struct WatchRow {
    pub id: String,
    pub name: String,
    pub task: String,
    pub cron_expression: Option<String>,
    pub time_zone: Option<String>,
    pub interval_ms: Option<i64>,
    pub paused: bool,
    pub next_run_at: Option<i64>,
    pub webhook_url: Option<String>,
    pub webhook_secret: Option<String>,
    pub email_to: String,
    pub last_run_id: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A watch's spec as columns: what an update replaces.
#[derive(Debug, Clone, AsChangeset)]
#[diesel(table_name = watches, treat_none_as_null = true)]
pub(crate) struct SpecChange {
    pub name: String,
    pub task: String,
    pub cron_expression: Option<String>,
    pub time_zone: Option<String>,
    pub interval_ms: Option<i64>,
    pub webhook_url: Option<String>,
    pub webhook_secret: Option<String>,
    pub email_to: String,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = watch_runs, check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
#[diesel(treat_none_as_default_value = false)]
pub(crate) struct RunRow {
    pub id: String,
    pub watch_id: String,
    pub due_at: Option<i64>,
    pub requested_at: i64,
    pub task_id: Option<String>,
    pub ended_at: Option<i64>,
    pub new_documents: Option<i64>,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = watch_events, check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub(crate) struct WatchEventRow {
    pub id: i64,
    pub watch_id: String,
    pub at: i64,
    pub kind: String,
    pub message: String,
    pub task_id: Option<String>,
    pub new_documents: Option<i64>,
    pub due_at: Option<i64>,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = watch_events)]
#[diesel(treat_none_as_default_value = false)]
pub(crate) struct NewWatchEventRow {
    pub watch_id: String,
    pub at: i64,
    pub kind: String,
    pub message: String,
    pub task_id: Option<String>,
    pub new_documents: Option<i64>,
    pub due_at: Option<i64>,
}

impl NewWatchEventRow {
    pub fn new(watch_id: &str, kind: WatchEventKind, message: impl Into<String>, at: i64) -> NewWatchEventRow {
        NewWatchEventRow {
            watch_id: watch_id.to_owned(),
            at,
            kind: kind.as_str().to_owned(),
            message: message.into(),
            task_id: None,
            new_documents: None,
            due_at: None,
        }
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = watch_notifications, check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
#[diesel(treat_none_as_default_value = false)]
pub(crate) struct NotificationRow {
    pub id: String,
    pub watch_id: String,
    pub run_id: String,
    pub task_id: String,
    pub channel: String,
    pub attempts: i32,
    pub next_attempt_at: Option<i64>,
    pub delivered_at: Option<i64>,
    pub last_error: Option<String>,
    pub created_at: i64,
}

/// The `task` column: a task template as JSON.
#[derive(Debug, Serialize, Deserialize)]
struct StoredTask {
    keywords: Vec<String>,
    regions: Vec<String>,
    prefectures: Vec<String>,
    exclude_keywords: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    days_limit: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    export_file_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    export_format: Option<String>,
}

fn corrupt(what: &str, value: impl std::fmt::Debug) -> StoreError {
    StoreError::Corrupt(format!("{what} {value:?}"))
}

pub(crate) fn task_json(task: &TaskTemplate) -> String {
    let stored = StoredTask {
        keywords: task.keywords.as_slice().to_vec(),
        regions: task.regions.clone(),
        prefectures: task.prefectures.clone(),
        exclude_keywords: task.exclude_keywords.as_slice().to_vec(),
        days_limit: task.days_limit,
        export_file_name: task.export.as_ref().map(|e| e.file_name.clone()),
        export_format: task.export.as_ref().map(|e| e.format.as_str().to_owned()),
    };
    serde_json::to_string(&stored).expect("a task template serialises")
}

pub(crate) fn task_from_json(text: &str) -> Result<TaskTemplate, StoreError> {
    let stored: StoredTask = serde_json::from_str(text).map_err(|e| corrupt("watch task", e.to_string()))?;
    let export = match (stored.export_file_name, stored.export_format) {
        (Some(file_name), Some(format)) => Some(ExportSpec {
            file_name,
            format: ExportFormat::ALL
                .into_iter()
                .find(|f| f.as_str() == format)
                .ok_or_else(|| corrupt("export format", &format))?,
        }),
        (None, None) => None,
        other => return Err(corrupt("watch export", other)),
    };
    Ok(TaskTemplate {
        keywords: Keywords::from_stored(stored.keywords),
        regions: stored.regions,
        prefectures: stored.prefectures,
        exclude_keywords: Keywords::from_stored(stored.exclude_keywords),
        days_limit: stored.days_limit,
        export,
    })
}

/// The columns of a spec.
pub(crate) fn spec_change(spec: &WatchSpec) -> SpecChange {
    let (cron_expression, time_zone, interval_ms) = match &spec.schedule {
        Schedule::Cron(cron) => (Some(cron.expression().to_owned()), Some(cron.time_zone().to_owned()), None),
        Schedule::Interval(interval) => (None, None, Some(i64::try_from(interval.as_millis()).unwrap_or(i64::MAX))),
    };
    SpecChange {
        name: spec.name.clone(),
        task: task_json(&spec.task),
        cron_expression,
        time_zone,
        interval_ms,
        webhook_url: spec.webhook.as_ref().map(|w| w.url.clone()),
        webhook_secret: spec.webhook.as_ref().map(|w| w.secret.clone()),
        email_to: to_json(&spec.email_to),
    }
}

pub(crate) fn schedule_from(
    cron_expression: Option<&str>,
    time_zone: Option<&str>,
    interval_ms: Option<i64>,
) -> Result<Schedule, StoreError> {
    let interval = interval_ms
        .map(|ms| u64::try_from(ms).map(Duration::from_millis).map_err(|_| corrupt("interval_ms", ms)))
        .transpose()?;
    let cron = cron_expression.map(|e| (e, time_zone.unwrap_or("UTC")));
    Schedule::from_stored(cron, interval).ok_or_else(|| corrupt("schedule", (cron_expression, time_zone, interval_ms)))
}

/// A watch from its row and its last run (with that run's task status).
pub(crate) fn watch(row: WatchRow, last_run: Option<(RunRow, Option<String>)>) -> Result<Watch, StoreError> {
    let schedule = schedule_from(row.cron_expression.as_deref(), row.time_zone.as_deref(), row.interval_ms)?;
    let webhook = match (row.webhook_url, row.webhook_secret) {
        (Some(url), Some(secret)) => Some(Webhook { url, secret }),
        (None, None) => None,
        (url, _) => return Err(corrupt("webhook", url)),
    };
    let email_to: Vec<String> = serde_json::from_str(&row.email_to).map_err(|e| corrupt("email_to", e.to_string()))?;
    Ok(Watch {
        id: row.id.parse().map_err(|_| corrupt("watch id", &row.id))?,
        spec: WatchSpec { name: row.name, task: task_from_json(&row.task)?, schedule, webhook, email_to },
        paused: row.paused,
        next_run_at: row.next_run_at.map(from_micros).transpose()?,
        last_run: last_run.map(|(run, status)| watch_run(run, status)).transpose()?,
        created_at: from_micros(row.created_at)?,
        updated_at: from_micros(row.updated_at)?,
    })
}

pub(crate) fn watch_run(row: RunRow, task_status: Option<String>) -> Result<WatchRun, StoreError> {
    Ok(WatchRun {
        id: row.id.parse().map_err(|_| corrupt("run id", &row.id))?,
        watch_id: row.watch_id.parse().map_err(|_| corrupt("watch id", &row.watch_id))?,
        due_at: row.due_at.map(from_micros).transpose()?,
        requested_at: from_micros(row.requested_at)?,
        task_id: row.task_id.map(|id| id.parse().map_err(|_| corrupt("task id", &id))).transpose()?,
        task_status: task_status.map(|s| status_from(&s)).transpose()?,
        ended_at: row.ended_at.map(from_micros).transpose()?,
        new_documents: row
            .new_documents
            .map(|n| u64::try_from(n).map_err(|_| corrupt("new_documents", n)))
            .transpose()?,
    })
}

pub(crate) fn watch_event(row: WatchEventRow) -> Result<WatchEvent, StoreError> {
    Ok(WatchEvent {
        sequence: row.id,
        watch_id: row.watch_id.parse().map_err(|_| corrupt("watch id", &row.watch_id))?,
        at: from_micros(row.at)?,
        kind: WatchEventKind::ALL
            .into_iter()
            .find(|k| k.as_str() == row.kind)
            .ok_or_else(|| corrupt("watch event kind", &row.kind))?,
        message: row.message,
        task_id: row.task_id.map(|id| id.parse().map_err(|_| corrupt("task id", &id))).transpose()?,
        new_documents: row
            .new_documents
            .map(|n| u64::try_from(n).map_err(|_| corrupt("new_documents", n)))
            .transpose()?,
        due_at: row.due_at.map(from_micros).transpose()?,
    })
}

pub(crate) fn channel_from(name: &str) -> Result<Channel, StoreError> {
    Channel::ALL.into_iter().find(|c| c.as_str() == name).ok_or_else(|| corrupt("channel", name))
}

/// A task's status read with a run, by name.
pub(crate) fn is_terminal(status: Option<&str>) -> Result<bool, StoreError> {
    status.map(status_from).transpose().map(|s| s.is_none_or(TaskStatus::is_terminal))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Catalog;
    use crate::domain::RawTaskSpec;

    #[test]
    fn a_task_template_round_trips_through_its_json_column() {
        let raw = RawTaskSpec {
            keywords: vec!["bovin".into(), "épandage".into()],
            regions: vec!["Bretagne".into()],
            prefectures: vec!["2A".into()],
            exclude_keywords: vec!["méthanisation".into()],
            days_limit: 2,
            export_file_name: "veille.csv".into(),
            export_format: Some(ExportFormat::Csv),
            request_id: String::new(),
        };
        let template = TaskTemplate::parse("task", raw, &Catalog::builtin()).expect("valid");
        assert_eq!(task_from_json(&task_json(&template)).expect("decodes"), template);
    }
}
