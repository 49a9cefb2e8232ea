//! The list requests of the API, checked once for every front end: each
//! front end decodes its own wire form (protobuf enums and timestamps, form
//! fields), then hands the rest here, so every problem is reported at once
//! and the rules are the same on gRPC, the dashboard and any other face.

use chrono::{DateTime, Utc};

use crate::catalog::Catalog;
use crate::domain::keywords::MAX_KEYWORD_LEN;
use crate::domain::text::{HIDDEN_OR_CONTROL, is_hidden_or_control};
use crate::domain::{
    DocumentQuery, PageSize, ResultQuery, TaskId, TaskOrder, TaskQuery, TaskStatus, TextQuery, Violations, WatchId,
};
use crate::service::page_token;
use crate::store::{DocumentCursor, OperationCursor, TaskCursor};

/// `ListTasks` as received.
#[derive(Debug, Clone, Default)]
pub struct TaskListRequest<'a> {
    pub statuses: Vec<TaskStatus>,
    pub created_after: Option<DateTime<Utc>>,
    pub created_before: Option<DateTime<Utc>>,
    pub query: &'a str,
    pub page_size: i64,
    pub page_token: &'a str,
    /// Only the runs of this watch (empty: any task).
    pub watch_id: &'a str,
    /// AIP-132: `"created_at desc"` (empty: the default, newest first).
    pub order_by: &'a str,
}

/// A valid `ListTasks`.
#[derive(Debug, Clone)]
pub struct TaskListing {
    pub query: TaskQuery,
    pub order: TaskOrder,
    pub size: PageSize,
    /// Decoded from a page token issued for the same order.
    pub(crate) cursor: Option<TaskCursor>,
}

impl TaskListing {
    pub fn parse(request: TaskListRequest<'_>) -> Result<TaskListing, Violations> {
        let mut violations = Violations::new();
        if let (Some(after), Some(before)) = (request.created_after, request.created_before)
            && after >= before
        {
            violations.add("created_before", "must be later than created_after");
        }
        let mut statuses = Vec::new();
        for status in request.statuses {
            if !statuses.contains(&status) {
                statuses.push(status);
            }
        }
        let text = TextQuery::parse(request.query, &mut violations);
        let size = PageSize::parse(request.page_size, &mut violations);
        let order = TaskOrder::parse(request.order_by, &mut violations);
        let cursor = token(page_token::task_cursor(request.page_token, order), &mut violations);
        let watch = if request.watch_id.trim().is_empty() {
            None
        } else {
            WatchId::parse_field("watch_id", request.watch_id).map_err(|more| violations.0.extend(more.0)).ok()
        };
        violations.into_result(TaskListing {
            query: TaskQuery {
                statuses,
                created_after: request.created_after,
                created_before: request.created_before,
                text,
                watch,
            },
            order,
            size,
            cursor,
        })
    }
}

/// `ListTaskResults` as received (the task id is checked on its own, first).
#[derive(Debug, Clone, Default)]
pub struct ResultListRequest<'a> {
    pub prefecture: &'a str,
    pub keyword: &'a str,
    pub page_size: i64,
    pub page_token: &'a str,
}

/// A valid `ListTaskResults`.
#[derive(Debug, Clone)]
pub struct ResultListing {
    pub task: TaskId,
    pub query: ResultQuery,
    pub size: PageSize,
    pub(crate) cursor: Option<OperationCursor>,
}

impl ResultListing {
    pub fn parse(task: TaskId, request: ResultListRequest<'_>, catalog: &Catalog) -> Result<ResultListing, Violations> {
        let mut violations = Violations::new();
        let query = ResultQuery {
            prefecture_code: prefecture_code(catalog, "prefecture", request.prefecture, &mut violations),
            keyword: keyword(request.keyword, &mut violations),
        };
        let size = PageSize::parse(request.page_size, &mut violations);
        let cursor = token(page_token::operation_cursor(request.page_token), &mut violations);
        violations.into_result(ResultListing { task, query, size, cursor })
    }
}

/// `ListDocuments` as received.
#[derive(Debug, Clone, Default)]
pub struct DocumentListRequest<'a> {
    pub task_id: &'a str,
    pub prefecture: &'a str,
    pub keyword: &'a str,
    pub query: &'a str,
    pub page_size: i64,
    pub page_token: &'a str,
}

/// A valid `ListDocuments`.
#[derive(Debug, Clone)]
pub struct DocumentListing {
    pub query: DocumentQuery,
    pub size: PageSize,
    pub(crate) cursor: Option<DocumentCursor>,
}

impl DocumentListing {
    pub fn parse(request: DocumentListRequest<'_>, catalog: &Catalog) -> Result<DocumentListing, Violations> {
        let mut violations = Violations::new();
        let task = if request.task_id.trim().is_empty() {
            None
        } else {
            match TaskId::parse_field("task_id", request.task_id) {
                Ok(id) => Some(id),
                Err(more) => {
                    violations.0.extend(more.0);
                    None
                }
            }
        };
        let query = DocumentQuery {
            task,
            prefecture_code: prefecture_code(catalog, "prefecture", request.prefecture, &mut violations),
            keyword: keyword(request.keyword, &mut violations),
            text: TextQuery::parse(request.query, &mut violations),
            every_finding: false,
        };
        let size = PageSize::parse(request.page_size, &mut violations);
        let cursor = token(page_token::document_cursor(request.page_token, task.is_some()), &mut violations);
        violations.into_result(DocumentListing { query, size, cursor })
    }
}

/// A valid `PurgeTasks`: finished statuses only (all of them when none is
/// given).
#[derive(Debug, Clone)]
pub struct Purge {
    pub statuses: Vec<TaskStatus>,
    pub completed_before: Option<DateTime<Utc>>,
}

impl Purge {
    pub fn parse(statuses: Vec<TaskStatus>, completed_before: Option<DateTime<Utc>>) -> Result<Purge, Violations> {
        let mut violations = Violations::new();
        for (i, status) in statuses.iter().enumerate() {
            if !status.is_terminal() {
                violations.add(
                    format!("statuses[{i}]"),
                    format!("{status} tasks cannot be purged: only succeeded, failed or cancelled ones"),
                );
            }
        }
        let statuses = if statuses.is_empty() {
            vec![TaskStatus::Succeeded, TaskStatus::Failed, TaskStatus::Cancelled]
        } else {
            statuses
        };
        violations.into_result(Purge { statuses, completed_before })
    }
}

/// A decoded page token, or a violation of `page_token`.
fn token<T, E: std::fmt::Display>(decoded: Result<Option<T>, E>, violations: &mut Violations) -> Option<T> {
    decoded.unwrap_or_else(|e| {
        violations.add("page_token", e.to_string());
        None
    })
}

/// A prefecture given by name or code, as its code, or a violation of `field`.
fn prefecture_code(catalog: &Catalog, field: &str, value: &str, violations: &mut Violations) -> Option<String> {
    let value = value.trim();
    if value.is_empty() {
        return None;
    }
    match catalog.prefecture(value) {
        Some(p) => Some(p.code.clone()),
        None => {
            violations.add(field, format!("unknown prefecture {value:?}: give a name or INSEE code"));
            None
        }
    }
}

/// An optional keyword filter: short, printable, nothing invisible.
fn keyword(value: &str, violations: &mut Violations) -> Option<String> {
    let value = value.trim();
    if value.chars().count() > MAX_KEYWORD_LEN {
        violations.add("keyword", format!("must be at most {MAX_KEYWORD_LEN} characters"));
        return None;
    }
    if value.chars().any(is_hidden_or_control) {
        violations.add("keyword", HIDDEN_OR_CONTROL);
        return None;
    }
    (!value.is_empty()).then(|| value.to_owned())
}

#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::*;

    fn text() -> impl Strategy<Value = String> {
        prop_oneof![3 => "[a-zA-Z0-9 _-]{0,10}", 1 => any::<String>()]
    }

    proptest! {
        #[test]
        fn any_list_request_is_a_listing_within_bounds_or_a_list_of_its_fields(
            query in text(), keyword in text(), prefecture in text(), task_id in text(),
            page_size in any::<i64>(), page_token in text(),
        ) {
            let catalog = crate::catalog::Catalog::builtin();
            let known = ["query", "page_size", "page_token", "created_before", "keyword", "prefecture", "task_id", "order_by"];
            let check = |result: Result<usize, Violations>| -> Result<(), TestCaseError> {
                match result {
                    Ok(size) => prop_assert!((1..=PageSize::MAX).contains(&size)),
                    Err(violations) => {
                        for v in &violations.0 {
                            prop_assert!(known.contains(&v.field.as_str()), "{}", v.field);
                        }
                    }
                }
                Ok(())
            };
            let tasks = TaskListing::parse(TaskListRequest { query: &query, page_size, page_token: &page_token, order_by: &query, ..Default::default() });
            check(tasks.map(|l| l.size.get()))?;
            let documents = DocumentListing::parse(
                DocumentListRequest { task_id: &task_id, prefecture: &prefecture, keyword: &keyword, query: &query, page_size, page_token: &page_token },
                &catalog,
            );
            check(documents.map(|l| l.size.get()))?;
            let results = ResultListing::parse(
                TaskId::new(),
                ResultListRequest { prefecture: &prefecture, keyword: &keyword, page_size, page_token: &page_token },
                &catalog,
            );
            check(results.map(|l| l.size.get()))?;
        }
    }
}
