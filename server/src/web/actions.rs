//! The buttons: stop a pending or running task, restart a finished one.
//! Each posts a form, then goes back to the page it came from.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::response::Redirect;

use crate::web::params::{Params, local_path};
use crate::web::{PageError, Shared, task_id};

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

/// To the form's `next` page (one of ours), else the task's page.
fn back(body: &[u8], id: crate::domain::TaskId) -> Redirect {
    let params = Params::parse(body);
    Redirect::to(&local_path(params.get("next"), format!("/tasks/{id}")))
}
