//! The server assembled from its configuration ([`App::build`]), then
//! served on a bound listener until shutdown ([`App::serve`]).

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tonic::service::Routes;
use tonic_health::server::HealthReporter;

use crate::ServeError;
use crate::auth::{self, Auth, Exposure, Tokens};
use crate::catalog::Catalog;
use crate::config::Config;
use crate::grpc::{self, CatalogApi, TaskApi, WatchApi};
use crate::incoming::{self, Preparation};
use crate::rest::JsonApi;
use crate::runner::{ProgressHub, Runner};
use crate::scheduler::{Scheduler, SystemClock};
use crate::scrape::{Fetcher, Limits, ParserPool, Profiles, Resolver, Scraper, SiteBase};
use crate::service::{TaskService, WatchService};
use crate::store::{DatabaseUrl, Store};
use crate::tls::{self, TlsFiles};
use crate::web;

/// A built server: its store open and migrated, its runner ready, its
/// routes (gRPC, gRPC-Web, JSON and the dashboard) assembled.
#[derive(Debug)]
pub struct App {
    config: Config,
    database: DatabaseUrl,
    store: Store,
    runner: Runner,
    scheduler: Scheduler,
    routes: Routes,
    health: HealthReporter,
    /// Ends open streams (progress, dashboard events) on shutdown.
    streams: CancellationToken,
    /// Whether calls need a token.
    protected: bool,
    /// `None`: plain TCP.
    tls: Option<Arc<rustls::ServerConfig>>,
    /// The Host headers the dashboard answers; their default port is the
    /// one bound.
    hosts: web::AllowedHosts,
}

impl App {
    /// Builds everything the configuration describes; nothing is served yet.
    pub async fn build(config: Config) -> Result<App, ServeError> {
        let catalog = catalog(&config)?;
        let profiles = Profiles::builtin().map_err(|e| ServeError::Config(e.to_string()))?;
        let unknown = |p: &&crate::catalog::Prefecture| p.profile.as_deref().is_some_and(|n| profiles.get(n).is_none());
        if let Some(p) = catalog.prefectures().iter().find(unknown) {
            let known = profiles.names().collect::<Vec<_>>().join(", ");
            return Err(ServeError::Config(format!(
                "prefecture {} names the site profile {:?}; known profiles: {known}",
                p.code,
                p.profile.as_deref().unwrap_or_default()
            )));
        }
        let base = match &config.site_base_url {
            None => SiteBase::Real,
            Some(template) => SiteBase::parse_override(template).map_err(|e| ServeError::Config(e.to_string()))?,
        };
        let resolver = Resolver::new(config.resolve.clone());
        let fetcher = Fetcher::new(config.fetch(), Arc::new(Limits::new(config.limits())), resolver)
            .map_err(|e| ServeError::Config(format!("HTTP client: {e}")))?;
        // One parsing thread per core, off the async runtime's threads.
        let scraper = Scraper::new(fetcher, base, profiles, ParserPool::new(0, config.parse_budget()));

        let database = DatabaseUrl::parse(&config.database_url)?;
        let store = Store::open(&database, config.pool()).await?;
        if store.is_embedded() {
            let released = store.release_all_running(Utc::now()).await?;
            if released > 0 {
                tracing::info!(tasks = released, "resuming tasks left running by the previous server");
            }
        }

        let auth = match &config.tokens_file {
            None => Auth::open(),
            Some(path) => Auth::with_tokens(Tokens::read(path).map_err(|e| ServeError::Config(e.to_string()))?),
        };
        let tls = match (&config.tls_cert, &config.tls_key) {
            (Some(cert), Some(key)) => {
                let files = TlsFiles { cert, key, client_ca: config.tls_client_ca.as_deref() };
                Some(tls::server_config(&files).map_err(|e| ServeError::Config(e.to_string()))?)
            }
            _ => None,
        };
        crate::metrics::install();

        let hub = Arc::new(ProgressHub::new());
        let runner = Runner::new(store.clone(), scraper, catalog.clone(), hub.clone(), config.runner());
        let service =
            TaskService::new(store.clone(), catalog.clone(), hub, runner.clone()).with_limits(config.service_limits());
        let watches = WatchService::new(store.clone(), service.clone(), config.smtp_url.is_some());
        let scheduler = Scheduler::new(watches.clone(), Arc::new(SystemClock), config.scheduler())
            .map_err(|e| ServeError::Config(e.to_string()))?;
        let streams = CancellationToken::new();
        let hosts = web::AllowedHosts::new(&config.allowed_hosts, config.listen).map_err(ServeError::Config)?;
        let security = web::Security { auth: auth.clone(), hosts: hosts.clone(), tls: tls.is_some() };
        let dashboard = web::Dashboard::new(service.clone(), watches.clone(), streams.clone(), security)
            .map_err(ServeError::Config)?;
        let (routes, health) = grpc::routes(
            TaskApi::new(service, streams.clone()),
            CatalogApi::new(catalog),
            WatchApi::new(watches, streams.clone()),
        )
        .await
        .map_err(|e| ServeError::Config(format!("reflection: {e}")))?;
        let protected = auth.enabled();
        let routes = auth::guarded(routes, auth);
        // JSON calls go through the guarded routes: the same tokens and roles.
        let json = JsonApi::new(routes.clone()).map_err(|e| ServeError::Config(format!("JSON API: {e}")))?;
        // One address for gRPC (HTTP/2), gRPC-Web, JSON and the dashboard (HTTP/1.1).
        let routes = web::beside(routes, dashboard, json.router());
        Ok(App { config, database, store, runner, scheduler, routes, health, streams, protected, tls, hosts })
    }

    /// Serves on `listener` until `shutdown` completes; then stops
    /// accepting, turns health NOT_SERVING, ends open streams, and hands
    /// running tasks back for resumption within the grace period.
    pub async fn serve(self, listener: TcpListener, shutdown: impl Future<Output = ()>) -> Result<(), ServeError> {
        let App { config, database, store, runner, scheduler, routes, health, streams, protected, tls, hosts } = self;
        let address = listener.local_addr().map_err(|e| ServeError::Config(format!("listener: {e}")))?;
        if auth::check_exposure(address, protected, config.insecure_no_auth).map_err(ServeError::Config)?
            == Exposure::OpenOnPurpose
        {
            tracing::warn!(
                listen = %address,
                "serving without authentication on an address other hosts can reach (--insecure-no-auth): \
                 anyone who reaches it can start and stop tasks"
            );
        }
        hosts.bind_port(address.port());
        let secure = tls.is_some();
        let preparation = Preparation {
            tls: tls.map(tokio_rustls::TlsAcceptor::from),
            timeout: Duration::from_secs(config.handshake_timeout_secs),
        };
        // Replicas sharing PostgreSQL hear each other's stops and progress.
        if let DatabaseUrl::Postgres(url) = &database
            && let Some(mut notices) = store.listen(url.clone(), streams.clone())
        {
            let runner = runner.clone();
            tokio::spawn(async move {
                while let Some(notice) = notices.recv().await {
                    runner.on_notice(notice);
                }
            });
        }
        let workers = runner.start();
        let stop_scheduling = CancellationToken::new();
        let scheduling = scheduler.start(stop_scheduling.clone());
        let stop_serving = CancellationToken::new();
        let server = tonic::transport::Server::builder()
            .accept_http1(true)
            .max_concurrent_streams(config.max_streams_per_connection)
            .add_routes(routes)
            .serve_with_incoming_shutdown(
                incoming::incoming(listener, preparation),
                stop_serving.clone().cancelled_owned(),
            );
        tracing::info!(
            listen = %address,
            tls = secure,
            tokens = protected,
            database = %database.redacted(),
            workers = config.workers,
            "scrape-server serving"
        );
        let mut server = std::pin::pin!(server);
        tokio::select! {
            result = &mut server => return Ok(result?),
            () = shutdown => {}
        }
        tracing::info!("shutting down");
        grpc::set_not_serving(&health).await;
        streams.cancel();
        stop_serving.cancel();
        // No run fires during the shutdown; a due time that comes meanwhile
        // fires at the next start (or on another replica).
        stop_scheduling.cancel();
        // Connections drain while running tasks are handed back; then a client
        // that keeps a stream open (a health watch) has one more second.
        let handed_back = CancellationToken::new();
        let (served, ()) = tokio::join!(
            async {
                tokio::select! {
                    result = server => Some(result),
                    () = async {
                        handed_back.cancelled().await;
                        tokio::time::sleep(Duration::from_secs(1)).await;
                    } => None,
                }
            },
            async {
                runner.shutdown(workers).await;
                if let Err(e) = scheduling.await {
                    tracing::warn!(error = %e, "the scheduler ended abnormally");
                }
                handed_back.cancel();
            }
        );
        match served {
            Some(result) => result?,
            None => tracing::info!("closing connections still open"),
        }
        tracing::info!("stopped");
        Ok(())
    }
}

/// The built-in catalog, or the one the configuration's file makes.
fn catalog(config: &Config) -> Result<Arc<Catalog>, ServeError> {
    let Some(path) = &config.catalog else { return Ok(Catalog::builtin()) };
    let text = std::fs::read_to_string(path)
        .map_err(|e| ServeError::Config(format!("catalog file {}: {e}", path.display())))?;
    Ok(Arc::new(Catalog::with_file(&text).map_err(|e| ServeError::Config(format!("{}: {e}", path.display())))?))
}
