//! Domain values ⇄ `scrape.v1` messages.

use chrono::{DateTime, TimeDelta, Utc};
use scrape_api::pb;

use crate::catalog::{Catalog, Prefecture, Region};
use crate::domain::{
    Document, ExportFormat, OperationResult, Progress, RawTaskSpec, Task, TaskEvent, TaskStatus, Violations,
};
use crate::service::TaskDetails;

pub fn timestamp(at: DateTime<Utc>) -> prost_types::Timestamp {
    prost_types::Timestamp { seconds: at.timestamp(), nanos: i32::try_from(at.timestamp_subsec_nanos()).unwrap_or(0) }
}

/// A client's timestamp, or a violation of `field`.
pub fn from_timestamp(field: &str, ts: &prost_types::Timestamp, violations: &mut Violations) -> Option<DateTime<Utc>> {
    let at = u32::try_from(ts.nanos).ok().and_then(|nanos| DateTime::from_timestamp(ts.seconds, nanos));
    if at.is_none() {
        violations.add(field, "is not a valid timestamp");
    }
    at
}

pub fn duration(delta: TimeDelta) -> prost_types::Duration {
    prost_types::Duration { seconds: delta.num_seconds(), nanos: delta.subsec_nanos() }
}

pub fn status(status: TaskStatus) -> pb::TaskStatus {
    match status {
        TaskStatus::Pending => pb::TaskStatus::Pending,
        TaskStatus::Running => pb::TaskStatus::Running,
        TaskStatus::Succeeded => pb::TaskStatus::Succeeded,
        TaskStatus::Failed => pb::TaskStatus::Failed,
        TaskStatus::Cancelled => pb::TaskStatus::Cancelled,
    }
}

/// A status sent by a client; `UNSPECIFIED` and unknown numbers are errors.
pub fn from_status(field: &str, value: i32, violations: &mut Violations) -> Option<TaskStatus> {
    let status = match pb::TaskStatus::try_from(value) {
        Ok(pb::TaskStatus::Pending) => Some(TaskStatus::Pending),
        Ok(pb::TaskStatus::Running) => Some(TaskStatus::Running),
        Ok(pb::TaskStatus::Succeeded) => Some(TaskStatus::Succeeded),
        Ok(pb::TaskStatus::Failed) => Some(TaskStatus::Failed),
        Ok(pb::TaskStatus::Cancelled) => Some(TaskStatus::Cancelled),
        Ok(pb::TaskStatus::Unspecified) | Err(_) => None,
    };
    if status.is_none() {
        violations.add(field, format!("{value} is not a task status (PENDING=1 … CANCELLED=5)"));
    }
    status
}

/// The `statuses` field of a request; each bad value is a violation.
pub fn from_statuses(values: &[i32], violations: &mut Violations) -> Vec<TaskStatus> {
    values.iter().enumerate().filter_map(|(i, s)| from_status(&format!("statuses[{i}]"), *s, violations)).collect()
}

pub fn export_format(format: ExportFormat) -> pb::ExportFormat {
    match format {
        ExportFormat::Pretty => pb::ExportFormat::Pretty,
        ExportFormat::Json => pb::ExportFormat::Json,
        ExportFormat::Csv => pb::ExportFormat::Csv,
    }
}

/// An export format sent by a client: `None` for `UNSPECIFIED`.
pub fn from_export_format(field: &str, value: i32, violations: &mut Violations) -> Option<ExportFormat> {
    match pb::ExportFormat::try_from(value) {
        Ok(pb::ExportFormat::Unspecified) => None,
        Ok(pb::ExportFormat::Pretty) => Some(ExportFormat::Pretty),
        Ok(pb::ExportFormat::Json) => Some(ExportFormat::Json),
        Ok(pb::ExportFormat::Csv) => Some(ExportFormat::Csv),
        Err(_) => {
            violations.add(field, format!("{value} is not an export format (PRETTY=1, JSON=2, CSV=3)"));
            None
        }
    }
}

/// The request fields of `StartTask`, before validation.
pub fn raw_spec(req: pb::StartTaskRequest) -> Result<RawTaskSpec, Violations> {
    let mut violations = Violations::new();
    let export = req.export.unwrap_or_default();
    let export_format = from_export_format("export.format", export.format, &mut violations);
    violations.into_result(RawTaskSpec {
        keywords: req.keywords,
        regions: req.regions,
        prefectures: req.prefectures,
        exclude_keywords: req.exclude_keywords,
        days_limit: req.days_limit,
        export_file_name: export.file_name,
        export_format,
        request_id: req.request_id,
    })
}

/// Converts with the catalog at hand, for prefecture names.
#[derive(Debug, Clone, Copy)]
pub struct Wire<'a> {
    pub catalog: &'a Catalog,
    pub now: DateTime<Utc>,
}

impl Wire<'_> {
    fn prefecture_name(&self, code: &str) -> String {
        self.catalog.prefecture_by_code(code).map(|p| p.name.clone()).unwrap_or_default()
    }

    pub fn progress(&self, progress: &Progress) -> pb::Progress {
        let c = &progress.counters;
        let code = progress.current_prefecture.clone().unwrap_or_default();
        pb::Progress {
            task_id: progress.task_id.to_string(),
            status: status(progress.status).into(),
            completed_operations: c.completed_operations,
            total_operations: c.total_operations,
            percent: c.percent(),
            items_found: c.items_found,
            current_prefecture: self.prefecture_name(&code),
            current_keyword: progress.current_keyword.clone().unwrap_or_default(),
            in_flight_operations: progress.in_flight_operations,
            elapsed: Some(duration(progress.elapsed(self.now))),
            new_documents: c.new_documents,
            failed_operations: c.failed_operations,
            pages_fetched: c.pages_fetched,
            current_prefecture_code: code,
        }
    }

    /// A task as listed: totals, no breakdown.
    pub fn task(&self, task: &Task, progress: &Progress) -> pb::Task {
        let spec = &task.spec;
        let c = &task.counters;
        pb::Task {
            id: task.id.to_string(),
            status: status(task.status).into(),
            parameters: Some(pb::TaskParameters {
                keywords: spec.keywords.as_slice().to_vec(),
                regions: spec.regions.clone(),
                prefectures: spec.prefectures.clone(),
                exclude_keywords: spec.exclude_keywords.as_slice().to_vec(),
                days_limit: spec.days_limit.unwrap_or(0),
                export: spec.export.as_ref().map(|e| pb::ExportOptions {
                    file_name: e.file_name.clone(),
                    format: export_format(e.format).into(),
                }),
                request_id: spec.request_id.clone().unwrap_or_default(),
                target_prefectures: spec.targets.clone(),
            }),
            progress: Some(self.progress(progress)),
            created_at: Some(timestamp(task.created_at)),
            updated_at: Some(timestamp(task.updated_at)),
            started_at: task.started_at.map(timestamp),
            completed_at: task.completed_at.map(timestamp),
            error: task.error.clone().unwrap_or_default(),
            export_error: String::new(),
            outcome: task.outcome().text(),
            summary: Some(pb::TaskSummary {
                items_found: c.items_found,
                new_documents: c.new_documents,
                pages_fetched: c.pages_fetched,
                failed_operations: c.failed_operations,
                keywords: Vec::new(),
                prefectures: Vec::new(),
            }),
            watch_id: task.watch_id.map(|id| id.to_string()).unwrap_or_default(),
        }
    }

    /// A task with its per-keyword and per-prefecture totals.
    pub fn task_details(&self, details: &TaskDetails) -> pb::Task {
        let mut task = self.task(&details.task, &details.progress);
        task.export_error = details.export_error.clone().unwrap_or_default();
        if let Some(summary) = task.summary.as_mut() {
            summary.keywords = details
                .summary
                .keywords
                .iter()
                .map(|(keyword, t)| pb::KeywordSummary {
                    keyword: keyword.clone(),
                    items_found: t.items_found,
                    new_documents: t.new_documents,
                })
                .collect();
            summary.prefectures = details
                .summary
                .prefectures
                .iter()
                .map(|(code, t)| pb::PrefectureSummary {
                    prefecture_code: code.clone(),
                    prefecture_name: self.prefecture_name(code),
                    items_found: t.items_found,
                    new_documents: t.new_documents,
                })
                .collect();
        }
        task
    }

    pub fn operation(&self, op: &OperationResult) -> pb::OperationResult {
        let r = &op.outcome;
        pb::OperationResult {
            prefecture_code: r.prefecture_code.clone(),
            prefecture_name: self.prefecture_name(&r.prefecture_code),
            keyword: r.keyword.clone(),
            items_found: r.items_found,
            new_documents: op.new_documents,
            pages_fetched: r.pages_fetched,
            duration: TimeDelta::from_std(r.duration).ok().map(duration),
            error: r.error.clone().unwrap_or_default(),
        }
    }

    pub fn document(&self, doc: &Document) -> pb::Document {
        pb::Document {
            link: doc.link.clone(),
            title: doc.title.clone(),
            description: doc.description.clone(),
            published_on: doc.published_on_text(),
            date_label: doc.date_label.clone(),
            prefecture_code: doc.prefecture_code.clone(),
            keyword: doc.keyword.clone(),
            keywords: doc.keywords.clone(),
            first_seen_at: Some(timestamp(doc.first_seen_at)),
            prefecture_name: self.prefecture_name(&doc.prefecture_code),
        }
    }
}

pub fn event(event: &TaskEvent) -> pb::TaskEvent {
    use crate::domain::EventKind as K;
    let kind = match event.kind {
        K::Created => pb::TaskEventKind::Created,
        K::Started => pb::TaskEventKind::Started,
        K::Resumed => pb::TaskEventKind::Resumed,
        K::OperationFailed => pb::TaskEventKind::OperationFailed,
        K::StopRequested => pb::TaskEventKind::StopRequested,
        K::Stopped => pb::TaskEventKind::Stopped,
        K::Restarted => pb::TaskEventKind::Restarted,
        K::Succeeded => pb::TaskEventKind::Succeeded,
        K::Failed => pb::TaskEventKind::Failed,
        K::Exported => pb::TaskEventKind::Exported,
        K::ExportFailed => pb::TaskEventKind::ExportFailed,
        K::Skipped => pb::TaskEventKind::Skipped,
        K::SlowedDown => pb::TaskEventKind::SlowedDown,
    };
    pb::TaskEvent { at: Some(timestamp(event.at)), kind: kind.into(), message: event.message.clone() }
}

pub fn region(region: &Region) -> pb::Region {
    pb::Region { code: region.code.clone(), name: region.name.clone() }
}

pub fn prefecture(catalog: &Catalog, prefecture: &Prefecture) -> pb::Prefecture {
    pb::Prefecture {
        code: prefecture.code.clone(),
        name: prefecture.name.clone(),
        region: catalog.region_name(&prefecture.region_code).to_owned(),
        domain: prefecture.domain.clone(),
        region_code: prefecture.region_code.clone(),
        unsupported_reason: prefecture.unsupported.clone().unwrap_or_default(),
    }
}
