//! Starting real servers for tests: `scrape_server::run` on port 0 with its
//! own SQLite file or PostgreSQL database, `scrape-server` processes on the
//! port they report, and the real client crate connected to them.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use scrape_client::{Client, pb};
use scrape_server::config::Config;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio_stream::StreamExt;

use crate::fixture::FixtureSite;

/// Longest any awaited condition may take before the test fails.
pub const DEADLINE: Duration = Duration::from_secs(60);

/// A server running in this process.
pub struct TestApp {
    pub address: String,
    pub client: Client,
    pub dir: Arc<tempfile::TempDir>,
    config: Config,
    database: Option<PostgresDatabase>,
    shutdown: Option<oneshot::Sender<()>>,
    handle: Option<JoinHandle<Result<(), scrape_server::ServeError>>>,
}

/// Where a test server keeps its data.
#[derive(Debug, Clone)]
pub enum Backend {
    /// A fresh SQLite file in the test's directory.
    Sqlite,
    /// A fresh database on this PostgreSQL server (an admin URL).
    Postgres(String),
}

impl Backend {
    /// The PostgreSQL server of `SCRAPE_TEST_POSTGRES_URL`. Only tests built
    /// with that variable set (cfg `scrape_postgres`, see build.rs) run;
    /// without it they are reported as ignored.
    pub fn postgres() -> Backend {
        Backend::Postgres(postgres_admin_url())
    }

    /// A database URL of its own for one server (or several sharing it).
    pub async fn fresh_url(&self, dir: &Path) -> (String, Option<PostgresDatabase>) {
        match self {
            Backend::Sqlite => (format!("sqlite://{}", dir.join("scrape.db").display()), None),
            Backend::Postgres(admin) => {
                let database = PostgresDatabase::create(admin).await;
                (database.url.clone(), Some(database))
            }
        }
    }
}

/// A database created for one test on the PostgreSQL server, dropped at
/// the end of the test.
#[derive(Debug)]
pub struct PostgresDatabase {
    admin: String,
    name: String,
    pub url: String,
}

impl PostgresDatabase {
    pub async fn create(admin: &str) -> PostgresDatabase {
        use diesel_async::{AsyncConnection, RunQueryDsl};
        let name = format!("scrape_test_{}", uuid_like());
        let mut conn = diesel_async::AsyncPgConnection::establish(admin)
            .await
            .unwrap_or_else(|e| panic!("cannot reach PostgreSQL at {admin}: {e}"));
        diesel::sql_query(format!("CREATE DATABASE {name}")).execute(&mut conn).await.expect("create database");
        let mut url = url::Url::parse(admin).expect("a PostgreSQL URL");
        url.set_path(&name);
        PostgresDatabase { admin: admin.to_owned(), name, url: url.to_string() }
    }

    pub async fn drop_now(&self) {
        use diesel_async::{AsyncConnection, RunQueryDsl};
        if let Ok(mut conn) = diesel_async::AsyncPgConnection::establish(&self.admin).await {
            let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name))
                .execute(&mut conn)
                .await;
        }
    }
}

/// The admin URL of the PostgreSQL server the tests create their databases on.
pub fn postgres_admin_url() -> String {
    match std::env::var("SCRAPE_TEST_POSTGRES_URL") {
        Ok(url) if !url.trim().is_empty() => url,
        _ => panic!(
            "this test was built to run on PostgreSQL (SCRAPE_TEST_POSTGRES_URL was set for the build) \
             but SCRAPE_TEST_POSTGRES_URL is not set now"
        ),
    }
}

fn uuid_like() -> String {
    format!("{:016x}{:08x}", fastrand::u64(..), std::process::id())
}

/// The configuration of test servers: every domain on the fixture site, no
/// politeness delay, quick retries; the database is set by the caller.
pub fn test_config(site: &FixtureSite, dir: &Path) -> Config {
    Config {
        listen: "127.0.0.1:0".parse().expect("address"),
        database_url: format!("sqlite://{}", dir.join("scrape.db").display()),
        site_base_url: Some(site.base_url()),
        export_dir: dir.join("exports"),
        workers: 2,
        concurrency: 8,
        per_host_concurrency: 8,
        per_host_delay_ms: 0,
        per_server_concurrency: 8,
        per_server_delay_ms: 0,
        retries: 0,
        retry_base_delay_ms: 20,
        request_timeout_secs: 120,
        ..Config::default()
    }
}

impl TestApp {
    /// Starts a server with the test configuration on SQLite.
    pub async fn spawn(site: &FixtureSite) -> TestApp {
        TestApp::spawn_tuned(site, &Backend::Sqlite, |_| {}).await
    }

    /// Starts a server with the test configuration on `backend`.
    pub async fn spawn_on(site: &FixtureSite, backend: &Backend) -> TestApp {
        TestApp::spawn_tuned(site, backend, |_| {}).await
    }

    /// Starts a server on `backend` with the test configuration, changed by `tune`.
    pub async fn spawn_tuned(site: &FixtureSite, backend: &Backend, tune: impl FnOnce(&mut Config)) -> TestApp {
        let dir = Arc::new(tempfile::tempdir().expect("temporary directory"));
        let mut config = test_config(site, dir.path());
        let (url, database) = backend.fresh_url(dir.path()).await;
        config.database_url = url;
        tune(&mut config);
        TestApp::launch(config, dir, database).await
    }

    async fn launch(config: Config, dir: Arc<tempfile::TempDir>, database: Option<PostgresDatabase>) -> TestApp {
        let listener = tokio::net::TcpListener::bind(config.listen).await.expect("bind port 0");
        let address = format!("http://{}", listener.local_addr().expect("local address"));
        let (tx, rx) = oneshot::channel();
        let handle = tokio::spawn(scrape_server::run(config.clone(), listener, async {
            let _ = rx.await;
        }));
        let client = connect(&address).await;
        TestApp { address, client, dir, config, database, shutdown: Some(tx), handle: Some(handle) }
    }

    /// Stops the server and starts a new one on the same database.
    pub async fn restart(mut self) -> TestApp {
        self.shutdown_now().await;
        let (config, dir, database) = (self.config.clone(), self.dir.clone(), self.database.take());
        TestApp::launch(config, dir, database).await
    }

    /// Shuts the server down gracefully, waits for it, and drops its
    /// PostgreSQL database if it had one.
    pub async fn stop(mut self) {
        self.shutdown_now().await;
        if let Some(database) = self.database.take() {
            database.drop_now().await;
        }
    }

    async fn shutdown_now(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(handle) = self.handle.take() {
            tokio::time::timeout(DEADLINE, handle)
                .await
                .expect("the server stops within the deadline")
                .expect("server task")
                .expect("server ran without error");
        }
    }

    /// Starts a task on the given prefectures and keywords.
    pub async fn start(&self, prefectures: &[&str], keywords: &[&str]) -> pb::Task {
        self.client
            .start_task(pb::StartTaskRequest {
                keywords: keywords.iter().map(|k| (*k).to_owned()).collect(),
                prefectures: prefectures.iter().map(|p| (*p).to_owned()).collect(),
                ..Default::default()
            })
            .await
            .expect("task started")
    }

    /// Follows a task's progress stream to its end; returns every message.
    pub async fn progress_until_end(&self, task_id: &str) -> Vec<pb::Progress> {
        collect_stream(&self.client, task_id).await
    }

    /// Waits until the task's progress satisfies `condition`; returns that progress.
    pub async fn wait_for(&self, task_id: &str, condition: impl Fn(&pb::Progress) -> bool) -> pb::Progress {
        let mut stream = self.client.stream_progress(task_id).await.expect("subscribe");
        let found = tokio::time::timeout(DEADLINE, async {
            while let Some(item) = stream.next().await {
                let progress = item.expect("progress");
                if condition(&progress) {
                    return Some(progress);
                }
            }
            None
        })
        .await
        .expect("condition met within the deadline");
        found.expect("the stream ended before the condition was met")
    }

    /// Every operation result of a task, through the paginated API.
    pub async fn results(&self, task_id: &str) -> Vec<pb::OperationResult> {
        self.client
            .all_task_results(pb::ListTaskResultsRequest {
                task_id: task_id.to_owned(),
                page_size: 4,
                ..Default::default()
            })
            .await
            .expect("results")
    }

    /// Every document a task found, through the paginated API.
    pub async fn documents(&self, task_id: &str) -> Vec<pb::Document> {
        self.client
            .all_documents(pb::ListDocumentsRequest { task_id: task_id.to_owned(), page_size: 7, ..Default::default() })
            .await
            .expect("documents")
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// Runs each listed scenario (`async fn name(backend: Backend)`) as two
/// tests: `on_sqlite::name` and `on_postgres::name`. The PostgreSQL one is
/// ignored unless the tests were built with `SCRAPE_TEST_POSTGRES_URL`.
/// After `browser:`, the scenarios drive a headless Chromium: both tests are
/// ignored unless built with `SCRAPE_TEST_BROWSER=1` too.
macro_rules! on_both_backends {
    (browser: $($name:ident),* $(,)?) => {
        mod on_sqlite {
            $(
                #[tokio::test(flavor = "multi_thread")]
                #[cfg_attr(not(scrape_browser), ignore = "needs Chromium: set SCRAPE_TEST_BROWSER=1")]
                async fn $name() {
                    super::$name($crate::helpers::Backend::Sqlite).await
                }
            )*
        }
        mod on_postgres {
            $(
                #[tokio::test(flavor = "multi_thread")]
                #[cfg_attr(not(scrape_postgres), ignore = "needs PostgreSQL: set SCRAPE_TEST_POSTGRES_URL")]
                #[cfg_attr(
                    all(scrape_postgres, not(scrape_browser)),
                    ignore = "needs Chromium: set SCRAPE_TEST_BROWSER=1"
                )]
                async fn $name() {
                    super::$name($crate::helpers::Backend::postgres()).await
                }
            )*
        }
    };
    ($($name:ident),* $(,)?) => {
        mod on_sqlite {
            $(
                #[tokio::test(flavor = "multi_thread")]
                async fn $name() {
                    super::$name($crate::helpers::Backend::Sqlite).await
                }
            )*
        }
        mod on_postgres {
            $(
                #[tokio::test(flavor = "multi_thread")]
                #[cfg_attr(not(scrape_postgres), ignore = "needs PostgreSQL: set SCRAPE_TEST_POSTGRES_URL")]
                async fn $name() {
                    super::$name($crate::helpers::Backend::postgres()).await
                }
            )*
        }
    };
}
pub(crate) use on_both_backends;

/// Connects the client. The listener is bound before the server starts,
/// so the connection waits in its backlog instead of failing.
pub async fn connect(address: &str) -> Client {
    tokio::time::timeout(DEADLINE, Client::connect(address))
        .await
        .expect("connected within the deadline")
        .unwrap_or_else(|e| panic!("cannot connect to {address}: {e}"))
}

/// Reads a progress stream to its end.
pub async fn collect_stream(client: &Client, task_id: &str) -> Vec<pb::Progress> {
    let mut stream = client.stream_progress(task_id).await.expect("subscribe");
    tokio::time::timeout(DEADLINE, async {
        let mut all = Vec::new();
        while let Some(item) = stream.next().await {
            all.push(item.expect("progress"));
        }
        all
    })
    .await
    .expect("the stream ends within the deadline")
}

/// The gRPC code of a failed call.
pub fn code<T: std::fmt::Debug>(result: Result<T, tonic::Status>) -> tonic::Code {
    result.expect_err("the call fails").code()
}

/// The fields named by an `INVALID_ARGUMENT`'s `BadRequest` details.
pub fn bad_fields<T: std::fmt::Debug>(result: Result<T, tonic::Status>) -> Vec<String> {
    use tonic_types::StatusExt;
    let status = result.expect_err("the call fails");
    assert_eq!(status.code(), tonic::Code::InvalidArgument, "{status:?}");
    status
        .get_details_bad_request()
        .expect("BadRequest details")
        .field_violations
        .into_iter()
        .map(|v| v.field)
        .collect()
}

/// A binary of the workspace (`scrape-server`, `scrapectl`), built by
/// `cargo test` next to the test executable's directory.
pub fn binary(name: &str) -> std::path::PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    let dir = exe.parent().and_then(Path::parent).expect("target directory");
    let path = dir.join(name);
    assert!(path.exists(), "{} is missing: run the tests with `cargo test --workspace`", path.display());
    path
}

/// A `scrape-server` process, for tests that kill it.
pub struct ServerProcess {
    pub child: tokio::process::Child,
    pub client: Client,
    /// The rest of its standard output, kept open so that the server never
    /// writes into a closed pipe.
    _stdout: ServerOutput,
}

/// The lines a `scrape-server` process prints on its standard output.
pub type ServerOutput = tokio::io::Lines<tokio::io::BufReader<tokio::process::ChildStdout>>;

/// Reads the line `listening on ADDRESS` the server prints once it has
/// bound its address; returns `http://ADDRESS`.
pub async fn listening_address(stdout: &mut ServerOutput) -> String {
    let line = tokio::time::timeout(DEADLINE, stdout.next_line())
        .await
        .expect("the server prints its address within the deadline")
        .expect("the server's standard output")
        .expect("the server printed its address before it exited");
    let address = line.strip_prefix("listening on ").unwrap_or_else(|| panic!("not an address line: {line:?}"));
    format!("http://{address}")
}

impl ServerProcess {
    /// Starts the binary on a port of its choosing (`--listen` on port 0)
    /// with these extra arguments, and connects to the address it reports.
    pub async fn spawn(args: &[String]) -> ServerProcess {
        let mut child = tokio::process::Command::new(binary("scrape-server"))
            .arg("--listen=127.0.0.1:0")
            .args(args)
            .env("RUST_LOG", "warn")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("scrape-server starts");
        let stdout = child.stdout.take().expect("a piped standard output");
        let mut stdout = tokio::io::AsyncBufReadExt::lines(tokio::io::BufReader::new(stdout));
        let address = listening_address(&mut stdout).await;
        let client = connect(&address).await;
        ServerProcess { child, client, _stdout: stdout }
    }

    /// Sends a signal (`KILL`, `TERM`) and waits for the process to exit.
    pub async fn signal(mut self, signal: &str) -> std::process::ExitStatus {
        let pid = self.child.id().expect("running").to_string();
        let sent = std::process::Command::new("kill").arg(format!("-{signal}")).arg(&pid).status().expect("kill");
        assert!(sent.success());
        tokio::time::timeout(DEADLINE, self.child.wait()).await.expect("exits within the deadline").expect("wait")
    }
}

impl TestApp {
    /// The URL of the server's database, for tests that open the store
    /// beside the server.
    pub fn database_url(&self) -> &str {
        &self.config.database_url
    }
}

/// Waits until `condition` holds, polling it, or fails the test after the
/// deadline.
pub async fn eventually(what: &str, condition: impl Fn() -> bool) {
    tokio::time::timeout(DEADLINE, async {
        while !condition() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .unwrap_or_else(|_| panic!("{what}: not within the deadline"));
}
