//! `--output json`: messages as JSON objects with snake_case fields, RFC 3339
//! times, durations in seconds and statuses as lower-case words.

use chrono::DateTime;
use serde_json::{Value, json};

use crate::pb;

pub fn time(ts: Option<&prost_types::Timestamp>) -> Value {
    ts.and_then(|ts| DateTime::from_timestamp(ts.seconds, u32::try_from(ts.nanos).unwrap_or(0)))
        .map_or(Value::Null, |at| Value::String(at.to_rfc3339()))
}

pub fn seconds(duration: Option<&prost_types::Duration>) -> Value {
    duration.map_or(Value::Null, |d| json!(d.seconds as f64 + f64::from(d.nanos) / 1e9))
}

/// `succeeded`, `running`…
pub fn status_name(status: pb::TaskStatus) -> &'static str {
    match status {
        pb::TaskStatus::Unspecified => "unspecified",
        pb::TaskStatus::Pending => "pending",
        pb::TaskStatus::Running => "running",
        pb::TaskStatus::Succeeded => "succeeded",
        pb::TaskStatus::Failed => "failed",
        pb::TaskStatus::Cancelled => "cancelled",
    }
}

/// The canonical name of a gRPC code: `INVALID_ARGUMENT`, `UNAVAILABLE`…
pub fn code_name(code: tonic::Code) -> &'static str {
    use tonic::Code;
    match code {
        Code::Ok => "OK",
        Code::Cancelled => "CANCELLED",
        Code::Unknown => "UNKNOWN",
        Code::InvalidArgument => "INVALID_ARGUMENT",
        Code::DeadlineExceeded => "DEADLINE_EXCEEDED",
        Code::NotFound => "NOT_FOUND",
        Code::AlreadyExists => "ALREADY_EXISTS",
        Code::PermissionDenied => "PERMISSION_DENIED",
        Code::ResourceExhausted => "RESOURCE_EXHAUSTED",
        Code::FailedPrecondition => "FAILED_PRECONDITION",
        Code::Aborted => "ABORTED",
        Code::OutOfRange => "OUT_OF_RANGE",
        Code::Unimplemented => "UNIMPLEMENTED",
        Code::Internal => "INTERNAL",
        Code::Unavailable => "UNAVAILABLE",
        Code::DataLoss => "DATA_LOSS",
        Code::Unauthenticated => "UNAUTHENTICATED",
    }
}

/// The line `watch` prints when the progress stream was cut: it is being
/// opened again, and the next progress line means it is back.
pub fn reconnecting(task_id: &str, attempt: u32, retry_in: std::time::Duration, cause: &tonic::Status) -> Value {
    json!({
        "task_id": task_id,
        "reconnecting": true,
        "attempt": attempt,
        "retry_in_seconds": retry_in.as_secs_f64(),
        "code": code_name(cause.code()),
        "message": cause.message(),
    })
}

pub fn progress(p: &pb::Progress) -> Value {
    json!({
        "task_id": p.task_id,
        "status": status_name(p.status()),
        "completed_operations": p.completed_operations,
        "total_operations": p.total_operations,
        "failed_operations": p.failed_operations,
        "percent": p.percent,
        "items_found": p.items_found,
        "new_documents": p.new_documents,
        "pages_fetched": p.pages_fetched,
        "current_prefecture": p.current_prefecture,
        "current_prefecture_code": p.current_prefecture_code,
        "current_keyword": p.current_keyword,
        "in_flight_operations": p.in_flight_operations,
        "elapsed_seconds": seconds(p.elapsed.as_ref()),
    })
}

pub fn task(t: &pb::Task) -> Value {
    let params = t.parameters.clone().unwrap_or_default();
    let summary = t.summary.clone().unwrap_or_default();
    json!({
        "id": t.id,
        "status": status_name(t.status()),
        "parameters": {
            "keywords": params.keywords,
            "regions": params.regions,
            "prefectures": params.prefectures,
            "target_prefectures": params.target_prefectures,
            "exclude_keywords": params.exclude_keywords,
            "days_limit": params.days_limit,
            "export": params.export.map(|e| json!({"file_name": e.file_name, "format": format!("{:?}", e.format()).to_lowercase()})),
            "request_id": params.request_id,
        },
        "progress": t.progress.as_ref().map(progress),
        "created_at": time(t.created_at.as_ref()),
        "updated_at": time(t.updated_at.as_ref()),
        "started_at": time(t.started_at.as_ref()),
        "completed_at": time(t.completed_at.as_ref()),
        "error": t.error,
        "export_error": t.export_error,
        "outcome": t.outcome,
        "summary": {
            "items_found": summary.items_found,
            "new_documents": summary.new_documents,
            "pages_fetched": summary.pages_fetched,
            "failed_operations": summary.failed_operations,
            "keywords": summary.keywords.iter().map(|k| json!({
                "keyword": k.keyword, "items_found": k.items_found, "new_documents": k.new_documents,
            })).collect::<Vec<_>>(),
            "prefectures": summary.prefectures.iter().map(|p| json!({
                "prefecture_code": p.prefecture_code, "prefecture_name": p.prefecture_name,
                "items_found": p.items_found, "new_documents": p.new_documents,
            })).collect::<Vec<_>>(),
        },
    })
}

/// `operation_failed`, `started`…
pub fn event_kind(kind: pb::TaskEventKind) -> String {
    kind.as_str_name().trim_start_matches("TASK_EVENT_KIND_").to_lowercase()
}

pub fn event(e: &pb::TaskEvent) -> Value {
    json!({
        "at": time(e.at.as_ref()),
        "kind": crate::cli::json::event_kind(e.kind()),
        "message": e.message,
    })
}

pub fn region(r: &pb::Region) -> Value {
    json!({"code": r.code, "name": r.name})
}

pub fn prefecture(p: &pb::Prefecture) -> Value {
    json!({"code": p.code, "name": p.name, "region": p.region, "region_code": p.region_code, "domain": p.domain})
}

pub fn operation(r: &pb::OperationResult) -> Value {
    json!({
        "prefecture_code": r.prefecture_code,
        "prefecture_name": r.prefecture_name,
        "keyword": r.keyword,
        "items_found": r.items_found,
        "new_documents": r.new_documents,
        "pages_fetched": r.pages_fetched,
        "duration_seconds": seconds(r.duration.as_ref()),
        "error": r.error,
    })
}

pub fn document(d: &pb::Document) -> Value {
    json!({
        "link": d.link,
        "title": d.title,
        "description": d.description,
        "published_on": d.published_on,
        "date_label": d.date_label,
        "prefecture_code": d.prefecture_code,
        "prefecture_name": d.prefecture_name,
        "keyword": d.keyword,
        "first_seen_at": time(d.first_seen_at.as_ref()),
    })
}
