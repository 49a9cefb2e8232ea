//! What a client asks of a list: filters without any of the store's
//! planning, and the free-text query they may carry.

use chrono::{DateTime, Utc};

use crate::domain::text::{HIDDEN_OR_CONTROL, fold, is_hidden_or_control};
use crate::domain::{TaskId, TaskStatus, Violations, WatchId};

/// Longest free-text query accepted, in characters.
pub const MAX_QUERY_LEN: usize = 200;

/// A free-text query: trimmed, non-empty, short and printable, and its
/// folded form (what is matched against folded text).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextQuery {
    text: String,
    folded: String,
}

impl TextQuery {
    /// The query of request field `query`, `None` when blank.
    pub fn parse(value: &str, violations: &mut Violations) -> Option<TextQuery> {
        let value = value.trim();
        if value.chars().count() > MAX_QUERY_LEN {
            violations.add("query", format!("must be at most {MAX_QUERY_LEN} characters"));
            None
        } else if value.chars().any(is_hidden_or_control) {
            violations.add("query", HIDDEN_OR_CONTROL);
            None
        } else {
            (!value.is_empty()).then(|| TextQuery { text: value.to_owned(), folded: fold(value) })
        }
    }

    /// The query as typed (trimmed).
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Case, accents and punctuation folded away; `None` when nothing is
    /// left to match (a query of punctuation only).
    pub fn folded(&self) -> Option<&str> {
        (!self.folded.is_empty()).then_some(self.folded.as_str())
    }
}

/// Which tasks to list (all filters combine).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TaskQuery {
    /// Any of these (all when empty).
    pub statuses: Vec<TaskStatus>,
    pub created_after: Option<DateTime<Utc>>,
    pub created_before: Option<DateTime<Utc>>,
    /// Matches a task id, a keyword, or a prefecture or region name or code.
    pub text: Option<TextQuery>,
    /// Only the runs of this watch.
    pub watch: Option<WatchId>,
}

/// Which operation results of a task to list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResultQuery {
    pub prefecture_code: Option<String>,
    /// In the task's own spelling.
    pub keyword: Option<String>,
}

/// Which documents to list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DocumentQuery {
    /// Those this task found (with the prefecture and keyword it found them
    /// under); all documents otherwise.
    pub task: Option<TaskId>,
    pub prefecture_code: Option<String>,
    pub keyword: Option<String>,
    /// Words of the title or description.
    pub text: Option<TextQuery>,
    /// In a task's documents: once per keyword that found each (as exports
    /// group them), instead of once per document.
    pub every_finding: bool,
}
