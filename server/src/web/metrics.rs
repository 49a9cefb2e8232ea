//! `GET /metrics`: the Prometheus text of the whole server. With tokens,
//! it needs a viewer (a bearer token, as Prometheus sends with
//! `authorization`, or a signed-in session): see `session::visitor`.

use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};

use crate::web::{PageError, Shared};

pub async fn serve(State(web): State<Shared>) -> Result<Response, PageError> {
    let counts = web.service.task_counts().await?;
    let text = crate::metrics::render(&counts);
    Ok(([(CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], text).into_response())
}
