//! What tasks found: operation results, documents, exports and event logs.

use tokio::sync::mpsc;

use crate::domain::{Document, ExportFormat, OperationResult, TaskEvent, TaskId};
use crate::export::{self, ChunkSink, ExportError};
use crate::service::{DocumentListing, Page, ResultListing, ServiceError, TaskService, page_token};

impl TaskService {
    /// A page of a task's operation results, by prefecture code and keyword.
    pub async fn list_task_results(&self, listing: ResultListing) -> Result<Page<OperationResult>, ServiceError> {
        let task = self.task(listing.task).await?;
        let mut query = listing.query;
        query.keyword = query.keyword.map(|k| task.spec.keywords.spelling_of(&k).unwrap_or(&k).to_owned());
        let size = listing.size.get();
        let ops = self.store.list_operations(task.id, &query, listing.cursor.as_ref(), size + 1).await?;
        Ok(Page::of(ops, size, page_token::operation_token))
    }

    /// A page of documents: those a task found (by prefecture, keyword and
    /// link), or all of them (newest first).
    pub async fn list_documents(&self, listing: DocumentListing) -> Result<Page<Document>, ServiceError> {
        let mut query = listing.query;
        if let Some(id) = query.task {
            let task = self.task(id).await?;
            query.keyword = query.keyword.map(|k| task.spec.keywords.spelling_of(&k).unwrap_or(&k).to_owned());
        }
        let size = listing.size.get();
        let in_task = query.task.is_some();
        let docs = self.store.list_documents(&query, listing.cursor.as_ref(), size + 1).await?;
        Ok(Page::of(docs, size, |last| page_token::document_token(last, in_task)))
    }

    /// The export of a task, in chunks, produced while they are read.
    pub async fn export_task(
        &self,
        id: TaskId,
        format: ExportFormat,
    ) -> Result<mpsc::Receiver<Result<Vec<u8>, ServiceError>>, ServiceError> {
        let task = self.task(id).await?;
        let (tx, rx) = mpsc::channel(2);
        let (store, catalog) = (self.store.clone(), self.catalog.clone());
        tokio::spawn(async move {
            let mut sink = ChannelSink { tx: tx.clone() };
            match export::export(&store, &catalog, &task, format, &mut sink).await {
                Ok(_) | Err(ExportError::Closed) => {}
                Err(ExportError::Store(e)) => {
                    let _ = tx.send(Err(e.into())).await;
                }
                Err(e) => {
                    let _ = tx.send(Err(ServiceError::Internal(e.to_string()))).await;
                }
            }
        });
        Ok(rx)
    }

    /// The event log of a task.
    pub async fn task_events(&self, id: TaskId) -> Result<Vec<TaskEvent>, ServiceError> {
        self.task(id).await?;
        Ok(self.store.task_events(id).await?)
    }
}

/// Hands export chunks to a reader.
struct ChannelSink {
    tx: mpsc::Sender<Result<Vec<u8>, ServiceError>>,
}

impl ChunkSink for ChannelSink {
    async fn write(&mut self, chunk: Vec<u8>) -> Result<(), ExportError> {
        self.tx.send(Ok(chunk)).await.map_err(|_| ExportError::Closed)
    }
}
