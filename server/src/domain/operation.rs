//! Operations: one keyword searched on one prefecture's site, and what it
//! found.

use std::time::Duration;

use chrono::{DateTime, Utc};

/// How one operation ended, as its worker records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperationOutcome {
    pub prefecture_code: String,
    pub keyword: String,
    /// Distinct cards kept by the task's filter.
    pub items_found: u64,
    pub pages_fetched: u32,
    pub duration: Duration,
    /// Why it stopped early, after retries; what it found before stays.
    pub error: Option<String>,
}

/// A recorded operation, with the documents it was the first to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperationResult {
    pub outcome: OperationOutcome,
    pub new_documents: u64,
    pub finished_at: DateTime<Utc>,
}

impl OperationResult {
    pub fn prefecture_code(&self) -> &str {
        &self.outcome.prefecture_code
    }

    pub fn keyword(&self) -> &str {
        &self.outcome.keyword
    }
}
