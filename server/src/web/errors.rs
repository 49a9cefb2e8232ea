//! The one place service errors become web pages.
//!
//! Policy: invalid input on the start form is not an error page — the form
//! comes back with each message next to its field (see `form`); invalid
//! input anywhere else (a filter, a page token) is 400 listing every
//! problem; a missing task, or an address that is not a task id, is 404; an
//! action the task's state forbids (restarting a running task, stopping a
//! finished one) is 409 with the service's message and a way back; a full
//! quota of pending tasks is 429; an
//! action sent from another site's page is 403; a database that cannot be reached is 503 (retry); anything else is 500 with
//! a generic message — details go to the log, never to the page.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use maud::html;

use crate::domain::Violations;
use crate::service::ServiceError;
use crate::web::layout;

/// Why a page could not be shown.
#[derive(Debug)]
pub enum PageError {
    BadRequest(Violations),
    NotFound(String),
    /// An action sent from another site's page.
    Forbidden(String),
    /// The request is valid but the task's state refuses it.
    Conflict(String),
    /// A quota is full.
    TooMany(String),
    Unavailable(String),
    Internal,
}

impl From<ServiceError> for PageError {
    fn from(err: ServiceError) -> PageError {
        match err {
            ServiceError::InvalidArgument(violations) => PageError::BadRequest(violations),
            ServiceError::NotFound(message) => PageError::NotFound(message),
            ServiceError::FailedPrecondition(message) | ServiceError::AlreadyExists(message) => {
                PageError::Conflict(message)
            }
            ServiceError::ResourceExhausted { message, .. } => PageError::TooMany(message),
            ServiceError::Unavailable(message) => PageError::Unavailable(message),
            // The service layer has logged the details.
            ServiceError::Internal(_) => PageError::Internal,
        }
    }
}

impl From<Violations> for PageError {
    fn from(violations: Violations) -> PageError {
        PageError::BadRequest(violations)
    }
}

impl PageError {
    fn status(&self) -> StatusCode {
        match self {
            PageError::BadRequest(_) => StatusCode::BAD_REQUEST,
            PageError::NotFound(_) => StatusCode::NOT_FOUND,
            PageError::Forbidden(_) => StatusCode::FORBIDDEN,
            PageError::Conflict(_) => StatusCode::CONFLICT,
            PageError::TooMany(_) => StatusCode::TOO_MANY_REQUESTS,
            PageError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            PageError::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn title(&self) -> &'static str {
        match self {
            PageError::BadRequest(_) => "Invalid request",
            PageError::NotFound(_) => "Not found",
            PageError::Forbidden(_) => "Refused",
            PageError::Conflict(_) => "Not possible now",
            PageError::TooMany(_) => "Too many tasks waiting",
            PageError::Unavailable(_) => "Temporarily unavailable",
            PageError::Internal => "Something went wrong",
        }
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let status = self.status();
        let title = self.title();
        let body = html! {
            section.notice.error role="alert" {
                h1 { (title) }
                @match &self {
                    PageError::BadRequest(violations) => ul {
                        @for v in violations.shown() { li { code { (v.field) } ": " (v.description) } }
                        @if let Some(note) = violations.more_note() { li { (note) } }
                    },
                    PageError::NotFound(message) | PageError::Forbidden(message) | PageError::Conflict(message) | PageError::TooMany(message) | PageError::Unavailable(message) => {
                        p.message { (message) }
                    }
                    PageError::Internal => p { "The server could not answer; the details are in its log." },
                }
                p { a href="/" { "Back to the task list" } }
            }
        };
        (status, layout::page(title, body)).into_response()
    }
}
