//! `scrape.v1.TaskService` over gRPC: wire fields decoded, then the service
//! layer; nothing here decides a rule.

use chrono::Utc;
use scrape_api::pb;
use scrape_api::pb::task_service_server::TaskService as TaskServiceApi;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tokio_util::sync::CancellationToken;
use tonic::{Request, Response, Status};

use crate::auth::Caller;
use crate::domain::{TaskId, Violations};
use crate::grpc::convert::{self, Wire};
use crate::grpc::status::invalid_argument;
use crate::metrics::StreamGauge;
use crate::service::{
    DocumentListRequest, DocumentListing, Page, Purge, ResultListRequest, ResultListing, TaskListRequest, TaskListing,
    TaskService,
};

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

    /// A task as returned by the calls that change one.
    fn task(&self, task: &crate::domain::Task) -> pb::Task {
        self.wire().task(task, &self.service.live_progress(task))
    }
}

fn task_id(value: &str) -> Result<TaskId, Status> {
    TaskId::parse_field("task_id", value).map_err(invalid_argument)
}

/// A page's items in their wire form, and its next page token (empty on the
/// last page).
fn paged<T, U>(page: Page<T>, convert: impl Fn(&T) -> U) -> (Vec<U>, String) {
    (page.items.iter().map(convert).collect(), page.next_page_token.unwrap_or_default())
}

type ProgressStream = ReceiverStream<Result<pb::Progress, Status>>;
type ExportStream = ReceiverStream<Result<pb::ExportTaskResponse, Status>>;

#[tonic::async_trait]
impl TaskServiceApi for TaskApi {
    async fn start_task(&self, request: Request<pb::StartTaskRequest>) -> Result<Response<pb::Task>, Status> {
        let caller = request.extensions().get::<Caller>().map(|c| c.name.clone());
        let raw = convert::raw_spec(request.into_inner()).map_err(invalid_argument)?;
        let task = self.service.start_task(raw, caller.as_deref()).await?;
        Ok(Response::new(self.task(&task)))
    }

    async fn get_task(&self, request: Request<pb::GetTaskRequest>) -> Result<Response<pb::Task>, Status> {
        let details = self.service.get_task(task_id(&request.get_ref().task_id)?).await?;
        Ok(Response::new(self.wire().task_details(&details)))
    }

    async fn list_tasks(
        &self,
        request: Request<pb::ListTasksRequest>,
    ) -> Result<Response<pb::ListTasksResponse>, Status> {
        let req = request.into_inner();
        let mut wire = Violations::new();
        let statuses = convert::from_statuses(&req.statuses, &mut wire);
        let created_after =
            req.created_after.as_ref().and_then(|t| convert::from_timestamp("created_after", t, &mut wire));
        let created_before =
            req.created_before.as_ref().and_then(|t| convert::from_timestamp("created_before", t, &mut wire));
        let listing = wire
            .and(TaskListing::parse(TaskListRequest {
                statuses,
                created_after,
                created_before,
                query: &req.query,
                page_size: req.page_size.into(),
                page_token: &req.page_token,
                watch_id: &req.watch_id,
                order_by: &req.order_by,
            }))
            .map_err(invalid_argument)?;
        let (tasks, next_page_token) = paged(self.service.list_tasks(listing).await?, |t| self.task(t));
        Ok(Response::new(pb::ListTasksResponse { tasks, next_page_token }))
    }

    async fn stop_task(&self, request: Request<pb::StopTaskRequest>) -> Result<Response<pb::Task>, Status> {
        let task = self.service.stop_task(task_id(&request.get_ref().task_id)?).await?;
        Ok(Response::new(self.task(&task)))
    }

    async fn stop_all_tasks(
        &self,
        _request: Request<pb::StopAllTasksRequest>,
    ) -> Result<Response<pb::StopAllTasksResponse>, Status> {
        let stopped = self.service.stop_all_tasks().await?;
        Ok(Response::new(pb::StopAllTasksResponse { stopped_count: u32::try_from(stopped).unwrap_or(u32::MAX) }))
    }

    async fn restart_task(&self, request: Request<pb::RestartTaskRequest>) -> Result<Response<pb::Task>, Status> {
        let task = self.service.restart_task(task_id(&request.get_ref().task_id)?).await?;
        Ok(Response::new(self.task(&task)))
    }

    async fn delete_task(
        &self,
        request: Request<pb::DeleteTaskRequest>,
    ) -> Result<Response<pb::DeleteTaskResponse>, Status> {
        self.service.delete_task(task_id(&request.get_ref().task_id)?).await?;
        Ok(Response::new(pb::DeleteTaskResponse {}))
    }

    async fn purge_tasks(
        &self,
        request: Request<pb::PurgeTasksRequest>,
    ) -> Result<Response<pb::PurgeTasksResponse>, Status> {
        let req = request.into_inner();
        let mut wire = Violations::new();
        let statuses = convert::from_statuses(&req.statuses, &mut wire);
        let before =
            req.completed_before.as_ref().and_then(|t| convert::from_timestamp("completed_before", t, &mut wire));
        let purge = wire.and(Purge::parse(statuses, before)).map_err(invalid_argument)?;
        let deleted = self.service.purge_tasks(purge).await?;
        Ok(Response::new(pb::PurgeTasksResponse { deleted_count: u32::try_from(deleted).unwrap_or(u32::MAX) }))
    }

    type StreamProgressStream = ProgressStream;

    async fn stream_progress(
        &self,
        request: Request<pb::StreamProgressRequest>,
    ) -> Result<Response<Self::StreamProgressStream>, Status> {
        let mut rx = self.service.subscribe(task_id(&request.get_ref().task_id)?).await?;
        let (tx, stream) = mpsc::channel(4);
        let catalog = self.service.catalog().clone();
        let shutdown = self.shutdown.clone();
        let gauge = StreamGauge::open("grpc_progress");
        tokio::spawn(async move {
            let _open = gauge;
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
        let id = task_id(&req.task_id)?;
        let listing = ResultListing::parse(
            id,
            ResultListRequest {
                prefecture: &req.prefecture,
                keyword: &req.keyword,
                page_size: req.page_size.into(),
                page_token: &req.page_token,
            },
            self.service.catalog(),
        )
        .map_err(invalid_argument)?;
        let wire = self.wire();
        let (results, next_page_token) = paged(self.service.list_task_results(listing).await?, |op| wire.operation(op));
        Ok(Response::new(pb::ListTaskResultsResponse { results, next_page_token }))
    }

    async fn list_documents(
        &self,
        request: Request<pb::ListDocumentsRequest>,
    ) -> Result<Response<pb::ListDocumentsResponse>, Status> {
        let req = request.into_inner();
        let listing = DocumentListing::parse(
            DocumentListRequest {
                task_id: &req.task_id,
                prefecture: &req.prefecture,
                keyword: &req.keyword,
                query: &req.query,
                page_size: req.page_size.into(),
                page_token: &req.page_token,
            },
            self.service.catalog(),
        )
        .map_err(invalid_argument)?;
        let wire = self.wire();
        let (documents, next_page_token) = paged(self.service.list_documents(listing).await?, |d| wire.document(d));
        Ok(Response::new(pb::ListDocumentsResponse { documents, next_page_token }))
    }

    type ExportTaskStream = ExportStream;

    async fn export_task(
        &self,
        request: Request<pb::ExportTaskRequest>,
    ) -> Result<Response<Self::ExportTaskStream>, Status> {
        let req = request.into_inner();
        let id = task_id(&req.task_id)?;
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
        let gauge = StreamGauge::open("grpc_export");
        tokio::spawn(async move {
            let _open = gauge;
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
        let events = self.service.task_events(task_id(&request.get_ref().task_id)?).await?;
        Ok(Response::new(pb::ListTaskEventsResponse { events: events.iter().map(convert::event).collect() }))
    }
}
