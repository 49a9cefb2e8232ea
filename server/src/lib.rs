#![doc = include_str!("../README.md")]
//!
//! # Layout
//!
//! - [`domain`]: what a task is — ids, statuses, validated requests, progress.
//! - [`catalog`]: the prefectures and regions tasks can target.
//! - [`scrape`]: the engine — site profiles, fetching, parsing, one operation.
//! - [`store`]: persistence with diesel on SQLite or PostgreSQL.
//! - [`runner`]: workers that claim tasks and run their operations.
//! - [`service`]: the rules of the task API, shared by every front end.
//! - [`grpc`]: the tonic services, reflection and health.
//! - [`web`]: the dashboard, served beside the gRPC and gRPC-Web API.

pub mod catalog;
pub mod config;
pub mod domain;
pub mod export;
pub mod grpc;
pub mod runner;
pub mod scrape;
pub mod service;
pub mod store;
pub mod telemetry;
pub mod web;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::catalog::Catalog;
use crate::config::Config;
use crate::grpc::{CatalogApi, TaskApi};
use crate::runner::{ProgressHub, Runner};
use crate::scrape::{Fetcher, Limits, Scraper, SiteBase, SiteProfile};
use crate::service::TaskService;
use crate::store::{DatabaseUrl, Store};

pub use config::Config as ServerConfig;

/// Why the server could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("configuration: {0}")]
    Config(String),
    #[error(transparent)]
    Store(#[from] store::StoreError),
    #[error("serving: {0}")]
    Transport(#[from] tonic::transport::Error),
}

/// Builds the server from its configuration and serves on `listener` until
/// `shutdown` completes; then stops accepting, turns health NOT_SERVING,
/// ends open progress streams, and hands running tasks back for resumption
/// within the grace period.
pub async fn run(config: Config, listener: TcpListener, shutdown: impl Future<Output = ()>) -> Result<(), ServeError> {
    let catalog = match &config.catalog {
        None => Catalog::builtin(),
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| ServeError::Config(format!("catalog file {}: {e}", path.display())))?;
            Arc::new(Catalog::with_file(&text).map_err(|e| ServeError::Config(format!("{}: {e}", path.display())))?)
        }
    };
    let base = match &config.site_base_url {
        None => SiteBase::Real,
        Some(template) => SiteBase::parse_override(template).map_err(|e| ServeError::Config(e.to_string()))?,
    };
    let profile = SiteProfile::prefecture().compile().map_err(|e| ServeError::Config(e.to_string()))?;
    let fetcher = Fetcher::new(config.fetch(), Arc::new(Limits::new(config.limits())))
        .map_err(|e| ServeError::Config(format!("HTTP client: {e}")))?;
    let scraper = Scraper::new(fetcher, profile, base);

    let url = DatabaseUrl::parse(&config.database_url)?;
    let store = Store::open(&url, config.pool()).await?;
    if store.is_embedded() {
        let released = store.release_all_running(Utc::now()).await?;
        if released > 0 {
            tracing::info!(tasks = released, "resuming tasks left running by the previous server");
        }
    }

    let hub = Arc::new(ProgressHub::new());
    let runner = Runner::new(store.clone(), scraper, catalog.clone(), hub.clone(), config.runner());
    let service = TaskService::new(store.clone(), catalog.clone(), hub, runner.clone());
    let streams = CancellationToken::new();
    let dashboard = web::Dashboard::new(service.clone(), streams.clone());
    let (routes, health) = grpc::routes(TaskApi::new(service, streams.clone()), CatalogApi::new(catalog))
        .await
        .map_err(|e| ServeError::Config(format!("reflection: {e}")))?;
    // One address for gRPC (HTTP/2), gRPC-Web and the dashboard (HTTP/1.1).
    let routes = web::beside(routes, dashboard);

    let address = listener.local_addr().map_err(|e| ServeError::Config(format!("listener: {e}")))?;
    // Replicas sharing PostgreSQL hear each other's stops and progress.
    if let store::DatabaseUrl::Postgres(url) = &url
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
    let stop_serving = CancellationToken::new();
    let server =
        tonic::transport::Server::builder().accept_http1(true).add_routes(routes).serve_with_incoming_shutdown(
            tonic::transport::server::TcpIncoming::from(listener).with_nodelay(Some(true)),
            stop_serving.clone().cancelled_owned(),
        );
    tracing::info!(
        listen = %address,
        database = %url.redacted(),
        workers = config.workers,
        "scrape-server serving"
    );
    let mut server = std::pin::pin!(server);
    tokio::select! {
        result = &mut server => {
            result?;
            return Ok(());
        }
        () = shutdown => {}
    }
    tracing::info!("shutting down");
    grpc::set_not_serving(&health).await;
    streams.cancel();
    stop_serving.cancel();
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
