//! The web dashboard in a real headless Chromium: starting, following,
//! stopping and restarting tasks, filters, the task page, form errors;
//! deleting, Stop all and actions on ticked rows (`manage`); sorting, the
//! count and the pages of tasks and documents (`lists`); the prefecture
//! picker (`picker`); and, over plain HTTP, gRPC-Web, downloads, event
//! streams, the same pages without the script, and what a viewer is refused.

mod browser;
pub(crate) mod http;
mod lists;
mod manage;
mod picker;

use std::collections::HashSet;

use scrape_client::pb::{self, TaskStatus};

use crate::fixture::{Fault, FixtureSite, SiteSpec, links};
use crate::helpers::{Backend, TestApp, on_both_backends};
use browser::Browser;

const MORBIHAN: &str = "www.morbihan.gouv.fr";
const FINISTERE: &str = "www.finistere.gouv.fr";
const CORSE_DU_SUD: &str = "www.corse-du-sud.gouv.fr";

/// The row of a task in the list.
fn row(id: &str) -> String {
    format!("tr[data-task=\"{id}\"]")
}

/// A script that is true when the task's badge (in its row or on its page)
/// shows `status`.
fn badge_is(id: &str, status: &str) -> String {
    format!(
        "(() => {{ const b = document.querySelector('[data-task=\"{id}\"] [data-field=status]');
            return b.textContent === '{status}' && b.classList.contains('badge-{status}'); }})()"
    )
}

/// True when the task's progress bar shows `percent`.
fn bar_is(id: &str, percent: u32) -> String {
    format!(
        "document.querySelector('[data-task=\"{id}\"] [data-field=bar]').getAttribute('aria-valuenow') === '{percent}'
            && document.querySelector('[data-task=\"{id}\"] [data-field=percent]').textContent === '{percent}%'"
    )
}

/// The ids of the tasks listed on the page.
async fn listed(browser: &Browser) -> HashSet<String> {
    let ids = browser.eval("return [...document.querySelectorAll('tr[data-task]')].map(r => r.dataset.task);").await;
    ids.as_array().expect("an array").iter().map(|v| v.as_str().expect("an id").to_owned()).collect()
}

async fn finished(app: &TestApp, task: &pb::Task) -> pb::Progress {
    let end = app.progress_until_end(&task.id).await;
    end.last().cloned().expect("a final state")
}

async fn a_task_started_from_the_form_reaches_100_percent_and_turns_green_without_a_reload(backend: Backend) {
    let site = FixtureSite::start(SiteSpec::standard()).await;
    // Every page is held: the task runs until the test lets it finish.
    let pages = site.hold_all();
    let app = TestApp::spawn_on(&site, &backend).await;
    let browser = Browser::open(&app).await;

    browser.goto("/tasks/new").await;
    browser.fill("#keywords", "bovin, porcin").await;
    browser.click("input[name=prefectures][value=\"56\"]").await;
    browser.click("input[name=prefectures][value=\"2A\"]").await;
    browser.click("form.start button[type=submit]").await;
    browser.wait_until("the task page opens", "document.querySelector('article.detail') !== null").await;
    browser.mark_document().await;

    let id = browser.eval("return document.querySelector('article.detail').dataset.task;").await;
    let id = id.as_str().expect("a task id").to_owned();
    let task = app.client.get_task(&id).await.expect("the form created the task");
    assert_eq!(task.parameters.expect("parameters").target_prefectures, ["2A", "56"]);
    pages.wait_until_reached(1).await;
    browser.wait_until("the badge shows the task running", &badge_is(&id, "running")).await;

    pages.release();
    browser.wait_until("the progress bar reaches 100%", &bar_is(&id, 100)).await;
    browser.wait_until("the badge turns green", &badge_is(&id, "succeeded")).await;
    browser
        .wait_until(
            "the four operations are listed",
            "document.querySelectorAll('table.operations tbody tr').length === 4",
        )
        .await;
    assert!(browser.same_document().await, "the page was never reloaded");
    let colour = browser.eval(&format!("return getComputedStyle(document.querySelector('[data-task=\"{id}\"] [data-field=status]')).backgroundColor;")).await;
    assert_eq!(colour, "rgb(21, 128, 61)", "succeeded is green");
    assert_eq!(app.client.get_task(&id).await.expect("get").status(), TaskStatus::Succeeded);
    browser.close().await;
    app.stop().await;
}

async fn a_running_task_is_stopped_with_its_button_then_restarted_and_followed_to_the_end(backend: Backend) {
    let site = FixtureSite::start(SiteSpec::standard()).await;
    site.set_default_fault(Some(Fault::Hang));
    let app = TestApp::spawn_on(&site, &backend).await;
    let task = app.start(&["Morbihan"], &["bovin"]).await;
    app.wait_for(&task.id, |p| p.status() == TaskStatus::Running).await;
    let browser = Browser::open(&app).await;

    browser.goto("/").await;
    browser.wait_until("the task shows running", &badge_is(&task.id, "running")).await;
    browser.mark_document().await;
    browser.click_and_confirm(&format!("{} button.stop", row(&task.id))).await;
    browser
        .wait_until(
            "the list comes back with the task cancelled",
            &format!(
                "window.__sameDocument !== true && document.readyState === 'complete' && {}",
                badge_is(&task.id, "cancelled")
            ),
        )
        .await;
    assert_eq!(app.client.get_task(&task.id).await.expect("get").status(), TaskStatus::Cancelled);
    assert_eq!(
        browser.count(&format!("{} form[data-when=finished]:not([hidden]) button.restart", row(&task.id))).await,
        1
    );

    // Restarted, it runs to the end, followed live: its pages are held
    // until the list shows it running.
    site.set_default_fault(None);
    let pages = site.hold_all();
    browser.mark_document().await;
    browser.click_and_confirm(&format!("{} button.restart", row(&task.id))).await;
    browser
        .wait_until(
            "the list comes back with the task under way",
            &format!(
                "window.__sameDocument !== true && document.readyState === 'complete' && ({} || {})",
                badge_is(&task.id, "pending"),
                badge_is(&task.id, "running")
            ),
        )
        .await;
    browser.mark_document().await;
    pages.wait_until_reached(1).await;
    browser.wait_until("the restarted task shows running", &badge_is(&task.id, "running")).await;
    pages.release();
    browser.wait_until("the restarted task turns green", &badge_is(&task.id, "succeeded")).await;
    browser.wait_until("its bar is full", &bar_is(&task.id, 100)).await;
    browser
        .wait_until(
            "Restart is offered again",
            &format!("document.querySelector('{} form[data-when=finished]').hidden === false", row(&task.id)),
        )
        .await;
    assert!(browser.same_document().await, "followed without a reload");
    let items = browser.text(&format!("{} [data-field=items]", row(&task.id))).await;
    assert_eq!(items, site.cards(MORBIHAN, "bovin").len().to_string());
    browser.close().await;
    app.stop().await;
}

async fn the_list_filters_by_status_and_finds_tasks_by_prefecture(backend: Backend) {
    let site = FixtureSite::start(SiteSpec::standard()).await;
    site.set_fault(&FixtureSite::page_path(CORSE_DU_SUD, "porcin", 1), Fault::Hang);
    site.set_fault(&FixtureSite::page_path(CORSE_DU_SUD, "bovin", 1), Fault::Hang);
    site.set_fault(
        &FixtureSite::page_path(FINISTERE, "porcin", 1),
        Fault::Status { status: 500, times: 1000, retry_after: None },
    );
    let app = TestApp::spawn_on(&site, &backend).await;
    let morbihan = app.start(&["56"], &["bovin"]).await;
    let finistere = app.start(&["29"], &["bovin"]).await;
    let failed = app.start(&["29"], &["porcin"]).await;
    for task in [&morbihan, &finistere, &failed] {
        finished(&app, task).await;
    }
    let cancelled = app.start(&["2A"], &["porcin"]).await;
    app.wait_for(&cancelled.id, |p| p.status() == TaskStatus::Running).await;
    app.client.stop_task(&cancelled.id).await.expect("stopped");
    // Two of its three operations end; the third hangs: running at 66%.
    let running = app.start(&["56", "29", "2A"], &["bovin"]).await;
    app.wait_for(&running.id, |p| p.completed_operations == 2).await;
    let browser = Browser::open(&app).await;

    browser.goto("/").await;
    browser.wait_until("all five tasks are listed", "document.querySelectorAll('tr[data-task]').length === 5").await;
    browser.wait_until("the running task shows 66%", &bar_is(&running.id, 66)).await;
    browser.screenshot("list", 1280, 1000).await;

    browser.click("input[name=status][value=succeeded]").await;
    browser.click("form.filters button[type=submit]").await;
    browser
        .wait_until(
            "only succeeded tasks are listed",
            "location.search.includes('status=succeeded') && document.querySelectorAll('tr[data-task]').length === 2",
        )
        .await;
    assert_eq!(listed(&browser).await, HashSet::from([morbihan.id.clone(), finistere.id.clone()]));
    assert!(
        browser.eval("return document.querySelector('input[name=status][value=succeeded]').checked;").await == true
    );

    browser.goto("/").await;
    browser.fill("#q", "finistère").await;
    browser.click("form.filters button[type=submit]").await;
    browser.wait_until("the search is applied", "location.search.includes('q=')").await;
    assert_eq!(listed(&browser).await, HashSet::from([finistere.id.clone(), failed.id.clone(), running.id.clone()]));

    browser.click("input[name=status][value=succeeded]").await;
    browser.click("form.filters button[type=submit]").await;
    browser
        .wait_until(
            "both filters apply",
            "location.search.includes('status=succeeded') && location.search.includes('q=')",
        )
        .await;
    assert_eq!(listed(&browser).await, HashSet::from([finistere.id.clone()]));
    browser.close().await;
    // Its hanging page would hold the shutdown for its grace period.
    app.client.stop_task(&running.id).await.expect("stop");
    app.stop().await;
}

async fn the_task_page_shows_each_operation_and_the_documents_found_filterable_by_prefecture(backend: Backend) {
    let site = FixtureSite::start(SiteSpec::standard()).await;
    let app = TestApp::spawn_on(&site, &backend).await;
    let task = app.start(&["56", "29", "2A"], &["bovin", "porcin"]).await;
    finished(&app, &task).await;
    let browser = Browser::open(&app).await;

    browser.goto(&format!("/tasks/{}", task.id)).await;
    assert_eq!(browser.count("table.operations tbody tr").await, 6);
    for (code, domain) in [("56", MORBIHAN), ("29", FINISTERE), ("2A", CORSE_DU_SUD)] {
        for keyword in ["bovin", "porcin"] {
            let cell = format!(
                "table.operations tr[data-prefecture=\"{code}\"][data-keyword=\"{keyword}\"] [data-field=op-items]"
            );
            assert_eq!(browser.text(&cell).await, site.cards(domain, keyword).len().to_string(), "{code} {keyword}");
        }
    }
    let hrefs = browser.eval("return [...document.querySelectorAll('ul.documents li a')].map(a => a.href);").await;
    let hrefs: Vec<&str> = hrefs.as_array().expect("links").iter().map(|v| v.as_str().expect("href")).collect();
    assert_eq!(hrefs.len(), 50, "a first page of documents");
    let every_link: HashSet<String> = [MORBIHAN, FINISTERE, CORSE_DU_SUD]
        .iter()
        .flat_map(|d| ["bovin", "porcin"].into_iter().flat_map(|k| links(&site.cards(d, k))))
        .collect();
    assert!(hrefs.iter().all(|h| every_link.contains(*h)), "every document links to its publication");
    assert!(browser.text("#log").await.contains("succeeded"));
    assert_eq!(browser.count("a[href$=\"/export?format=csv\"]").await, 1);
    browser.screenshot("detail", 1280, 2300).await;

    browser.select("#f-prefecture", "29").await;
    browser.click("#results form.filters button[type=submit]").await;
    browser.wait_until("the results are filtered", "location.search.includes('prefecture=29')").await;
    assert_eq!(browser.count("table.operations tbody tr").await, 2);
    assert_eq!(browser.count("table.operations tbody tr[data-prefecture=\"29\"]").await, 2);
    let shown = browser.eval("return [...document.querySelectorAll('ul.documents li a')].map(a => a.href);").await;
    let shown: HashSet<String> =
        shown.as_array().expect("links").iter().map(|v| v.as_str().expect("href").to_owned()).collect();
    let expected: HashSet<String> = links(&site.cards(FINISTERE, "bovin")).into_iter().collect();
    assert_eq!(shown, expected, "Finistère's documents only");
    browser.close().await;
    app.stop().await;
}

async fn a_bad_form_input_shows_its_error_next_to_the_field_and_creates_nothing(backend: Backend) {
    let site = FixtureSite::start(SiteSpec::standard()).await;
    let app = TestApp::spawn_on(&site, &backend).await;
    let browser = Browser::open(&app).await;

    browser.goto("/tasks/new").await;
    browser.fill("#keywords", " , porcin").await;
    browser.fill("#export_file_name", "../secrets.json").await;
    browser.click("form.start button[type=submit]").await;
    browser.wait_until("the form comes back with errors", "document.querySelector('#form-errors') !== null").await;
    assert_eq!(browser.text("#keywords-error").await, "Keyword 1: must not be blank");
    assert!(browser.text("#export_file_name-error").await.contains("not a path"));
    assert_eq!(browser.text("#days_limit-error").await, "", "fields without a problem say nothing");
    assert_eq!(browser.eval("return document.querySelector('#keywords').value;").await, " , porcin");
    assert_eq!(browser.eval("return document.querySelector('#keywords').getAttribute('aria-invalid');").await, "true");

    let tasks = app.client.list_tasks(pb::ListTasksRequest::default()).await.expect("list");
    assert!(tasks.tasks.is_empty(), "no task was created: {:?}", tasks.tasks);
    browser.close().await;
    app.stop().await;
}

on_both_backends!(browser:
    a_task_started_from_the_form_reaches_100_percent_and_turns_green_without_a_reload,
    a_running_task_is_stopped_with_its_button_then_restarted_and_followed_to_the_end,
    the_list_filters_by_status_and_finds_tasks_by_prefecture,
    the_task_page_shows_each_operation_and_the_documents_found_filterable_by_prefecture,
    a_bad_form_input_shows_its_error_next_to_the_field_and_creates_nothing
);
