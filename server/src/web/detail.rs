//! The task page: parameters, timestamps, live progress with the current
//! prefecture and keyword, and (in `results`) what the task found and its log.

use axum::Extension;
use axum::extract::{Path, RawQuery, State};
use axum::http::Uri;
use chrono::Utc;
use maud::{Markup, html};

use crate::catalog::Catalog;
use crate::domain::{ExportFormat, Progress, Task};
use crate::service::TaskDetails;
use crate::web::params::Params;
use crate::web::results::{self, Filters};
use crate::web::{PageError, Shared, Visitor, format, layout, task_id};

/// `GET /tasks/{id}`.
pub async fn page(
    State(web): State<Shared>,
    Extension(visitor): Extension<Visitor>,
    Path(id): Path<String>,
    uri: Uri,
    RawQuery(raw): RawQuery,
) -> Result<Markup, PageError> {
    let id = task_id(&id)?;
    let params = Params::from_query(raw);
    let details = web.service.get_task(id).await?;
    let filters = Filters::read(id, &params, web.service.catalog())?;
    let found = results::Found::load(&web.service, &filters).await?;
    let events = web.service.task_events(id).await?;
    let here = uri.path_and_query().map_or("/", |p| p.as_str());
    let task = &details.task;
    let live = (!task.status.is_terminal()).then(|| format!("/tasks/{id}/events"));
    let body = html! {
        article.detail data-task=(id) data-status=(task.status.as_str()) data-events=[live] data-refresh="results log times" {
            header.title {
                h1 { "Task " code.id { (id) } }
                (layout::outcome_badge(task.outcome()))
                (layout::actions(id, task.status, here, "/", &visitor))
            }
            (progress(&details, web.service.catalog()))
            div.columns {
                (parameters(task, web.service.catalog()))
                (timestamps(task))
            }
            (results::section(task, web.service.catalog(), &details.summary, &filters, &found, &params))
            (results::log(&events))
        }
    };
    Ok(layout::page_as(Some(&visitor), &format!("Task {id}"), body))
}

/// The live part: bar, counters, where the task is now.
fn progress(details: &TaskDetails, catalog: &Catalog) -> Markup {
    let p: &Progress = &details.progress;
    let c = &p.counters;
    let now_at = p.current_prefecture.as_deref().map(|code| format::prefecture(catalog, code));
    html! {
        section.live aria-labelledby="progress-title" {
            h2 #progress-title { "Progress" }
            (layout::progress_bar(p))
            dl.counters {
                div { dt { "Operations" } dd { span data-field="completed" { (c.completed_operations) } " / " span data-field="total" { (c.total_operations) } } }
                div { dt { "Items found" } dd data-field="items" { (c.items_found) } }
                div { dt { "New documents" } dd data-field="new_documents" { (c.new_documents) } }
                div { dt { "Pages fetched" } dd data-field="pages" { (c.pages_fetched) } }
                div { dt { "Failed operations" } dd data-field="failed" { (c.failed_operations) } }
                div { dt { "In flight" } dd data-field="in_flight" { (p.in_flight_operations) } }
                div { dt { "Current prefecture" } dd data-field="prefecture" { (now_at.unwrap_or_else(|| "—".into())) } }
                div { dt { "Current keyword" } dd data-field="keyword" { (p.current_keyword.as_deref().unwrap_or("—")) } }
                div { dt { "Duration" } dd data-field="elapsed" {
                    @if p.started_at.is_some() { (format::duration(p.elapsed(Utc::now()))) } @else { "—" }
                } }
            }
            @if let Some(error) = &details.task.error { p.notice.error role="alert" { strong { "Error: " } (error) } }
            @if let Some(error) = &details.export_error { p.notice.error role="alert" { strong { "Export failed: " } (error) } }
        }
    }
}

fn parameters(task: &Task, catalog: &Catalog) -> Markup {
    let spec = &task.spec;
    let none = || html! { span.none { "—" } };
    html! {
        section aria-labelledby="parameters-title" {
            h2 #parameters-title { "Parameters" }
            dl.pairs {
                dt { "Keywords" } dd { (spec.keywords.join(", ")) }
                dt { "Excluded keywords" } dd { @if spec.exclude_keywords.is_empty() { (none()) } @else { (spec.exclude_keywords.join(", ")) } }
                dt { "Regions" } dd {
                    @if spec.regions.is_empty() { (none()) }
                    @else { (spec.regions.iter().map(|r| catalog.region_name(r)).collect::<Vec<_>>().join(", ")) }
                }
                dt { "Prefectures" } dd {
                    @if spec.prefectures.is_empty() { (none()) }
                    @else { (spec.prefectures.iter().map(|p| format::prefecture(catalog, p)).collect::<Vec<_>>().join(", ")) }
                }
                dt { "Searched" } dd {
                    details {
                        summary { (spec.targets.len()) " prefecture(s) × " (spec.keywords.len()) " keyword(s)" }
                        (spec.targets.iter().map(|p| format::prefecture(catalog, p)).collect::<Vec<_>>().join(", "))
                    }
                }
                dt { "Days limit" } dd { @match spec.days_limit { Some(days) => { (days) " days" }, None => (none()) } }
                dt { "Export" } dd {
                    @match &spec.export {
                        Some(e) => { code { (e.file_name) } " (" (e.format.as_str().to_uppercase()) ")" },
                        None => (none()),
                    }
                }
                @if let Some(request_id) = &spec.request_id { dt { "Request id" } dd { code { (request_id) } } }
            }
            p.downloads {
                "Download the results: "
                @for (i, f) in ExportFormat::ALL.into_iter().enumerate() {
                    @if i > 0 { " · " }
                    a href={ "/tasks/" (task.id) "/export?format=" (f.as_str()) } download { (f.as_str().to_uppercase()) }
                }
            }
        }
    }
}

fn timestamps(task: &Task) -> Markup {
    html! {
        section #times aria-labelledby="times-title" {
            h2 #times-title { "Timestamps" }
            dl.pairs {
                dt { "Created" } dd { (layout::time(Some(task.created_at))) }
                dt { "Started" } dd { (layout::time(task.started_at)) }
                dt { "Completed" } dd { (layout::time(task.completed_at)) }
                dt { "Updated" } dd { (layout::time(Some(task.updated_at))) }
            }
        }
    }
}
