//! The API over JSON: every RPC with a `google.api.http` rule in the protos
//! is also served under `/v1/` (AIP-127 routes, the proto3 JSON mapping),
//! and `/openapi.json` describes them, generated from the same descriptors.
//!
//! A JSON call is transcoded, not reimplemented: the HTTP request becomes
//! the RPC's request message (`request`), which is called through the
//! server's own gRPC routes with the caller's bearer token (`call`), and
//! the answer becomes JSON, Server-Sent Events or bytes (`reply`), errors a
//! `google.rpc.Status` (`status`). So tokens, roles, limits and request
//! checks are those of gRPC, by construction. Cookies are never read: the
//! dashboard's sign-in does not reach `/v1/`, so a page on another site
//! cannot borrow a visitor's session; a browser request that says it comes
//! from another site is refused too (a server without tokens trusts every
//! caller that reaches it).

mod binding;
mod call;
mod descriptors;
mod openapi;
mod reply;
mod request;
mod schema;
mod status;
mod template;

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::header::{ALLOW, CONTENT_TYPE, HOST, ORIGIN};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use prost::Message;
use prost_reflect::DescriptorPool;
use tonic::Status;
use tonic::service::Routes;

use crate::rest::binding::Binding;
use crate::rest::status::Failure;

/// Largest JSON body accepted, as for a gRPC message.
const MAX_BODY_BYTES: usize = 1024 * 1024;

/// The JSON API over the server's gRPC routes.
#[derive(Debug, Clone)]
pub struct JsonApi {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    pool: DescriptorPool,
    bindings: Vec<Binding>,
    /// The gRPC routes, behind the token check.
    grpc: Routes,
    /// `/openapi.json`, made once.
    openapi: Bytes,
}

impl JsonApi {
    /// The JSON routes of the `scrape.v1` methods, calling `grpc` (the
    /// guarded gRPC routes). Fails when a rule in the protos cannot be
    /// served.
    pub fn new(grpc: Routes) -> Result<JsonApi, String> {
        let pool = descriptors::pool()?;
        let bindings = binding::bindings(&pool, "scrape.v1")?;
        let openapi = Bytes::from(openapi::document(&pool, &bindings).to_string());
        Ok(JsonApi { inner: Arc::new(Inner { pool, bindings, grpc, openapi }) })
    }

    /// `/openapi.json` and everything under `/v1/`.
    pub fn router(self) -> Router {
        Router::new()
            .route("/openapi.json", get(document))
            .route("/v1", any(serve))
            .route("/v1/{*rest}", any(serve))
            .with_state(self)
    }
}

/// `GET /openapi.json`.
async fn document(State(api): State<JsonApi>) -> Response {
    let mut response = api.inner.openapi.clone().into_response();
    response.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

/// Any request under `/v1/`: routed by the bindings, then transcoded.
async fn serve(State(api): State<JsonApi>, request: Request) -> Response {
    let pool = &api.inner.pool;
    match transcode(&api, request).await {
        Ok(response) => response,
        Err(failure) => failure.into_response(pool),
    }
}

async fn transcode(api: &JsonApi, request: Request) -> Result<Response, Failure> {
    let inner = &api.inner;
    let path = request.uri().path().to_owned();
    let routes: Vec<(&Binding, Vec<(String, String)>)> =
        inner.bindings.iter().filter_map(|b| b.template.matches(&path).map(|v| (b, v))).collect();
    if routes.is_empty() {
        let message = format!("no route {path}: /openapi.json lists them");
        return Err(Failure::from_status(Status::not_found(message)));
    }
    let Some((binding, variables)) = routes.iter().find(|(b, _)| b.http_method == request.method()).cloned() else {
        let allowed: Vec<&str> = routes.iter().map(|(b, _)| b.http_method.as_str()).collect();
        let message = format!("{path} answers {}, not {}", allowed.join(", "), request.method());
        let mut response = Failure::from_status(Status::unimplemented(message))
            .with_http(StatusCode::METHOD_NOT_ALLOWED)
            .into_response(&inner.pool);
        if let Ok(value) = HeaderValue::from_str(&allowed.join(", ")) {
            response.headers_mut().insert(ALLOW, value);
        }
        return Ok(response);
    };
    if request.method() != Method::GET && cross_site(request.headers()) {
        let message = "this call comes from another site's page: the JSON API answers scripts and programs";
        return Err(Failure::from_status(Status::permission_denied(message)));
    }
    let (parts, body) = request.into_parts();
    let body = axum::body::to_bytes(body, MAX_BODY_BYTES).await.map_err(|_| {
        Failure::from_status(Status::resource_exhausted(format!("the body is over {MAX_BODY_BYTES} bytes")))
            .with_http(StatusCode::PAYLOAD_TOO_LARGE)
    })?;
    if !is_json(&parts.headers) {
        let message = "the body must be JSON: send Content-Type: application/json";
        return Err(Failure::invalid(message).with_http(StatusCode::UNSUPPORTED_MEDIA_TYPE));
    }
    let message = request::message(binding, variables, parts.uri.query(), &body)?;
    let events = reply::wants_events(&parts.headers);
    let replies =
        call::call(&inner.grpc, &binding.grpc_path(), &parts.headers, parts.extensions, &message.encode_to_vec())
            .await
            .map_err(Failure::from_status)?;
    Ok(reply::respond(binding, replies, events, inner.pool.clone()).await)
}

/// Whether the request has no content type or a JSON one (a GET with a
/// gRPC content type is no JSON call either).
fn is_json(headers: &HeaderMap) -> bool {
    let Some(value) = headers.get(CONTENT_TYPE) else { return true };
    let essence = value.to_str().unwrap_or_default().split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    essence == "application/json" || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// Whether a browser says the request comes from another site's page:
/// `Sec-Fetch-Site: cross-site`, or an `Origin` that is not this host.
/// Programs send neither header.
fn cross_site(headers: &HeaderMap) -> bool {
    let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if text("sec-fetch-site").is_some_and(|site| site == "cross-site" || site == "same-site") {
        return true;
    }
    match (text(ORIGIN.as_str()), text(HOST.as_str())) {
        (Some(origin), Some(host)) => {
            !origin.split_once("://").is_some_and(|(_, authority)| authority.eq_ignore_ascii_case(host))
        }
        (Some(_), None) => true,
        (None, _) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        pairs.iter().map(|(n, v)| (axum::http::HeaderName::from_static(n), v.parse().expect("a value"))).collect()
    }

    #[test]
    fn requests_a_browser_sends_from_another_site_are_told_apart() {
        assert!(!cross_site(&headers(&[("host", "127.0.0.1:50051")])), "curl");
        assert!(!cross_site(&headers(&[("host", "127.0.0.1:50051"), ("origin", "http://127.0.0.1:50051")])));
        assert!(cross_site(&headers(&[("host", "127.0.0.1:50051"), ("origin", "https://evil.example")])));
        assert!(cross_site(&headers(&[("host", "127.0.0.1:50051"), ("sec-fetch-site", "cross-site")])));
        assert!(cross_site(&headers(&[("origin", "null")])));
    }

    #[test]
    fn only_json_bodies_are_read() {
        assert!(is_json(&HeaderMap::new()));
        assert!(is_json(&headers(&[("content-type", "application/json; charset=utf-8")])));
        assert!(is_json(&headers(&[("content-type", "application/merge-patch+json")])));
        assert!(!is_json(&headers(&[("content-type", "application/x-www-form-urlencoded")])));
        assert!(!is_json(&headers(&[("content-type", "text/plain")])));
    }
}
