//! Hostile pages: nesting that would take minutes to parse, pages with far
//! more cards than any result page, redirects off the site. None of them
//! stalls the service or is fetched where it must not be.

use scrape_client::pb;
use scrape_server::scrape::budget::{DEFAULT_MAX_CARDS, DEFAULT_MAX_DEPTH};
use tokio_stream::StreamExt;

use crate::fixture::{Fault, FixtureSite, SiteSpec};
use crate::helpers::{Backend, DEADLINE, TestApp, eventually, on_both_backends};

const SITES: [(&str, &str); 4] = [
    ("56", "www.morbihan.gouv.fr"),
    ("29", "www.finistere.gouv.fr"),
    ("2A", "www.corse-du-sud.gouv.fr"),
    ("35", "www.ille-et-vilaine.gouv.fr"),
];

async fn pages_nested_100_000_deep_fail_their_operations_while_the_server_keeps_answering(backend: Backend) {
    let site = FixtureSite::start(SiteSpec::standard()).await;
    for (_, domain) in SITES {
        site.set_fault(&FixtureSite::page_path(domain, "bovin", 1), Fault::Nested(100_000));
    }
    let app = TestApp::spawn_on(&site, &backend).await;
    let codes: Vec<&str> = SITES.iter().map(|(code, _)| *code).collect();
    let task = app.start(&codes, &["bovin"]).await;

    // Health answers from the start of the task to its end.
    let mut progress = app.client.stream_progress(&task.id).await.expect("subscribe");
    let mut checks = 0;
    let end = tokio::time::timeout(DEADLINE, async {
        loop {
            assert!(app.client.health().await.expect("health answers"), "SERVING");
            checks += 1;
            match progress.next().await {
                Some(Ok(p)) if p.status() == pb::TaskStatus::Running || p.status() == pb::TaskStatus::Pending => {}
                Some(Ok(p)) => return p,
                other => panic!("the stream ended early: {other:?}"),
            }
        }
    })
    .await
    .expect("the task ends within the deadline");
    assert!(checks > 0);
    assert_eq!(end.status(), pb::TaskStatus::Failed, "every operation failed");
    let results = app.results(&task.id).await;
    assert_eq!(results.len(), 4);
    for r in &results {
        assert!(r.error.contains(&format!("nested deeper than {DEFAULT_MAX_DEPTH}")), "{r:?}");
        assert_eq!(r.items_found, 0);
    }
    app.stop().await;
}

async fn a_page_with_more_cards_than_the_bound_fails_its_operation_with_a_clear_error(backend: Backend) {
    let site = FixtureSite::start(SiteSpec::standard()).await;
    site.set_fault(&FixtureSite::page_path("www.morbihan.gouv.fr", "bovin", 2), Fault::Cards(DEFAULT_MAX_CARDS + 1));
    let app = TestApp::spawn_on(&site, &backend).await;
    let task = app.start(&["56"], &["bovin"]).await;
    app.progress_until_end(&task.id).await;
    let results = app.results(&task.id).await;
    assert_eq!(results.len(), 1);
    assert!(results[0].error.contains(&format!("more than {DEFAULT_MAX_CARDS} result cards")), "{:?}", results[0]);
    assert_eq!(results[0].items_found, 10, "the first page's cards stay");
    app.stop().await;
}

async fn a_redirect_off_the_site_is_not_followed_and_says_where_it_led(backend: Backend) {
    let site = FixtureSite::start(SiteSpec::standard()).await;
    // Another host: an internal service the site would like us to fetch.
    let internal = FixtureSite::start_at(SiteSpec::standard(), "127.0.0.2:0").await;
    let target = format!("http://{}/internal/admin", internal.address());
    site.set_fault(&FixtureSite::page_path("www.morbihan.gouv.fr", "bovin", 2), Fault::RedirectTo(target));
    let app = TestApp::spawn_on(&site, &backend).await;
    let task = app.start(&["56"], &["bovin"]).await;
    app.progress_until_end(&task.id).await;

    assert!(internal.requests().is_empty(), "the other host never sees a request: {:?}", internal.requests());
    let results = app.results(&task.id).await;
    let expected = format!("redirected off-site to {}", internal.address());
    assert!(results[0].error.contains(&expected), "{:?}", results[0]);
    let documents = app.documents(&task.id).await;
    assert_eq!(documents.len(), 10, "the first page's cards stay, nothing from the other host");
    assert!(documents.iter().all(|d| d.link.starts_with("https://www.morbihan.gouv.fr/")));
    app.stop().await;
}

async fn a_stop_or_a_shutdown_closes_the_connections_of_the_requests_it_aborted(backend: Backend) {
    let site = FixtureSite::start(SiteSpec::standard()).await;
    let hanging = [
        FixtureSite::page_path("www.morbihan.gouv.fr", "bovin", 2),
        FixtureSite::page_path("www.corse-du-sud.gouv.fr", "bovin", 1),
        FixtureSite::page_path("www.finistere.gouv.fr", "bovin", 1),
    ];
    site.set_fault(&hanging[0], Fault::Hang);
    site.set_fault(&hanging[1], Fault::Hang);
    // Headers and the start of a body, then silence.
    site.set_fault(&hanging[2], Fault::StallBody);
    // As most sites do: the first page's connection is kept for the next.
    site.set_keep_alive(true);
    // Operations in flight at shutdown are aborted after the grace period.
    let app = TestApp::spawn_tuned(&site, &backend, |c| c.shutdown_grace_secs = 1).await;
    let task = app.start(&["56", "2A", "29"], &["bovin"]).await;
    eventually("both hanging pages are requested", || hanging.iter().all(|p| site.hits(p) == 1)).await;
    eventually("the three requests are stuck", || site.stuck_connections() == 3).await;
    let stopped = app.client.stop_task(&task.id).await.expect("stop");
    assert_eq!(stopped.status(), pb::TaskStatus::Cancelled);
    eventually("the aborted requests' connections are closed", || site.stuck_connections() == 0).await;

    // The same when the server shuts down with requests in flight.
    app.start(&["56", "2A", "29"], &["bovin"]).await;
    eventually("the pages are requested again", || hanging.iter().all(|p| site.hits(p) == 2)).await;
    eventually("the three requests are stuck again", || site.stuck_connections() == 3).await;
    app.stop().await;
    eventually("the connections are closed on shutdown", || site.stuck_connections() == 0).await;
}

on_both_backends!(
    a_stop_or_a_shutdown_closes_the_connections_of_the_requests_it_aborted,
    a_redirect_off_the_site_is_not_followed_and_says_where_it_led,
    pages_nested_100_000_deep_fail_their_operations_while_the_server_keeps_answering,
    a_page_with_more_cards_than_the_bound_fails_its_operation_with_a_clear_error
);
