//! Errors of the service layer, as a client should see them.

use crate::domain::{TaskId, Violations};
use crate::store::StoreError;

/// Why a call failed. Front ends map these to their own codes (gRPC status,
/// HTTP status) in one place each.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// The request is wrong, field by field.
    #[error("invalid request: {0}")]
    InvalidArgument(Violations),
    #[error("{0}")]
    NotFound(String),
    /// The request is valid but not in the task's current state.
    #[error("{0}")]
    FailedPrecondition(String),
    /// What the request would create exists already, differently (a request
    /// id reused with other parameters).
    #[error("{0}")]
    AlreadyExists(String),
    /// A quota is full (`subject` names it): retry once it has room.
    #[error("{message}")]
    ResourceExhausted { subject: &'static str, message: String },
    /// The database cannot be reached: retry later.
    #[error("{0}")]
    Unavailable(String),
    /// A bug or a corrupt database; details are logged, not sent.
    #[error("internal error")]
    Internal(String),
}

impl ServiceError {
    pub fn task_not_found(id: TaskId) -> ServiceError {
        ServiceError::NotFound(format!("task {id} not found"))
    }
}

impl From<Violations> for ServiceError {
    fn from(violations: Violations) -> ServiceError {
        ServiceError::InvalidArgument(violations)
    }
}

impl From<StoreError> for ServiceError {
    fn from(err: StoreError) -> ServiceError {
        match err {
            StoreError::Unavailable(reason) => {
                tracing::warn!(%reason, "database unavailable");
                ServiceError::Unavailable("the database is unavailable; retry later".into())
            }
            other => {
                tracing::error!(error = %other, "store error");
                ServiceError::Internal(other.to_string())
            }
        }
    }
}
