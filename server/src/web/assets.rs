//! The stylesheet, script and icon, compiled into the binary: the dashboard
//! needs nothing from the network and nothing to build.

use axum::extract::Path;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};

use crate::web::PageError;

/// An embedded file: its name under `/assets/`, its type and its bytes.
struct Asset {
    name: &'static str,
    content_type: &'static str,
    body: &'static str,
}

const ASSETS: [Asset; 3] = [
    Asset {
        name: "dashboard.css",
        content_type: "text/css; charset=utf-8",
        body: include_str!("assets/dashboard.css"),
    },
    Asset {
        name: "dashboard.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("assets/dashboard.js"),
    },
    Asset { name: "favicon.svg", content_type: "image/svg+xml", body: include_str!("assets/favicon.svg") },
];

/// `GET /assets/{name}`. Cached briefly: a new server version may change
/// them, and they are small.
pub async fn serve(Path(name): Path<String>) -> Result<Response, PageError> {
    let asset = ASSETS
        .iter()
        .find(|a| a.name == name)
        .ok_or_else(|| PageError::NotFound(format!("no asset named {name:?}")))?;
    Ok(([(CONTENT_TYPE, asset.content_type), (CACHE_CONTROL, "public, max-age=300")], asset.body).into_response())
}
