#![doc = include_str!("../README.md")]

pub mod cli;
mod pages;
mod retry;
mod watches;

use std::path::PathBuf;
use std::time::Duration;

use tokio_stream::StreamExt;
use tonic::Status;
use tonic::metadata::{Ascii, MetadataValue};
use tonic::service::Interceptor;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint, Identity};

pub use retry::{RECONNECT_WINDOW, is_transient};
pub use scrape_api::pb;
use scrape_api::pb::catalog_service_client::CatalogServiceClient;
use scrape_api::pb::task_service_client::TaskServiceClient;
use scrape_api::pb::watch_service_client::WatchServiceClient;

use crate::pages::every_page;
use crate::retry::Backoff;

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

/// How to reach a server beyond its address: the token to present, and
/// the TLS material of `https://` addresses.
#[derive(Debug, Clone, Default)]
pub struct ConnectOptions {
    /// Sent as `authorization: Bearer TOKEN` with every call.
    pub token: Option<String>,
    /// PEM certificates of the CA that signed the server's certificate
    /// (default: the system's roots).
    pub tls_ca: Option<PathBuf>,
    /// PEM certificate and key of this client, for servers that require one.
    pub tls_identity: Option<(PathBuf, PathBuf)>,
}

/// Adds the bearer token to every call. Its `Debug` never shows the token.
#[derive(Clone, Default)]
pub struct Credentials(Option<MetadataValue<Ascii>>);

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() { "Credentials(bearer token)" } else { "Credentials(none)" })
    }
}

impl Interceptor for Credentials {
    fn call(&mut self, mut request: tonic::Request<()>) -> Result<tonic::Request<()>, Status> {
        if let Some(value) = &self.0 {
            request.metadata_mut().insert("authorization", value.clone());
        }
        Ok(request)
    }
}

/// The channel of the generated clients, with the credentials added.
pub type Transport = InterceptedService<Channel, Credentials>;

/// A connection to a scrape-tasks server: every service over one channel.
#[derive(Debug, Clone)]
pub struct Client {
    tasks: TaskServiceClient<Transport>,
    catalog: CatalogServiceClient<Transport>,
    watches: WatchServiceClient<Transport>,
    health: tonic_health::pb::health_client::HealthClient<Transport>,
}

impl Client {
    /// Connects to `server` (e.g. `http://127.0.0.1:50051`), without a token.
    pub async fn connect(server: &str) -> Result<Client, ClientError> {
        Client::connect_with(server, &ConnectOptions::default()).await
    }

    /// Connects to `server` with a token and TLS material; `https://`
    /// addresses are reached over TLS.
    pub async fn connect_with(server: &str, options: &ConnectOptions) -> Result<Client, ClientError> {
        let address = |e: String| ClientError::Address(server.to_owned(), e);
        let mut endpoint = Endpoint::from_shared(server.to_owned())
            .map_err(|e| address(e.to_string()))?
            .connect_timeout(Duration::from_secs(5))
            .tcp_nodelay(true);
        if server.starts_with("https://") || options.tls_ca.is_some() || options.tls_identity.is_some() {
            endpoint =
                endpoint.tls_config(tls_config(options).map_err(address)?).map_err(|e| address(e.to_string()))?;
        }
        let credentials = match &options.token {
            None => Credentials::default(),
            Some(token) => Credentials(Some(
                format!("Bearer {}", token.trim())
                    .parse()
                    .map_err(|_| address("the token holds characters a header cannot carry".into()))?,
            )),
        };
        let channel = endpoint.connect().await.map_err(|e| ClientError::Connect(server.to_owned(), root_cause(&e)))?;
        Ok(Client::with_credentials(channel, credentials))
    }

    /// Wraps an existing channel.
    pub fn from_channel(channel: Channel) -> Client {
        Client::with_credentials(channel, Credentials::default())
    }

    fn with_credentials(channel: Channel, credentials: Credentials) -> Client {
        let transport = InterceptedService::new(channel, credentials);
        Client {
            tasks: TaskServiceClient::new(transport.clone()),
            catalog: CatalogServiceClient::new(transport.clone()),
            watches: WatchServiceClient::new(transport.clone()),
            health: tonic_health::pb::health_client::HealthClient::new(transport),
        }
    }

    /// The generated task client, for calls without a helper here.
    pub fn tasks(&self) -> TaskServiceClient<Transport> {
        self.tasks.clone()
    }

    /// The generated catalog client.
    pub fn catalog(&self) -> CatalogServiceClient<Transport> {
        self.catalog.clone()
    }

    /// The generated watch client.
    pub fn watches(&self) -> WatchServiceClient<Transport> {
        self.watches.clone()
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

/// Whether a status is final: `SUCCEEDED`, `FAILED` or `CANCELLED`.
pub fn is_terminal(status: pb::TaskStatus) -> bool {
    matches!(status, pb::TaskStatus::Succeeded | pb::TaskStatus::Failed | pb::TaskStatus::Cancelled)
}

/// TLS trusting `--tls-ca` (or the system's roots), with the client's own
/// certificate when one is given.
fn tls_config(options: &ConnectOptions) -> Result<ClientTlsConfig, String> {
    let read = |path: &PathBuf| std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()));
    let mut config = match &options.tls_ca {
        Some(ca) => ClientTlsConfig::new().ca_certificate(Certificate::from_pem(read(ca)?)),
        None => ClientTlsConfig::new().with_native_roots(),
    };
    if let Some((cert, key)) = &options.tls_identity {
        config = config.identity(Identity::from_pem(read(cert)?, read(key)?));
    }
    Ok(config)
}

fn root_cause(err: &(dyn std::error::Error + 'static)) -> String {
    let mut cause = err;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause.to_string()
}
