//! What a task found, on its page: totals per keyword and prefecture, one
//! row per operation and the documents (both filterable by prefecture and
//! keyword, both paged forwards and back), and the task's log.

use chrono::TimeDelta;
use maud::{Markup, html};

use crate::catalog::Catalog;
use crate::domain::{Document, OperationResult, Task, TaskEvent, TaskId, TaskSummary, Totals};
use crate::service::{DocumentListRequest, DocumentListing, Page, ResultListRequest, ResultListing, TaskService};
use crate::web::paging::{Trail, nav};
use crate::web::params::Params;
use crate::web::{PageError, format, layout};

/// Operation rows and documents per page.
const OPERATIONS_PAGE: i64 = 200;
const DOCUMENTS_PAGE: i64 = 50;

/// The filters of the results, from the page's query string: the
/// service's listings of the task's operations and documents.
#[derive(Debug)]
pub struct Filters {
    prefecture: Option<String>,
    keyword: Option<String>,
    operations: ResultListing,
    documents: DocumentListing,
}

impl Filters {
    pub fn read(id: TaskId, params: &Params, catalog: &Catalog) -> Result<Filters, PageError> {
        let prefecture = params.raw("prefecture");
        let keyword = params.raw("keyword");
        let operations = ResultListing::parse(
            id,
            ResultListRequest { prefecture, keyword, page_size: OPERATIONS_PAGE, page_token: params.raw("ops") },
            catalog,
        );
        let task_id = id.to_string();
        let documents = DocumentListing::parse(
            DocumentListRequest {
                task_id: &task_id,
                prefecture,
                keyword,
                query: "",
                page_size: DOCUMENTS_PAGE,
                page_token: params.raw("docs"),
            },
            catalog,
        );
        let (operations, documents) = match (operations, documents) {
            (Ok(operations), Ok(documents)) => (operations, documents),
            (Err(mut first), second) => {
                // The same filter fields are checked for both lists: name each problem once.
                if let Err(more) = second {
                    first.0.extend(more.0.into_iter().filter(|v| v.field == "page_token"));
                }
                return Err(first.into());
            }
            (Ok(_), Err(violations)) => return Err(violations.into()),
        };
        Ok(Filters {
            prefecture: operations.query.prefecture_code.clone(),
            keyword: operations.query.keyword.clone(),
            operations,
            documents,
        })
    }
}

/// One page of operations and one of documents.
#[derive(Debug)]
pub struct Found {
    operations: Page<OperationResult>,
    documents: Page<Document>,
}

impl Found {
    pub async fn load(service: &TaskService, filters: &Filters) -> Result<Found, PageError> {
        let operations = service.list_task_results(filters.operations.clone()).await?;
        let documents = service.list_documents(filters.documents.clone()).await?;
        Ok(Found { operations, documents })
    }
}

/// The results section (refreshed by the script while the task runs).
pub fn section(
    task: &Task,
    catalog: &Catalog,
    summary: &TaskSummary,
    filters: &Filters,
    found: &Found,
    params: &Params,
) -> Markup {
    let base = format!("/tasks/{}", task.id);
    html! {
        section #results aria-labelledby="results-title" {
            h2 #results-title { "Results" }
            (totals(summary, catalog))
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
                        @for k in task.spec.keywords.iter() { option value=(k) selected[filters.keyword.as_deref() == Some(k)] { (k) } }
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
            (nav("Pages of operations", &base, params, &Trail::read(params, "ops", "ops_trail"),
                found.operations.next_page_token.as_deref(), "#operations"))
            h3 #documents { "Documents found" }
            @if found.documents.items.is_empty() { p.empty { "No document." } } @else {
                ul.documents { @for doc in &found.documents.items { (document(doc, catalog)) } }
            }
            (nav("Pages of documents", &base, params, &Trail::read(params, "docs", "docs_trail"),
                found.documents.next_page_token.as_deref(), "#documents"))
        }
    }
}

fn totals(summary: &TaskSummary, catalog: &Catalog) -> Markup {
    let with_results = summary.prefectures.iter().filter(|(_, t): &&(String, Totals)| t.items_found > 0);
    html! {
        div.columns {
            table.summary {
                caption { "Per keyword" }
                thead { tr { th scope="col" { "Keyword" } th scope="col" { "Items" } th scope="col" { "New" } } }
                tbody { @for (keyword, t) in &summary.keywords { tr { th scope="row" { (keyword) } td.num { (t.items_found) } td.num { (t.new_documents) } } } }
            }
            table.summary {
                caption { "Per prefecture (with results)" }
                thead { tr { th scope="col" { "Prefecture" } th scope="col" { "Items" } th scope="col" { "New" } } }
                tbody {
                    @for (code, t) in with_results {
                        tr { th scope="row" { (format::prefecture(catalog, code)) } td.num { (t.items_found) } td.num { (t.new_documents) } }
                    }
                }
            }
        }
    }
}

fn operation(op: &OperationResult, catalog: &Catalog) -> Markup {
    let r = &op.outcome;
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

fn document(doc: &Document, catalog: &Catalog) -> Markup {
    html! {
        li data-prefecture=(doc.prefecture_code) data-keyword=(doc.keyword) {
            a href=(doc.link) rel="noreferrer" { @if doc.title.is_empty() { (doc.link) } @else { (doc.title) } }
            @if !doc.description.is_empty() { p { (doc.description) } }
            p.meta {
                @if doc.date_label.is_empty() { "Undated" } @else { (doc.date_label) }
                " · " (format::prefecture(catalog, &doc.prefecture_code)) " · " (doc.keywords.join(", "))
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
                        tr.failed[e.kind.is_failure()] {
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
