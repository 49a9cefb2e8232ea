#![doc = include_str!("../README.md")]

pub mod cli;

use std::time::Duration;

use tokio_stream::StreamExt;
use tonic::transport::{Channel, Endpoint};
use tonic::{Code, Status};

pub use scrape_api::pb;
use scrape_api::pb::catalog_service_client::CatalogServiceClient;
use scrape_api::pb::task_service_client::TaskServiceClient;

/// Where `scrapectl` and [`Client::connect`] look for the server by default.
pub const DEFAULT_SERVER: &str = "http://127.0.0.1:50051";

/// Why a call failed.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("invalid server address {0:?}: {1}")]
    Address(String, String),
    #[error("cannot reach the server at {0}: {1}")]
    Connect(String, String),
    #[error(transparent)]
    Status(#[from] Status),
    /// Writing what the server sent failed (e.g. standard output was closed).
    #[error("writing the output: {0}")]
    Output(#[source] std::io::Error),
}

/// A connection to a scrape-tasks server: both services over one channel.
#[derive(Debug, Clone)]
pub struct Client {
    tasks: TaskServiceClient<Channel>,
    catalog: CatalogServiceClient<Channel>,
    health: tonic_health::pb::health_client::HealthClient<Channel>,
}

impl Client {
    /// Connects to `server` (e.g. `http://127.0.0.1:50051`).
    pub async fn connect(server: &str) -> Result<Client, ClientError> {
        let endpoint = Endpoint::from_shared(server.to_owned())
            .map_err(|e| ClientError::Address(server.to_owned(), e.to_string()))?
            .connect_timeout(Duration::from_secs(5))
            .tcp_nodelay(true);
        let channel = endpoint.connect().await.map_err(|e| ClientError::Connect(server.to_owned(), root_cause(&e)))?;
        Ok(Client::from_channel(channel))
    }

    /// Wraps an existing channel.
    pub fn from_channel(channel: Channel) -> Client {
        Client {
            tasks: TaskServiceClient::new(channel.clone()),
            catalog: CatalogServiceClient::new(channel.clone()),
            health: tonic_health::pb::health_client::HealthClient::new(channel),
        }
    }

    /// The generated task client, for calls without a helper here.
    pub fn tasks(&self) -> TaskServiceClient<Channel> {
        self.tasks.clone()
    }

    /// The generated catalog client.
    pub fn catalog(&self) -> CatalogServiceClient<Channel> {
        self.catalog.clone()
    }

    pub async fn start_task(&self, request: pb::StartTaskRequest) -> Result<pb::Task, Status> {
        Ok(self.tasks().start_task(request).await?.into_inner())
    }

    pub async fn get_task(&self, task_id: &str) -> Result<pb::Task, Status> {
        Ok(self.tasks().get_task(pb::GetTaskRequest { task_id: task_id.to_owned() }).await?.into_inner())
    }

    pub async fn stop_task(&self, task_id: &str) -> Result<pb::Task, Status> {
        Ok(self.tasks().stop_task(pb::StopTaskRequest { task_id: task_id.to_owned() }).await?.into_inner())
    }

    pub async fn list_tasks(&self, request: pb::ListTasksRequest) -> Result<pb::ListTasksResponse, Status> {
        Ok(self.tasks().list_tasks(request).await?.into_inner())
    }

    pub async fn restart_task(&self, task_id: &str) -> Result<pb::Task, Status> {
        Ok(self.tasks().restart_task(pb::RestartTaskRequest { task_id: task_id.to_owned() }).await?.into_inner())
    }

    pub async fn delete_task(&self, task_id: &str) -> Result<(), Status> {
        self.tasks().delete_task(pb::DeleteTaskRequest { task_id: task_id.to_owned() }).await?;
        Ok(())
    }

    /// Stops every pending or running task; returns how many were stopped.
    pub async fn stop_all_tasks(&self) -> Result<u32, Status> {
        Ok(self.tasks().stop_all_tasks(pb::StopAllTasksRequest {}).await?.into_inner().stopped_count)
    }

    /// Deletes finished tasks; returns how many were deleted.
    pub async fn purge_tasks(&self, request: pb::PurgeTasksRequest) -> Result<u32, Status> {
        Ok(self.tasks().purge_tasks(request).await?.into_inner().deleted_count)
    }

    pub async fn list_task_results(
        &self,
        request: pb::ListTaskResultsRequest,
    ) -> Result<pb::ListTaskResultsResponse, Status> {
        Ok(self.tasks().list_task_results(request).await?.into_inner())
    }

    /// Every operation result `request` selects, from its first page to
    /// its last (`page_size` sets how many each call asks for; `page_token`
    /// is ignored).
    pub async fn all_task_results(
        &self,
        request: pb::ListTaskResultsRequest,
    ) -> Result<Vec<pb::OperationResult>, Status> {
        every_page(|page_token| {
            let request = pb::ListTaskResultsRequest { page_token, ..request.clone() };
            async move {
                let page = self.list_task_results(request).await?;
                Ok((page.results, page.next_page_token))
            }
        })
        .await
    }

    pub async fn list_documents(&self, request: pb::ListDocumentsRequest) -> Result<pb::ListDocumentsResponse, Status> {
        Ok(self.tasks().list_documents(request).await?.into_inner())
    }

    /// Every document `request` selects, from its first page to its last
    /// (`page_size` sets how many each call asks for; `page_token` is ignored).
    pub async fn all_documents(&self, request: pb::ListDocumentsRequest) -> Result<Vec<pb::Document>, Status> {
        every_page(|page_token| {
            let request = pb::ListDocumentsRequest { page_token, ..request.clone() };
            async move {
                let page = self.list_documents(request).await?;
                Ok((page.documents, page.next_page_token))
            }
        })
        .await
    }

    /// Exports a task, calling `on_chunk` with each chunk in order.
    pub async fn export_task(
        &self,
        task_id: &str,
        format: pb::ExportFormat,
        mut on_chunk: impl FnMut(&[u8]) -> std::io::Result<()>,
    ) -> Result<u64, ClientError> {
        let request = pb::ExportTaskRequest { task_id: task_id.to_owned(), format: format.into() };
        let mut stream = self.tasks().export_task(request).await?.into_inner();
        let mut bytes = 0;
        while let Some(chunk) = stream.next().await {
            let chunk = chunk?;
            bytes += chunk.data.len() as u64;
            on_chunk(&chunk.data).map_err(ClientError::Output)?;
        }
        Ok(bytes)
    }

    pub async fn task_events(&self, task_id: &str) -> Result<Vec<pb::TaskEvent>, Status> {
        let request = pb::ListTaskEventsRequest { task_id: task_id.to_owned() };
        Ok(self.tasks().list_task_events(request).await?.into_inner().events)
    }

    /// The progress stream of a task: a snapshot, then its changes, ending
    /// after the terminal state.
    pub async fn stream_progress(&self, task_id: &str) -> Result<tonic::Streaming<pb::Progress>, Status> {
        let request = pb::StreamProgressRequest { task_id: task_id.to_owned() };
        Ok(self.tasks().stream_progress(request).await?.into_inner())
    }

    /// Follows a task until it ends, calling `on_event` with each update,
    /// and returns its final progress.
    ///
    /// A stream cut short (the server restarting, a replica going away) or
    /// refused with a transient status (see [`is_transient`]) is
    /// resubscribed with a capped backoff, for up to [`RECONNECT_WINDOW`]
    /// without contact; each attempt is announced first with
    /// [`FollowEvent::Reconnecting`], so that a caller can say so. The first
    /// [`FollowEvent::Progress`] after it is the fresh subscription's
    /// snapshot: the stream is back.
    pub async fn follow(
        &self,
        task_id: &str,
        mut on_event: impl FnMut(FollowEvent<'_>),
    ) -> Result<pb::Progress, Status> {
        let mut backoff = Backoff::new();
        loop {
            let cut = match self.stream_progress(task_id).await {
                Ok(mut stream) => loop {
                    match stream.next().await {
                        Some(Ok(progress)) => {
                            backoff.reset();
                            on_event(FollowEvent::Progress(&progress));
                            if is_terminal(progress.status()) {
                                return Ok(progress);
                            }
                        }
                        Some(Err(status)) if is_transient(&status) => break status,
                        Some(Err(status)) => return Err(status),
                        None => break Status::unavailable("the progress stream ended before the task did"),
                    }
                },
                Err(status) if is_transient(&status) => status,
                Err(status) => return Err(status),
            };
            let Some(retry_in) = backoff.next_delay() else {
                return Err(cut);
            };
            on_event(FollowEvent::Reconnecting { attempt: backoff.attempts, retry_in, cause: &cut });
            tokio::time::sleep(retry_in).await;
        }
    }

    /// Whether the server reports itself SERVING (`grpc.health.v1`).
    pub async fn health(&self) -> Result<bool, Status> {
        let request = tonic_health::pb::HealthCheckRequest { service: String::new() };
        let status = self.health.clone().check(request).await?.into_inner().status();
        Ok(status == tonic_health::pb::health_check_response::ServingStatus::Serving)
    }

    pub async fn list_regions(&self) -> Result<Vec<pb::Region>, Status> {
        Ok(self.catalog().list_regions(pb::ListRegionsRequest {}).await?.into_inner().regions)
    }

    pub async fn list_prefectures(&self, region: &str) -> Result<Vec<pb::Prefecture>, Status> {
        let request = pb::ListPrefecturesRequest { region: region.to_owned() };
        Ok(self.catalog().list_prefectures(request).await?.into_inner().prefectures)
    }
}

/// What [`Client::follow`] tells its caller.
#[derive(Debug, Clone, Copy)]
pub enum FollowEvent<'a> {
    /// The task's progress: a snapshot on each (re)subscription, then its changes.
    Progress(&'a pb::Progress),
    /// The stream was cut, or could not be opened, for a transient reason:
    /// `follow` subscribes again after `retry_in`.
    Reconnecting {
        /// 1 for the first attempt since the last progress received.
        attempt: u32,
        retry_in: Duration,
        /// Why the previous attempt ended.
        cause: &'a Status,
    },
}

/// How long [`Client::follow`] keeps trying to reach a server that went away.
pub const RECONNECT_WINDOW: Duration = Duration::from_secs(120);

/// Capped exponential backoff with a give-up window.
#[derive(Debug)]
struct Backoff {
    delay: Duration,
    attempts: u32,
    since: Option<tokio::time::Instant>,
}

impl Backoff {
    const FIRST: Duration = Duration::from_millis(100);
    const CAP: Duration = Duration::from_secs(5);

    fn new() -> Backoff {
        Backoff { delay: Backoff::FIRST, attempts: 0, since: None }
    }

    fn reset(&mut self) {
        *self = Backoff::new();
    }

    /// The pause before the next attempt, or `None` once the window, counted
    /// from the first failure since the last reset, has passed.
    fn next_delay(&mut self) -> Option<Duration> {
        let since = *self.since.get_or_insert_with(tokio::time::Instant::now);
        if since.elapsed() > RECONNECT_WINDOW {
            return None;
        }
        let delay = self.delay;
        self.delay = (self.delay * 2).min(Backoff::CAP);
        self.attempts += 1;
        Some(delay)
    }
}

/// Whether a status is final: `SUCCEEDED`, `FAILED` or `CANCELLED`.
pub fn is_terminal(status: pb::TaskStatus) -> bool {
    matches!(status, pb::TaskStatus::Succeeded | pb::TaskStatus::Failed | pb::TaskStatus::Cancelled)
}

/// Failures worth a new attempt, decided on the status code and on where
/// the status came from, never on its message:
///
/// - `UNAVAILABLE` (the server's database is down, or the server cannot be
///   reached), `CANCELLED` and `UNKNOWN` (how a connection that breaks
///   mid-call surfaces) are retried;
/// - `INTERNAL` is retried only when this client's own HTTP/2 layer made it
///   from a reset stream or a closed connection: the status then carries
///   the [`h2::Error`] as its source. An `INTERNAL` that the server sent
///   (its trailers carry no source error) is a bug or a broken invariant on
///   its side, and asking again would only repeat it;
/// - every other code is the server's answer to this request, and final.
pub fn is_transient(status: &Status) -> bool {
    match status.code() {
        Code::Unavailable | Code::Cancelled | Code::Unknown => true,
        Code::Internal => from_http2(status),
        _ => false,
    }
}

/// Whether an HTTP/2 error is among the sources of `status`.
fn from_http2(status: &Status) -> bool {
    let mut source = std::error::Error::source(status);
    while let Some(err) = source {
        if err.is::<h2::Error>() {
            return true;
        }
        source = err.source();
    }
    false
}

/// Calls `page` with each page token in turn, from the first page (an empty
/// token) until a page comes back without a next one; returns every item.
async fn every_page<T, Fut>(mut page: impl FnMut(String) -> Fut) -> Result<Vec<T>, Status>
where
    Fut: Future<Output = Result<(Vec<T>, String), Status>>,
{
    let mut all = Vec::new();
    let mut page_token = String::new();
    loop {
        let (items, next_page_token) = page(page_token).await?;
        all.extend(items);
        if next_page_token.is_empty() {
            return Ok(all);
        }
        page_token = next_page_token;
    }
}

fn root_cause(err: &(dyn std::error::Error + 'static)) -> String {
    let mut cause = err;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause.to_string()
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    /// An error whose source is another, as transports wrap theirs.
    #[derive(Debug, thiserror::Error)]
    #[error("connection error")]
    struct Wrapped(#[source] h2::Error);

    #[test]
    fn the_servers_internal_error_is_not_retried() {
        assert!(!is_transient(&Status::internal("internal error; see the server log")));
        assert!(!is_transient(&Status::internal("h2 protocol error: stream reset")), "the message is not looked at");
    }

    #[test]
    fn an_internal_status_made_by_this_sides_http2_layer_is_retried() {
        let mut reset = Status::internal("h2 protocol error: stream no longer needed");
        reset.set_source(Arc::new(h2::Error::from(h2::Reason::INTERNAL_ERROR)));
        assert!(is_transient(&reset));

        let mut wrapped = Status::internal("transport error");
        wrapped.set_source(Arc::new(Wrapped(h2::Error::from(h2::Reason::NO_ERROR))));
        assert!(is_transient(&wrapped), "the HTTP/2 error may sit deeper in the sources");

        let mut other = Status::internal("decoding failed");
        other.set_source(Arc::new(std::io::Error::other("not HTTP/2")));
        assert!(!is_transient(&other));
    }

    #[test]
    fn unavailable_cancelled_and_unknown_are_retried_whatever_their_message() {
        for code in [Code::Unavailable, Code::Cancelled, Code::Unknown] {
            assert!(is_transient(&Status::new(code, "internal error")), "{code:?}");
            assert!(is_transient(&Status::new(code, "")), "{code:?}");
        }
    }

    #[test]
    fn the_servers_answers_to_the_request_itself_are_final() {
        for code in [
            Code::InvalidArgument,
            Code::NotFound,
            Code::FailedPrecondition,
            Code::AlreadyExists,
            Code::PermissionDenied,
            Code::Unauthenticated,
            Code::Unimplemented,
            Code::ResourceExhausted,
            Code::DeadlineExceeded,
            Code::Aborted,
            Code::OutOfRange,
            Code::DataLoss,
        ] {
            assert!(!is_transient(&Status::new(code, "")), "{code:?}");
        }
    }

    #[tokio::test(start_paused = true)]
    async fn the_backoff_doubles_up_to_its_cap_and_gives_up_after_the_window() {
        let mut backoff = Backoff::new();
        let mut delays = Vec::new();
        while let Some(delay) = backoff.next_delay() {
            delays.push(delay);
            tokio::time::advance(delay).await;
        }
        let ms: Vec<u128> = delays.iter().take(8).map(Duration::as_millis).collect();
        assert_eq!(ms, [100, 200, 400, 800, 1600, 3200, 5000, 5000]);
        let waited: Duration = delays.iter().sum();
        assert!(waited > RECONNECT_WINDOW && waited <= RECONNECT_WINDOW + Backoff::CAP, "{waited:?}");
        assert_eq!(backoff.attempts as usize, delays.len());

        backoff.reset();
        assert_eq!(backoff.next_delay(), Some(Backoff::FIRST), "a progress received starts the window again");
        assert_eq!(backoff.attempts, 1);
    }

    #[tokio::test]
    async fn every_page_follows_the_tokens_to_the_last_page_in_order() {
        let pages = [("", vec![1, 2], "b"), ("b", vec![3, 4], "c"), ("c", vec![5], "")];
        let mut asked = Vec::new();
        let all = every_page(|token| {
            asked.push(token.clone());
            let page =
                pages.iter().find(|(t, ..)| *t == token).map(|(_, items, next)| (items.clone(), next.to_string()));
            async move { page.ok_or_else(|| Status::invalid_argument("unknown token")) }
        })
        .await
        .expect("every page");
        assert_eq!(all, [1, 2, 3, 4, 5]);
        assert_eq!(asked, ["", "b", "c"]);
    }

    #[tokio::test]
    async fn every_page_stops_at_the_first_failed_page() {
        let mut calls = 0;
        let result: Result<Vec<u8>, Status> = every_page(|_| {
            calls += 1;
            let answer = if calls == 1 { Ok((vec![1], "next".to_owned())) } else { Err(Status::unavailable("down")) };
            async move { answer }
        })
        .await;
        assert_eq!(result.map_err(|s| s.code()), Err(Code::Unavailable));
        assert_eq!(calls, 2);
    }
}
