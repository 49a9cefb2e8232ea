//! The export written into the export directory when a task ends: to a
//! temporary name first, renamed once complete, so a reader never sees half
//! a file.

use std::path::{Path, PathBuf};

use tokio::io::AsyncWriteExt;

use crate::catalog::Catalog;
use crate::domain::{ExportSpec, Task};
use crate::export::{ChunkSink, ExportError, ExportStats, export};
use crate::store::Store;

struct FileSink {
    file: tokio::fs::File,
}

impl ChunkSink for FileSink {
    async fn write(&mut self, chunk: Vec<u8>) -> Result<(), ExportError> {
        self.file.write_all(&chunk).await?;
        Ok(())
    }
}

/// What writing the export file did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Written {
    /// The file was written (replacing any earlier one).
    File(PathBuf, ExportStats),
    /// A file was there already and an incomplete run does not replace it.
    KeptEarlier(PathBuf),
}

/// Writes the export of `task` as `dir/spec.file_name`. A `complete` run
/// replaces an earlier file; an incomplete one (stopped, failed) writes one
/// only where there is none, so it never overwrites a finished export.
pub async fn write_file(
    store: &Store,
    catalog: &Catalog,
    task: &Task,
    spec: &ExportSpec,
    dir: &Path,
    complete: bool,
) -> Result<Written, ExportError> {
    tokio::fs::create_dir_all(dir).await?;
    // The name was validated as a plain file name; join cannot escape `dir`.
    let path = dir.join(&spec.file_name);
    if !complete && tokio::fs::try_exists(&path).await? {
        return Ok(Written::KeptEarlier(path));
    }
    let partial = dir.join(format!(".{}.partial", spec.file_name));
    let written = async {
        let mut sink = FileSink { file: tokio::fs::File::create(&partial).await? };
        let stats = export(store, catalog, task, spec.format, &mut sink).await?;
        sink.file.sync_all().await?;
        drop(sink);
        tokio::fs::rename(&partial, &path).await?;
        Ok(stats)
    };
    match written.await {
        Ok(stats) => Ok(Written::File(path, stats)),
        Err(e) => {
            // Whatever failed, no half-written file stays behind.
            let _ = tokio::fs::remove_file(&partial).await;
            Err(e)
        }
    }
}
