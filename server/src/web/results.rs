//! What a task found, on its page: totals per keyword and prefecture, one
//! row per operation and the documents (both filterable by prefecture and
//! keyword, both paginated), and the task's log.

use chrono::TimeDelta;
use maud::{Markup, html};
use scrape_api::pb;

use crate::catalog::Catalog;
use crate::domain::{EventKind, Task, TaskEvent, Violations};
use crate::grpc::tasks::token;
use crate::service::{Page, TaskService, document_cursor, operation_cursor};
use crate::store::{DocumentCursor, DocumentFilter, OperationCursor, OperationFilter, RecordedOperation, StoredCard};
use crate::web::params::Params;
use crate::web::{PageError, format, layout};

/// Operation rows and documents per page.
const OPERATIONS_PAGE: usize = 200;
const DOCUMENTS_PAGE: usize = 50;

/// The filters of the results, from the page's query string.
#[derive(Debug)]
pub struct Filters {
    prefecture: Option<String>,
    keyword: Option<String>,
    operations_from: Option<OperationCursor>,
    documents_from: Option<DocumentCursor>,
}

impl Filters {
    pub fn read(params: &Params, catalog: &Catalog) -> Result<Filters, PageError> {
        let mut violations = Violations::new();
        let prefecture = params.get("prefecture").and_then(|value| match catalog.prefecture(value) {
            Some(p) => Some(p.code.clone()),
            None => {
                violations.add("prefecture", format!("unknown prefecture {value:?}"));
                None
            }
        });
        let keyword = params.get("keyword").map(str::to_owned);
        let operations_from = token(operation_cursor(params.raw("ops")), &mut violations);
        let documents_from = token(document_cursor(params.raw("docs"), true), &mut violations);
        violations.into_result(())?;
        Ok(Filters { prefecture, keyword, operations_from, documents_from })
    }
}

/// One page of operations and one of documents.
#[derive(Debug)]
pub struct Found {
    operations: Page<RecordedOperation>,
    documents: Page<StoredCard>,
}

impl Found {
    pub async fn load(service: &TaskService, task: &Task, filters: &Filters) -> Result<Found, PageError> {
        let (prefecture_code, keyword) = (filters.prefecture.clone(), filters.keyword.clone());
        let operations = service
            .list_task_results(
                task.id,
                OperationFilter { prefecture_code: prefecture_code.clone(), keyword: keyword.clone() },
                OPERATIONS_PAGE,
                filters.operations_from.clone(),
            )
            .await?;
        let documents = service
            .list_documents(
                DocumentFilter { task: Some(task.id), prefecture_code, keyword, query: None },
                DOCUMENTS_PAGE,
                filters.documents_from.clone(),
            )
            .await?;
        Ok(Found { operations, documents })
    }
}

/// The results section (refreshed by the script while the task runs).
pub fn section(
    task: &Task,
    catalog: &Catalog,
    summary: Option<&pb::TaskSummary>,
    filters: &Filters,
    found: &Found,
    params: &Params,
) -> Markup {
    let base = format!("/tasks/{}", task.id);
    html! {
        section #results aria-labelledby="results-title" {
            h2 #results-title { "Results" }
            @if let Some(summary) = summary { (totals(summary)) }
            h3 #operations { "Per operation" }
            form.filters method="get" action=(base) {
                div.field {
                    label for="f-prefecture" { "Prefecture" }
                    select #f-prefecture name="prefecture" {
                        option value="" { "All" }
                        @for code in &task.spec.targets {
                            option value=(code) selected[filters.prefecture.as_deref() == Some(code.as_str())] { (format::prefecture(catalog, code)) }
                        }
                    }
                }
                div.field {
                    label for="f-keyword" { "Keyword" }
                    select #f-keyword name="keyword" {
                        option value="" { "All" }
                        @for k in &task.spec.keywords { option value=(k) selected[filters.keyword.as_deref() == Some(k.as_str())] { (k) } }
                    }
                }
                div.field.buttons { button type="submit" { "Filter" } a href={ (base) "#operations" } { "Clear" } }
            }
            @if found.operations.items.is_empty() { p.empty { "No operation has finished yet." } } @else {
                div.table-wrap { table.operations {
                    thead { tr {
                        th scope="col" { "Prefecture" } th scope="col" { "Keyword" } th scope="col" { "Items found" }
                        th scope="col" { "New documents" } th scope="col" { "Pages" } th scope="col" { "Duration" } th scope="col" { "Error" }
                    } }
                    tbody { @for op in &found.operations.items { (operation(op, catalog)) } }
                } }
            }
            @if let Some(next) = &found.operations.next_page_token {
                p { a href={ (base) (params.with("ops", Some(next))) "#operations" } { "More operations →" } }
            }
            h3 #documents { "Documents found" }
            @if found.documents.items.is_empty() { p.empty { "No document." } } @else {
                ul.documents { @for doc in &found.documents.items { (document(doc, catalog)) } }
            }
            @if let Some(next) = &found.documents.next_page_token {
                p { a href={ (base) (params.with("docs", Some(next))) "#documents" } { "More documents →" } }
            }
        }
    }
}

fn totals(summary: &pb::TaskSummary) -> Markup {
    html! {
        div.columns {
            table.summary {
                caption { "Per keyword" }
                thead { tr { th scope="col" { "Keyword" } th scope="col" { "Items" } th scope="col" { "New" } } }
                tbody { @for k in &summary.keywords { tr { th scope="row" { (k.keyword) } td.num { (k.items_found) } td.num { (k.new_documents) } } } }
            }
            table.summary {
                caption { "Per prefecture (with results)" }
                thead { tr { th scope="col" { "Prefecture" } th scope="col" { "Items" } th scope="col" { "New" } } }
                tbody {
                    @for p in summary.prefectures.iter().filter(|p| p.items_found > 0) {
                        tr { th scope="row" { (p.prefecture_name) " (" (p.prefecture_code) ")" } td.num { (p.items_found) } td.num { (p.new_documents) } }
                    }
                }
            }
        }
    }
}

fn operation(op: &RecordedOperation, catalog: &Catalog) -> Markup {
    let r = &op.record;
    let duration = TimeDelta::from_std(r.duration).map(format::duration).unwrap_or_default();
    html! {
        tr.failed[r.error.is_some()] data-prefecture=(r.prefecture_code) data-keyword=(r.keyword) {
            td data-label="Prefecture" { (format::prefecture(catalog, &r.prefecture_code)) }
            td data-label="Keyword" { (r.keyword) }
            td.num data-label="Items found" data-field="op-items" { (r.items_found) }
            td.num data-label="New documents" { (op.new_documents) }
            td.num data-label="Pages" { (r.pages_fetched) }
            td data-label="Duration" { (duration) }
            td data-label="Error" { @if let Some(e) = &r.error { span.error-text { (e) } } @else { span.none { "—" } } }
        }
    }
}

fn document(doc: &StoredCard, catalog: &Catalog) -> Markup {
    html! {
        li data-prefecture=(doc.prefecture_code) data-keyword=(doc.keyword) {
            a href=(doc.link) rel="noreferrer" { @if doc.title.is_empty() { (doc.link) } @else { (doc.title) } }
            @if !doc.description.is_empty() { p { (doc.description) } }
            p.meta {
                @if doc.date_label.is_empty() { "Undated" } @else { (doc.date_label) }
                " · " (format::prefecture(catalog, &doc.prefecture_code)) " · " (doc.keyword)
            }
        }
    }
}

/// The task's log, errors marked.
pub fn log(events: &[TaskEvent]) -> Markup {
    html! {
        section #log aria-labelledby="log-title" {
            h2 #log-title { "Log" }
            div.table-wrap { table.log {
                thead { tr { th scope="col" { "When" } th scope="col" { "Event" } th scope="col" { "Message" } } }
                tbody {
                    @for e in events {
                        tr.failed[matches!(e.kind, EventKind::OperationFailed | EventKind::Failed)] {
                            td data-label="When" { (layout::time(Some(e.at))) }
                            td data-label="Event" { (e.kind.as_str().replace('_', " ")) }
                            td data-label="Message" { (e.message) }
                        }
                    }
                }
            } }
        }
    }
}
