//! The schedule as the scheduler applies it, on a real SQLite store and an
//! injected clock: due times fire once, a scheduler that was away fires
//! only the latest one it missed, pausing stops future runs, and two
//! schedulers at the same moment claim a due time once.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};

use crate::catalog::Catalog;
use crate::domain::{RawSchedule, RawTaskSpec, RawWatch, WatchEventKind, WatchId, WatchSpec};
use crate::runner::{ProgressHub, Runner, RunnerConfig};
use crate::scheduler::{Clock, ManualClock};
use crate::scrape::{
    FetchConfig, Fetcher, Limits, LimitsConfig, ParseBudget, ParserPool, Profiles, Resolver, Scraper, SiteBase,
};
use crate::service::{TaskListRequest, TaskListing, TaskService, WatchService};
use crate::store::{DatabaseUrl, PoolConfig, Store};

/// A watch service over a fresh SQLite file, with no worker: the tasks of
/// runs stay pending, and only the schedule is under test.
async fn service_and_store(dir: &tempfile::TempDir) -> (WatchService, Store) {
    let url = DatabaseUrl::parse(&format!("sqlite://{}", dir.path().join("watches.db").display())).expect("url");
    let store = Store::open(&url, PoolConfig::default()).await.expect("store");
    let catalog = Catalog::builtin();
    let limits = LimitsConfig {
        concurrency: 1,
        per_host_concurrency: 1,
        per_host_delay: Duration::ZERO,
        per_server_concurrency: 1,
        per_server_delay: Duration::ZERO,
    };
    let fetcher = Fetcher::new(FetchConfig::default(), Arc::new(Limits::new(limits)), Resolver::new(Vec::new()))
        .expect("fetcher");
    let parsers = ParserPool::new(1, ParseBudget::default());
    let scraper = Scraper::new(fetcher, SiteBase::Real, Profiles::builtin().expect("profiles"), parsers);
    let hub = Arc::new(ProgressHub::new());
    let runner = Runner::new(
        store.clone(),
        scraper,
        catalog.clone(),
        hub.clone(),
        RunnerConfig { workers: 0, ..RunnerConfig::default() },
    );
    let service = WatchService::new(store.clone(), TaskService::new(store.clone(), catalog, hub, runner), false);
    (service, store)
}

async fn service(dir: &tempfile::TempDir) -> WatchService {
    service_and_store(dir).await.0
}

fn watch(schedule: RawSchedule) -> RawWatch {
    RawWatch {
        name: "ICPE Morbihan".into(),
        task: RawTaskSpec { keywords: vec!["bovin".into()], prefectures: vec!["56".into()], ..Default::default() },
        schedule: Some(schedule),
        ..Default::default()
    }
}

async fn runs(service: &WatchService, id: WatchId) -> Vec<Option<DateTime<Utc>>> {
    let mut due: Vec<_> = service.watch_runs(id, 100).await.expect("runs").into_iter().map(|r| r.due_at).collect();
    due.sort();
    due
}

async fn tasks_of(service: &WatchService, id: WatchId) -> usize {
    let listing = TaskListing::parse(TaskListRequest { watch_id: &id.to_string(), ..Default::default() })
        .expect("a valid listing");
    service.tasks().list_tasks(listing).await.expect("tasks").items.len()
}

#[tokio::test(flavor = "multi_thread")]
async fn an_interval_fires_each_due_time_once_as_the_clock_reaches_it() {
    let dir = tempfile::tempdir().expect("dir");
    let service = service(&dir).await;
    let created = service.create_watch(watch(RawSchedule::Interval(Duration::from_secs(60)))).await.expect("created");
    let first = created.next_run_at.expect("a first due time");
    let clock = ManualClock::at(first - TimeDelta::seconds(1));

    assert_eq!(service.tick(clock.now()).await.expect("tick").fired, 0, "not due yet");
    clock.set(first);
    let tick = service.tick(clock.now()).await.expect("tick");
    assert_eq!((tick.fired, tick.started.len()), (1, 1));
    assert_eq!(service.tick(clock.now()).await.expect("tick").fired, 0, "the same due time fires once");
    clock.advance(TimeDelta::seconds(60));
    assert_eq!(service.tick(clock.now()).await.expect("tick").fired, 1);

    assert_eq!(runs(&service, created.id).await, [Some(first), Some(first + TimeDelta::seconds(60))]);
    assert_eq!(tasks_of(&service, created.id).await, 2, "each run is a task of the watch");
    let watch = service.get_watch(created.id).await.expect("watch");
    assert_eq!(watch.next_run_at, Some(first + TimeDelta::seconds(120)));
    let last = watch.last_run.expect("a last run");
    assert_eq!(last.due_at, Some(first + TimeDelta::seconds(60)));
    assert!(last.task_id.is_some());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_scheduler_back_after_downtime_fires_the_latest_missed_due_time_once() {
    let dir = tempfile::tempdir().expect("dir");
    let service = service(&dir).await;
    let created = service.create_watch(watch(RawSchedule::Interval(Duration::from_secs(3600)))).await.expect("created");
    let first = created.next_run_at.expect("due");
    // Away for five and a half hours: six due times passed.
    let clock = ManualClock::at(first + TimeDelta::minutes(330));
    let tick = service.tick(clock.now()).await.expect("tick");
    assert_eq!(tick.fired, 1, "one run, not a burst");
    assert_eq!(service.tick(clock.now()).await.expect("tick").fired, 0);
    assert_eq!(runs(&service, created.id).await, [Some(first + TimeDelta::hours(5))]);
    let next = service.get_watch(created.id).await.expect("watch").next_run_at;
    assert_eq!(next, Some(first + TimeDelta::hours(6)), "the next due time is in the future");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_cron_watch_fires_at_seven_paris_time_on_both_sides_of_a_dst_change() {
    let dir = tempfile::tempdir().expect("dir");
    let (service, store) = service_and_store(&dir).await;
    let schedule = RawSchedule::Cron { expression: "0 7 * * *".into(), time_zone: "Europe/Paris".into() };
    let spec = WatchSpec::parse(watch(schedule), &Catalog::builtin()).expect("valid");
    // Created on the Saturday before the spring change, first due at 07:00.
    let saturday = DateTime::parse_from_rfc3339("2026-03-28T06:00:00Z").expect("time").to_utc();
    let created = store.insert_watch(WatchId::new(), &spec, Some(saturday), saturday).await.expect("created");
    let clock = ManualClock::at(saturday);
    let mut fired = Vec::new();
    for _ in 0..3 {
        assert_eq!(service.tick(clock.now()).await.expect("tick").fired, 1);
        fired.push(service.get_watch(created.id).await.expect("watch").last_run.and_then(|r| r.due_at).expect("due"));
        let next = service.get_watch(created.id).await.expect("watch").next_run_at.expect("next");
        clock.set(next);
    }
    let text: Vec<String> = fired.iter().map(|t| t.to_rfc3339()).collect();
    // 07:00 CET, then 07:00 CEST on Sunday and Monday.
    assert_eq!(text, ["2026-03-28T06:00:00+00:00", "2026-03-29T05:00:00+00:00", "2026-03-30T05:00:00+00:00"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_paused_watch_does_not_fire_and_resumes_from_now_without_making_up_missed_runs() {
    let dir = tempfile::tempdir().expect("dir");
    let service = service(&dir).await;
    let created = service.create_watch(watch(RawSchedule::Interval(Duration::from_secs(1)))).await.expect("created");
    let paused = service.pause_watch(created.id).await.expect("paused");
    assert!(paused.paused);
    assert_eq!(paused.next_run_at, None);
    let clock = ManualClock::at(Utc::now() + TimeDelta::hours(1));
    assert_eq!(service.tick(clock.now()).await.expect("tick").fired, 0);
    let resumed = service.resume_watch(created.id).await.expect("resumed");
    let next = resumed.next_run_at.expect("due again");
    assert!(next > Utc::now() - TimeDelta::seconds(1) && next < clock.now(), "counted from the resumption");
    let kinds: Vec<WatchEventKind> =
        service.watch_events(created.id).await.expect("events").iter().map(|e| e.kind).collect();
    assert_eq!(kinds, [WatchEventKind::Created, WatchEventKind::Paused, WatchEventKind::Resumed]);
}

#[tokio::test(flavor = "multi_thread")]
async fn two_schedulers_ticking_at_the_same_moment_claim_a_due_time_once() {
    let dir = tempfile::tempdir().expect("dir");
    let service = service(&dir).await;
    let mut ids = Vec::new();
    for _ in 0..5 {
        ids.push(
            service.create_watch(watch(RawSchedule::Interval(Duration::from_secs(60)))).await.expect("created").id,
        );
    }
    let other = service.clone();
    let at = Utc::now() + TimeDelta::seconds(61);
    let (a, b) = tokio::join!(service.tick(at), other.tick(at));
    assert_eq!(a.expect("tick").fired + b.expect("tick").fired, 5, "each watch fired once in all");
    for id in ids {
        assert_eq!(runs(&service, id).await.len(), 1);
        assert_eq!(tasks_of(&service, id).await, 1);
    }
}
