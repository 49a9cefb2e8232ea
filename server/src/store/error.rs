//! Store errors, sorted by what a caller can do about them.

use diesel::result::{DatabaseErrorKind, Error as DieselError};

/// What went wrong in the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database cannot be reached or is locked: worth retrying later.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// The database URL or setup is wrong.
    #[error("{0}")]
    Config(String),
    /// Migrations could not be applied.
    #[error("migration failed: {0}")]
    Migration(String),
    /// A stored value does not decode (a bug or a hand-edited database).
    #[error("corrupt row: {0}")]
    Corrupt(String),
    #[error("database error: {0}")]
    Query(DieselError),
}

impl StoreError {
    pub(crate) fn from_pool<E: std::fmt::Display>(err: bb8::RunError<E>) -> StoreError {
        StoreError::Unavailable(match err {
            bb8::RunError::User(e) => e.to_string(),
            bb8::RunError::TimedOut => "timed out waiting for a database connection".to_owned(),
        })
    }

    /// Whether retrying the same call later may succeed.
    pub fn is_unavailable(&self) -> bool {
        matches!(self, StoreError::Unavailable(_))
    }
}

impl From<DieselError> for StoreError {
    fn from(err: DieselError) -> StoreError {
        match &err {
            DieselError::DatabaseError(DatabaseErrorKind::ClosedConnection, info) => {
                StoreError::Unavailable(info.message().to_owned())
            }
            DieselError::DatabaseError(DatabaseErrorKind::Unknown, info) if is_transient_message(info.message()) => {
                StoreError::Unavailable(info.message().to_owned())
            }
            DieselError::BrokenTransactionManager => StoreError::Unavailable(err.to_string()),
            _ => StoreError::Query(err),
        }
    }
}

/// SQLite reports a locked or read-only database, and PostgreSQL a dropped
/// connection, without a dedicated error kind.
fn is_transient_message(message: &str) -> bool {
    let message = message.to_ascii_lowercase();
    [
        "database is locked",
        "database table is locked",
        "disk i/o error",
        "unable to open database",
        "readonly database",
        "database or disk is full",
        "connection",
        "terminating",
    ]
    .iter()
    .any(|needle| message.contains(needle))
}
