//! Sites that fail, stall, redirect forever, send too much or in another
//! charset: retries where they help, a recorded error where they do not,
//! and politeness measured from the site's side.

use std::time::Duration;

use scrape_client::pb::{self, TaskStatus};
use scrape_server::scrape::fetch::DEFAULT_MAX_REDIRECTS;

use crate::fixture::{Fault, FixtureSite, SiteSpec};
use crate::helpers::{Backend, TestApp, on_both_backends};

const MORBIHAN: &str = "www.morbihan.gouv.fr";
const FINISTERE: &str = "www.finistere.gouv.fr";

fn page(domain: &str, keyword: &str, n: usize) -> String {
    FixtureSite::page_path(domain, keyword, n)
}

async fn transient_failures_are_retried_until_the_page_answers(backend: Backend) {
    let site = FixtureSite::start(SiteSpec::standard()).await;
    let status = |status, times| Fault::Status { status, times, retry_after: None };
    site.set_fault(&page(MORBIHAN, "bovin", 1), status(503, 2));
    site.set_fault(&page(MORBIHAN, "bovin", 2), Fault::Reset { times: 1 });
    site.set_fault(&page(MORBIHAN, "bovin", 3), status(408, 1));
    site.set_fault(
        &page(MORBIHAN, "porcin", 1),
        Fault::Status { status: 429, times: 1, retry_after: Some("1".into()) },
    );
    site.set_fault(&page(MORBIHAN, "porcin", 2), status(500, 3));
    let app = TestApp::spawn_tuned(&site, &backend, |c| c.retries = 3).await;

    let task = app.start(&["56"], &["bovin", "porcin"]).await;
    let end = app.progress_until_end(&task.id).await;
    assert_eq!(end.last().map(|p| p.status()), Some(TaskStatus::Succeeded));
    let results = app.results(&task.id).await;
    for r in &results {
        assert_eq!(r.error, "", "{r:?}");
        assert_eq!(r.items_found, site.cards(MORBIHAN, &r.keyword).len() as u64);
    }
    assert_eq!(site.hits(&page(MORBIHAN, "bovin", 1)), 3);
    assert_eq!(site.hits(&page(MORBIHAN, "bovin", 2)), 2);
    assert_eq!(site.hits(&page(MORBIHAN, "bovin", 3)), 2);
    assert_eq!(site.hits(&page(MORBIHAN, "porcin", 2)), 4);

    // Retry-After: 1 was honoured, as the site saw it.
    let porcin: Vec<_> = site.requests().into_iter().filter(|h| h.path == page(MORBIHAN, "porcin", 1)).collect();
    assert_eq!(porcin.len(), 2);
    assert!(porcin[1].at - porcin[0].at >= Duration::from_secs(1), "{:?}", porcin[1].at - porcin[0].at);
    app.stop().await;
}

async fn a_client_error_is_not_retried_and_fails_only_its_operation(backend: Backend) {
    let site = FixtureSite::start(SiteSpec::standard()).await;
    let gone = page(FINISTERE, "bovin", 1);
    site.set_fault(&gone, Fault::Status { status: 404, times: usize::MAX, retry_after: None });
    let app = TestApp::spawn_tuned(&site, &backend, |c| c.retries = 3).await;

    let task = app.start(&["56", "29"], &["bovin"]).await;
    let end = app.progress_until_end(&task.id).await;
    let last = end.last().expect("end");
    assert_eq!(last.status(), TaskStatus::Succeeded, "one failed operation does not fail the task");
    assert_eq!(last.failed_operations, 1);
    assert_eq!(site.hits(&gone), 1, "a 404 is not retried");

    let results = app.results(&task.id).await;
    let failed = results.iter().find(|r| r.prefecture_code == "29").expect("Finistère");
    assert!(failed.error.contains("HTTP status 404"), "{failed:?}");
    let ok = results.iter().find(|r| r.prefecture_code == "56").expect("Morbihan");
    assert_eq!((ok.error.as_str(), ok.items_found), ("", 23));
    let events = app.client.task_events(&task.id).await.expect("events");
    let failure = events.iter().find(|e| e.kind() == pb::TaskEventKind::OperationFailed).expect("logged");
    assert!(failure.message.contains("29 / bovin") && failure.message.contains("404"), "{}", failure.message);
    app.stop().await;
}

async fn a_task_whose_every_operation_fails_is_failed_with_a_summary_error(backend: Backend) {
    let site = FixtureSite::start(SiteSpec::standard()).await;
    site.set_default_fault(Some(Fault::Status { status: 500, times: usize::MAX, retry_after: None }));
    let app = TestApp::spawn_tuned(&site, &backend, |c| c.retries = 1).await;
    let task = app.start(&["56", "29"], &["bovin"]).await;
    let end = app.progress_until_end(&task.id).await;
    assert_eq!(end.last().map(|p| p.status()), Some(TaskStatus::Failed));
    let task = app.client.get_task(&task.id).await.expect("get");
    assert!(task.error.starts_with("all 2 operations failed"), "{}", task.error);
    assert!(task.error.contains("HTTP status 500"), "{}", task.error);
    assert!(task.completed_at.is_some());
    assert_eq!(site.total_hits(), 4, "each page tried twice");
    app.stop().await;
}

async fn oversized_truncated_and_endlessly_redirected_pages_fail_their_operation(backend: Backend) {
    let site = FixtureSite::start(SiteSpec::standard()).await;
    site.set_fault(&page(MORBIHAN, "bovin", 1), Fault::Oversized(3 * 1024 * 1024));
    site.set_fault(&page(MORBIHAN, "porcin", 1), Fault::Truncated);
    site.set_fault(&page(FINISTERE, "bovin", 1), Fault::RedirectLoop);
    let app = TestApp::spawn_tuned(&site, &backend, |c| {
        c.retries = 1;
        c.max_page_bytes = 1024 * 1024;
    })
    .await;
    let task = app.start(&["56", "29"], &["bovin", "porcin"]).await;
    let end = app.progress_until_end(&task.id).await;
    assert_eq!(end.last().map(|p| p.status()), Some(TaskStatus::Succeeded));

    let results = app.results(&task.id).await;
    let error = |code: &str, keyword: &str| {
        results.iter().find(|r| r.prefecture_code == code && r.keyword == keyword).expect("result").error.clone()
    };
    assert!(error("56", "bovin").contains("larger than 1048576 bytes"), "{}", error("56", "bovin"));
    assert!(!error("56", "porcin").is_empty(), "a truncated body is an error");
    assert!(error("29", "bovin").contains("too many redirects"), "{}", error("29", "bovin"));
    assert_eq!(error("29", "porcin"), "");
    assert_eq!(site.hits(&page(MORBIHAN, "bovin", 1)), 1, "too large is not retried");
    assert_eq!(site.hits(&page(MORBIHAN, "porcin", 1)), 2, "a cut connection is retried");
    assert_eq!(
        site.hits(&page(FINISTERE, "bovin", 1)),
        DEFAULT_MAX_REDIRECTS + 1,
        "the first request and every redirect allowed, no retry"
    );
    app.stop().await;
}

async fn a_page_that_never_answers_times_out_and_is_retried(backend: Backend) {
    let site = FixtureSite::start(SiteSpec::standard()).await;
    let stuck = page(FINISTERE, "bovin", 1);
    site.set_fault(&stuck, Fault::Hang);
    let app = TestApp::spawn_tuned(&site, &backend, |c| {
        c.retries = 1;
        c.request_timeout_secs = 1;
    })
    .await;
    let task = app.start(&["29"], &["bovin"]).await;
    app.progress_until_end(&task.id).await;
    let results = app.results(&task.id).await;
    assert!(results[0].error.contains("timed out"), "{:?}", results[0]);
    assert_eq!(site.hits(&stuck), 2);
    app.stop().await;
}

async fn pages_in_another_charset_or_compressed_are_decoded(backend: Backend) {
    let site = FixtureSite::start(SiteSpec::standard()).await;
    site.set_fault(&page(MORBIHAN, "bovin", 1), Fault::Windows1252);
    site.set_fault(&page(MORBIHAN, "bovin", 2), Fault::Gzip);
    let app =
        TestApp::spawn_tuned(&site, &backend, |c| c.user_agent = "veille-icpe/1.0 (+mailto:veille@example.org)".into())
            .await;
    let task = app.start(&["56"], &["bovin"]).await;
    app.progress_until_end(&task.id).await;

    let documents = app.documents(&task.id).await;
    for card in site.cards(MORBIHAN, "bovin") {
        let doc = documents.iter().find(|d| d.link == card.link).expect("stored");
        assert_eq!((&doc.title, &doc.description), (&card.title, &card.description));
    }
    let hits = site.requests();
    assert!(hits.iter().all(|h| h.user_agent == "veille-icpe/1.0 (+mailto:veille@example.org)"));
    assert!(hits.iter().all(|h| h.accept_encoding.contains("gzip") && h.accept_encoding.contains("br")));
    app.stop().await;
}

async fn requests_to_one_host_keep_the_configured_delay_and_concurrency(backend: Backend) {
    let site = FixtureSite::start(SiteSpec::standard()).await;
    let delay = Duration::from_millis(40);
    let app = TestApp::spawn_tuned(&site, &backend, |c| {
        c.concurrency = 16;
        c.per_host_concurrency = 2;
        c.per_host_delay_ms = delay.as_millis() as u64;
    })
    .await;
    let task = app.start(&["56", "29", "2A"], &["bovin", "porcin"]).await;
    app.progress_until_end(&task.id).await;
    // Every domain is on the one fixture host.
    let hits = site.requests();
    assert_eq!(hits.len(), 4 + 2 + 2 + 1 + 3 + 5);
    // Requests started at least `delay` apart span at least that much per
    // gap from the first to the last, however loaded the machine is (less
    // half a delay: arrivals also carry each request's own latency).
    let span = hits[hits.len() - 1].at - hits[0].at;
    let paced = delay * (hits.len() as u32 - 1) - delay / 2;
    assert!(span >= paced, "{} requests over {span:?}, less than {paced:?}", hits.len());
    assert!(site.max_in_flight() <= 2);
    app.stop().await;

    // Without a delay, the per-host limit is reached and never exceeded:
    // the pages are held until every operation is under way.
    let site = FixtureSite::start(SiteSpec::standard()).await;
    let pages = site.hold_all();
    let app = TestApp::spawn_tuned(&site, &backend, |c| {
        c.concurrency = 16;
        c.per_host_concurrency = 3;
    })
    .await;
    let task = app.start(&["56", "29", "2A"], &["bovin", "porcin"]).await;
    app.wait_for(&task.id, |p| p.in_flight_operations == 6).await;
    pages.wait_until_reached(3).await;
    pages.release();
    app.progress_until_end(&task.id).await;
    assert_eq!(site.max_in_flight(), 3);
    app.stop().await;
}

on_both_backends!(
    transient_failures_are_retried_until_the_page_answers,
    a_client_error_is_not_retried_and_fails_only_its_operation,
    a_task_whose_every_operation_fails_is_failed_with_a_summary_error,
    oversized_truncated_and_endlessly_redirected_pages_fail_their_operation,
    a_page_that_never_answers_times_out_and_is_retried,
    pages_in_another_charset_or_compressed_are_decoded,
    requests_to_one_host_keep_the_configured_delay_and_concurrency
);
