//! `scrape.v1.TaskService` over gRPC: validation of the wire fields, then
//! the service layer.

use chrono::Utc;
use scrape_api::pb;
use scrape_api::pb::task_service_server::TaskService as TaskServiceApi;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tokio_util::sync::CancellationToken;
use tonic::{Request, Response, Status};

use crate::domain::{TaskId, Violations};
use crate::grpc::convert::{self, Wire};
use crate::grpc::status::invalid_argument;
use crate::service::{DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, TaskService, document_cursor, operation_cursor, task_cursor};
use crate::store::{DocumentFilter, OperationFilter, TaskFilter};

/// Longest free-text query accepted, in characters.
const MAX_QUERY_LEN: usize = 200;

/// The gRPC face of the task service.
#[derive(Debug, Clone)]
pub struct TaskApi {
    service: TaskService,
    /// Ends open progress streams when the server shuts down.
    shutdown: CancellationToken,
}

impl TaskApi {
    pub fn new(service: TaskService, shutdown: CancellationToken) -> TaskApi {
        TaskApi { service, shutdown }
    }

    fn wire(&self) -> Wire<'_> {
        Wire { catalog: self.service.catalog(), now: Utc::now() }
    }
}

/// A task id from a request field.
pub fn task_id(field: &str, value: &str) -> Result<TaskId, Status> {
    if value.trim().is_empty() {
        return Err(invalid_argument(Violations::one(field, "is required")));
    }
    value
        .parse()
        .map_err(|e: crate::domain::ids::InvalidTaskId| invalid_argument(Violations::one(field, e.to_string())))
}

/// A page size: 0 means the default; negative or above the maximum is refused.
pub fn page_size(value: i32, violations: &mut Violations) -> usize {
    match usize::try_from(value) {
        Ok(0) => DEFAULT_PAGE_SIZE,
        Ok(n) if n <= MAX_PAGE_SIZE => n,
        _ => {
            violations.add("page_size", format!("must be between 0 (default {DEFAULT_PAGE_SIZE}) and {MAX_PAGE_SIZE}"));
            DEFAULT_PAGE_SIZE
        }
    }
}

/// A free-text query: short, printable.
pub fn query(value: &str, violations: &mut Violations) -> Option<String> {
    let value = value.trim();
    if value.chars().count() > MAX_QUERY_LEN {
        violations.add("query", format!("must be at most {MAX_QUERY_LEN} characters"));
    } else if value.chars().any(char::is_control) {
        violations.add("query", "must not contain control characters");
    }
    (!value.is_empty()).then(|| value.to_owned())
}

/// A decoded page token, or a violation of `page_token`.
pub fn token<T>(
    decoded: Result<Option<T>, crate::service::InvalidPageToken>,
    violations: &mut Violations,
) -> Option<T> {
    decoded.unwrap_or_else(|e| {
        violations.add("page_token", e.to_string());
        None
    })
}

/// A prefecture given by name or code, as its code, or a violation of `field`.
fn prefecture_code(service: &TaskService, field: &str, value: &str, violations: &mut Violations) -> Option<String> {
    let value = value.trim();
    if value.is_empty() {
        return None;
    }
    match service.catalog().prefecture(value) {
        Some(p) => Some(p.code.clone()),
        None => {
            violations.add(field, format!("unknown prefecture {value:?}: give a name or INSEE code"));
            None
        }
    }
}

/// An optional keyword filter: short, printable.
fn keyword(value: &str, violations: &mut Violations) -> Option<String> {
    let value = value.trim();
    if value.chars().count() > crate::domain::spec::MAX_TEXT_LEN || value.chars().any(char::is_control) {
        violations
            .add("keyword", format!("must be at most {} printable characters", crate::domain::spec::MAX_TEXT_LEN));
    }
    (!value.is_empty()).then(|| value.to_owned())
}

type ProgressStream = ReceiverStream<Result<pb::Progress, Status>>;
type ExportStream = ReceiverStream<Result<pb::ExportTaskResponse, Status>>;

#[tonic::async_trait]
impl TaskServiceApi for TaskApi {
    async fn start_task(&self, request: Request<pb::StartTaskRequest>) -> Result<Response<pb::Task>, Status> {
        let raw = convert::raw_spec(request.into_inner()).map_err(invalid_argument)?;
        let task = self.service.start_task(raw).await?;
        let progress = self.service.live_progress(&task);
        Ok(Response::new(self.wire().task(&task, &progress)))
    }

    async fn get_task(&self, request: Request<pb::GetTaskRequest>) -> Result<Response<pb::Task>, Status> {
        let id = task_id("task_id", &request.get_ref().task_id)?;
        let details = self.service.get_task(id).await?;
        Ok(Response::new(self.wire().task_details(&details)))
    }

    async fn list_tasks(
        &self,
        request: Request<pb::ListTasksRequest>,
    ) -> Result<Response<pb::ListTasksResponse>, Status> {
        let req = request.into_inner();
        let mut violations = Violations::new();
        let statuses = convert::from_statuses(&req.statuses, &mut violations);
        let created_after =
            req.created_after.as_ref().and_then(|t| convert::from_timestamp("created_after", t, &mut violations));
        let created_before =
            req.created_before.as_ref().and_then(|t| convert::from_timestamp("created_before", t, &mut violations));
        if let (Some(after), Some(before)) = (created_after, created_before)
            && after >= before
        {
            violations.add("created_before", "must be later than created_after");
        }
        let query = query(&req.query, &mut violations);
        let size = page_size(req.page_size, &mut violations);
        let token = token(task_cursor(&req.page_token), &mut violations);
        if !violations.is_empty() {
            return Err(invalid_argument(violations));
        }
        let filter =
            TaskFilter { statuses, created_after, created_before, query, query_names_a_place: false, id: None };
        let page = self.service.list_tasks(filter, size, token).await?;
        let wire = self.wire();
        Ok(Response::new(pb::ListTasksResponse {
            tasks: page.items.iter().map(|t| wire.task(t, &self.service.live_progress(t))).collect(),
            next_page_token: page.next_page_token.unwrap_or_default(),
        }))
    }

    async fn stop_task(&self, request: Request<pb::StopTaskRequest>) -> Result<Response<pb::Task>, Status> {
        let id = task_id("task_id", &request.get_ref().task_id)?;
        let task = self.service.stop_task(id).await?;
        let progress = self.service.live_progress(&task);
        Ok(Response::new(self.wire().task(&task, &progress)))
    }

    async fn stop_all_tasks(
        &self,
        _request: Request<pb::StopAllTasksRequest>,
    ) -> Result<Response<pb::StopAllTasksResponse>, Status> {
        let stopped = self.service.stop_all_tasks().await?;
        Ok(Response::new(pb::StopAllTasksResponse { stopped_count: u32::try_from(stopped).unwrap_or(u32::MAX) }))
    }

    async fn restart_task(&self, request: Request<pb::RestartTaskRequest>) -> Result<Response<pb::Task>, Status> {
        let id = task_id("task_id", &request.get_ref().task_id)?;
        let task = self.service.restart_task(id).await?;
        let progress = self.service.live_progress(&task);
        Ok(Response::new(self.wire().task(&task, &progress)))
    }

    async fn delete_task(
        &self,
        request: Request<pb::DeleteTaskRequest>,
    ) -> Result<Response<pb::DeleteTaskResponse>, Status> {
        let id = task_id("task_id", &request.get_ref().task_id)?;
        self.service.delete_task(id).await?;
        Ok(Response::new(pb::DeleteTaskResponse {}))
    }

    async fn purge_tasks(
        &self,
        request: Request<pb::PurgeTasksRequest>,
    ) -> Result<Response<pb::PurgeTasksResponse>, Status> {
        let req = request.into_inner();
        let mut violations = Violations::new();
        let statuses = convert::from_statuses(&req.statuses, &mut violations);
        let before =
            req.completed_before.as_ref().and_then(|t| convert::from_timestamp("completed_before", t, &mut violations));
        violations.into_result(()).map_err(invalid_argument)?;
        let deleted = self.service.purge_tasks(statuses, before).await?;
        Ok(Response::new(pb::PurgeTasksResponse { deleted_count: u32::try_from(deleted).unwrap_or(u32::MAX) }))
    }

    type StreamProgressStream = ProgressStream;

    async fn stream_progress(
        &self,
        request: Request<pb::StreamProgressRequest>,
    ) -> Result<Response<Self::StreamProgressStream>, Status> {
        let id = task_id("task_id", &request.get_ref().task_id)?;
        let mut rx = self.service.subscribe(id).await?;
        let (tx, stream) = mpsc::channel(4);
        let catalog = self.service.catalog().clone();
        let shutdown = self.shutdown.clone();
        tokio::spawn(async move {
            let send = |progress| {
                let message = Wire { catalog: &catalog, now: Utc::now() }.progress(&progress);
                tx.send(Ok(message))
            };
            loop {
                let progress = rx.borrow_and_update().clone();
                let terminal = progress.status.is_terminal();
                // A failed send means the client went away.
                if send(progress).await.is_err() || terminal {
                    return;
                }
                tokio::select! {
                    changed = rx.changed() => if changed.is_err() {
                        // No one will publish again (the task was handed
                        // back): the latest state, then the end.
                        let last = rx.borrow().clone();
                        let _ = send(last).await;
                        return;
                    },
                    () = tx.closed() => return,
                    () = shutdown.cancelled() => {
                        let last = rx.borrow().clone();
                        let _ = send(last).await;
                        return;
                    }
                }
            }
        });
        Ok(Response::new(ReceiverStream::new(stream)))
    }

    async fn list_task_results(
        &self,
        request: Request<pb::ListTaskResultsRequest>,
    ) -> Result<Response<pb::ListTaskResultsResponse>, Status> {
        let req = request.into_inner();
        let id = task_id("task_id", &req.task_id)?;
        let mut violations = Violations::new();
        let filter = OperationFilter {
            prefecture_code: prefecture_code(&self.service, "prefecture", &req.prefecture, &mut violations),
            keyword: keyword(&req.keyword, &mut violations),
        };
        let size = page_size(req.page_size, &mut violations);
        let cursor = token(operation_cursor(&req.page_token), &mut violations);
        if !violations.is_empty() {
            return Err(invalid_argument(violations));
        }
        let page = self.service.list_task_results(id, filter, size, cursor).await?;
        let wire = self.wire();
        Ok(Response::new(pb::ListTaskResultsResponse {
            results: page.items.iter().map(|op| wire.operation(op)).collect(),
            next_page_token: page.next_page_token.unwrap_or_default(),
        }))
    }

    async fn list_documents(
        &self,
        request: Request<pb::ListDocumentsRequest>,
    ) -> Result<Response<pb::ListDocumentsResponse>, Status> {
        let req = request.into_inner();
        let task = if req.task_id.trim().is_empty() { None } else { Some(task_id("task_id", &req.task_id)?) };
        let mut violations = Violations::new();
        let filter = DocumentFilter {
            task,
            prefecture_code: prefecture_code(&self.service, "prefecture", &req.prefecture, &mut violations),
            keyword: keyword(&req.keyword, &mut violations),
            query: query(&req.query, &mut violations),
        };
        let size = page_size(req.page_size, &mut violations);
        let cursor = token(document_cursor(&req.page_token, task.is_some()), &mut violations);
        if !violations.is_empty() {
            return Err(invalid_argument(violations));
        }
        let page = self.service.list_documents(filter, size, cursor).await?;
        let wire = self.wire();
        Ok(Response::new(pb::ListDocumentsResponse {
            documents: page.items.iter().map(|d| wire.document(d)).collect(),
            next_page_token: page.next_page_token.unwrap_or_default(),
        }))
    }

    type ExportTaskStream = ExportStream;

    async fn export_task(
        &self,
        request: Request<pb::ExportTaskRequest>,
    ) -> Result<Response<Self::ExportTaskStream>, Status> {
        let req = request.into_inner();
        let id = task_id("task_id", &req.task_id)?;
        let mut violations = Violations::new();
        let format = convert::from_export_format("format", req.format, &mut violations);
        let format = match format {
            Some(format) if violations.is_empty() => format,
            _ => {
                if violations.is_empty() {
                    violations.add("format", "is required: EXPORT_FORMAT_PRETTY, _JSON or _CSV");
                }
                return Err(invalid_argument(violations));
            }
        };
        let mut chunks = self.service.export_task(id, format).await?;
        let (tx, stream) = mpsc::channel(2);
        tokio::spawn(async move {
            while let Some(chunk) = chunks.recv().await {
                let message = chunk.map(|data| pb::ExportTaskResponse { data }).map_err(Status::from);
                if tx.send(message).await.is_err() {
                    return;
                }
            }
        });
        Ok(Response::new(ReceiverStream::new(stream)))
    }

    async fn list_task_events(
        &self,
        request: Request<pb::ListTaskEventsRequest>,
    ) -> Result<Response<pb::ListTaskEventsResponse>, Status> {
        let id = task_id("task_id", &request.get_ref().task_id)?;
        let events = self.service.task_events(id).await?;
        Ok(Response::new(pb::ListTaskEventsResponse { events: events.iter().map(convert::event).collect() }))
    }
}
