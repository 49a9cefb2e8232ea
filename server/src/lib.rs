#![doc = include_str!("../README.md")]
//!
//! # Layout
//!
//! Layers, named by what they hold. An arrow reads "calls or uses"; no
//! layer uses one above it, and the front ends (`grpc`, `web`) reach the
//! rest only through `service` (`rest` only through `grpc`'s routes):
//!
//! ```text
//! app       ──▶ config, incoming, tls, metrics, auth, grpc, rest, web, scheduler, service, runner, scrape, store, catalog
//! grpc      ──▶ auth, service, catalog, domain
//! rest      ──▶ auth (it reaches the API through the gRPC routes it is given)
//! web       ──▶ auth, metrics, service, catalog, domain
//! scheduler ──▶ service, catalog, domain
//! service   ──▶ runner, export, store, catalog, domain
//! runner    ──▶ scrape, export, store, catalog, domain
//! export    ──▶ store, catalog, domain
//! store     ──▶ domain
//! scrape    ──▶ domain
//! catalog   ──▶ domain
//! config    ──▶ the configuration types of runner, scheduler, scrape, store and service
//! metrics   ──▶ store
//! auth, tls, incoming ──▶ nothing of the above
//! domain    ──▶ nothing
//! ```
//!
//! - [`domain`]: what a task is — ids, statuses and the lifecycle's moves,
//!   validated requests and keywords, documents, operation results,
//!   summaries, progress. It uses nothing else (the places a request may
//!   name come in through its `Places` trait, which the catalog implements).
//! - [`catalog`]: the prefectures and regions tasks can target, and the
//!   site profile of each.
//! - [`scrape`]: the engine — site profiles, fetching, parsing, one search
//!   page by page. It knows neither the store nor the API.
//! - [`store`]: persistence with diesel on SQLite or PostgreSQL, in domain
//!   values; it applies the lifecycle's moves, it decides none.
//! - [`export`]: a task's results as JSON, CSV or text, read from the store.
//! - [`runner`]: workers that claim tasks, run their searches with the
//!   engine and record them in the store.
//! - [`service`]: every rule of the task and watch APIs, shared by every
//!   front end: request checks, list plans, page tokens, summaries, and the
//!   runs of watches (firing due times, counting news) at a given time.
//! - [`scheduler`]: the loop that drives the watches on a clock — due
//!   times, ended runs, notifications (webhook, email) with retries.
//! - [`grpc`]: the tonic services, reflection and health: wire values in,
//!   service calls, wire values out.
//! - [`rest`]: the API over JSON under `/v1/` with its OpenAPI document,
//!   transcoded to gRPC calls through the same routes (and so the same
//!   token checks, limits and request checks).
//! - [`web`]: the dashboard, served beside the gRPC and gRPC-Web API, over
//!   the same service.
//! - [`auth`]: tokens, roles, the role each RPC needs, and the check of
//!   both on every call.
//! - [`tls`], [`incoming`]: TLS, and connections handed to the HTTP server
//!   only once their handshake and first request head are complete.
//! - [`metrics`]: the Prometheus recorder the other layers count into, and
//!   the gauges read from the store when `/metrics` is scraped.
//! - [`app`]: builds all of the above from the configuration, then serves.

pub mod app;
pub mod auth;
pub mod catalog;
pub mod config;
pub mod domain;
pub mod export;
pub mod grpc;
pub mod harness;
pub mod incoming;
pub mod metrics;
pub mod rest;
pub mod runner;
pub mod scheduler;
pub mod scrape;
pub mod service;
pub mod store;
pub mod telemetry;
pub mod tls;
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

/// Refuses, before anything is bound, to serve an address other hosts can
/// reach without a tokens file (unless `--insecure-no-auth`).
pub fn check_listen(config: &Config) -> Result<(), ServeError> {
    auth::check_exposure(config.listen, config.tokens_file.is_some(), config.insecure_no_auth)
        .map(|_| ())
        .map_err(ServeError::Config)
}

/// Builds the server from its configuration and serves on `listener` until
/// `shutdown` completes (see [`App::build`] and [`App::serve`]).
pub async fn run(config: Config, listener: TcpListener, shutdown: impl Future<Output = ()>) -> Result<(), ServeError> {
    App::build(config).await?.serve(listener, shutdown).await
}
