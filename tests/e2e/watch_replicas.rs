//! Two replicas on one PostgreSQL database, both running the scheduler, fire
//! an interval schedule for a while: each due time runs once, and each run
//! is counted once.

use std::collections::HashSet;

use scrape_client::pb;

use crate::fixture::{FixtureSite, SiteSpec};
use crate::helpers::{PostgresDatabase, ServerProcess, postgres_admin_url};
use crate::watch_helpers::{MORBIHAN, interval, of_kind, wait_events, watch};

fn replica_args(site: &FixtureSite, database_url: &str) -> Vec<String> {
    vec![
        format!("--database-url={database_url}"),
        format!("--site-base-url={}", site.base_url()),
        "--workers=2".into(),
        "--per-host-concurrency=8".into(),
        "--per-host-delay-ms=0".into(),
        "--retries=0".into(),
        "--shutdown-grace-secs=1".into(),
    ]
}

fn micros(ts: &prost_types::Timestamp) -> i64 {
    ts.seconds * 1_000_000 + i64::from(ts.nanos / 1000)
}

#[tokio::test(flavor = "multi_thread")]
#[cfg_attr(not(scrape_postgres), ignore = "needs PostgreSQL: set SCRAPE_TEST_POSTGRES_URL")]
async fn two_replicas_fire_each_due_time_of_an_interval_schedule_once() {
    let site = FixtureSite::start(SiteSpec { counts: vec![(MORBIHAN, "bovin", 3)] }).await;
    let database = PostgresDatabase::create(&postgres_admin_url()).await;
    let replicas = [
        ServerProcess::spawn(&replica_args(&site, &database.url)).await,
        ServerProcess::spawn(&replica_args(&site, &database.url)).await,
    ];
    let created = replicas[0]
        .client
        .create_watch(watch("Every second", &["56"], &["bovin"], interval(1)))
        .await
        .expect("created");
    let id = created.id.clone();
    wait_events(&replicas[1].client, &id, "ten runs", |events| {
        of_kind(events, pb::WatchEventKind::RunStarted).len() >= 10
    })
    .await;
    replicas[1].client.pause_watch(&id).await.expect("paused");
    let events = wait_events(&replicas[0].client, &id, "every run ended", |events| {
        of_kind(events, pb::WatchEventKind::RunEnded).len() == of_kind(events, pb::WatchEventKind::RunStarted).len()
    })
    .await;

    let started = of_kind(&events, pb::WatchEventKind::RunStarted);
    let mut due: Vec<i64> = started.iter().map(|e| micros(e.due_at.as_ref().expect("a scheduled run"))).collect();
    due.sort_unstable();
    let distinct: HashSet<i64> = due.iter().copied().collect();
    assert_eq!(distinct.len(), started.len(), "each due time ran once: {due:?}");
    for pair in due.windows(2) {
        let apart = pair[1] - pair[0];
        assert!(apart >= 1_000_000 && apart % 1_000_000 == 0, "due times one interval apart or more: {due:?}");
    }
    let tasks: HashSet<&str> = started.iter().map(|e| e.task_id.as_str()).collect();
    assert_eq!(tasks.len(), started.len(), "one task per run");

    let mut listed = Vec::new();
    let mut page_token = String::new();
    loop {
        let page = replicas[0]
            .client
            .list_tasks(pb::ListTasksRequest { watch_id: id.clone(), page_token, page_size: 4, ..Default::default() })
            .await
            .expect("list");
        listed.extend(page.tasks);
        if page.next_page_token.is_empty() {
            break;
        }
        page_token = page.next_page_token;
    }
    assert_eq!(listed.len(), started.len(), "no task beyond the runs");
    let request_ids: HashSet<String> =
        listed.iter().map(|t| t.parameters.clone().unwrap_or_default().request_id).collect();
    assert_eq!(request_ids.len(), listed.len());
    assert!(request_ids.iter().all(|r| r.starts_with("watch-run-")), "{request_ids:?}");
    assert!(listed.iter().all(|t| t.status() == pb::TaskStatus::Succeeded));

    // Each run counted once: the first found the three cards, the others nothing.
    let ended = of_kind(&events, pb::WatchEventKind::RunEnded);
    let counted: HashSet<&str> = ended.iter().map(|e| e.task_id.as_str()).collect();
    assert_eq!(counted, tasks);
    assert_eq!(ended.iter().map(|e| e.new_documents).sum::<u64>(), 3);

    for replica in replicas {
        replica.signal("TERM").await;
    }
    database.drop_now().await;
}
