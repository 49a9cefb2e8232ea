//! Watches in tests: building them, running them and waiting, with a
//! deadline, until their runs have ended and their news are counted.

use std::time::Duration;

use scrape_client::{Client, pb};

use crate::helpers::DEADLINE;

pub const MORBIHAN: &str = "www.morbihan.gouv.fr";
pub const FINISTERE: &str = "www.finistere.gouv.fr";

pub fn interval(seconds: i64) -> pb::Schedule {
    pb::Schedule { kind: Some(pb::schedule::Kind::Interval(prost_types::Duration { seconds, nanos: 0 })) }
}

pub fn cron(expression: &str, time_zone: &str) -> pb::Schedule {
    pb::Schedule {
        kind: Some(pb::schedule::Kind::Cron(pb::CronSchedule {
            expression: expression.to_owned(),
            time_zone: time_zone.to_owned(),
        })),
    }
}

/// A watch over these prefectures and keywords.
pub fn watch(name: &str, prefectures: &[&str], keywords: &[&str], schedule: pb::Schedule) -> pb::Watch {
    pb::Watch {
        name: name.to_owned(),
        task: Some(pb::StartTaskRequest {
            keywords: keywords.iter().map(|k| (*k).to_owned()).collect(),
            prefectures: prefectures.iter().map(|p| (*p).to_owned()).collect(),
            ..Default::default()
        }),
        schedule: Some(schedule),
        ..Default::default()
    }
}

/// Polls the watch until `condition` holds; fails the test after the deadline.
pub async fn wait_watch(client: &Client, id: &str, what: &str, condition: impl Fn(&pb::Watch) -> bool) -> pb::Watch {
    tokio::time::timeout(DEADLINE, async {
        loop {
            let watch = client.get_watch(id).await.expect("get watch");
            if condition(&watch) {
                return watch;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await
    .unwrap_or_else(|_| panic!("{what}: not within the deadline"))
}

/// Polls the watch's log until `condition` holds; returns it.
pub async fn wait_events(
    client: &Client,
    id: &str,
    what: &str,
    condition: impl Fn(&[pb::WatchEvent]) -> bool,
) -> Vec<pb::WatchEvent> {
    tokio::time::timeout(DEADLINE, async {
        loop {
            let events = client.watch_events(id).await.expect("events");
            if condition(&events) {
                return events;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await
    .unwrap_or_else(|_| panic!("{what}: not within the deadline"))
}

/// Whether the run of `task_id` has ended and its news are counted.
pub fn ended(watch: &pb::Watch, task_id: &str) -> bool {
    watch.last_run.as_ref().is_some_and(|run| run.task_id == task_id && run.ended_at.is_some())
}

/// Starts a run now and waits until its news are counted; returns its task
/// and the watch then.
pub async fn run_and_wait(client: &Client, id: &str) -> (pb::Task, pb::Watch) {
    let task = client.run_watch_now(id).await.expect("run now");
    assert_eq!(task.watch_id, id, "the run's task names its watch");
    let watch = wait_watch(client, id, "the run's news are counted", |w| ended(w, &task.id)).await;
    (task, watch)
}

/// The news of one run, through the paginated API.
pub async fn news_of(client: &Client, watch_id: &str, task_id: &str) -> Vec<pb::Document> {
    client
        .all_watch_news(pb::ListWatchNewsRequest {
            watch_id: watch_id.to_owned(),
            task_id: task_id.to_owned(),
            page_size: 7,
            ..Default::default()
        })
        .await
        .expect("news")
}

/// The events of one kind.
pub fn of_kind(events: &[pb::WatchEvent], kind: pb::WatchEventKind) -> Vec<&pb::WatchEvent> {
    events.iter().filter(|e| e.kind() == kind).collect()
}
