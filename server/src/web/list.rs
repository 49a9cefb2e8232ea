//! The task list: filters by status and creation date, search by task id,
//! keyword or prefecture, columns that sort both ways, the count of the
//! tasks the filters match, previous and next pages, rows ticked for an
//! action on several tasks, Stop all, and live progress of the active
//! tasks shown.

use axum::Extension;
use axum::extract::{RawQuery, State};
use axum::http::Uri;
use chrono::{DateTime, NaiveDate, Utc};
use maud::{Markup, html};

use crate::domain::{Outcome, SortKey, Task, TaskOrder, TaskStatus, Violations};
use crate::service::{TaskListRequest, TaskListing, TaskService};
use crate::web::paging::{Trail, nav};
use crate::web::params::Params;
use crate::web::report::{self, Report, tasks};
use crate::web::session::CSRF_FIELD;
use crate::web::{PageError, Shared, Visitor, format, layout};

/// Tasks per page, unless the address asks for another size (at most
/// [`MAX_SIZE`]); the form offers [`SIZES`].
const PAGE_SIZE: i64 = 25;
const SIZES: [i64; 4] = [10, 25, 50, 100];
const MAX_SIZE: i64 = 100;

/// `GET /`: the list of tasks, newest first unless sorted otherwise.
pub async fn page(
    State(web): State<Shared>,
    Extension(visitor): Extension<Visitor>,
    uri: Uri,
    RawQuery(raw): RawQuery,
) -> Result<Markup, PageError> {
    let all = Params::from_query(raw);
    let done = Report::read(all.get(report::FIELD), &web.sessions, &visitor);
    let select_all = all.get("select") == Some("all");
    // Links and forms of this page never carry the report, nor the ticks.
    let params = all.without(&[report::FIELD, "select"]);
    let listing = listing(&params)?;
    let order = listing.order;
    let (tasks_page, total) = web.service.list_tasks_with_total(listing).await?;
    let here = format!("{}{}", uri.path(), params.with_all(&[]));
    let trail = Trail::read(&params, "page", "trail");
    let active: Vec<String> =
        tasks_page.items.iter().filter(|t| t.status.is_active()).map(|t| t.id.to_string()).collect();
    let events = (!active.is_empty()).then(|| format!("/events?ids={}", active.join(",")));
    let operates = visitor.may_operate();
    let body = html! {
        section.list data-events=[events] {
            header.title {
                h1 { "Tasks" }
                p.total { strong #total-count { (tasks(usize::try_from(total).unwrap_or(usize::MAX))) } }
                @if operates { (stop_all(&here, &visitor)) }
            }
            @if let Some(done) = &done { (done.notice()) }
            (filters(&params, order))
            @if tasks_page.items.is_empty() {
                p.empty { "No task matches." " " a href="/tasks/new" { "Start one." } }
            } @else {
                @if operates { (bulk_bar(&params, &here, &visitor)) }
                div.table-wrap {
                    table.tasks {
                        caption.visually-hidden { "Tasks, by " (order) }
                        thead { tr {
                            @if operates {
                                th.select scope="col" {
                                    // The script shows it and ticks every row with it.
                                    input #select-all type="checkbox" aria-label="Select every task of this page" hidden;
                                }
                            }
                            (sort_header("Task", SortKey::Keywords, order, &params))
                            (sort_header("Status", SortKey::Status, order, &params))
                            th scope="col" { "Progress" }
                            th scope="col" { "Operations" } th scope="col" { "Items found" }
                            th scope="col" { "Duration" }
                            (sort_header("Created", SortKey::CreatedAt, order, &params))
                            th scope="col" { span.visually-hidden { "Actions" } }
                        } }
                        tbody {
                            @for task in &tasks_page.items { (row(&web.service, task, &here, &visitor, select_all)) }
                        }
                    }
                }
            }
            (nav("Pages", "/", &params, &trail, tasks_page.next_page_token.as_deref(), ""))
        }
    };
    Ok(layout::page_as(Some(&visitor), "Tasks", body))
}

fn row(service: &TaskService, task: &Task, here: &str, visitor: &Visitor, ticked: bool) -> Markup {
    let progress = service.live_progress(task);
    let c = &progress.counters;
    html! {
        tr data-task=(task.id) data-status=(task.status.as_str()) {
            @if visitor.may_operate() {
                td.select {
                    input type="checkbox" name="task" value=(task.id) form="bulk" checked[ticked]
                        aria-label={ "Select task " (task.id) };
                }
            }
            td.task data-label="Task" {
                a href={ "/tasks/" (task.id) } { code.id { (task.id) } }
                div.sub {
                    span.keywords { (task.spec.keywords.join(", ")) }
                    " · " (format::targets(&task.spec, service.catalog()))
                }
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
            td.actions-cell { (layout::actions(task.id, task.status, here, here, visitor)) }
        }
    }
}

/// A column header that sorts the list by `key`: first the way that column
/// is usually read (newest first, A to Z), then, clicked again, the other
/// way. The order is kept by the filters and the page links; a new order
/// starts at its first page.
fn sort_header(label: &str, key: SortKey, current: TaskOrder, params: &Params) -> Markup {
    let active = current.key == key;
    let target = if active { current.reversed() } else { TaskOrder { key, descending: key == SortKey::CreatedAt } };
    let order = (target != TaskOrder::NEWEST_FIRST).then_some(target.as_str());
    let href = format!("/{}", params.with_all(&[("order", order), ("page", None), ("trail", None)]));
    let sorted = active.then_some(if current.descending { "descending" } else { "ascending" });
    let by = match key {
        SortKey::CreatedAt => "creation time",
        SortKey::Status => "status",
        SortKey::Keywords => "keywords",
    };
    html! {
        th scope="col" aria-sort=[sorted] data-sort=(key.field()) {
            a.sort href=(href) title={ "Sort by " (by) (if target.descending { ", descending" } else { ", ascending" }) } {
                (label)
                @if key == SortKey::Keywords { span.sub { " (keywords)" } }
                @if active { span.arrow aria-hidden="true" { @if current.descending { " ▼" } @else { " ▲" } } }
            }
        }
    }
}

/// Stop all: the script asks first; without it, the server does (see `bulk`).
fn stop_all(here: &str, visitor: &Visitor) -> Markup {
    html! {
        form.stop-all method="post" action="/tasks/stop-all"
            data-confirm="Stop every pending and running task? Operations in flight are aborted; results so far are kept." {
            input type="hidden" name=(CSRF_FIELD) value=(visitor.csrf);
            input type="hidden" name="next" value=(here);
            // Set to "yes" by the script once its dialog is accepted.
            input type="hidden" name="confirmed" value="";
            button.stop type="submit" { "Stop all" }
        }
    }
}

/// The actions on the rows ticked (their checkboxes belong to this form).
fn bulk_bar(params: &Params, here: &str, visitor: &Visitor) -> Markup {
    html! {
        form #bulk .bulk method="post" action="/tasks/bulk" {
            input type="hidden" name=(CSRF_FIELD) value=(visitor.csrf);
            input type="hidden" name="next" value=(here);
            span #selected-count .selected aria-live="polite" {}
            // Without the script: the same page with every row ticked.
            a.select-all href={ "/" (params.with("select", Some("all"))) } { "Select all on this page" }
            button.stop type="submit" name="action" value="stop" data-confirm="Stop the selected tasks?" { "Stop selected" }
            button.restart type="submit" name="action" value="restart"
                data-confirm="Restart the selected tasks? Their current results are replaced by new runs." { "Restart selected" }
            button.delete type="submit" name="action" value="delete"
                data-confirm="Delete the selected tasks? Their results go, and the documents no other task found." { "Delete selected" }
        }
    }
}

/// The filter form, showing the filters in force; it keeps the order.
fn filters(params: &Params, order: TaskOrder) -> Markup {
    let checked: Vec<&str> = params.all("status").collect();
    let size = params.get("size").and_then(|s| s.parse::<i64>().ok()).unwrap_or(PAGE_SIZE);
    // A size from the address stays chosen, offered or not.
    let mut sizes = SIZES.to_vec();
    if !sizes.contains(&size) {
        sizes.push(size);
        sizes.sort_unstable();
    }
    html! {
        form.filters method="get" action="/" role="search" {
            @if order != TaskOrder::NEWEST_FIRST { input type="hidden" name="order" value=(order.as_str()); }
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
            div.field {
                label for="size" { "Per page" }
                select #size name="size" { @for n in sizes { option value=(n) selected[size == n] { (n) } } }
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
    let page_size = match params.get("size").map(str::parse::<i64>) {
        None => PAGE_SIZE,
        Some(Ok(n)) if (1..=MAX_SIZE).contains(&n) => n,
        Some(_) => {
            violations.add("size", format!("must be a number of tasks from 1 to {MAX_SIZE}"));
            PAGE_SIZE
        }
    };
    let request = TaskListRequest {
        statuses,
        created_after,
        created_before,
        query: params.raw("q"),
        page_size,
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
