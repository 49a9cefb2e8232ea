//! What the store's own tests start from: a fresh SQLite file, and tasks
//! to insert.

use chrono::{DateTime, Utc};

use crate::catalog::Catalog;
use crate::domain::{RawTaskSpec, TaskId, TaskSpec};
use crate::store::{DatabaseUrl, NewTask, PoolConfig, Store};

/// A store on a fresh SQLite file (removed with the directory).
pub(crate) async fn sqlite_store(file: &str) -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().expect("dir");
    let url = DatabaseUrl::parse(&format!("sqlite://{}", dir.path().join(file).display())).expect("url");
    let store = Store::open(&url, PoolConfig::default()).await.expect("store");
    (dir, store)
}

/// A new task over `prefectures` for `keywords`, created at `now`.
pub(crate) fn new_task(keywords: &[&str], prefectures: &[&str], now: DateTime<Utc>) -> NewTask {
    let words = |list: &[&str]| list.iter().map(|w| (*w).to_owned()).collect();
    let raw = RawTaskSpec { keywords: words(keywords), prefectures: words(prefectures), ..RawTaskSpec::default() };
    NewTask {
        id: TaskId::new(),
        spec: TaskSpec::parse(raw, &Catalog::builtin()).expect("a valid spec"),
        search_text: String::new(),
        skipped: Vec::new(),
        now,
        created_by: None,
        quota: Default::default(),
        watch: None,
    }
}
