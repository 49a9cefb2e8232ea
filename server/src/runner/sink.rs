//! Where the engine's pages go: the store, under the task and operation
//! that found them.

use chrono::Utc;

use crate::domain::TaskId;
use crate::scrape::{Card, PageSink};
use crate::store::Store;

/// Stores the pages of one operation.
pub(super) struct StoreSink {
    pub store: Store,
    /// The operation's token: a stop gives up waiting for the store.
    pub cancel: tokio_util::sync::CancellationToken,
    pub task: TaskId,
    pub prefecture_code: String,
    pub keyword: String,
}

impl PageSink for StoreSink {
    async fn store(&mut self, cards: Vec<Card>) -> Result<(), String> {
        super::execution::retry_unavailable(&self.cancel, || {
            self.store.store_page(self.task, &self.prefecture_code, &self.keyword, &cards, Utc::now())
        })
        .await
        .map_err(|e| e.to_string())
    }
}
