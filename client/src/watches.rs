//! Calls of `scrape.v1.WatchService`: watches, their news and their events.

use tonic::Status;

use crate::pages::every_page;
use crate::{Client, pb};

impl Client {
    pub async fn create_watch(&self, watch: pb::Watch) -> Result<pb::Watch, Status> {
        Ok(self.watches().create_watch(pb::CreateWatchRequest { watch: Some(watch) }).await?.into_inner())
    }

    pub async fn get_watch(&self, watch_id: &str) -> Result<pb::Watch, Status> {
        Ok(self.watches().get_watch(pb::GetWatchRequest { watch_id: watch_id.to_owned() }).await?.into_inner())
    }

    pub async fn list_watches(&self, page_size: i32, page_token: &str) -> Result<pb::ListWatchesResponse, Status> {
        let request = pb::ListWatchesRequest { page_size, page_token: page_token.to_owned() };
        Ok(self.watches().list_watches(request).await?.into_inner())
    }

    /// Replaces the fields named in `paths` (all of them when empty).
    pub async fn update_watch(&self, watch_id: &str, watch: pb::Watch, paths: &[&str]) -> Result<pb::Watch, Status> {
        let request = pb::UpdateWatchRequest {
            watch_id: watch_id.to_owned(),
            watch: Some(watch),
            update_mask: Some(prost_types::FieldMask { paths: paths.iter().map(|p| (*p).to_owned()).collect() }),
        };
        Ok(self.watches().update_watch(request).await?.into_inner())
    }

    pub async fn pause_watch(&self, watch_id: &str) -> Result<pb::Watch, Status> {
        Ok(self.watches().pause_watch(pb::PauseWatchRequest { watch_id: watch_id.to_owned() }).await?.into_inner())
    }

    pub async fn resume_watch(&self, watch_id: &str) -> Result<pb::Watch, Status> {
        Ok(self.watches().resume_watch(pb::ResumeWatchRequest { watch_id: watch_id.to_owned() }).await?.into_inner())
    }

    pub async fn delete_watch(&self, watch_id: &str) -> Result<(), Status> {
        self.watches().delete_watch(pb::DeleteWatchRequest { watch_id: watch_id.to_owned() }).await?;
        Ok(())
    }

    /// Starts a run now; returns its task.
    pub async fn run_watch_now(&self, watch_id: &str) -> Result<pb::Task, Status> {
        Ok(self.watches().run_watch_now(pb::RunWatchNowRequest { watch_id: watch_id.to_owned() }).await?.into_inner())
    }

    pub async fn list_watch_news(
        &self,
        request: pb::ListWatchNewsRequest,
    ) -> Result<pb::ListWatchNewsResponse, Status> {
        Ok(self.watches().list_watch_news(request).await?.into_inner())
    }

    /// Every document of the news `request` selects, newest first, from its
    /// first page to its last (`page_token` is ignored).
    pub async fn all_watch_news(&self, request: pb::ListWatchNewsRequest) -> Result<Vec<pb::Document>, Status> {
        every_page(|page_token| {
            let request = pb::ListWatchNewsRequest { page_token, ..request.clone() };
            async move {
                let page = self.list_watch_news(request).await?;
                Ok((page.documents, page.next_page_token))
            }
        })
        .await
    }

    pub async fn watch_events(&self, watch_id: &str) -> Result<Vec<pb::WatchEvent>, Status> {
        let request = pb::ListWatchEventsRequest { watch_id: watch_id.to_owned() };
        Ok(self.watches().list_watch_events(request).await?.into_inner().events)
    }

    /// The events of a watch (or of every watch, for an empty id) as they
    /// happen, those since `since` first.
    pub async fn stream_watch_events(
        &self,
        watch_id: &str,
        since: Option<prost_types::Timestamp>,
    ) -> Result<tonic::Streaming<pb::WatchEvent>, Status> {
        let request = pb::StreamWatchEventsRequest { watch_id: watch_id.to_owned(), since };
        Ok(self.watches().stream_watch_events(request).await?.into_inner())
    }
}
