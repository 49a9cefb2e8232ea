//! StreamProgress: a snapshot first, coalesced updates, the end after the
//! terminal state, for any number of subscribers, early or late.

use scrape_client::pb::TaskStatus;

use crate::fixture::{Fault, FixtureSite, SiteSpec};
use crate::helpers::{Backend, TestApp, collect_stream, on_both_backends};

async fn two_subscribers_and_a_late_one_all_see_the_end(backend: Backend) {
    let site = FixtureSite::start(SiteSpec::standard()).await;
    // Hold one page until both subscribers are in, so neither can miss the run.
    let gate = FixtureSite::page_path("www.morbihan.gouv.fr", "bovin", 3);
    site.set_fault(&gate, Fault::Hang);
    let app = TestApp::spawn_on(&site, &backend).await;
    let task = app.start(&["56", "29"], &["bovin", "porcin"]).await;

    let first = tokio::spawn({
        let client = app.client.clone();
        let id = task.id.clone();
        async move { collect_stream(&client, &id).await }
    });
    let second = tokio::spawn({
        let client = app.client.clone();
        let id = task.id.clone();
        async move { collect_stream(&client, &id).await }
    });
    app.wait_for(&task.id, |p| p.completed_operations == 3).await;
    // The gated operation can only end by a stop: both streams end with it.
    let stopped = app.client.stop_task(&task.id).await.expect("stop");
    assert_eq!(stopped.status(), TaskStatus::Cancelled);

    for stream in [first.await.expect("first"), second.await.expect("second")] {
        let first_message = stream.first().expect("a snapshot first");
        assert_eq!(first_message.task_id, task.id);
        assert_eq!(first_message.total_operations, 4);
        let last = stream.last().expect("a last message");
        assert_eq!(last.status(), TaskStatus::Cancelled);
        assert_eq!(last.completed_operations, 3);
        let terminal = stream.iter().filter(|p| p.status() == TaskStatus::Cancelled).count();
        assert_eq!(terminal, 1, "the stream ends right after the terminal state");
    }

    // A late subscriber gets the final snapshot, and the end.
    let late = collect_stream(&app.client, &task.id).await;
    assert_eq!(late.len(), 1);
    assert_eq!(late[0].status(), TaskStatus::Cancelled);
    assert_eq!(late[0].completed_operations, 3);
    app.stop().await;
}

async fn a_subscriber_of_a_finished_task_gets_its_final_snapshot(backend: Backend) {
    let site = FixtureSite::start(SiteSpec::standard()).await;
    let app = TestApp::spawn_on(&site, &backend).await;
    let task = app.start(&["29"], &["bovin"]).await;
    let during = app.progress_until_end(&task.id).await;
    assert_eq!(during.last().map(|p| p.status()), Some(TaskStatus::Succeeded));

    let after = collect_stream(&app.client, &task.id).await;
    assert_eq!(after.len(), 1);
    assert_eq!(after[0].status(), TaskStatus::Succeeded);
    assert_eq!(after[0].items_found, 7);
    assert_eq!(after[0].percent, 100.0);
    assert!(after[0].elapsed.is_some());
    app.stop().await;
}

on_both_backends!(
    two_subscribers_and_a_late_one_all_see_the_end,
    a_subscriber_of_a_finished_task_gets_its_final_snapshot
);
