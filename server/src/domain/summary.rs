//! A task's totals per keyword and per prefecture, from its recorded
//! operations: what GetTask and the task page show.

use crate::domain::{OperationResult, Task};

/// Items found and new documents.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Totals {
    pub items_found: u64,
    pub new_documents: u64,
}

impl Totals {
    fn of<'a>(operations: impl Iterator<Item = &'a OperationResult>) -> Totals {
        operations.fold(Totals::default(), |t, op| Totals {
            items_found: t.items_found + op.outcome.items_found,
            new_documents: t.new_documents + op.new_documents,
        })
    }
}

/// The breakdown of a task's results, in the task's own order: its keywords
/// as given, its target prefectures in catalog order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TaskSummary {
    pub keywords: Vec<(String, Totals)>,
    /// By prefecture code.
    pub prefectures: Vec<(String, Totals)>,
}

impl TaskSummary {
    pub fn of(task: &Task, operations: &[OperationResult]) -> TaskSummary {
        let by = |keys: Vec<&str>, key: fn(&OperationResult) -> &str| -> Vec<(String, Totals)> {
            keys.into_iter().map(|k| (k.to_owned(), Totals::of(operations.iter().filter(|op| key(op) == k)))).collect()
        };
        TaskSummary {
            keywords: by(task.spec.keywords.iter().collect(), OperationResult::keyword),
            prefectures: by(task.spec.targets.iter().map(String::as_str).collect(), OperationResult::prefecture_code),
        }
    }
}
