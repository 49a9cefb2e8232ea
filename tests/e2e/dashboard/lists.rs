//! Lists in the browser: the task list's columns sorted both ways and kept
//! across pages and filters, the count of the tasks the filters match, and
//! previous pages, of tasks and of a task's documents, that are exactly
//! the pages shown before.

use scrape_client::pb::{self, TaskStatus};

use super::browser::Browser;
use super::finished;
use crate::fixture::{Fault, FixtureSite, SiteSpec, links};
use crate::helpers::{Backend, TestApp, on_both_backends};

/// The keywords of each row, in order.
async fn keywords(browser: &Browser) -> Vec<String> {
    let words =
        browser.eval("return [...document.querySelectorAll('tr[data-task] .keywords')].map(k => k.textContent);").await;
    serde_json::from_value(words).expect("strings")
}

/// Clicks a link that loads a page of the list, and returns its rows.
async fn follow(browser: &Browser, css: &str) -> Vec<String> {
    browser.click_to_page(css).await;
    browser.rows().await
}

async fn columns_sort_both_ways_the_count_follows_the_filters_and_previous_returns_exactly_the_earlier_page(
    backend: Backend,
) {
    let site = FixtureSite::start(SiteSpec::standard()).await;
    site.set_fault(&FixtureSite::page_path("www.morbihan.gouv.fr", "abeille", 1), Fault::Hang);
    let app = TestApp::spawn_on(&site, &backend).await;
    let mut made: Vec<pb::Task> = Vec::new();
    for keyword in ["porcin", "bovin", "volaille", "Élevage", "abeille", "ovin", "caprin"] {
        let task = app.start(&["56"], &[keyword]).await;
        if keyword == "abeille" {
            app.wait_for(&task.id, |p| p.status() == TaskStatus::Running).await;
            app.client.stop_task(&task.id).await.expect("stopped");
        } else {
            finished(&app, &task).await;
        }
        made.push(task);
    }
    let newest_first: Vec<String> = made.iter().rev().map(|t| t.id.clone()).collect();
    let browser = Browser::open(&app).await;

    // Three pages of three, newest first; back again, page by page.
    browser.goto("/?size=3").await;
    assert_eq!(browser.text("#total-count").await, "7 tasks");
    let first = browser.rows().await;
    assert_eq!(first, newest_first[..3]);
    assert_eq!(browser.count("nav.pages a[rel=prev]").await, 0, "nothing before the first page");
    let second = follow(&browser, "nav.pages a[rel=next]").await;
    assert_eq!(second, newest_first[3..6]);
    let third = follow(&browser, "nav.pages a[rel=next]").await;
    assert_eq!(third, newest_first[6..]);
    assert_eq!(browser.text("nav.pages .page-number").await, "Page 3");
    assert_eq!(browser.count("nav.pages a[rel=next]").await, 0, "the last page");
    assert_eq!(browser.text("#total-count").await, "7 tasks", "the count is of every page");
    assert_eq!(follow(&browser, "nav.pages a[rel=prev]").await, second, "exactly the second page");
    assert_eq!(follow(&browser, "nav.pages a[rel=prev]").await, first, "exactly the first page");
    assert_eq!(browser.text("nav.pages .page-number").await, "Page 1");

    // By keywords, A to Z, across pages; then Z to A.
    follow(&browser, "th[data-sort=keywords] a").await;
    assert_eq!(
        browser.eval("return document.querySelector('th[data-sort=keywords]').getAttribute('aria-sort');").await,
        "ascending"
    );
    let mut seen = keywords(&browser).await;
    seen.extend({
        follow(&browser, "nav.pages a[rel=next]").await;
        keywords(&browser).await
    });
    follow(&browser, "nav.pages a[rel=next]").await;
    seen.extend(keywords(&browser).await);
    assert_eq!(seen, ["abeille", "bovin", "caprin", "Élevage", "ovin", "porcin", "volaille"]);
    assert!(browser.eval("return location.search;").await.as_str().expect("text").contains("order=keywords"));
    assert_eq!(follow(&browser, "nav.pages a[rel=prev]").await.len(), 3, "previous keeps the order");
    assert_eq!(keywords(&browser).await, ["Élevage", "ovin", "porcin"]);
    follow(&browser, "th[data-sort=keywords] a").await;
    assert_eq!(keywords(&browser).await, ["volaille", "porcin", "ovin"], "a new order starts at its first page");
    assert_eq!(browser.text("nav.pages .page-number").await, "Page 1");

    // By status both ways: the cancelled one first, then last.
    follow(&browser, "th[data-sort=status] a").await;
    let rows = browser.rows().await;
    assert_eq!(rows[0], made[4].id, "cancelled sorts before succeeded");
    follow(&browser, "th[data-sort=status] a").await;
    assert_eq!(
        browser.eval("return document.querySelector('th[data-sort=status]').getAttribute('aria-sort');").await,
        "descending"
    );
    assert!(!browser.rows().await.contains(&made[4].id), "on the last page now");
    follow(&browser, "nav.pages a[rel=next]").await;
    follow(&browser, "nav.pages a[rel=next]").await;
    assert_eq!(browser.rows().await, [made[4].id.clone()]);

    // Filters keep the order, and the count follows them.
    browser.click("input[name=status][value=succeeded]").await;
    browser.click_to_page("form.filters button[type=submit]").await;
    assert_eq!(browser.text("#total-count").await, "6 tasks");
    let search = browser.eval("return location.search;").await;
    let search = search.as_str().expect("text");
    assert!(search.contains("order=status+desc") && search.contains("size=3") && !search.contains("page="), "{search}");
    assert_eq!(
        browser.eval("return document.querySelector('th[data-sort=status]').getAttribute('aria-sort');").await,
        "descending"
    );
    browser.fill("#q", "caprin").await;
    browser.click_to_page("form.filters button[type=submit]").await;
    assert_eq!(browser.text("#total-count").await, "1 task");

    // Newest first is the default; oldest first, then newest first again.
    browser.goto("/?size=3").await;
    let created_sort = "return document.querySelector('th[data-sort=created_at]').getAttribute('aria-sort');";
    assert_eq!(browser.eval(created_sort).await, "descending");
    let oldest: Vec<String> = made.iter().take(3).map(|t| t.id.clone()).collect();
    assert_eq!(follow(&browser, "th[data-sort=created_at] a").await, oldest);
    assert_eq!(browser.eval(created_sort).await, "ascending");
    assert_eq!(follow(&browser, "th[data-sort=created_at] a").await, newest_first[..3]);
    browser.close().await;
    app.stop().await;
}

/// The links of the documents shown.
async fn documents(browser: &Browser) -> Vec<String> {
    let hrefs = browser.eval("return [...document.querySelectorAll('ul.documents li a')].map(a => a.href);").await;
    serde_json::from_value(hrefs).expect("links")
}

async fn the_documents_of_a_task_page_forwards_and_back_to_exactly_the_earlier_pages(backend: Backend) {
    const MORBIHAN: &str = "www.morbihan.gouv.fr";
    let site = FixtureSite::start(SiteSpec { counts: vec![(MORBIHAN, "bovin", 120)] }).await;
    let app = TestApp::spawn_on(&site, &backend).await;
    let task = app.start(&["56"], &["bovin"]).await;
    finished(&app, &task).await;
    let browser = Browser::open(&app).await;

    browser.goto(&format!("/tasks/{}", task.id)).await;
    let first = documents(&browser).await;
    assert_eq!(first.len(), 50);
    let pages = "#results nav.pages[aria-label='Pages of documents']";
    assert_eq!(browser.count(&format!("{pages} a[rel=prev]")).await, 0);
    browser.click_to_page(&format!("{pages} a[rel=next]")).await;
    let second = documents(&browser).await;
    browser.click_to_page(&format!("{pages} a[rel=next]")).await;
    let third = documents(&browser).await;
    assert_eq!((second.len(), third.len()), (50, 20));
    assert_eq!(browser.text(&format!("{pages} .page-number")).await, "Page 3");
    let every: std::collections::HashSet<String> = first.iter().chain(&second).chain(&third).cloned().collect();
    assert_eq!(every, links(&site.cards(MORBIHAN, "bovin")), "each document once");

    browser.click_to_page(&format!("{pages} a[rel=prev]")).await;
    assert_eq!(documents(&browser).await, second, "exactly the second page");
    assert!(browser.eval("return location.hash;").await == "#documents", "back at the documents");
    browser.click_to_page(&format!("{pages} a[rel=prev]")).await;
    assert_eq!(documents(&browser).await, first, "exactly the first page");
    assert_eq!(browser.count(&format!("{pages} a[rel=prev]")).await, 0);
    browser.close().await;
    app.stop().await;
}

on_both_backends!(browser:
    columns_sort_both_ways_the_count_follows_the_filters_and_previous_returns_exactly_the_earlier_page,
    the_documents_of_a_task_page_forwards_and_back_to_exactly_the_earlier_pages
);
