//! Managing tasks in the browser: deleting one from its page or its row,
//! Stop all, and the rows ticked to stop, restart or delete them together,
//! each asked first and reported on the page that follows.

use scrape_client::pb::TaskStatus;

use super::browser::Browser;
use super::{finished, row};
use crate::fixture::{Fault, FixtureSite, SiteSpec};
use crate::helpers::{Backend, TestApp, code, on_both_backends};

/// Waits for the page loaded after an action, with its report.
async fn reported(browser: &Browser) -> String {
    browser
        .wait_until(
            "the next page says what was done",
            "window.__sameDocument !== true && document.readyState === 'complete' && document.querySelector('#report') !== null",
        )
        .await;
    browser.text("#report").await
}

async fn a_finished_task_is_deleted_from_its_page_and_another_from_its_row_after_a_confirmation(backend: Backend) {
    let site = FixtureSite::start(SiteSpec::standard()).await;
    let app = TestApp::spawn_on(&site, &backend).await;
    let first = app.start(&["56"], &["bovin"]).await;
    let second = app.start(&["29"], &["porcin"]).await;
    finished(&app, &first).await;
    finished(&app, &second).await;
    let browser = Browser::open(&app).await;

    browser.goto(&format!("/tasks/{}", first.id)).await;
    browser.click_and_dismiss("button.delete").await;
    assert!(app.client.get_task(&first.id).await.is_ok(), "declined: the task stays");

    browser.mark_document().await;
    browser.click_and_confirm("button.delete").await;
    let report = reported(&browser).await;
    assert_eq!(report, "Deleted 1 task.");
    assert_eq!(browser.eval("return location.pathname;").await, "/", "back to the list, not to the page gone");
    assert_eq!(code(app.client.get_task(&first.id).await), tonic::Code::NotFound);
    assert_eq!(browser.rows().await, std::slice::from_ref(&second.id));
    assert_eq!(browser.text("#total-count").await, "1 task");

    browser.mark_document().await;
    browser.click_and_confirm(&format!("{} button.delete", row(&second.id))).await;
    assert_eq!(reported(&browser).await, "Deleted 1 task.");
    assert!(browser.rows().await.is_empty());
    assert_eq!(browser.text("#total-count").await, "0 tasks");
    assert_eq!(code(app.client.get_task(&second.id).await), tonic::Code::NotFound);
    browser.close().await;
    app.stop().await;
}

async fn stop_all_asks_first_then_stops_every_pending_and_running_task_and_says_how_many(backend: Backend) {
    let site = FixtureSite::start(SiteSpec::standard()).await;
    // One worker: the second hanging task waits, pending.
    let app = TestApp::spawn_tuned(&site, &backend, |c| c.workers = 1).await;
    let done = app.start(&["56"], &["bovin"]).await;
    finished(&app, &done).await;
    site.set_default_fault(Some(Fault::Hang));
    let running = app.start(&["29"], &["bovin"]).await;
    app.wait_for(&running.id, |p| p.status() == TaskStatus::Running).await;
    let pending = app.start(&["2A"], &["bovin"]).await;
    let browser = Browser::open(&app).await;

    browser.goto("/").await;
    browser.click_and_dismiss("form.stop-all button").await;
    assert_eq!(app.client.get_task(&running.id).await.expect("get").status(), TaskStatus::Running, "declined");
    assert_eq!(app.client.get_task(&pending.id).await.expect("get").status(), TaskStatus::Pending);

    browser.mark_document().await;
    browser.click_and_confirm("form.stop-all button").await;
    assert_eq!(reported(&browser).await, "Stopped 2 tasks: every pending and running one.");
    for (task, status, badge) in [
        (&running, TaskStatus::Cancelled, "cancelled"),
        (&pending, TaskStatus::Cancelled, "cancelled"),
        (&done, TaskStatus::Succeeded, "succeeded"),
    ] {
        assert_eq!(app.client.get_task(&task.id).await.expect("get").status(), status, "{}", task.id);
        let shown = format!("return document.querySelector('{} [data-field=status]').textContent;", row(&task.id));
        assert_eq!(browser.eval(&shown).await, badge);
    }
    browser.close().await;
    app.stop().await;
}

/// The refusals of a report: each task id and why.
async fn refusals(browser: &Browser) -> Vec<(String, String)> {
    let found = browser
        .eval("return [...document.querySelectorAll('#report ul.refused li')].map(li => [li.dataset.task, li.querySelector('.why').textContent]);")
        .await;
    serde_json::from_value(found).expect("pairs")
}

async fn ticked_rows_are_stopped_restarted_and_deleted_together_and_the_refused_ones_are_named_with_why(
    backend: Backend,
) {
    let site = FixtureSite::start(SiteSpec::standard()).await;
    let hanging = FixtureSite::page_path("www.corse-du-sud.gouv.fr", "bovin", 1);
    site.set_fault(&hanging, Fault::Hang);
    let app = TestApp::spawn_on(&site, &backend).await;
    let gone = app.start(&["56"], &["bovin"]).await;
    let kept = app.start(&["29"], &["bovin"]).await;
    finished(&app, &gone).await;
    finished(&app, &kept).await;
    let running = app.start(&["2A"], &["bovin"]).await;
    app.wait_for(&running.id, |p| p.status() == TaskStatus::Running).await;
    let browser = Browser::open(&app).await;

    browser.goto("/").await;
    assert_eq!(browser.eval("return document.querySelector('#bulk button[value=delete]').disabled;").await, true);
    browser.click(&format!("{} input[name=task]", row(&gone.id))).await;
    browser.click(&format!("{} input[name=task]", row(&running.id))).await;
    assert_eq!(browser.text("#selected-count").await, "2 tasks selected");
    assert_eq!(browser.eval("return document.querySelector('#select-all').indeterminate;").await, true);
    browser.mark_document().await;
    browser.click_and_confirm("#bulk button[value=delete]").await;
    let report = reported(&browser).await;
    assert!(report.starts_with("Deleted 1 task.") && report.contains("1 task refused:"), "{report}");
    let refused = refusals(&browser).await;
    assert_eq!(refused.len(), 1);
    assert_eq!(refused[0].0, running.id);
    assert!(refused[0].1.contains("stop it before deleting it"), "{refused:?}");
    assert_eq!(code(app.client.get_task(&gone.id).await), tonic::Code::NotFound);
    assert_eq!(app.client.get_task(&running.id).await.expect("get").status(), TaskStatus::Running);
    assert_eq!(browser.rows().await, [running.id.clone(), kept.id.clone()], "the deleted row is gone");

    // Every row of the page at once: the finished one cannot be stopped.
    browser.click("#select-all").await;
    assert_eq!(browser.count("input[name=task]:checked").await, 2);
    browser.mark_document().await;
    browser.click_and_confirm("#bulk button[value=stop]").await;
    let report = reported(&browser).await;
    assert!(report.starts_with("Stopped 1 task."), "{report}");
    let refused = refusals(&browser).await;
    assert_eq!(refused.iter().map(|r| r.0.as_str()).collect::<Vec<_>>(), [kept.id.as_str()]);
    assert!(refused[0].1.contains("already ended"), "{refused:?}");
    assert_eq!(app.client.get_task(&running.id).await.expect("get").status(), TaskStatus::Cancelled);

    // Both finished now: both restart.
    site.clear_fault(&hanging);
    browser.click("#select-all").await;
    browser.mark_document().await;
    browser.click_and_confirm("#bulk button[value=restart]").await;
    assert_eq!(reported(&browser).await, "Restarted 2 tasks.");
    for task in [&kept, &running] {
        assert_eq!(finished(&app, task).await.status(), TaskStatus::Succeeded, "{}", task.id);
    }
    browser.close().await;
    app.stop().await;
}

on_both_backends!(browser:
    a_finished_task_is_deleted_from_its_page_and_another_from_its_row_after_a_confirmation,
    stop_all_asks_first_then_stops_every_pending_and_running_task_and_says_how_many,
    ticked_rows_are_stopped_restarted_and_deleted_together_and_the_refused_ones_are_named_with_why
);
