//! Errors as JSON: the `google.rpc.Status` of a failed call (`code`,
//! `message`, `details` with the field violations of a `BadRequest`), sent
//! with the HTTP status Google's APIs pair with its code (AIP-193), so
//! that HTTP clients need not know gRPC codes to react.

use axum::http::header::{CONTENT_TYPE, WWW_AUTHENTICATE};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use prost_reflect::{DescriptorPool, DynamicMessage, Value};
use serde_json::json;
use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

use crate::rest::descriptors;

/// A refused or failed call: its status, and the HTTP status it is sent
/// with.
#[derive(Debug)]
pub struct Failure {
    pub status: Status,
    pub http: StatusCode,
}

impl Failure {
    /// A status from the API, with the HTTP status of its code.
    pub fn from_status(status: Status) -> Failure {
        let http = http_status(status.code());
        Failure { status, http }
    }

    /// `INVALID_ARGUMENT` naming what the request got wrong.
    pub fn invalid(message: impl Into<String>) -> Failure {
        Failure::from_status(Status::invalid_argument(message.into()))
    }

    /// `INVALID_ARGUMENT` with a `BadRequest` violation of `field`.
    pub fn invalid_field(field: &str, description: impl Into<String>) -> Failure {
        let description = description.into();
        let details = ErrorDetails::with_bad_request_violation(field, description.clone());
        let message = format!("invalid request: {field}: {description}");
        Failure::from_status(Status::with_error_details(Code::InvalidArgument, message, details))
    }

    /// The same status, sent with another HTTP status (405, 413, 415).
    pub fn with_http(self, http: StatusCode) -> Failure {
        Failure { http, ..self }
    }

    /// The status as the JSON of a `google.rpc.Status`: the one the server
    /// sent in `grpc-status-details-bin` when it sent one (it carries the
    /// details), else its code and message.
    pub fn body(&self, pool: &DescriptorPool) -> String {
        let Some(desc) = pool.get_message_by_name("google.rpc.Status") else {
            return json!({ "code": self.status.code() as i32, "message": self.status.message() }).to_string();
        };
        let detailed = (!self.status.details().is_empty())
            .then(|| DynamicMessage::decode(desc.clone(), self.status.details()).ok())
            .flatten();
        let message = detailed.unwrap_or_else(|| {
            let mut message = DynamicMessage::new(desc);
            message.set_field_by_name("code", Value::I32(self.status.code() as i32));
            message.set_field_by_name("message", Value::String(self.status.message().to_owned()));
            message
        });
        String::from_utf8_lossy(&descriptors::to_json(&message)).into_owned()
    }

    /// The response: the JSON body with its HTTP status, and the scheme a
    /// client should authenticate with when the status is 401.
    pub fn into_response(self, pool: &DescriptorPool) -> Response {
        let body = self.body(pool);
        let mut response = (self.http, body).into_response();
        let headers = response.headers_mut();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        if self.http == StatusCode::UNAUTHORIZED {
            headers.insert(WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

/// The HTTP status of a gRPC code, as google.rpc.Code documents it.
/// `FAILED_PRECONDITION` is 400: the request cannot succeed until the
/// resource's state changes (stopping a task that has ended), which a
/// client fixes by changing its request, not by retrying.
pub fn http_status(code: Code) -> StatusCode {
    match code {
        Code::Ok => StatusCode::OK,
        Code::Cancelled => StatusCode::from_u16(499).unwrap_or(StatusCode::BAD_REQUEST),
        Code::InvalidArgument | Code::FailedPrecondition | Code::OutOfRange => StatusCode::BAD_REQUEST,
        Code::DeadlineExceeded => StatusCode::GATEWAY_TIMEOUT,
        Code::NotFound => StatusCode::NOT_FOUND,
        Code::AlreadyExists | Code::Aborted => StatusCode::CONFLICT,
        Code::PermissionDenied => StatusCode::FORBIDDEN,
        Code::Unauthenticated => StatusCode::UNAUTHORIZED,
        Code::ResourceExhausted => StatusCode::TOO_MANY_REQUESTS,
        Code::Unimplemented => StatusCode::NOT_IMPLEMENTED,
        Code::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        Code::Unknown | Code::Internal | Code::DataLoss => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_map_to_the_http_statuses_of_google_apis() {
        let pairs = [
            (Code::InvalidArgument, 400),
            (Code::FailedPrecondition, 400),
            (Code::NotFound, 404),
            (Code::AlreadyExists, 409),
            (Code::Aborted, 409),
            (Code::Unauthenticated, 401),
            (Code::PermissionDenied, 403),
            (Code::ResourceExhausted, 429),
            (Code::Unavailable, 503),
            (Code::Internal, 500),
            (Code::Cancelled, 499),
        ];
        for (code, http) in pairs {
            assert_eq!(http_status(code).as_u16(), http, "{code:?}");
        }
    }

    #[test]
    fn a_bad_request_is_written_with_its_field_violations() {
        let pool = descriptors::pool().expect("descriptors");
        let text = Failure::invalid_field("pageSize", "not a number").body(&pool);
        assert!(text.starts_with(r#"{"code":3,"message":"#), "{text}");
        let body: serde_json::Value = serde_json::from_str(&text).expect("JSON");
        assert_eq!(body["details"][0]["@type"], "type.googleapis.com/google.rpc.BadRequest");
        assert_eq!(body["details"][0]["fieldViolations"][0]["field"], "pageSize");
        let plain = Failure::from_status(Status::not_found("no task")).body(&pool);
        assert_eq!(plain, r#"{"code":5,"message":"no task","details":[]}"#);
    }
}
