//! Task identifiers.

use std::fmt;
use std::str::FromStr;

use uuid::Uuid;

/// A task id: a UUIDv7, so ids sort by creation time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TaskId(Uuid);

impl TaskId {
    /// A fresh id for a task created now.
    pub fn new() -> TaskId {
        TaskId(Uuid::now_v7())
    }
}

impl Default for TaskId {
    fn default() -> Self {
        TaskId::new()
    }
}

/// A string that is not a task id.
#[derive(Debug, thiserror::Error)]
#[error("not a task id (expected a UUID such as 0192e3c4-5b6a-7c8d-9e0f-1a2b3c4d5e6f)")]
pub struct InvalidTaskId;

impl FromStr for TaskId {
    type Err = InvalidTaskId;

    fn from_str(s: &str) -> Result<TaskId, InvalidTaskId> {
        Uuid::try_parse(s.trim()).map(TaskId).map_err(|_| InvalidTaskId)
    }
}

impl TaskId {
    /// The task id of request field `field`: required, and a UUID.
    pub fn parse_field(field: &str, value: &str) -> Result<TaskId, crate::domain::Violations> {
        if value.trim().is_empty() {
            return Err(crate::domain::Violations::one(field, "is required"));
        }
        value.parse().map_err(|e: InvalidTaskId| crate::domain::Violations::one(field, e.to_string()))
    }
}

impl fmt::Display for TaskId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.hyphenated().fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_and_sort_by_creation() {
        let first = TaskId::new();
        let second = TaskId::new();
        assert!(first < second);
        assert!(first.to_string() < second.to_string());
        assert_eq!(first.to_string().parse::<TaskId>().ok(), Some(first));
    }

    #[test]
    fn garbage_is_not_an_id() {
        assert!("".parse::<TaskId>().is_err());
        assert!("42".parse::<TaskId>().is_err());
        assert!("0192e3c4-5b6a-7c8d-9e0f-1a2b3c4d5e6g".parse::<TaskId>().is_err());
    }
}
