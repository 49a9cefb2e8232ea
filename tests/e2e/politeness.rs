//! Politeness per server: many host names resolve to one address (most
//! prefecture sites share one hosting platform), and the limits of that
//! server hold for all of them together — at most its concurrency in
//! flight, its delay between starts, and a pause for all when it answers
//! 429 or 503.

use std::time::Duration;

use scrape_client::pb;
use scrape_server::config::Config;

use crate::fixture::{Fault, FixtureSite, SiteSpec};
use crate::helpers::{Backend, TestApp, on_both_backends};

/// Every domain as its own host name, all resolving to the fixture's
/// address: one server behind many names, as on the real platform.
fn one_server_many_names(site: &FixtureSite, config: &mut Config) {
    let port = site.address().port();
    config.site_base_url = Some(format!("http://{{domain}}:{port}/{{domain}}"));
    config.resolve = vec!["*=127.0.0.1".parse().expect("pin")];
}

/// The domain a fixture path is for.
fn domain_of(path: &str) -> &str {
    path.trim_start_matches('/').split('/').next().unwrap_or_default()
}

const TWELVE: [&str; 12] = ["56", "29", "2A", "22", "35", "44", "49", "53", "72", "85", "14", "50"];

async fn host_names_on_one_server_never_get_more_than_its_limit_of_requests_at_once(backend: Backend) {
    let site = FixtureSite::start(SiteSpec::standard()).await;
    let defaults = Config::default();
    let app = TestApp::spawn_tuned(&site, &backend, |c| {
        one_server_many_names(&site, c);
        // The shipped limits, without their delays (which only slow things).
        c.concurrency = defaults.concurrency;
        c.per_host_concurrency = defaults.per_host_concurrency;
        c.per_server_concurrency = defaults.per_server_concurrency;
        c.per_host_delay_ms = 0;
        c.per_server_delay_ms = 0;
    })
    .await;
    let limit = defaults.per_server_concurrency as usize;
    let gate = site.hold_all();
    let task = app.start(&TWELVE, &["bovin"]).await;
    gate.wait_until_reached(limit).await;
    let held: Vec<String> = site.requests().iter().map(|h| domain_of(&h.path).to_owned()).collect();
    let distinct: std::collections::HashSet<_> = held.iter().collect();
    assert!(distinct.len() > 1, "the held requests are for several host names: {held:?}");
    gate.release();
    let end = app.progress_until_end(&task.id).await.pop().expect("an end");
    assert_eq!(end.status(), pb::TaskStatus::Succeeded);
    assert_eq!(end.completed_operations, 12);
    assert_eq!(site.max_in_flight(), limit, "never more than the server's limit at once, for all its names");
    app.stop().await;
}

async fn starts_on_one_server_keep_its_delay_whatever_the_host_name(backend: Backend) {
    let site = FixtureSite::start(SiteSpec::standard()).await;
    let delay = Duration::from_millis(100);
    let app = TestApp::spawn_tuned(&site, &backend, |c| {
        one_server_many_names(&site, c);
        c.per_host_delay_ms = 0;
        c.per_server_delay_ms = delay.as_millis() as u64;
    })
    .await;
    let task = app.start(&["56", "29", "2A", "22"], &["bovin"]).await;
    app.progress_until_end(&task.id).await;
    let hits = site.requests();
    let domains: std::collections::HashSet<_> = hits.iter().map(|h| domain_of(&h.path)).collect();
    assert_eq!(domains.len(), 4, "four host names");
    let first = hits.iter().map(|h| h.at).min().expect("requests");
    let last = hits.iter().map(|h| h.at).max().expect("requests");
    // Starts are paced; arrivals also carry each request's own latency
    // (a new host name opens a new connection), hence half a delay of slack.
    let at_least = delay * (hits.len() as u32 - 1) - delay / 2;
    assert!(last - first >= at_least, "{} requests spread over {:?}, at least {at_least:?}", hits.len(), last - first);
    app.stop().await;
}

async fn a_server_that_answers_429_is_paused_for_every_host_name_on_it_and_the_log_says_so(backend: Backend) {
    let site = FixtureSite::start(SiteSpec::standard()).await;
    let throttled = FixtureSite::page_path("www.morbihan.gouv.fr", "bovin", 2);
    site.set_fault(&throttled, Fault::Status { status: 429, times: 1, retry_after: Some("1".into()) });
    let app = TestApp::spawn_tuned(&site, &backend, |c| {
        one_server_many_names(&site, c);
        c.retries = 2;
        c.per_server_concurrency = 1;
        c.per_server_delay_ms = 0;
    })
    .await;
    let task = app.start(&["56", "29", "2A"], &["bovin"]).await;
    let end = app.progress_until_end(&task.id).await.pop().expect("an end");
    assert_eq!(end.failed_operations, 0, "the throttled page was fetched again");

    let hits = site.requests();
    let refused = hits.iter().find(|h| h.path == throttled).expect("the throttled request").at;
    let after: Vec<_> = hits.iter().filter(|h| h.at > refused).collect();
    assert!(!after.is_empty());
    for hit in after {
        assert!(
            hit.at - refused >= Duration::from_secs(1),
            "{} started {:?} after the 429: every host name on the server waits the pause",
            hit.path,
            hit.at - refused
        );
    }
    let events = app.client.task_events(&task.id).await.expect("events");
    let slowed: Vec<_> = events.iter().filter(|e| e.kind() == pb::TaskEventKind::SlowedDown).collect();
    assert_eq!(slowed.len(), 1, "{events:?}");
    assert!(
        slowed[0].message.contains("www.morbihan.gouv.fr") && slowed[0].message.contains("429"),
        "{}",
        slowed[0].message
    );
    app.stop().await;
}

on_both_backends!(
    host_names_on_one_server_never_get_more_than_its_limit_of_requests_at_once,
    starts_on_one_server_keep_its_delay_whatever_the_host_name,
    a_server_that_answers_429_is_paused_for_every_host_name_on_it_and_the_log_says_so
);
