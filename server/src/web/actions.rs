//! The buttons of one task: stop a pending or running task, restart or
//! delete a finished one. Each posts a form, then goes back to the page it
//! came from (or, after a delete, to the list, which says so).

use axum::Extension;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::response::Redirect;

use crate::service::{Applied, TaskAction};
use crate::web::params::{Params, local_path};
use crate::web::report::Report;
use crate::web::{PageError, Shared, Visitor, task_id};

/// `POST /tasks/{id}/stop`: returns once the task is cancelled (or after the
/// service's bounded wait), so the page shown next has its final state.
pub async fn stop(State(web): State<Shared>, Path(id): Path<String>, body: Bytes) -> Result<Redirect, PageError> {
    let id = task_id(&id)?;
    web.service.stop_task(id).await?;
    Ok(back(&body, id))
}

/// `POST /tasks/{id}/restart`.
pub async fn restart(State(web): State<Shared>, Path(id): Path<String>, body: Bytes) -> Result<Redirect, PageError> {
    let id = task_id(&id)?;
    web.service.restart_task(id).await?;
    Ok(back(&body, id))
}

/// `POST /tasks/{id}/delete`: a task that runs is refused (409, with the
/// service's reason); a deleted one is reported on the page shown next.
pub async fn delete(
    State(web): State<Shared>,
    Extension(visitor): Extension<Visitor>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Redirect, PageError> {
    let id = task_id(&id)?;
    web.service.delete_task(id).await?;
    let next = local_path(Params::parse(&body).get("next"), "/".to_owned());
    // Never back to the page of the task just deleted.
    let next = if next.starts_with(&format!("/tasks/{id}")) { "/".to_owned() } else { next };
    let report = Report::of(TaskAction::Delete, &Applied { done: vec![id], refused: Vec::new() });
    Ok(Redirect::to(&report.onto(&next, &web.sessions, &visitor)))
}

/// To the form's `next` page (one of ours), else the task's page.
fn back(body: &[u8], id: crate::domain::TaskId) -> Redirect {
    let params = Params::parse(body);
    Redirect::to(&local_path(params.get("next"), format!("/tasks/{id}")))
}
