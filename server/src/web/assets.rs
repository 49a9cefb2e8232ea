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

/// The stylesheet, with a width class per percent for the progress bars
/// (`.fill.w-37`): the Content Security Policy allows no inline style.
static STYLESHEET: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    let mut css = include_str!("assets/dashboard.css").to_owned();
    for percent in 0..=100 {
        css.push_str(&format!(".progress .fill.w-{percent} {{ width: {percent}%; }}\n"));
    }
    css
});

const ASSETS: [Asset; 2] = [
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
    if name == "dashboard.css" {
        let headers = [(CONTENT_TYPE, "text/css; charset=utf-8"), (CACHE_CONTROL, "public, max-age=300")];
        return Ok((headers, STYLESHEET.as_str()).into_response());
    }
    let asset = ASSETS
        .iter()
        .find(|a| a.name == name)
        .ok_or_else(|| PageError::NotFound(format!("no asset named {name:?}")))?;
    Ok(([(CONTENT_TYPE, asset.content_type), (CACHE_CONTROL, "public, max-age=300")], asset.body).into_response())
}
