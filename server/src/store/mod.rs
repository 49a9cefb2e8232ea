//! Persistence with diesel + diesel-async, on SQLite (embedded, the default)
//! or PostgreSQL, chosen at run time from the database URL.
//!
//! Queries are written once: `with_conn!` instantiates a query body for
//! each backend's connection type, so the same diesel DSL is type-checked
//! against both. The few statements whose SQL differs between the backends
//! are the methods of the crate-private `Dialect` trait, which the bodies call. The store
//! speaks in domain values; rows stay inside it. Running operations write
//! through one writer task per store, which commits what they queue in
//! batches (group commit).

mod batch;
mod claims;
mod convert;
mod dialect;
mod document_index;
mod documents;
mod error;
mod events;
#[cfg(test)]
mod group_commit;
#[cfg(test)]
mod leases;
mod lifecycle;
mod migrate;
mod models;
mod moves;
mod notify;
mod operations;
mod patterns;
mod quotas;
pub mod schema;
#[cfg(test)]
mod state_machine;
mod task_order;
mod tasks;
#[cfg(test)]
mod testing;
mod watch_events;
mod watch_news;
mod watch_rows;
mod watch_runs;
mod watches;
mod writer;

use std::time::Duration;

use diesel::SqliteConnection;
use diesel_async::AsyncPgConnection;
use diesel_async::pooled_connection::bb8::Pool;
use diesel_async::pooled_connection::{AsyncDieselConnectionManager, ManagerConfig, RecyclingMethod};
use diesel_async::sync_connection_wrapper::SyncConnectionWrapper;
use futures_util::FutureExt;

pub use claims::{Claim, LeaseState};
pub use documents::DocumentCursor;
pub use error::StoreError;
pub use events::MAX_EVENTS_PER_TASK;
pub use lifecycle::{Change, StopOutcome};
pub use notify::Notice;
pub use operations::OperationCursor;
pub use quotas::{PendingQuota, QuotaExceeded};
pub use task_order::{TaskCursor, TaskPage};
pub use tasks::{Inserted, NewTask, TaskSearch};
pub use watch_events::{AttemptOutcome, EventsAfter, MAX_EVENTS_PER_WATCH};
pub use watch_news::{NewsCursor, NewsFilter};
pub use watch_runs::{DueWatch, EndedRun, UnstartedRun};
pub use watches::{PauseChange, WatchCursor};
pub use writer::{Acknowledgement, QUEUE_CAPACITY, Step, Write, WriteError};

/// A SQLite connection usable from async code (queries run on blocking threads).
pub(crate) type SqliteConn = SyncConnectionWrapper<SqliteConnection>;

/// Which database, and its connection pools.
#[derive(Clone)]
pub(crate) enum Backend {
    /// SQLite allows one writer at a time: writes go through a single
    /// connection (queued in the pool, never `SQLITE_BUSY`), reads through a
    /// pool of readers (WAL mode lets them run beside the writer).
    Sqlite {
        writer: Pool<SqliteConn>,
        readers: Pool<SqliteConn>,
    },
    Postgres {
        pool: Pool<AsyncPgConnection>,
    },
}

/// The store of tasks, operations, documents and events.
#[derive(Clone)]
pub struct Store {
    pub(crate) backend: Backend,
    /// Where running operations queue their writes (see [`Store::queue_write`]).
    writer: writer::Writer,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self.backend {
            Backend::Sqlite { .. } => "Store(sqlite)",
            Backend::Postgres { .. } => "Store(postgres)",
        })
    }
}

/// Runs `$body` with `$conn` bound to a pooled connection of the store's
/// backend: `writer` for statements that write, `reader` for queries.
macro_rules! with_conn {
    ($store:expr, $role:ident, |$conn:ident| $body:expr) => {{
        match &$store.backend {
            $crate::store::Backend::Sqlite { writer: _writer, readers: _readers } => {
                let pool = $crate::store::with_conn!(@pick $role, _writer, _readers);
                let mut guard = pool.get().await.map_err($crate::store::StoreError::from_pool)?;
                let $conn: &mut $crate::store::SqliteConn = &mut guard;
                $body
            }
            $crate::store::Backend::Postgres { pool } => {
                let mut guard = pool.get().await.map_err($crate::store::StoreError::from_pool)?;
                let $conn: &mut diesel_async::AsyncPgConnection = &mut guard;
                $body
            }
        }
    }};
    (@pick writer, $writer:ident, $readers:ident) => { $writer };
    (@pick reader, $writer:ident, $readers:ident) => { $readers };
}
pub(crate) use with_conn;

/// A database URL, sorted by backend.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    /// A SQLite file (`sqlite://scrape.db`, `sqlite:///abs/path.db`).
    Sqlite(String),
    /// `postgres://…` or `postgresql://…`.
    Postgres(String),
}

impl DatabaseUrl {
    /// The URL with any password replaced by `***`, for logs.
    pub fn redacted(&self) -> String {
        match self {
            DatabaseUrl::Sqlite(url) => url.clone(),
            DatabaseUrl::Postgres(url) => match url::Url::parse(url) {
                Ok(mut parsed) if parsed.password().is_some() => {
                    let _ = parsed.set_password(Some("***"));
                    parsed.to_string()
                }
                Ok(parsed) => parsed.to_string(),
                Err(_) => "postgres://(unparsable)".to_owned(),
            },
        }
    }

    pub fn parse(url: &str) -> Result<DatabaseUrl, StoreError> {
        let url = url.trim();
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(DatabaseUrl::Postgres(url.to_owned()))
        } else if let Some(path) = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:")) {
            if path.is_empty() {
                return Err(StoreError::Config("the SQLite URL names no file (sqlite://scrape.db)".into()));
            }
            Ok(DatabaseUrl::Sqlite(format!("sqlite://{path}")))
        } else {
            Err(StoreError::Config(format!(
                "unsupported database URL {url:?}: use sqlite://FILE or postgres://USER@HOST/DB"
            )))
        }
    }
}

/// Pool sizes and timeouts.
#[derive(Debug, Clone, Copy)]
pub struct PoolConfig {
    pub max_connections: u32,
    /// How long a query waits for a connection (and, on SQLite, for a lock)
    /// before failing as unavailable.
    pub acquire_timeout: Duration,
}

impl Default for PoolConfig {
    fn default() -> Self {
        PoolConfig { max_connections: 8, acquire_timeout: Duration::from_secs(5) }
    }
}

impl Store {
    /// Connects and applies the pending migrations.
    pub async fn open(url: &DatabaseUrl, config: PoolConfig) -> Result<Store, StoreError> {
        let backend = match url {
            DatabaseUrl::Sqlite(url) => {
                migrate::sqlite(url).await?;
                let writer = sqlite_pool(url, 1, config).await?;
                let readers = sqlite_pool(url, config.max_connections, config).await?;
                Backend::Sqlite { writer, readers }
            }
            DatabaseUrl::Postgres(url) => {
                migrate::postgres(url).await?;
                let mut manager_config = ManagerConfig::default();
                manager_config.recycling_method = RecyclingMethod::Verified;
                let manager = AsyncDieselConnectionManager::new_with_config(url.clone(), manager_config);
                let pool = Pool::builder()
                    .max_size(config.max_connections)
                    .min_idle(Some(1))
                    .connection_timeout(config.acquire_timeout)
                    .build_unchecked(manager);
                Backend::Postgres { pool }
            }
        };
        let writer = writer::Writer::start(backend.clone());
        Ok(Store { backend, writer })
    }

    /// Whether this store is the embedded SQLite one (one server per file).
    pub fn is_embedded(&self) -> bool {
        matches!(self.backend, Backend::Sqlite { .. })
    }
}

/// Every SQLite connection waits on a locked database (up to the pool's
/// timeout) instead of failing at once, enforces foreign keys, and uses WAL
/// so readers never block the writer.
fn sqlite_setup(busy: Duration) -> String {
    format!(
        "PRAGMA busy_timeout = {}; PRAGMA foreign_keys = ON; PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;",
        busy.as_millis()
    )
}

/// How long an SQLite connection may stay idle before the pool closes it.
const SQLITE_IDLE_TIMEOUT: Duration = Duration::from_secs(30);

async fn sqlite_pool(url: &str, size: u32, config: PoolConfig) -> Result<Pool<SqliteConn>, StoreError> {
    let mut manager_config = ManagerConfig::<SqliteConn>::default();
    manager_config.recycling_method = RecyclingMethod::Fast;
    let setup = sqlite_setup(config.acquire_timeout);
    manager_config.custom_setup = Box::new(move |url| {
        let setup = setup.clone();
        async move {
            use diesel_async::{AsyncConnection, SimpleAsyncConnection};
            let mut conn = SqliteConn::establish(url).await?;
            conn.batch_execute(&setup).await.map_err(diesel::ConnectionError::CouldntSetupConfiguration)?;
            Ok(conn)
        }
        .boxed()
    });
    let manager = AsyncDieselConnectionManager::new_with_config(url.to_owned(), manager_config);
    Pool::builder()
        .max_size(size)
        .connection_timeout(config.acquire_timeout)
        // Each connection keeps a page cache of its own (up to 2 MB): those
        // a burst opened are closed once idle (the pages stay in the
        // system's file cache for the next one). The most recently used
        // goes first, so that a quiet server's spare connections stay idle
        // long enough to be closed.
        .queue_strategy(bb8::QueueStrategy::Lifo)
        .min_idle(Some(1))
        .idle_timeout(Some(SQLITE_IDLE_TIMEOUT))
        .reaper_rate(SQLITE_IDLE_TIMEOUT / 3)
        .build(manager)
        .await
        .map_err(|e| StoreError::Unavailable(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_urls_pick_the_backend() {
        assert_eq!(
            DatabaseUrl::parse("sqlite://scrape.db").ok(),
            Some(DatabaseUrl::Sqlite("sqlite://scrape.db".into()))
        );
        assert_eq!(DatabaseUrl::parse("sqlite:/tmp/x.db").ok(), Some(DatabaseUrl::Sqlite("sqlite:///tmp/x.db".into())));
        assert!(matches!(DatabaseUrl::parse("postgres://u@h/db"), Ok(DatabaseUrl::Postgres(_))));
        assert!(matches!(DatabaseUrl::parse("postgresql://u@h/db"), Ok(DatabaseUrl::Postgres(_))));
        assert!(DatabaseUrl::parse("mysql://x").is_err());
        assert!(DatabaseUrl::parse("sqlite://").is_err());
    }
}
