//! Tasks and results live in the database file, not in the process.

use scrape_client::pb::{self, TaskStatus};

use crate::fixture::{FixtureSite, SiteSpec};
use crate::helpers::{Backend, TestApp, on_both_backends};

async fn a_server_restarted_on_the_same_database_still_lists_its_tasks_and_results(backend: Backend) {
    let site = FixtureSite::start(SiteSpec::standard()).await;
    let app = TestApp::spawn_on(&site, &backend).await;
    let done = app.start(&["56"], &["bovin", "porcin"]).await;
    app.progress_until_end(&done.id).await;
    let before = app.client.get_task(&done.id).await.expect("get");
    let results_before = app.results(&done.id).await;
    let app = app.restart().await;
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

async fn tasks_list_newest_first_in_pages_filtered_by_status(backend: Backend) {
    let site = FixtureSite::start(SiteSpec::standard()).await;
    let app = TestApp::spawn_tuned(&site, &backend, |config| {
        config.workers = 0; // nothing runs: every task stays pending
    })
    .await;
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

fn ids(tasks: &[pb::Task]) -> Vec<String> {
    tasks.iter().map(|t| t.id.clone()).collect()
}

async fn list_filters_combine_and_pages_stay_exact_while_tasks_are_inserted(backend: Backend) {
    let site = FixtureSite::start(SiteSpec::standard()).await;
    let app = TestApp::spawn_tuned(&site, &backend, |config| {
        config.workers = 0;
    })
    .await;
    let start = |keywords: Vec<&str>, regions: Vec<&str>, prefectures: Vec<&str>| {
        app.client.start_task(pb::StartTaskRequest {
            keywords: keywords.into_iter().map(Into::into).collect(),
            regions: regions.into_iter().map(Into::into).collect(),
            prefectures: prefectures.into_iter().map(Into::into).collect(),
            ..Default::default()
        })
    };
    let morbihan = start(vec!["bovin"], vec![], vec!["56"]).await.expect("a");
    let corse = start(vec!["porcin"], vec!["Corse"], vec![]).await.expect("b");
    let everywhere = start(vec!["volaille"], vec![], vec![]).await.expect("c");

    let query = |q: &str| {
        let q = q.to_owned();
        let client = app.client.clone();
        async move {
            ids(&client.list_tasks(pb::ListTasksRequest { query: q, ..Default::default() }).await.expect("list").tasks)
        }
    };
    assert_eq!(query("MORBIHAN").await, [everywhere.id.clone(), morbihan.id.clone()]);
    assert_eq!(query("corse du sud").await, [everywhere.id.clone(), corse.id.clone()]);
    assert_eq!(query("Porcin").await, [corse.id.as_str()]);
    // The start of an id finds its task (ids of tasks created in the same
    // millisecond share their first digits), a piece from its middle nothing.
    assert_eq!(query(&morbihan.id[..30]).await, [morbihan.id.as_str()]);
    assert_eq!(query(&morbihan.id[..30].to_uppercase()).await, [morbihan.id.as_str()]);
    assert!(query(&morbihan.id[24..]).await.is_empty(), "not a fragment of an id");
    // Whole words only: never a fragment inside a word.
    assert!(query("ovin").await.is_empty(), "ovin is inside bovin and porcin, not one of their words");
    assert!(query("morbi").await.is_empty());
    assert_eq!(query("du sud").await, [everywhere.id.clone(), corse.id.clone()]);
    assert_eq!(query("Haute-Corse").await, [everywhere.id.clone(), corse.id.clone()]);
    assert!(query("ornithorynque").await.is_empty());
    // A whole id, pasted as it is, finds its task by key.
    assert_eq!(query(&corse.id).await, [corse.id.as_str()]);
    // A deleted task leaves the search index too.
    let gone = start(vec!["ornithorynque"], vec![], vec!["29"]).await.expect("start");
    assert_eq!(query("ornithorynque").await, [gone.id.as_str()]);
    app.client.delete_task(&gone.id).await.expect("delete");
    assert!(query("ornithorynque").await.is_empty());

    let after_corse = pb::ListTasksRequest { created_after: corse.created_at, ..Default::default() };
    assert_eq!(
        ids(&app.client.list_tasks(after_corse).await.expect("list").tasks),
        [everywhere.id.clone(), corse.id.clone()]
    );
    let combined = pb::ListTasksRequest {
        created_before: everywhere.created_at,
        query: "bovin".into(),
        statuses: vec![TaskStatus::Pending as i32],
        ..Default::default()
    };
    assert_eq!(ids(&app.client.list_tasks(combined).await.expect("list").tasks), [morbihan.id.as_str()]);

    // Page through while new tasks arrive: the pages after the first hold
    // exactly the older tasks, none twice, none missed.
    let first = app.client.list_tasks(pb::ListTasksRequest { page_size: 2, ..Default::default() }).await.expect("page");
    assert_eq!(ids(&first.tasks), [everywhere.id.clone(), corse.id.clone()]);
    for n in 0..3 {
        start(vec![&format!("nouveau{n}")], vec![], vec!["29"]).await.expect("insert");
    }
    let rest = app
        .client
        .list_tasks(pb::ListTasksRequest { page_size: 2, page_token: first.next_page_token, ..Default::default() })
        .await
        .expect("page");
    assert_eq!(ids(&rest.tasks), [morbihan.id.as_str()]);
    assert!(rest.next_page_token.is_empty());
    app.stop().await;
}

on_both_backends!(
    a_server_restarted_on_the_same_database_still_lists_its_tasks_and_results,
    tasks_list_newest_first_in_pages_filtered_by_status,
    list_filters_combine_and_pages_stay_exact_while_tasks_are_inserted
);
