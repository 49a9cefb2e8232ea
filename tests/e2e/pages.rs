//! Progress page by page: while an operation runs, its pages and items show
//! in the task's progress (on the replica that runs it and on the others),
//! and a restart after a stop mid-operation starts it again from page 1.

use scrape_client::pb::{self, TaskStatus};

use crate::fixture::{FixtureSite, SiteSpec};
use crate::helpers::{Backend, TestApp, collect_stream, on_both_backends};

const CORSE: &str = "www.corse-du-sud.gouv.fr";

/// 31 cards: three full pages, one of one card, then the empty page.
const KEYWORD: &str = "porcin";

fn page(n: usize) -> String {
    FixtureSite::page_path(CORSE, KEYWORD, n)
}

/// What a progress says of pages, items and operations.
fn counts(p: &pb::Progress) -> (u64, u64, u32, u32) {
    (p.pages_fetched, p.items_found, p.completed_operations, p.in_flight_operations)
}

async fn pages_and_items_move_while_an_operation_runs_and_show_the_operation_in_flight(backend: Backend) {
    let site = FixtureSite::start(SiteSpec::standard()).await;
    let third = site.hold(&page(3));
    let app = TestApp::spawn_on(&site, &backend).await;
    let task = app.start(&["2A"], &[KEYWORD]).await;
    third.wait_until_reached(1).await;

    // Two pages stored, the third loading: the operation has not ended.
    let live = app.wait_for(&task.id, |p| p.pages_fetched == 2).await;
    assert_eq!(counts(&live), (2, 20, 0, 1));
    assert_eq!((live.current_prefecture_code.as_str(), live.current_keyword.as_str()), ("2A", KEYWORD));
    let got = app.client.get_task(&task.id).await.expect("get");
    let progress = got.progress.expect("progress");
    assert_eq!(counts(&progress), (2, 20, 0, 1), "GetTask shows it too");
    assert_eq!(progress.current_keyword, KEYWORD);

    let mut stream = app.client.stream_progress(&task.id).await.expect("subscribe");
    third.release();
    let mut updates = Vec::new();
    while let Some(p) = tokio::time::timeout(crate::helpers::DEADLINE, tokio_stream::StreamExt::next(&mut stream))
        .await
        .expect("within the deadline")
    {
        updates.push(p.expect("progress"));
    }
    let last = updates.last().expect("the end");
    assert_eq!(last.status(), TaskStatus::Succeeded);
    assert_eq!(counts(last), (5, 31, 1, 0));
    assert_eq!(last.current_keyword, "", "nothing in flight at the end");
    assert!(updates.windows(2).all(|w| w[0].pages_fetched <= w[1].pages_fetched), "never backwards: {updates:?}");
    app.stop().await;
}

async fn a_restart_after_a_stop_mid_operation_starts_it_again_from_its_first_page(backend: Backend) {
    let site = FixtureSite::start(SiteSpec::standard()).await;
    let third = site.hold(&page(3));
    let app = TestApp::spawn_on(&site, &backend).await;
    let task = app.start(&["2A"], &[KEYWORD]).await;
    third.wait_until_reached(1).await;
    app.wait_for(&task.id, |p| p.pages_fetched == 2).await;

    let stopped = app.client.stop_task(&task.id).await.expect("stop");
    assert_eq!(stopped.status(), TaskStatus::Cancelled);
    let kept = app.client.get_task(&task.id).await.expect("get").progress.expect("progress");
    assert_eq!(counts(&kept), (2, 20, 0, 0), "a stopped task keeps what its pages found");
    assert_eq!(app.documents(&task.id).await.len(), 20);

    third.release();
    let restarted = app.client.restart_task(&task.id).await.expect("restart");
    assert_eq!(restarted.status(), TaskStatus::Pending);
    let updates = collect_stream(&app.client, &task.id).await;
    let last = updates.last().expect("the end");
    assert_eq!(last.status(), TaskStatus::Succeeded);

    // From page 1 again, and counted as one uninterrupted run.
    for (n, hits) in [(1, 2), (2, 2), (3, 2), (4, 1), (5, 1)] {
        assert_eq!(site.hits(&page(n)), hits, "page {n}");
    }
    let summary = app.client.get_task(&task.id).await.expect("get").summary.expect("summary");
    assert_eq!((summary.pages_fetched, summary.items_found, summary.new_documents), (5, 31, 31));
    let results = app.results(&task.id).await;
    assert_eq!(results.iter().map(|r| (r.pages_fetched, r.items_found)).collect::<Vec<_>>(), [(5, 31)]);
    assert_eq!(app.documents(&task.id).await.len(), 31);
    app.stop().await;
}

on_both_backends!(
    pages_and_items_move_while_an_operation_runs_and_show_the_operation_in_flight,
    a_restart_after_a_stop_mid_operation_starts_it_again_from_its_first_page
);

/// On PostgreSQL, a replica that does not run the task follows its
/// progress page by page too (through the owner's notices).
#[tokio::test(flavor = "multi_thread")]
#[cfg_attr(not(scrape_postgres), ignore = "needs PostgreSQL: set SCRAPE_TEST_POSTGRES_URL")]
async fn a_replica_that_does_not_run_a_task_follows_its_progress_page_by_page() {
    let site = FixtureSite::start(SiteSpec::standard()).await;
    let third = site.hold(&page(3));
    let backend = Backend::postgres();
    let runner = TestApp::spawn_on(&site, &backend).await;
    let shared = runner.database_url().to_owned();
    let api_only = TestApp::spawn_tuned(&site, &backend, |c| {
        c.database_url = shared;
        c.workers = 0;
    })
    .await;
    let task = api_only.start(&["2A"], &[KEYWORD]).await;
    third.wait_until_reached(1).await;

    let followed = api_only.wait_for(&task.id, |p| p.pages_fetched == 2 && p.in_flight_operations == 1).await;
    assert_eq!(counts(&followed), (2, 20, 0, 1));
    assert_eq!(followed.current_keyword, KEYWORD, "the owner's live fields reach the follower");

    third.release();
    let last = api_only.progress_until_end(&task.id).await;
    assert_eq!(last.last().map(counts), Some((5, 31, 1, 0)));
    api_only.stop().await;
    runner.stop().await;
}
