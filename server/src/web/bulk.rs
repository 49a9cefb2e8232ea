//! Actions on several tasks from the list: the rows ticked (stop, restart
//! or delete them) or every pending and running task (Stop all, asked
//! first); then back to the list, which says how many were done and which
//! were refused, and why.

use axum::Extension;
use axum::body::Bytes;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use maud::html;

use crate::domain::{TaskId, TaskStatus, Violations};
use crate::service::{TaskAction, TaskListRequest, TaskListing};
use crate::web::params::{Params, local_path};
use crate::web::report::{Report, tasks};
use crate::web::session::CSRF_FIELD;
use crate::web::{PageError, Shared, Visitor, layout};

/// `POST /tasks/bulk`: `action` (`stop`, `restart` or `delete`), `task`
/// once per row ticked, `next` the page to go back to.
pub async fn selected(
    State(web): State<Shared>,
    Extension(visitor): Extension<Visitor>,
    body: Bytes,
) -> Result<Redirect, PageError> {
    let params = Params::parse(&body);
    let mut violations = Violations::new();
    let action = params.get("action").and_then(TaskAction::from_name);
    if action.is_none() {
        violations.add("action", "must be stop, restart or delete");
    }
    let mut ids: Vec<TaskId> = Vec::new();
    for (i, text) in params.all("task").enumerate() {
        match text.parse() {
            Ok(id) => ids.push(id),
            Err(_) => violations.add(format!("task[{i}]"), format!("{text:?} is not a task id")),
        }
    }
    if ids.is_empty() && violations.is_empty() {
        violations.add("task", "tick at least one task");
    }
    let (Some(action), true) = (action, violations.is_empty()) else {
        return Err(violations.into());
    };
    let applied = web.service.apply_to_each(action, &ids).await?;
    let next = local_path(params.get("next"), "/".to_owned());
    Ok(Redirect::to(&Report::of(action, &applied).onto(&next, &web.sessions, &visitor)))
}

/// `POST /tasks/stop-all`: with `confirmed=yes` (sent by the script once
/// its dialog is accepted, or by the button of the confirmation page),
/// stops every pending and running task; without, shows the confirmation
/// page, so that it is asked first even without the script.
pub async fn stop_all(
    State(web): State<Shared>,
    Extension(visitor): Extension<Visitor>,
    body: Bytes,
) -> Result<Response, PageError> {
    let params = Params::parse(&body);
    let next = local_path(params.get("next"), "/".to_owned());
    if params.get("confirmed") == Some("yes") {
        let stopped = web.service.stop_all_tasks().await?;
        return Ok(Redirect::to(&Report::stopped_all(stopped).onto(&next, &web.sessions, &visitor)).into_response());
    }
    let request = TaskListRequest {
        statuses: vec![TaskStatus::Pending, TaskStatus::Running],
        page_size: 1,
        ..TaskListRequest::default()
    };
    let (_, active) = web.service.list_tasks_with_total(TaskListing::parse(request)?).await?;
    let body = html! {
        section.confirm {
            h1 { "Stop all tasks?" }
            p { "This stops every pending and running task: " strong #active-count { (tasks(usize::try_from(active).unwrap_or(usize::MAX))) } " now. "
                "Operations in flight are aborted; results so far are kept." }
            form method="post" action="/tasks/stop-all" {
                input type="hidden" name=(CSRF_FIELD) value=(visitor.csrf);
                input type="hidden" name="next" value=(next);
                input type="hidden" name="confirmed" value="yes";
                div.buttons { button.stop type="submit" { "Stop all" } a href=(next) { "Cancel" } }
            }
        }
    };
    Ok(layout::page_as(Some(&visitor), "Stop all tasks?", body).into_response())
}
