//! Watches ⇄ `scrape.v1` messages. A webhook's secret is never sent back.

use std::time::Duration;

use scrape_api::pb;

use crate::domain::{
    Document, RawSchedule, RawWatch, Schedule, Violations, Watch, WatchEvent, WatchEventKind, WatchRun, Webhook,
};
use crate::grpc::convert::{self, Wire, timestamp};

/// The fields of a `Watch` a client sends, before validation: wire
/// problems (a negative interval, an unknown export format) are violations
/// under `watch.`.
pub fn raw_watch(watch: pb::Watch) -> Result<RawWatch, Violations> {
    let mut violations = Violations::new();
    let task = match convert::raw_spec(watch.task.unwrap_or_default()) {
        Ok(task) => Some(task),
        Err(found) => {
            violations.0.extend(found.0.into_iter().map(|mut v| {
                v.field = format!("watch.task.{}", v.field);
                v
            }));
            None
        }
    };
    let schedule = match watch.schedule.and_then(|s| s.kind) {
        None => None,
        Some(pb::schedule::Kind::Cron(cron)) => {
            Some(RawSchedule::Cron { expression: cron.expression, time_zone: cron.time_zone })
        }
        Some(pb::schedule::Kind::Interval(interval)) => {
            match (u64::try_from(interval.seconds), u32::try_from(interval.nanos)) {
                (Ok(seconds), Ok(nanos)) if nanos < 1_000_000_000 => {
                    Some(RawSchedule::Interval(Duration::new(seconds, nanos)))
                }
                _ => {
                    violations.add("watch.schedule.interval", "must be a positive duration, at least 1 second");
                    None
                }
            }
        }
    };
    let raw = RawWatch {
        name: watch.name,
        task: task.unwrap_or_default(),
        schedule,
        webhook: watch.webhook.map(|w| Webhook { url: w.url, secret: w.secret }),
        email_to: watch.email.map(|e| e.to).unwrap_or_default(),
    };
    violations.into_result(raw)
}

/// A watch as returned: everything but the webhook's secret.
pub fn watch(watch: &Watch) -> pb::Watch {
    let spec = &watch.spec;
    let task = spec.task.raw(String::new());
    let schedule = match &spec.schedule {
        Schedule::Cron(cron) => pb::schedule::Kind::Cron(pb::CronSchedule {
            expression: cron.expression().to_owned(),
            time_zone: cron.time_zone().to_owned(),
        }),
        Schedule::Interval(interval) => pb::schedule::Kind::Interval(prost_types::Duration {
            seconds: i64::try_from(interval.as_secs()).unwrap_or(i64::MAX),
            nanos: i32::try_from(interval.subsec_nanos()).unwrap_or(0),
        }),
    };
    pb::Watch {
        id: watch.id.to_string(),
        name: spec.name.clone(),
        task: Some(pb::StartTaskRequest {
            keywords: task.keywords,
            regions: task.regions,
            prefectures: task.prefectures,
            exclude_keywords: task.exclude_keywords,
            days_limit: task.days_limit,
            export: spec.task.export.as_ref().map(|e| pb::ExportOptions {
                file_name: e.file_name.clone(),
                format: convert::export_format(e.format).into(),
            }),
            request_id: String::new(),
        }),
        schedule: Some(pb::Schedule { kind: Some(schedule) }),
        paused: watch.paused,
        next_run_at: watch.next_run_at.map(timestamp),
        last_run: watch.last_run.as_ref().map(run),
        webhook: spec.webhook.as_ref().map(|w| pb::Webhook { url: w.url.clone(), secret: String::new() }),
        email: (!spec.email_to.is_empty()).then(|| pb::EmailDigest { to: spec.email_to.clone() }),
        created_at: Some(timestamp(watch.created_at)),
        updated_at: Some(timestamp(watch.updated_at)),
    }
}

pub fn run(run: &WatchRun) -> pb::WatchRun {
    pb::WatchRun {
        task_id: run.task_id.map(|t| t.to_string()).unwrap_or_default(),
        status: run.task_status.map_or(pb::TaskStatus::Unspecified, convert::status).into(),
        new_documents: run.new_documents.unwrap_or(0),
        due_at: run.due_at.map(timestamp),
        ended_at: run.ended_at.map(timestamp),
    }
}

pub fn event(event: &WatchEvent, documents: &[Document], wire: &Wire<'_>) -> pb::WatchEvent {
    use WatchEventKind as K;
    let kind = match event.kind {
        K::Created => pb::WatchEventKind::Created,
        K::Updated => pb::WatchEventKind::Updated,
        K::Paused => pb::WatchEventKind::Paused,
        K::Resumed => pb::WatchEventKind::Resumed,
        K::RunStarted => pb::WatchEventKind::RunStarted,
        K::RunEnded => pb::WatchEventKind::RunEnded,
        K::RunNotStarted => pb::WatchEventKind::RunNotStarted,
        K::NotificationSent => pb::WatchEventKind::NotificationSent,
        K::NotificationFailed => pb::WatchEventKind::NotificationFailed,
        K::NotificationAbandoned => pb::WatchEventKind::NotificationAbandoned,
    };
    pb::WatchEvent {
        watch_id: event.watch_id.to_string(),
        at: Some(timestamp(event.at)),
        kind: kind.into(),
        message: event.message.clone(),
        task_id: event.task_id.map(|t| t.to_string()).unwrap_or_default(),
        new_documents: event.new_documents.unwrap_or(0),
        due_at: event.due_at.map(timestamp),
        documents: documents.iter().map(|d| wire.document(d)).collect(),
    }
}
