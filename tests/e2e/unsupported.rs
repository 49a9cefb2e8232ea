//! Sites the service cannot search yet (Paris, on the regional platform):
//! named, they are refused; in a region or over every prefecture, they are
//! skipped, once, with the reason in the task's log and no failed operation.

use scrape_client::pb;

use crate::fixture::{FixtureSite, SiteSpec};
use crate::helpers::{Backend, TestApp, on_both_backends};

async fn paris_is_listed_as_unsupported_refused_by_name_and_skipped_in_its_region(backend: Backend) {
    let site = FixtureSite::start(SiteSpec::standard()).await;
    let app = TestApp::spawn_on(&site, &backend).await;

    let paris = app.client.list_prefectures("Île-de-France").await.expect("prefectures");
    let paris = paris.iter().find(|p| p.code == "75").expect("Paris is listed");
    assert!(!paris.unsupported_reason.is_empty(), "with the reason its site cannot be searched");

    let refused = app
        .client
        .start_task(pb::StartTaskRequest {
            keywords: vec!["bovin".into()],
            prefectures: vec!["Morbihan".into(), "Paris".into()],
            ..Default::default()
        })
        .await
        .expect_err("Paris named");
    assert_eq!(refused.code(), tonic::Code::InvalidArgument);
    assert!(refused.message().contains("prefectures[1]") && refused.message().contains("75"), "{}", refused.message());
    assert!(app.client.list_tasks(pb::ListTasksRequest::default()).await.expect("list").tasks.is_empty());

    let task = app
        .client
        .start_task(pb::StartTaskRequest {
            keywords: vec!["bovin".into()],
            regions: vec!["Île-de-France".into()],
            ..Default::default()
        })
        .await
        .expect("a task over the region");
    let targets = task.parameters.as_ref().expect("parameters").target_prefectures.clone();
    assert_eq!(targets, ["77", "78", "91", "92", "93", "94", "95"]);
    let end = app.progress_until_end(&task.id).await.pop().expect("a final state");
    assert_eq!(end.status(), pb::TaskStatus::Succeeded);
    assert_eq!((end.completed_operations, end.total_operations, end.failed_operations), (7, 7, 0));
    let results = app.results(&task.id).await;
    assert!(results.iter().all(|r| r.prefecture_code != "75" && r.error.is_empty()), "{results:?}");
    assert!(site.requests().iter().all(|h| !h.path.contains("prefectures-regions")), "Paris's site is never fetched");

    let events = app.client.task_events(&task.id).await.expect("events");
    let skipped: Vec<_> = events.iter().filter(|e| e.kind() == pb::TaskEventKind::Skipped).collect();
    assert_eq!(skipped.len(), 1, "one event: {events:?}");
    assert!(skipped[0].message.contains("Paris (75)"), "{}", skipped[0].message);
    app.stop().await;
}

on_both_backends!(paris_is_listed_as_unsupported_refused_by_name_and_skipped_in_its_region);
