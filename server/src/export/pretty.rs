//! Text for people: the task, then its documents under one heading per
//! prefecture and keyword.

use std::collections::HashMap;
use std::io::Write;

use crate::catalog::Catalog;
use crate::domain::{Document, OperationResult, Task};
use crate::export::{Format, prefecture_name};

type Totals = (u64, u64, u32);

#[derive(Debug)]
pub(super) struct Pretty {
    /// (items found, new documents, pages) per (prefecture, keyword).
    operations: HashMap<(String, String), Totals>,
    current: Option<(String, String)>,
}

impl Pretty {
    pub(super) fn new(operations: &[OperationResult]) -> Pretty {
        let operations = operations
            .iter()
            .map(|op| {
                let r = &op.outcome;
                ((r.prefecture_code.clone(), r.keyword.clone()), (r.items_found, op.new_documents, r.pages_fetched))
            })
            .collect();
        Pretty { operations, current: None }
    }
}

fn when(at: Option<chrono::DateTime<chrono::Utc>>) -> String {
    at.map_or_else(|| "-".to_owned(), |at| at.format("%Y-%m-%d %H:%M:%S UTC").to_string())
}

impl Format for Pretty {
    fn header(&mut self, out: &mut Vec<u8>, task: &Task, operations: &[OperationResult], _catalog: &Catalog) {
        let c = &task.counters;
        let _ = writeln!(out, "Task {} — {}", task.id, task.status);
        let _ = writeln!(
            out,
            "Keywords: {} · {} prefecture(s) · {} items · {} new documents · {} pages",
            task.spec.keywords.join(", "),
            task.spec.targets.len(),
            c.items_found,
            c.new_documents,
            c.pages_fetched
        );
        if !task.spec.exclude_keywords.is_empty() {
            let _ = writeln!(out, "Excluded: {}", task.spec.exclude_keywords.join(", "));
        }
        if let Some(days) = task.spec.days_limit {
            let _ = writeln!(out, "Only the last {days} days");
        }
        let _ = writeln!(
            out,
            "Created {} · started {} · completed {}",
            when(Some(task.created_at)),
            when(task.started_at),
            when(task.completed_at)
        );
        let failed: Vec<_> = operations.iter().filter(|op| op.outcome.error.is_some()).collect();
        for op in failed {
            let _ = writeln!(
                out,
                "Failed: {} / {}: {}",
                op.outcome.prefecture_code,
                op.outcome.keyword,
                op.outcome.error.as_deref().unwrap_or_default()
            );
        }
    }

    fn document(&mut self, out: &mut Vec<u8>, doc: &Document, catalog: &Catalog) {
        let key = (doc.prefecture_code.clone(), doc.keyword.clone());
        if self.current.as_ref() != Some(&key) {
            let (items, new, pages) = self.operations.get(&key).cloned().unwrap_or_default();
            let _ = writeln!(
                out,
                "\n== {} ({}) — {}: {items} items, {new} new, {pages} pages ==",
                prefecture_name(catalog, &doc.prefecture_code),
                doc.prefecture_code,
                doc.keyword
            );
            self.current = Some(key);
        }
        let published = doc.published_on_text();
        let dated = if published.is_empty() { String::new() } else { format!(" ({published})") };
        let _ = writeln!(out, "* {}{dated}", doc.title);
        let _ = writeln!(out, "  {}", doc.link);
        if !doc.description.is_empty() {
            let _ = writeln!(out, "  {}", doc.description);
        }
    }

    fn footer(&mut self, _out: &mut Vec<u8>) {}
}
