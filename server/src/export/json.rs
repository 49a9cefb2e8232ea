//! One JSON document: `{"task": …, "operations": […], "documents": […]}`.

use serde_json::{Value, json};

use crate::catalog::Catalog;
use crate::domain::{Document, OperationResult, Task};
use crate::export::{Format, prefecture_name};

#[derive(Debug, Default)]
pub(super) struct Json {
    documents: u64,
}

fn time(at: Option<chrono::DateTime<chrono::Utc>>) -> Value {
    at.map_or(Value::Null, |at| Value::String(at.to_rfc3339()))
}

impl Format for Json {
    fn header(&mut self, out: &mut Vec<u8>, task: &Task, operations: &[OperationResult], catalog: &Catalog) {
        let c = &task.counters;
        let head = json!({
            "id": task.id.to_string(),
            "status": task.status.as_str(),
            "keywords": task.spec.keywords.as_slice(),
            "prefectures": task.spec.targets,
            "exclude_keywords": task.spec.exclude_keywords.as_slice(),
            "days_limit": task.spec.days_limit,
            "created_at": time(Some(task.created_at)),
            "started_at": time(task.started_at),
            "completed_at": time(task.completed_at),
            "items_found": c.items_found,
            "new_documents": c.new_documents,
            "pages_fetched": c.pages_fetched,
            "failed_operations": c.failed_operations,
            "error": task.error,
        });
        let operations: Vec<Value> = operations
            .iter()
            .map(|op| {
                let r = &op.outcome;
                json!({
                    "prefecture_code": r.prefecture_code,
                    "prefecture_name": prefecture_name(catalog, &r.prefecture_code),
                    "keyword": r.keyword,
                    "items_found": r.items_found,
                    "new_documents": op.new_documents,
                    "pages_fetched": r.pages_fetched,
                    "duration_ms": r.duration.as_millis() as u64,
                    "error": r.error,
                })
            })
            .collect();
        out.extend_from_slice(b"{\"task\":");
        out.extend_from_slice(head.to_string().as_bytes());
        out.extend_from_slice(b",\"operations\":");
        out.extend_from_slice(Value::Array(operations).to_string().as_bytes());
        out.extend_from_slice(b",\"documents\":[\n");
    }

    fn document(&mut self, out: &mut Vec<u8>, doc: &Document, catalog: &Catalog) {
        if self.documents > 0 {
            out.extend_from_slice(b",\n");
        }
        self.documents += 1;
        let entry = json!({
            "prefecture_code": doc.prefecture_code,
            "prefecture_name": prefecture_name(catalog, &doc.prefecture_code),
            "keyword": doc.keyword,
            "link": doc.link,
            "title": doc.title,
            "description": doc.description,
            "published_on": doc.published_on_text(),
            "date_label": doc.date_label,
            "first_seen_at": doc.first_seen_at.to_rfc3339(),
        });
        out.extend_from_slice(entry.to_string().as_bytes());
    }

    fn footer(&mut self, out: &mut Vec<u8>) {
        out.extend_from_slice(b"\n]}\n");
    }
}
