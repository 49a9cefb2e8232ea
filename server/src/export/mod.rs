//! Exports of a task's results — PRETTY text, JSON, or CSV (RFC 4180) — in
//! chunks, reading the documents page by page so that a task of any size
//! exports in bounded memory. The same writer feeds the `ExportTask` stream
//! and the file written into the export directory when a task ends.

mod csv;
mod file;
mod json;
mod pretty;

use std::future::Future;

use crate::catalog::Catalog;
use crate::domain::{Document, DocumentQuery, ExportFormat, OperationResult, Task};
use crate::store::{DocumentCursor, Store, StoreError};

pub use file::{Written, write_file};

/// Size of the chunks handed to a sink.
pub const CHUNK_BYTES: usize = 64 * 1024;
/// Documents read from the store at once.
const PAGE: usize = 500;

/// Why an export failed.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("writing the export: {0}")]
    Io(#[from] std::io::Error),
    /// The reader went away (a client closed its stream).
    #[error("the reader went away")]
    Closed,
}

/// Where the chunks go.
pub trait ChunkSink: Send {
    fn write(&mut self, chunk: Vec<u8>) -> impl Future<Output = Result<(), ExportError>> + Send;
}

/// What an export wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExportStats {
    pub documents: u64,
    pub bytes: u64,
}

/// One export format: a header, one entry per document, a footer.
trait Format {
    fn header(&mut self, out: &mut Vec<u8>, task: &Task, operations: &[OperationResult], catalog: &Catalog);
    fn document(&mut self, out: &mut Vec<u8>, doc: &Document, catalog: &Catalog);
    fn footer(&mut self, out: &mut Vec<u8>);
}

/// Writes the export of `task` in `format` to `sink`.
pub async fn export<S: ChunkSink>(
    store: &Store,
    catalog: &Catalog,
    task: &Task,
    format: ExportFormat,
    sink: &mut S,
) -> Result<ExportStats, ExportError> {
    let operations = store.operations(task.id).await?;
    let mut encoder: Box<dyn Format + Send> = match format {
        ExportFormat::Json => Box::new(json::Json::default()),
        ExportFormat::Csv => Box::new(csv::Csv),
        ExportFormat::Pretty => Box::new(pretty::Pretty::new(&operations)),
    };
    let mut stats = ExportStats { documents: 0, bytes: 0 };
    let mut buffer = Vec::with_capacity(CHUNK_BYTES + 4096);
    encoder.header(&mut buffer, task, &operations, catalog);
    let filter = DocumentQuery { task: Some(task.id), every_finding: true, ..DocumentQuery::default() };
    let mut cursor: Option<DocumentCursor> = None;
    loop {
        let page = store.list_documents(&filter, cursor.as_ref(), PAGE).await?;
        for doc in &page {
            encoder.document(&mut buffer, doc, catalog);
            stats.documents += 1;
            if buffer.len() >= CHUNK_BYTES {
                stats.bytes += buffer.len() as u64;
                sink.write(std::mem::replace(&mut buffer, Vec::with_capacity(CHUNK_BYTES + 4096))).await?;
            }
        }
        match page.last() {
            Some(last) if page.len() == PAGE => cursor = Some(DocumentCursor::after(last, true)),
            _ => break,
        }
    }
    encoder.footer(&mut buffer);
    stats.bytes += buffer.len() as u64;
    sink.write(buffer).await?;
    Ok(stats)
}

fn prefecture_name<'a>(catalog: &'a Catalog, code: &str) -> &'a str {
    catalog.prefecture_by_code(code).map(|p| p.name.as_str()).unwrap_or_default()
}
