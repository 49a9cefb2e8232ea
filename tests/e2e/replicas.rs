//! Several replicas on one PostgreSQL database: they share the work, survive
//! a replica's death, and any of them stops or streams any task.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use scrape_client::{Client, pb, pb::TaskStatus};
use tokio_stream::StreamExt;
use tonic::Code;

use crate::fixture::{Fault, FixtureSite, SiteSpec};
use crate::helpers::{Backend, DEADLINE, PostgresDatabase, ServerProcess, TestApp, code, postgres_admin_url};
use crate::proxy::TcpProxy;

const MORBIHAN: &str = "www.morbihan.gouv.fr";

fn replica_args(site: &FixtureSite, database_url: &str, workers: usize, lease_secs: u64) -> Vec<String> {
    vec![
        format!("--database-url={database_url}"),
        format!("--site-base-url={}", site.base_url()),
        format!("--workers={workers}"),
        "--concurrency=4".into(),
        "--per-host-concurrency=16".into(),
        "--per-host-delay-ms=0".into(),
        "--per-server-concurrency=16".into(),
        "--per-server-delay-ms=0".into(),
        "--retries=0".into(),
        format!("--lease-secs={lease_secs}"),
        "--shutdown-grace-secs=1".into(),
    ]
}

/// One keyword per task, so that each task's pages are its own.
fn keyword(n: usize) -> String {
    format!("mot{n}")
}

fn spec_with_keywords(n: usize, cards: impl Fn(usize) -> usize) -> SiteSpec {
    let keywords: Vec<&'static str> = (0..n).map(|i| &*Box::leak(keyword(i).into_boxed_str())).collect();
    SiteSpec { counts: keywords.into_iter().enumerate().map(|(i, k)| (MORBIHAN, k, cards(i))).collect() }
}

async fn start(client: &Client, keyword: &str) -> pb::Task {
    client
        .start_task(pb::StartTaskRequest {
            keywords: vec![keyword.to_owned()],
            prefectures: vec!["56".into()],
            ..Default::default()
        })
        .await
        .expect("start")
}

/// The owner named in each "started"/"resumed" event of a task.
async fn runners(client: &Client, id: &str) -> Vec<(pb::TaskEventKind, String)> {
    client
        .task_events(id)
        .await
        .expect("events")
        .into_iter()
        .filter(|e| matches!(e.kind(), pb::TaskEventKind::Started | pb::TaskEventKind::Resumed))
        .map(|e| (e.kind(), e.message))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
#[cfg_attr(not(scrape_postgres), ignore = "needs PostgreSQL: set SCRAPE_TEST_POSTGRES_URL")]
async fn three_replicas_share_thirty_tasks_and_run_each_exactly_once() {
    let site = FixtureSite::start(spec_with_keywords(30, |i| 3 + i % 17)).await;
    // Held pages keep the first tasks running until every worker has one.
    let pages = site.hold_all();
    let database = PostgresDatabase::create(&postgres_admin_url()).await;
    let mut replicas = Vec::new();
    for _ in 0..3 {
        replicas.push(ServerProcess::spawn(&replica_args(&site, &database.url, 2, 30)).await);
    }

    let mut ids = Vec::new();
    for n in 0..30 {
        ids.push((n, start(&replicas[n % 3].client, &keyword(n)).await.id));
    }
    // Six requests held: each of the six workers (two per replica) runs a
    // task of one operation.
    pages.wait_until_reached(6).await;
    pages.release();
    let mut owners = HashSet::new();
    for (n, id) in &ids {
        let last = replicas[(n + 1) % 3].client.follow(id, |_| {}).await.expect("follow");
        assert_eq!(last.status(), TaskStatus::Succeeded);
        assert_eq!(last.items_found, site.cards(MORBIHAN, &keyword(*n)).len() as u64);
        let ran = runners(&replicas[0].client, id).await;
        assert_eq!(ran.len(), 1, "task {n} ran once: {ran:?}");
        assert_eq!(ran[0].0, pb::TaskEventKind::Started);
        owners.insert(ran[0].1.clone());
    }
    assert_eq!(owners.len(), 3, "the work was shared: {owners:?}");
    // Every page of every task was fetched exactly once.
    let mut per_path: HashMap<String, usize> = HashMap::new();
    for hit in site.requests() {
        *per_path.entry(hit.path).or_default() += 1;
    }
    assert!(per_path.values().all(|n| *n == 1), "a page fetched twice");
    let expected_pages: usize = (0..30).map(|n| site.pages(MORBIHAN, &keyword(n)) as usize).sum();
    assert_eq!(per_path.len(), expected_pages);

    for replica in replicas {
        replica.signal("TERM").await;
    }
    database.drop_now().await;
}

#[tokio::test(flavor = "multi_thread")]
#[cfg_attr(not(scrape_postgres), ignore = "needs PostgreSQL: set SCRAPE_TEST_POSTGRES_URL")]
async fn the_tasks_of_a_killed_replica_are_finished_by_the_others_with_exact_counts() {
    let site = FixtureSite::start(spec_with_keywords(6, |i| 25 + i)).await;
    // Held pages keep every task running until the victim is dead.
    let pages = site.hold_all();
    let database = PostgresDatabase::create(&postgres_admin_url()).await;
    let victim = ServerProcess::spawn(&replica_args(&site, &database.url, 3, 2)).await;
    let victim_pid = format!("-{}-", victim.child.id().expect("pid"));
    // The victim starts alone, so it claims tasks first.
    let mut ids = Vec::new();
    for n in 0..6 {
        ids.push(start(&victim.client, &keyword(n)).await.id);
    }
    let first = ids[0].clone();
    tokio::time::timeout(DEADLINE, async {
        loop {
            let ran = runners(&victim.client, &first).await;
            if ran.iter().any(|(_, by)| by.contains(&victim_pid)) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("the victim took a task");
    // Its three workers are each on a page.
    pages.wait_until_reached(3).await;
    let survivors = [
        ServerProcess::spawn(&replica_args(&site, &database.url, 3, 2)).await,
        ServerProcess::spawn(&replica_args(&site, &database.url, 3, 2)).await,
    ];
    let killed = victim.signal("KILL").await;
    assert!(!killed.success());
    pages.release();

    let mut new_documents = 0;
    for (n, id) in ids.iter().enumerate() {
        let last = survivors[n % 2].client.follow(id, |_| {}).await.expect("follow");
        assert_eq!(last.status(), TaskStatus::Succeeded, "task {n}");
        assert_eq!(last.items_found, site.cards(MORBIHAN, &keyword(n)).len() as u64, "task {n}: no double count");
        new_documents += last.new_documents;
        assert_eq!((last.completed_operations, last.failed_operations), (1, 0));
    }
    // Tasks share some documents: each is new for exactly one of them.
    let distinct: HashSet<String> =
        (0..6).flat_map(|n| site.cards(MORBIHAN, &keyword(n))).map(|card| card.link).collect();
    assert_eq!(new_documents, distinct.len() as u64);
    let taken_over = runners(&survivors[0].client, &first).await;
    assert!(
        taken_over.iter().any(|(kind, by)| *kind == pb::TaskEventKind::Resumed && !by.contains(&victim_pid)),
        "{taken_over:?}"
    );
    for replica in survivors {
        replica.signal("TERM").await;
    }
    database.drop_now().await;
}

#[tokio::test(flavor = "multi_thread")]
#[cfg_attr(not(scrape_postgres), ignore = "needs PostgreSQL: set SCRAPE_TEST_POSTGRES_URL")]
async fn any_replica_stops_and_streams_a_task_another_one_runs() {
    let site = FixtureSite::start(spec_with_keywords(2, |_| 45)).await;
    let first_page = site.hold(&FixtureSite::page_path(MORBIHAN, &keyword(0), 1));
    site.set_fault(&FixtureSite::page_path(MORBIHAN, &keyword(1), 3), Fault::Hang);
    let database = PostgresDatabase::create(&postgres_admin_url()).await;
    // A long lease: its heartbeat (every 40 s) cannot be what carries the
    // stop within StopTask's 10 s wait; the notice must.
    let runner = ServerProcess::spawn(&replica_args(&site, &database.url, 2, 120)).await;
    let api_only = ServerProcess::spawn(&replica_args(&site, &database.url, 0, 120)).await;

    // Streamed on the replica that does not run it: the task running (its
    // first page is held), then updates, then the end.
    let streamed = start(&api_only.client, &keyword(0)).await;
    first_page.wait_until_reached(1).await;
    let mut stream = api_only.client.stream_progress(&streamed.id).await.expect("stream");
    let running = tokio::time::timeout(DEADLINE, async {
        while let Some(p) = stream.next().await {
            if p.expect("progress").status() == TaskStatus::Running {
                return true;
            }
        }
        false
    })
    .await
    .expect("within the deadline");
    assert!(running, "the run was followed");
    first_page.release();
    let mut last = None;
    while let Some(p) = tokio::time::timeout(DEADLINE, stream.next()).await.expect("within the deadline") {
        last = Some(p.expect("progress"));
    }
    let last = last.expect("updates after the release");
    assert_eq!(last.status(), TaskStatus::Succeeded);
    assert_eq!(last.items_found, 45);

    // Stopped through the replica that does not run it: the owner aborts
    // its hanging request and the answer is already CANCELLED.
    let stuck = start(&api_only.client, &keyword(1)).await;
    let mut waiting = api_only.client.stream_progress(&stuck.id).await.expect("stream");
    while let Some(p) = waiting.next().await {
        if p.expect("progress").status() == TaskStatus::Running {
            break;
        }
    }
    let stopped = api_only.client.stop_task(&stuck.id).await.expect("stop");
    assert_eq!(stopped.status(), TaskStatus::Cancelled);
    assert!(stopped.completed_at.is_some());
    let seen_by_owner = runner.client.get_task(&stuck.id).await.expect("get");
    assert_eq!(seen_by_owner.status(), TaskStatus::Cancelled);

    runner.signal("TERM").await;
    api_only.signal("TERM").await;
    database.drop_now().await;
}

#[tokio::test(flavor = "multi_thread")]
#[cfg_attr(not(scrape_postgres), ignore = "needs PostgreSQL: set SCRAPE_TEST_POSTGRES_URL")]
async fn a_database_that_goes_away_and_comes_back_loses_and_doubles_nothing() {
    let site = FixtureSite::start(SiteSpec::standard()).await;
    let pages = site.hold_all();
    let database = PostgresDatabase::create(&postgres_admin_url()).await;
    let upstream = url::Url::parse(&database.url).expect("url");
    let proxy =
        TcpProxy::start(&format!("{}:{}", upstream.host_str().expect("host"), upstream.port().unwrap_or(5432))).await;
    let mut through_proxy = upstream.clone();
    through_proxy.set_port(Some(proxy.port())).expect("port");
    let url = through_proxy.to_string();
    let app = TestApp::spawn_tuned(&site, &Backend::Sqlite, |config| {
        config.database_url = url;
        config.database_timeout_ms = 500;
        config.concurrency = 2;
    })
    .await;

    let task = app.start(&["56", "29", "2A"], &["bovin", "porcin"]).await;
    // Two operations under way, held on their first page.
    pages.wait_until_reached(2).await;
    proxy.cut();
    let refused =
        app.client.start_task(pb::StartTaskRequest { keywords: vec!["ovin".into()], ..Default::default() }).await;
    assert_eq!(code(refused), Code::Unavailable);
    assert_eq!(code(app.client.get_task(&task.id).await), Code::Unavailable);

    // The operations go on fetching while the database is away: a third
    // request comes after the release.
    pages.release();
    pages.wait_until_reached(3).await;
    proxy.restore();
    let last = tokio::time::timeout(DEADLINE, async {
        loop {
            match app.client.follow(&task.id, |_| {}).await {
                Ok(last) => return last,
                Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        }
    })
    .await
    .expect("the task ends after the database is back");
    assert_eq!((last.status(), last.completed_operations, last.failed_operations), (TaskStatus::Succeeded, 6, 0));
    let expected: u64 = [MORBIHAN, "www.finistere.gouv.fr", "www.corse-du-sud.gouv.fr"]
        .iter()
        .flat_map(|d| ["bovin", "porcin"].map(|k| site.cards(d, k).len() as u64))
        .sum();
    assert_eq!(last.items_found, expected);
    app.client
        .start_task(pb::StartTaskRequest { keywords: vec!["ovin".into()], ..Default::default() })
        .await
        .expect("back");
    let listed = app.client.list_tasks(pb::ListTasksRequest::default()).await.expect("list");
    assert_eq!(listed.tasks.len(), 2);
    app.stop().await;
    database.drop_now().await;
}
