//! The one place service errors become gRPC statuses.
//!
//! Policy: invalid input is `INVALID_ARGUMENT` with a google.rpc
//! `BadRequest` naming each field; a missing task `NOT_FOUND`; a request
//! that the task's state forbids `FAILED_PRECONDITION`; a request id reused
//! with other parameters `ALREADY_EXISTS`; a database that cannot be
//! reached `UNAVAILABLE` (retryable); a full quota
//! `RESOURCE_EXHAUSTED` with a google.rpc `QuotaFailure` naming it;
//! anything else `INTERNAL`
//! with a generic message — details go to the log, never to the client.

use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

use crate::domain::Violations;
use crate::service::ServiceError;

impl From<ServiceError> for Status {
    fn from(err: ServiceError) -> Status {
        match err {
            ServiceError::InvalidArgument(violations) => invalid_argument(violations),
            ServiceError::NotFound(message) => Status::not_found(message),
            ServiceError::FailedPrecondition(message) => Status::failed_precondition(message),
            ServiceError::AlreadyExists(message) => Status::already_exists(message),
            ServiceError::ResourceExhausted { subject, message } => {
                let mut details = ErrorDetails::new();
                details.add_quota_failure_violation(subject, message.clone());
                Status::with_error_details(Code::ResourceExhausted, message, details)
            }
            ServiceError::Unavailable(message) => Status::unavailable(message),
            ServiceError::Internal(_) => Status::internal("internal error; see the server log"),
        }
    }
}

/// `INVALID_ARGUMENT` listing the violations (at most
/// [`Violations::MAX_SHOWN`], then how many more) in the message and as
/// `BadRequest` field violations.
pub fn invalid_argument(violations: Violations) -> Status {
    let mut details = ErrorDetails::new();
    for v in violations.shown() {
        details.add_bad_request_violation(v.field.clone(), v.description.clone());
    }
    if let Some(note) = violations.more_note() {
        details.add_bad_request_violation("", note);
    }
    Status::with_error_details(Code::InvalidArgument, format!("invalid request: {violations}"), details)
}
