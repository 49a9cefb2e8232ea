//! Real server processes killed mid-task: a task survives anything short of
//! losing its database.

use std::collections::{HashMap, HashSet};

use scrape_client::pb::{self, TaskStatus};
use scrape_server::store::{DatabaseUrl, PoolConfig, Store};
use tokio_stream::StreamExt;

use crate::fixture::{Fault, FixtureSite, Gate, SiteSpec};
use crate::helpers::{Backend, ServerProcess, on_both_backends};

const PREFECTURES: [(&str, &str); 3] =
    [("56", "www.morbihan.gouv.fr"), ("29", "www.finistere.gouv.fr"), ("2A", "www.corse-du-sud.gouv.fr")];
const KEYWORDS: [&str; 2] = ["bovin", "porcin"];

fn server_args(site: &FixtureSite, database_url: &str) -> Vec<String> {
    vec![
        format!("--database-url={database_url}"),
        format!("--site-base-url={}", site.base_url()),
        "--workers=1".into(),
        "--concurrency=2".into(),
        "--per-host-concurrency=2".into(),
        "--per-host-delay-ms=0".into(),
        "--per-server-concurrency=2".into(),
        "--per-server-delay-ms=0".into(),
        "--retries=0".into(),
        "--shutdown-grace-secs=1".into(),
        // On PostgreSQL, a killed server's task is taken over once its lease
        // expires (on SQLite, the next server takes it at start-up).
        "--lease-secs=2".into(),
    ]
}

fn start_request() -> pb::StartTaskRequest {
    pb::StartTaskRequest {
        keywords: KEYWORDS.iter().map(|k| (*k).to_owned()).collect(),
        prefectures: PREFECTURES.iter().map(|(code, _)| (*code).to_owned()).collect(),
        ..Default::default()
    }
}

fn domain(code: &str) -> &'static str {
    PREFECTURES.iter().find(|(c, _)| *c == code).expect("known").1
}

/// The pages an operation fetches.
fn operation_pages(site: &FixtureSite, code: &str, keyword: &str) -> Vec<String> {
    let domain = domain(code);
    (1..=site.pages(domain, keyword) as usize).map(|n| FixtureSite::page_path(domain, keyword, n)).collect()
}

/// Every operation of the task, as (prefecture code, keyword).
fn operations() -> Vec<(&'static str, &'static str)> {
    PREFECTURES.iter().flat_map(|(code, _)| KEYWORDS.iter().map(move |k| (*code, *k))).collect()
}

/// Items and distinct documents the fixture holds for the whole task.
fn expected_totals(site: &FixtureSite) -> (u64, u64) {
    let cards: Vec<_> =
        PREFECTURES.iter().flat_map(|(_, d)| KEYWORDS.iter().flat_map(move |k| site.cards(d, k))).collect();
    let distinct: HashSet<_> = cards.iter().map(|c| c.link.clone()).collect();
    (cards.len() as u64, distinct.len() as u64)
}

async fn open_store(url: &str) -> Store {
    Store::open(&DatabaseUrl::parse(url).expect("url"), PoolConfig::default()).await.expect("store")
}

async fn wait_for(client: &scrape_client::Client, id: &str, condition: impl Fn(&pb::Progress) -> bool) -> pb::Progress {
    let mut stream = client.stream_progress(id).await.expect("subscribe");
    tokio::time::timeout(crate::helpers::DEADLINE, async {
        while let Some(p) = stream.next().await {
            let p = p.expect("progress");
            if condition(&p) {
                return p;
            }
        }
        panic!("the stream ended before the condition");
    })
    .await
    .expect("within the deadline")
}

async fn a_server_killed_mid_task_resumes_on_restart_without_refetching_or_counting_twice(backend: Backend) {
    let site = FixtureSite::start(SiteSpec::standard()).await;
    // One operation is held on its second page, so that the kill lands
    // mid-task: five operations recorded, one under way.
    let held = site.hold(&FixtureSite::page_path("www.corse-du-sud.gouv.fr", "porcin", 2));
    let dir = tempfile::tempdir().expect("dir");
    let (url, database) = backend.fresh_url(dir.path()).await;

    let server = ServerProcess::spawn(&server_args(&site, &url)).await;
    let task = server.client.start_task(start_request()).await.expect("start");
    held.wait_until_reached(1).await;
    wait_for(&server.client, &task.id, |p| p.completed_operations == 5).await;
    let status = server.signal("KILL").await;
    assert!(!status.success(), "killed, not exited");

    // What the dead server had recorded, read from its file.
    let id = task.id.parse().expect("id");
    let store = open_store(&url).await;
    let stored = store.task(id).await.expect("read").expect("the task survived");
    assert_eq!(stored.status, scrape_server::domain::TaskStatus::Running);
    let recorded = store.recorded_operations(id).await.expect("operations");
    assert_eq!(recorded.len(), 5, "killed mid-task");
    drop(store);
    let hits_before: HashMap<String, usize> = recorded
        .iter()
        .flat_map(|(code, keyword)| operation_pages(&site, code, keyword))
        .map(|path| (path.clone(), site.hits(&path)))
        .collect();

    held.release();
    let server = ServerProcess::spawn(&server_args(&site, &url)).await;
    let last = server.client.follow(&task.id, |_| {}).await.expect("follow");
    assert_eq!(last.status(), TaskStatus::Succeeded);

    // Operations recorded before the kill were not fetched again…
    for (path, before) in &hits_before {
        assert_eq!(site.hits(path), *before, "{path} fetched again");
    }
    // …and the final counts equal an uninterrupted run's.
    let task = server.client.get_task(&task.id).await.expect("get");
    let summary = task.summary.clone().expect("summary");
    assert_eq!((summary.items_found, summary.new_documents), expected_totals(&site));
    let results = server
        .client
        .list_task_results(pb::ListTaskResultsRequest { task_id: task.id.clone(), ..Default::default() })
        .await
        .expect("results")
        .results;
    assert_eq!(results.len(), 6);
    for r in &results {
        let domain = PREFECTURES.iter().find(|(c, _)| *c == r.prefecture_code).expect("known").1;
        assert_eq!(r.items_found, site.cards(domain, &r.keyword).len() as u64, "{r:?}");
        assert_eq!(r.pages_fetched, site.pages(domain, &r.keyword), "{r:?}");
    }
    let kinds: Vec<_> = server.client.task_events(&task.id).await.expect("events").iter().map(|e| e.kind()).collect();
    assert!(kinds.contains(&pb::TaskEventKind::Resumed), "{kinds:?}");
    server.signal("TERM").await;
    if let Some(database) = database {
        database.drop_now().await;
    }
}

async fn a_server_killed_mid_operation_resumes_it_at_its_next_page_with_the_counts_of_an_uninterrupted_run(
    backend: Backend,
) {
    let site = FixtureSite::start(SiteSpec::standard()).await;
    // Two operations are frozen on their third page, so that the kill lands
    // in the middle of both: two pages of each are stored, the third is in
    // flight.
    let frozen = [("56", "bovin"), ("2A", "porcin")];
    let in_flight: Vec<String> =
        frozen.iter().map(|(code, keyword)| FixtureSite::page_path(domain(code), keyword, 3)).collect();
    let gates: Vec<Gate> = in_flight.iter().map(|path| site.hold(path)).collect();
    let dir = tempfile::tempdir().expect("dir");
    let (url, database) = backend.fresh_url(dir.path()).await;

    // Three operations and requests at once (every site is one host on one
    // server here): two frozen, the third runs all the others.
    let args: Vec<String> = server_args(&site, &url)
        .into_iter()
        .map(|arg| match arg.split_once('=') {
            Some((flag @ ("--concurrency" | "--per-host-concurrency" | "--per-server-concurrency"), _)) => {
                format!("{flag}=3")
            }
            _ => arg,
        })
        .collect();
    let server = ServerProcess::spawn(&args).await;
    let task = server.client.start_task(start_request()).await.expect("start");
    for gate in &gates {
        gate.wait_until_reached(1).await;
    }
    let whole_pages: u64 = operations()
        .iter()
        .filter(|op| !frozen.contains(op))
        .map(|(code, keyword)| u64::from(site.pages(domain(code), keyword)))
        .sum();
    // Progress moves with every page stored: once it shows the four other
    // operations and two pages of each frozen one, all of that is stored.
    wait_for(&server.client, &task.id, |p| p.completed_operations == 4 && p.pages_fetched == whole_pages + 4).await;
    let status = server.signal("KILL").await;
    assert!(!status.success(), "killed, not exited");

    let id = task.id.parse().expect("id");
    let store = open_store(&url).await;
    let mut stored: Vec<_> = store
        .operations_in_flight(id)
        .await
        .expect("progress")
        .into_iter()
        .map(|op| (op.prefecture_code, op.keyword, op.progress.next_offset, op.progress.pages_fetched))
        .collect();
    stored.sort();
    assert_eq!(stored, [("2A".into(), "porcin".into(), 20, 2), ("56".into(), "bovin".into(), 20, 2)]);
    drop(store);

    for gate in &gates {
        gate.release();
    }
    let server = ServerProcess::spawn(&args).await;
    let last = server.client.follow(&task.id, |_| {}).await.expect("follow");
    assert_eq!(last.status(), TaskStatus::Succeeded);

    // Every page was fetched once, but the two in flight at the kill: twice.
    let mut all_pages = 0;
    for (code, keyword) in operations() {
        for path in operation_pages(&site, code, keyword) {
            let expected = if in_flight.contains(&path) { 2 } else { 1 };
            assert_eq!(site.hits(&path), expected, "{path}");
            all_pages += 1;
        }
    }
    assert_eq!(site.total_hits(), all_pages + in_flight.len(), "no other request");

    // The counts and documents of an uninterrupted run.
    let task = server.client.get_task(&task.id).await.expect("get");
    let summary = task.summary.clone().expect("summary");
    let (items, distinct) = expected_totals(&site);
    assert_eq!(
        (summary.items_found, summary.new_documents, summary.pages_fetched),
        (items, distinct, all_pages as u64)
    );
    assert_eq!((last.completed_operations, last.failed_operations), (6, 0));
    let results = server
        .client
        .list_task_results(pb::ListTaskResultsRequest { task_id: task.id.clone(), ..Default::default() })
        .await
        .expect("results")
        .results;
    assert_eq!(results.len(), 6);
    for r in &results {
        let domain = domain(&r.prefecture_code);
        assert_eq!(r.items_found, site.cards(domain, &r.keyword).len() as u64, "{r:?}");
        assert_eq!(r.pages_fetched, site.pages(domain, &r.keyword), "{r:?}");
    }
    let documents: HashSet<(String, String, String, String)> = server
        .client
        .all_documents(pb::ListDocumentsRequest { task_id: task.id.clone(), page_size: 50, ..Default::default() })
        .await
        .expect("documents")
        .into_iter()
        .flat_map(|d| {
            d.keywords.into_iter().map(move |k| (d.prefecture_code.clone(), k, d.link.clone(), d.title.clone()))
        })
        .collect();
    let expected: HashSet<(String, String, String, String)> = operations()
        .into_iter()
        .flat_map(|(code, keyword)| {
            site.cards(domain(code), keyword)
                .into_iter()
                .map(move |c| (code.to_owned(), keyword.to_owned(), c.link, c.title))
        })
        .collect();
    assert_eq!(documents, expected, "exactly the fixture's cards, each under the operation that found it");
    server.signal("TERM").await;
    if let Some(database) = database {
        database.drop_now().await;
    }
}

async fn sigterm_ends_streams_cleanly_and_leaves_running_tasks_to_resume_not_failed(backend: Backend) {
    let site = FixtureSite::start(SiteSpec::standard()).await;
    let stuck = FixtureSite::page_path("www.corse-du-sud.gouv.fr", "porcin", 2);
    site.set_fault(&stuck, Fault::Hang);
    let dir = tempfile::tempdir().expect("dir");
    let (url, database) = backend.fresh_url(dir.path()).await;

    let server = ServerProcess::spawn(&server_args(&site, &url)).await;
    let task = server.client.start_task(start_request()).await.expect("start");
    wait_for(&server.client, &task.id, |p| p.completed_operations == 5).await;
    let mut stream = server.client.stream_progress(&task.id).await.expect("subscribe");
    let status = server.signal("TERM").await;
    assert!(status.success(), "a clean exit: {status:?}");

    // The open stream ended cleanly, on the task's latest state.
    let mut last = None;
    while let Some(item) = stream.next().await {
        last = Some(item.expect("no error at the end of the stream"));
    }
    let last = last.expect("at least the snapshot");
    assert_eq!((last.status(), last.completed_operations), (TaskStatus::Running, 5));

    // Not failed: left running, without an owner, to resume.
    let id = task.id.parse().expect("id");
    let store = open_store(&url).await;
    let stored = store.task(id).await.expect("read").expect("exists");
    assert_eq!(stored.status, scrape_server::domain::TaskStatus::Running);
    assert!(stored.error.is_none());
    let events = store.task_events(id).await.expect("events");
    assert!(!events.iter().any(|e| e.kind == scrape_server::domain::EventKind::Failed));
    drop(store);

    site.clear_fault(&stuck);
    let server = ServerProcess::spawn(&server_args(&site, &url)).await;
    let last = server.client.follow(&task.id, |_| {}).await.expect("follow");
    assert_eq!(last.status(), TaskStatus::Succeeded);
    assert_eq!((last.completed_operations, last.failed_operations), (6, 0));
    let summary = server.client.get_task(&task.id).await.expect("get").summary.expect("summary");
    assert_eq!((summary.items_found, summary.new_documents), expected_totals(&site));
    server.signal("TERM").await;
    if let Some(database) = database {
        database.drop_now().await;
    }
}

on_both_backends!(
    a_server_killed_mid_task_resumes_on_restart_without_refetching_or_counting_twice,
    a_server_killed_mid_operation_resumes_it_at_its_next_page_with_the_counts_of_an_uninterrupted_run,
    sigterm_ends_streams_cleanly_and_leaves_running_tasks_to_resume_not_failed
);
