//! `scrape.v1.WatchService` over gRPC: wire fields decoded, then the watch
//! service; nothing here decides a rule.

use chrono::Utc;
use scrape_api::pb;
use scrape_api::pb::watch_service_server::WatchService as WatchServiceApi;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tokio_util::sync::CancellationToken;
use tonic::{Request, Response, Status};

use crate::domain::{Violations, WatchId};
use crate::grpc::convert::{self, Wire};
use crate::grpc::status::invalid_argument;
use crate::grpc::watch_convert;
use crate::service::{NewsListRequest, NewsListing, WatchField, WatchListing, WatchService, WatchUpdate};

/// The gRPC face of the watch service.
#[derive(Debug, Clone)]
pub struct WatchApi {
    service: WatchService,
    /// Ends open event streams when the server shuts down.
    shutdown: CancellationToken,
}

impl WatchApi {
    pub fn new(service: WatchService, shutdown: CancellationToken) -> WatchApi {
        WatchApi { service, shutdown }
    }

    fn wire(&self) -> Wire<'_> {
        Wire { catalog: self.service.catalog(), now: Utc::now() }
    }
}

fn watch_id(value: &str) -> Result<WatchId, Status> {
    WatchId::parse_field("watch_id", value).map_err(invalid_argument)
}

type EventStream = ReceiverStream<Result<pb::WatchEvent, Status>>;

#[tonic::async_trait]
impl WatchServiceApi for WatchApi {
    async fn create_watch(&self, request: Request<pb::CreateWatchRequest>) -> Result<Response<pb::Watch>, Status> {
        let Some(watch) = request.into_inner().watch else {
            return Err(invalid_argument(Violations::one("watch", "is required")));
        };
        let raw = watch_convert::raw_watch(watch).map_err(invalid_argument)?;
        let watch = self.service.create_watch(raw).await?;
        Ok(Response::new(watch_convert::watch(&watch)))
    }

    async fn get_watch(&self, request: Request<pb::GetWatchRequest>) -> Result<Response<pb::Watch>, Status> {
        let watch = self.service.get_watch(watch_id(&request.get_ref().watch_id)?).await?;
        Ok(Response::new(watch_convert::watch(&watch)))
    }

    async fn list_watches(
        &self,
        request: Request<pb::ListWatchesRequest>,
    ) -> Result<Response<pb::ListWatchesResponse>, Status> {
        let req = request.into_inner();
        let listing = WatchListing::parse(req.page_size.into(), &req.page_token).map_err(invalid_argument)?;
        let page = self.service.list_watches(listing).await?;
        Ok(Response::new(pb::ListWatchesResponse {
            watches: page.items.iter().map(watch_convert::watch).collect(),
            next_page_token: page.next_page_token.unwrap_or_default(),
        }))
    }

    async fn update_watch(&self, request: Request<pb::UpdateWatchRequest>) -> Result<Response<pb::Watch>, Status> {
        let req = request.into_inner();
        let mut wire = Violations::new();
        let id = WatchId::parse_field("watch_id", &req.watch_id).map_err(|v| wire.0.extend(v.0)).ok();
        let paths = req.update_mask.map(|mask| mask.paths).unwrap_or_default();
        let fields = WatchField::parse_mask(&paths).map_err(|v| wire.0.extend(v.0)).ok();
        let raw = match req.watch {
            Some(watch) => watch_convert::raw_watch(watch).map_err(|v| wire.0.extend(v.0)).ok(),
            None => {
                wire.add("watch", "is required: the new values of the fields in update_mask");
                None
            }
        };
        let (Some(id), Some(fields), Some(raw)) = (id, fields, raw) else {
            return Err(invalid_argument(wire));
        };
        let watch = self.service.update_watch(id, WatchUpdate { watch: raw, fields }).await?;
        Ok(Response::new(watch_convert::watch(&watch)))
    }

    async fn pause_watch(&self, request: Request<pb::PauseWatchRequest>) -> Result<Response<pb::Watch>, Status> {
        let watch = self.service.pause_watch(watch_id(&request.get_ref().watch_id)?).await?;
        Ok(Response::new(watch_convert::watch(&watch)))
    }

    async fn resume_watch(&self, request: Request<pb::ResumeWatchRequest>) -> Result<Response<pb::Watch>, Status> {
        let watch = self.service.resume_watch(watch_id(&request.get_ref().watch_id)?).await?;
        Ok(Response::new(watch_convert::watch(&watch)))
    }

    async fn delete_watch(
        &self,
        request: Request<pb::DeleteWatchRequest>,
    ) -> Result<Response<pb::DeleteWatchResponse>, Status> {
        self.service.delete_watch(watch_id(&request.get_ref().watch_id)?).await?;
        Ok(Response::new(pb::DeleteWatchResponse {}))
    }

    async fn run_watch_now(&self, request: Request<pb::RunWatchNowRequest>) -> Result<Response<pb::Task>, Status> {
        let task = self.service.run_now(watch_id(&request.get_ref().watch_id)?).await?;
        let progress = self.service.tasks().live_progress(&task);
        Ok(Response::new(self.wire().task(&task, &progress)))
    }

    async fn list_watch_news(
        &self,
        request: Request<pb::ListWatchNewsRequest>,
    ) -> Result<Response<pb::ListWatchNewsResponse>, Status> {
        let req = request.into_inner();
        let mut wire = Violations::new();
        let since = req.since.as_ref().and_then(|t| convert::from_timestamp("since", t, &mut wire));
        let listing = wire
            .and(NewsListing::parse(NewsListRequest {
                watch_id: &req.watch_id,
                since,
                task_id: &req.task_id,
                page_size: req.page_size.into(),
                page_token: &req.page_token,
            }))
            .map_err(invalid_argument)?;
        let page = self.service.list_news(listing).await?;
        let wire = self.wire();
        Ok(Response::new(pb::ListWatchNewsResponse {
            documents: page.items.iter().map(|d| wire.document(d)).collect(),
            next_page_token: page.next_page_token.unwrap_or_default(),
        }))
    }

    async fn list_watch_events(
        &self,
        request: Request<pb::ListWatchEventsRequest>,
    ) -> Result<Response<pb::ListWatchEventsResponse>, Status> {
        let events = self.service.watch_events(watch_id(&request.get_ref().watch_id)?).await?;
        Ok(Response::new(pb::ListWatchEventsResponse {
            events: events.iter().map(|e| watch_convert::event(e, &[], &self.wire())).collect(),
        }))
    }

    type StreamWatchEventsStream = EventStream;

    async fn stream_watch_events(
        &self,
        request: Request<pb::StreamWatchEventsRequest>,
    ) -> Result<Response<Self::StreamWatchEventsStream>, Status> {
        let req = request.into_inner();
        let mut wire = Violations::new();
        let watch = if req.watch_id.trim().is_empty() {
            None
        } else {
            WatchId::parse_field("watch_id", &req.watch_id).map_err(|v| wire.0.extend(v.0)).ok()
        };
        let since = req.since.as_ref().and_then(|t| convert::from_timestamp("since", t, &mut wire));
        if !wire.is_empty() {
            return Err(invalid_argument(wire));
        }
        let mut events = self.service.stream_events(watch, since, self.shutdown.clone()).await?;
        let (tx, stream) = mpsc::channel(16);
        let catalog = self.service.catalog().clone();
        tokio::spawn(async move {
            while let Some(item) = events.recv().await {
                let message = item
                    .map(|e| watch_convert::event(&e.event, &e.documents, &Wire { catalog: &catalog, now: Utc::now() }))
                    .map_err(Status::from);
                // A failed send means the client went away.
                if tx.send(message).await.is_err() {
                    return;
                }
            }
        });
        Ok(Response::new(ReceiverStream::new(stream)))
    }
}
