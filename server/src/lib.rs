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

pub mod app;
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

use tokio::net::TcpListener;

pub use app::App;
pub use config::Config as ServerConfig;

use crate::config::Config;

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
/// `shutdown` completes (see [`App::build`] and [`App::serve`]).
pub async fn run(config: Config, listener: TcpListener, shutdown: impl Future<Output = ()>) -> Result<(), ServeError> {
    App::build(config).await?.serve(listener, shutdown).await
}
