//! Export downloads: the chunks of `TaskService::export_task` streamed as
//! they are produced, as a file to save.

use axum::body::Body;
use axum::extract::{Path, RawQuery, State};
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use tokio_stream::wrappers::ReceiverStream;

use crate::domain::{ExportFormat, Violations};
use crate::web::params::Params;
use crate::web::{PageError, Shared, task_id};

/// `GET /tasks/{id}/export?format=json|csv|pretty`.
pub async fn download(
    State(web): State<Shared>,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Response, PageError> {
    let id = task_id(&id)?;
    let params = Params::from_query(raw);
    let format = match params.get("format") {
        None => ExportFormat::Json,
        Some(name) => ExportFormat::from_name(name)
            .ok_or_else(|| Violations::one("format", format!("{name:?} is not json, csv or pretty")))?,
    };
    let chunks = web.service.export_task(id, format).await?;
    // A chunk that fails mid-way aborts the download, so a truncated file
    // is never mistaken for a complete one.
    let body = Body::from_stream(ReceiverStream::new(chunks));
    let content_type = match format {
        ExportFormat::Json => "application/json",
        ExportFormat::Csv => "text/csv; charset=utf-8",
        ExportFormat::Pretty => "text/plain; charset=utf-8",
    };
    let disposition = format!("attachment; filename=\"task-{id}.{}\"", format.extension());
    Ok(([(CONTENT_TYPE, content_type.to_owned()), (CONTENT_DISPOSITION, disposition)], body).into_response())
}
