//! The web dashboard: server-rendered pages over the service layer, with live
//! progress pushed by Server-Sent Events, served on the gRPC address beside
//! the gRPC and gRPC-Web API.
//!
//! Every page works without JavaScript (forms post, then redirect); the small
//! embedded script adds live updates, confirmation dialogs, "select all"
//! and the prefecture filter. Every action
//! goes through [`TaskService`] or [`WatchService`], so the dashboard follows
//! the API's rules. Each watch's news are also an Atom feed.

mod actions;
mod assets;
mod bulk;
mod detail;
mod errors;
mod export;
mod feed;
mod form;
mod format;
mod headers;
mod hosts;
mod layout;
mod list;
mod metrics;
mod origin;
mod paging;
mod params;
mod picker;
mod report;
mod results;
pub mod session;
mod sse;
mod watch_form;
mod watches;

use std::sync::Arc;

use axum::Router;
use axum::extract::Request;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use tokio_util::sync::CancellationToken;
use tonic::service::Routes;
use tonic_web::{GrpcWebLayer, GrpcWebService};
use tower::{Layer, ServiceExt};

use crate::auth::Auth;
use crate::service::{TaskService, WatchService};

pub use errors::PageError;
pub use hosts::AllowedHosts;
pub use session::Visitor;

/// What the pages need: the service layer, the signal that ends live
/// streams when the server shuts down, and who may see them.
#[derive(Debug)]
pub struct Dashboard {
    service: TaskService,
    /// The watch pages (`/watches…`) and their feeds.
    watches: WatchService,
    shutdown: CancellationToken,
    sessions: session::Sessions,
    hosts: AllowedHosts,
}

/// Who may use the dashboard and how it is reached.
#[derive(Debug, Clone)]
pub struct Security {
    /// The tokens people sign in with (none: no sign-in).
    pub auth: Auth,
    /// The Host headers answered.
    pub hosts: AllowedHosts,
    /// Whether the server speaks TLS (cookies are then `Secure`).
    pub tls: bool,
}

impl Dashboard {
    /// The dashboard over `service` and `watches` under `security`; its
    /// live streams end when `shutdown` is cancelled. Fails only when the
    /// system has no randomness for the session key.
    pub fn new(
        service: TaskService,
        watches: WatchService,
        shutdown: CancellationToken,
        security: Security,
    ) -> Result<Dashboard, String> {
        let sessions = session::Sessions::new(security.auth, security.tls)
            .ok_or_else(|| "no system randomness for the dashboard's session key".to_owned())?;
        Ok(Dashboard { service, watches, shutdown, sessions, hosts: security.hosts })
    }
}

/// The shared state of the handlers.
type Shared = Arc<Dashboard>;

/// The gRPC routes with the dashboard and the JSON API beside them, on one
/// address: browsers (HTTP/1.1) get the pages, gRPC clients (HTTP/2) and
/// gRPC-Web clients (any HTTP version) get the API.
///
/// tonic-web answers 400 to any HTTP/1.1 request that is not gRPC-Web, so it
/// wraps only the gRPC side, never the pages.
///
/// `json` (the API over JSON) is served beside the pages, outside their
/// sessions: it reads bearer tokens only.
///
/// Every answer but native gRPC passes the Host allow-list, and every
/// answer but gRPC carries the security headers.
pub fn beside(grpc: Routes, dashboard: Dashboard, json: Router) -> Routes {
    let api = GrpcWebLayer::new().layer(grpc.prepare());
    let hosts = dashboard.hosts.clone();
    let router = pages(Arc::new(dashboard))
        .merge(json)
        .fallback(move |request: Request| api_or_not_found(api.clone(), request))
        .layer(axum::middleware::from_fn(headers::security_headers))
        .layer(axum::middleware::from_fn_with_state(hosts, hosts::allowed_host));
    Routes::from(router)
}

/// The dashboard's own routes.
fn pages(state: Shared) -> Router {
    Router::new()
        .route("/", get(list::page))
        .route("/tasks", get(list::page).post(form::submit))
        .route("/tasks/new", get(form::page))
        .route("/tasks/bulk", post(bulk::selected))
        .route("/tasks/stop-all", post(bulk::stop_all))
        .route("/tasks/{id}", get(detail::page))
        .route("/tasks/{id}/stop", post(actions::stop))
        .route("/tasks/{id}/restart", post(actions::restart))
        .route("/tasks/{id}/delete", post(actions::delete))
        .route("/tasks/{id}/export", get(export::download))
        .route("/tasks/{id}/events", get(sse::task))
        .route("/events", get(sse::tasks))
        .route("/watches", get(watches::list).post(watch_form::create))
        .route("/watches/new", get(watch_form::new))
        .route("/watches/{id}", get(watches::page).post(watch_form::update))
        .route("/watches/{id}/edit", get(watch_form::edit))
        .route("/watches/{id}/run", post(watches::run))
        .route("/watches/{id}/pause", post(watches::pause))
        .route("/watches/{id}/resume", post(watches::resume))
        .route("/watches/{id}/delete", post(watches::delete))
        .route("/watches/{id}/feed.atom", get(feed::atom))
        .route("/assets/{name}", get(assets::serve))
        .route("/sign-in", get(session::page).post(session::sign_in))
        .route("/sign-out", post(session::sign_out))
        .route("/metrics", get(metrics::serve))
        .layer(axum::middleware::from_fn_with_state(state.clone(), session::visitor))
        .layer(axum::middleware::from_fn(origin::same_origin))
        .with_state(state)
}

/// Requests outside the pages: gRPC and gRPC-Web calls go to the API (whose
/// own fallback answers UNIMPLEMENTED); anything else is a missing page.
async fn api_or_not_found(api: GrpcWebService<Routes>, request: Request) -> Response {
    let grpc = request.version() == axum::http::Version::HTTP_2
        || request
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/grpc"));
    if !grpc {
        return PageError::NotFound("There is no page at this address.".into()).into_response();
    }
    match api.oneshot(request).await {
        Ok(response) => response.into_response(),
        Err(never) => match never {},
    }
}

/// The task id in an address: anything else names no task.
fn task_id(text: &str) -> Result<crate::domain::TaskId, PageError> {
    text.parse().map_err(|_| PageError::NotFound(format!("{text:?} is not a task id, so no task has it")))
}
