//! Actions come from the dashboard's own pages: a form on another site
//! cannot make a visitor's browser stop or start tasks here.

use axum::extract::Request;
use axum::http::header::{HOST, ORIGIN};
use axum::http::{HeaderMap, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::web::PageError;

/// Refuses a state-changing request that the browser says comes from
/// another site. Clients that send neither header (scripts, curl) pass.
pub async fn same_origin(request: Request, next: Next) -> Response {
    if matches!(*request.method(), Method::GET | Method::HEAD) || from_here(request.headers()) {
        next.run(request).await
    } else {
        PageError::Forbidden("This action must be sent from the dashboard's own pages.".into()).into_response()
    }
}

fn from_here(headers: &HeaderMap) -> bool {
    let text = |name| headers.get(name).and_then(|v: &axum::http::HeaderValue| v.to_str().ok());
    if text("sec-fetch-site").is_some_and(|site| site == "cross-site") {
        return false;
    }
    match (text(ORIGIN.as_str()), text(HOST.as_str())) {
        (Some(origin), Some(host)) => {
            origin.split_once("://").is_some_and(|(_, authority)| authority.eq_ignore_ascii_case(host))
        }
        (Some(_), None) => false,
        (None, _) => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        pairs.iter().map(|(n, v)| (axum::http::HeaderName::from_static(n), v.parse().expect("a value"))).collect()
    }

    #[test]
    fn only_the_dashboards_own_pages_may_act() {
        assert!(from_here(&headers(&[("host", "127.0.0.1:50051"), ("origin", "http://127.0.0.1:50051")])));
        assert!(from_here(&headers(&[("host", "127.0.0.1:50051")])), "no Origin: not a cross-site form");
        assert!(!from_here(&headers(&[("host", "127.0.0.1:50051"), ("origin", "https://evil.example")])));
        assert!(!from_here(&headers(&[("host", "127.0.0.1:50051"), ("sec-fetch-site", "cross-site")])));
        assert!(!from_here(&headers(&[("origin", "null")])));
    }
}
