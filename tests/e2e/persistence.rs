//! Tasks and results live in the database file, not in the process.

use scrape_client::pb::{self, TaskStatus};

use crate::fixture::{FixtureSite, SiteSpec};
use crate::helpers::{TestApp, test_config};

#[tokio::test(flavor = "multi_thread")]
async fn a_server_restarted_on_the_same_file_still_lists_its_tasks_and_results() {
    let site = FixtureSite::start(SiteSpec::standard()).await;
    let app = TestApp::spawn(&site).await;
    let done = app.start(&["56"], &["bovin", "porcin"]).await;
    app.progress_until_end(&done.id).await;
    let before = app.client.get_task(&done.id).await.expect("get");
    let results_before = app.results(&done.id).await;
    let dir = app.dir.clone();
    app.stop().await;

    let config = test_config(&site, dir.path());
    let app = TestApp::spawn_with(config, dir).await;
    let listed = app.client.list_tasks(pb::ListTasksRequest::default()).await.expect("list");
    assert_eq!(listed.tasks.len(), 1);
    assert_eq!(listed.tasks[0].id, done.id);
    assert_eq!(listed.tasks[0].status(), TaskStatus::Succeeded);
    let after = app.client.get_task(&done.id).await.expect("get");
    assert_eq!(after.summary, before.summary);
    assert_eq!(after.completed_at, before.completed_at);
    assert_eq!(app.results(&done.id).await, results_before);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn tasks_list_newest_first_in_pages_filtered_by_status() {
    let site = FixtureSite::start(SiteSpec::standard()).await;
    let dir = std::sync::Arc::new(tempfile::tempdir().expect("dir"));
    let mut config = test_config(&site, dir.path());
    config.workers = 0; // nothing runs: every task stays pending
    let app = TestApp::spawn_with(config, dir).await;
    let mut ids = Vec::new();
    for n in 0..7 {
        ids.push(app.start(&["56"], &[&format!("mot{n}")]).await.id);
    }
    let cancelled = app.client.stop_task(&ids[2]).await.expect("stop");
    assert_eq!(cancelled.status(), TaskStatus::Cancelled);

    let mut listed = Vec::new();
    let mut page_token = String::new();
    let mut pages = 0;
    loop {
        let page = app
            .client
            .list_tasks(pb::ListTasksRequest { page_size: 3, page_token, ..Default::default() })
            .await
            .expect("page");
        pages += 1;
        listed.extend(page.tasks.into_iter().map(|t| t.id));
        if page.next_page_token.is_empty() {
            break;
        }
        page_token = page.next_page_token;
    }
    let newest_first: Vec<_> = ids.iter().rev().cloned().collect();
    assert_eq!(listed, newest_first);
    assert_eq!(pages, 3);

    let pending = app
        .client
        .list_tasks(pb::ListTasksRequest { statuses: vec![TaskStatus::Pending as i32], ..Default::default() })
        .await
        .expect("pending");
    assert_eq!(pending.tasks.len(), 6);
    let only_cancelled = app
        .client
        .list_tasks(pb::ListTasksRequest { statuses: vec![TaskStatus::Cancelled as i32], ..Default::default() })
        .await
        .expect("cancelled");
    assert_eq!(only_cancelled.tasks.iter().map(|t| t.id.clone()).collect::<Vec<_>>(), [ids[2].clone()]);
    app.stop().await;
}
