//! The task list: filters by status and creation date, search by task id,
//! keyword or prefecture, keyset pagination, and live progress of the
//! active tasks shown.

use axum::Extension;
use axum::extract::{RawQuery, State};
use axum::http::Uri;
use chrono::{DateTime, NaiveDate, Utc};
use maud::{Markup, html};

use crate::domain::{Outcome, Task, TaskStatus, Violations};
use crate::service::{TaskListRequest, TaskListing, TaskService};
use crate::web::params::Params;
use crate::web::{PageError, Shared, Visitor, format, layout};

/// Tasks per page.
const PAGE_SIZE: i64 = 25;

/// `GET /`: the list of tasks, newest first.
pub async fn page(
    State(web): State<Shared>,
    Extension(visitor): Extension<Visitor>,
    uri: Uri,
    RawQuery(raw): RawQuery,
) -> Result<Markup, PageError> {
    let params = Params::from_query(raw);
    let tasks = web.service.list_tasks(listing(&params)?).await?;
    let here = uri.path_and_query().map_or("/", |p| p.as_str());
    let active: Vec<String> = tasks.items.iter().filter(|t| t.status.is_active()).map(|t| t.id.to_string()).collect();
    let events = (!active.is_empty()).then(|| format!("/events?ids={}", active.join(",")));
    let body = html! {
        section.list data-events=[events] {
            h1 { "Tasks" }
            (filters(&params))
            @if tasks.items.is_empty() {
                p.empty { "No task matches." " " a href="/tasks/new" { "Start one." } }
            } @else {
                div.table-wrap {
                    table.tasks {
                        caption.visually-hidden { "Tasks, newest first" }
                        thead { tr {
                            th scope="col" { "Task" } th scope="col" { "Status" } th scope="col" { "Progress" }
                            th scope="col" { "Operations" } th scope="col" { "Items found" }
                            th scope="col" { "Duration" } th scope="col" { "Created" }
                            th scope="col" { span.visually-hidden { "Actions" } }
                        } }
                        tbody { @for task in &tasks.items { (row(&web.service, task, here, &visitor)) } }
                    }
                }
            }
            nav.pages aria-label="Pages" {
                @if params.get("page").is_some() { a href={ "/" (params.with("page", None)) } { "← First page" } }
                @if let Some(next) = &tasks.next_page_token {
                    a rel="next" href={ "/" (params.with("page", Some(next))) } { "Next page →" }
                }
            }
        }
    };
    Ok(layout::page_as(Some(&visitor), "Tasks", body))
}

fn row(service: &TaskService, task: &Task, here: &str, visitor: &Visitor) -> Markup {
    let progress = service.live_progress(task);
    let c = &progress.counters;
    html! {
        tr data-task=(task.id) data-status=(task.status.as_str()) {
            td.task data-label="Task" {
                a href={ "/tasks/" (task.id) } { code.id { (task.id) } }
                div.sub { (task.spec.keywords.join(", ")) " · " (format::targets(&task.spec, service.catalog())) }
            }
            td data-label="Status" { (layout::outcome_badge(Outcome::of(progress.status, c))) }
            td data-label="Progress" { (layout::progress_bar(&progress)) }
            td.num data-label="Operations" {
                span { span data-field="completed" { (c.completed_operations) } " / " span data-field="total" { (c.total_operations) } }
            }
            td.num data-label="Items found" { span data-field="items" { (c.items_found) } }
            td data-label="Duration" {
                span data-field="elapsed" {
                    @if progress.started_at.is_some() { (format::duration(progress.elapsed(Utc::now()))) } @else { "—" }
                }
            }
            td data-label="Created" { (layout::time(Some(task.created_at))) }
            td.actions-cell { (layout::actions(task.id, task.status, here, visitor)) }
        }
    }
}

/// The filter form, showing the filters in force.
fn filters(params: &Params) -> Markup {
    let checked: Vec<&str> = params.all("status").collect();
    html! {
        form.filters method="get" action="/" role="search" {
            fieldset.statuses {
                legend { "Status" }
                @for status in TaskStatus::ALL {
                    label.check {
                        input type="checkbox" name="status" value=(status.as_str())
                            checked[checked.iter().any(|s| TaskStatus::from_name(s) == Some(status))];
                        (layout::badge(status))
                    }
                }
            }
            div.field { label for="from" { "Created from" } input #from type="date" name="from" value=(params.raw("from")); }
            div.field { label for="to" { "to" } input #to type="date" name="to" value=(params.raw("to")); }
            div.field.grow {
                label for="q" { "Search" }
                input #q type="search" name="q" value=(params.raw("q")) placeholder="task id, keyword or prefecture";
            }
            div.field.buttons {
                button type="submit" { "Filter" }
                a href="/" { "Clear" }
            }
        }
    }
}

/// The listing the query string asks for, every problem reported at once.
fn listing(params: &Params) -> Result<TaskListing, PageError> {
    let mut violations = Violations::new();
    let mut statuses = Vec::new();
    for (i, name) in params.all("status").enumerate() {
        match TaskStatus::from_name(name) {
            Some(status) => statuses.push(status),
            None => violations.add(format!("status[{i}]"), format!("{name:?} is not a task status")),
        }
    }
    let created_after = day("from", params.get("from"), 0, &mut violations);
    // The "to" day is included: tasks created before the next midnight.
    let mut created_before = day("to", params.get("to"), 1, &mut violations);
    if let (Some(after), Some(before)) = (created_after, created_before)
        && after >= before
    {
        violations.add("to", "must not be before the \"from\" day");
        created_before = None;
    }
    let request = TaskListRequest {
        statuses,
        created_after,
        created_before,
        query: params.raw("q"),
        page_size: PAGE_SIZE,
        page_token: params.raw("page"),
        watch_id: params.raw("watch"),
        order_by: params.raw("order"),
    };
    Ok(violations.and(TaskListing::parse(request))?)
}

/// Midnight UTC of a `YYYY-MM-DD` day, `plus_days` later.
fn day(field: &str, value: Option<&str>, plus_days: u64, violations: &mut Violations) -> Option<DateTime<Utc>> {
    let value = value?;
    let midnight = NaiveDate::parse_from_str(value, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.checked_add_days(chrono::Days::new(plus_days)))
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc());
    if midnight.is_none() {
        violations.add(field, format!("{value:?} is not a day (YYYY-MM-DD)"));
    }
    midnight
}
