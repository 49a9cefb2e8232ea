//! Watches end to end: each run is an ordinary task of its watch, a run's
//! news are the documents that watch had never seen, two watches over the
//! same sites each get theirs, pausing stops future runs but not the one in
//! flight, deleting a watch keeps its tasks, and bad requests name their
//! fields.

use std::collections::HashSet;

use scrape_client::pb::{self, TaskStatus};
use tokio_stream::StreamExt;
use tonic::Code;

use crate::fixture::{FixtureSite, SiteSpec, links};
use crate::helpers::{Backend, DEADLINE, TestApp, bad_fields, code, on_both_backends};
use crate::watch_helpers::{FINISTERE, MORBIHAN, cron, interval, news_of, of_kind, run_and_wait, wait_events, watch};

on_both_backends!(
    a_second_run_reports_exactly_the_cards_published_since_the_first,
    a_second_watch_over_the_same_sites_gets_its_own_news,
    pausing_stops_future_runs_but_not_the_run_in_flight,
    deleting_a_watch_keeps_the_tasks_of_its_runs,
    invalid_watches_are_refused_naming_each_field,
    an_update_replaces_only_the_fields_its_mask_names,
    a_service_streaming_watch_events_receives_each_runs_news,
);

fn spec() -> SiteSpec {
    SiteSpec { counts: vec![(MORBIHAN, "bovin", 23), (FINISTERE, "bovin", 7), (MORBIHAN, "ovin", 4)] }
}

async fn a_second_run_reports_exactly_the_cards_published_since_the_first(backend: Backend) {
    let site = FixtureSite::start(spec()).await;
    let app = TestApp::spawn_on(&site, &backend).await;
    let created =
        app.client.create_watch(watch("ICPE", &["56", "29"], &["bovin"], interval(86_400))).await.expect("created");

    let (first, after_first) = run_and_wait(&app.client, &created.id).await;
    let everything = links(site.cards(MORBIHAN, "bovin").iter().chain(&site.cards(FINISTERE, "bovin")));
    let first_news: HashSet<String> =
        news_of(&app.client, &created.id, &first.id).await.into_iter().map(|d| d.link).collect();
    assert_eq!(first_news, everything, "the first run's news are everything it found");
    assert_eq!(after_first.last_run.as_ref().map(|r| r.new_documents), Some(everything.len() as u64));

    let published = site.add_cards(MORBIHAN, "bovin", 3);
    let (second, after_second) = run_and_wait(&app.client, &created.id).await;
    let second_news = news_of(&app.client, &created.id, &second.id).await;
    assert_eq!(links(&site.cards(MORBIHAN, "bovin")).len(), 26, "the site now has the new cards too");
    assert_eq!(second_news.iter().map(|d| d.link.clone()).collect::<HashSet<_>>(), links(&published));
    assert_eq!(second_news.len(), 3, "each new document once");
    let run = after_second.last_run.expect("a last run");
    assert_eq!((run.status(), run.new_documents), (TaskStatus::Succeeded, 3));
    for d in &second_news {
        assert_eq!(
            (d.prefecture_code.as_str(), d.keyword.as_str(), d.prefecture_name.as_str()),
            ("56", "bovin", "Morbihan")
        );
        let card = published.iter().find(|c| c.link == d.link).expect("a published card");
        assert_eq!(d.title, card.title);
    }

    // Each run is an ordinary task that names its watch.
    let task = app.client.get_task(&second.id).await.expect("task");
    assert_eq!(task.watch_id, created.id);
    assert_eq!(task.status(), TaskStatus::Succeeded);
    let listed = app
        .client
        .list_tasks(pb::ListTasksRequest { watch_id: created.id.clone(), ..Default::default() })
        .await
        .expect("list");
    let ids: Vec<&str> = listed.tasks.iter().map(|t| t.id.as_str()).collect();
    assert_eq!(ids, [second.id.as_str(), first.id.as_str()], "the watch's runs, newest first");
    let other = app.start(&["56"], &["ovin"]).await;
    assert!(other.watch_id.is_empty(), "a task started by StartTask names no watch");

    // All the news, newest first: the second run's before the first's.
    let all = app
        .client
        .all_watch_news(pb::ListWatchNewsRequest { watch_id: created.id.clone(), page_size: 4, ..Default::default() })
        .await
        .expect("all news");
    assert_eq!(all.len(), everything.len() + 3);
    assert_eq!(all[..3].iter().map(|d| d.link.clone()).collect::<HashSet<_>>(), links(&published));
    let since = all[0].first_seen_at;
    let recent = app
        .client
        .all_watch_news(pb::ListWatchNewsRequest {
            watch_id: created.id.clone(),
            since,
            page_size: 50,
            ..Default::default()
        })
        .await
        .expect("news since");
    assert_eq!(recent.len(), 3, "since the second run: its news only");
    app.stop().await;
}

async fn a_second_watch_over_the_same_sites_gets_its_own_news(backend: Backend) {
    let site = FixtureSite::start(spec()).await;
    let app = TestApp::spawn_on(&site, &backend).await;
    let first = app.client.create_watch(watch("A", &["56"], &["bovin"], interval(86_400))).await.expect("A");
    run_and_wait(&app.client, &first.id).await;
    let (again, _) = run_and_wait(&app.client, &first.id).await;
    assert!(news_of(&app.client, &first.id, &again.id).await.is_empty(), "nothing new for A the second time");

    // Every document is in the database already, but B has never seen any.
    let second = app.client.create_watch(watch("B", &["56"], &["bovin"], interval(86_400))).await.expect("B");
    let (run, after) = run_and_wait(&app.client, &second.id).await;
    let news: HashSet<String> = news_of(&app.client, &second.id, &run.id).await.into_iter().map(|d| d.link).collect();
    assert_eq!(news, links(&site.cards(MORBIHAN, "bovin")));
    assert_eq!(after.last_run.map(|r| r.new_documents), Some(23));
    let task = app.client.get_task(&run.id).await.expect("task");
    assert_eq!(task.summary.map(|s| s.new_documents), Some(0), "none was new to the database");

    // A new card is news for both.
    let published = site.add_cards(MORBIHAN, "bovin", 1);
    for id in [&first.id, &second.id] {
        let (run, _) = run_and_wait(&app.client, id).await;
        let news: Vec<String> = news_of(&app.client, id, &run.id).await.into_iter().map(|d| d.link).collect();
        assert_eq!(news, [published[0].link.clone()]);
    }
    app.stop().await;
}

async fn pausing_stops_future_runs_but_not_the_run_in_flight(backend: Backend) {
    let site = FixtureSite::start(spec()).await;
    let held = site.hold(&FixtureSite::page_path(FINISTERE, "bovin", 1));
    let app = TestApp::spawn_on(&site, &backend).await;
    let created =
        app.client.create_watch(watch("Every second", &["29"], &["bovin"], interval(1))).await.expect("created");
    // Its first run is in flight, held on its first page.
    held.wait_until_reached(1).await;
    let paused = app.client.pause_watch(&created.id).await.expect("paused");
    assert!(paused.paused);
    assert!(paused.next_run_at.is_none());
    let paused_at = paused.updated_at.expect("updated_at").seconds_f64();
    held.release();

    // A second watch every second: once it has run twice, a second has
    // passed since the pause, and the paused watch would have run again.
    let witness = app.client.create_watch(watch("Witness", &["56"], &["ovin"], interval(1))).await.expect("witness");
    wait_events(&app.client, &witness.id, "the witness ran twice", |events| {
        of_kind(events, pb::WatchEventKind::RunStarted).len() >= 2
    })
    .await;
    app.client.pause_watch(&witness.id).await.expect("pause the witness");

    // The runs in flight at the pause ended normally and reported their news.
    let events = wait_events(&app.client, &created.id, "every run in flight ended", |events| {
        let started = of_kind(events, pb::WatchEventKind::RunStarted).len();
        started > 0 && of_kind(events, pb::WatchEventKind::RunEnded).len() == started
    })
    .await;
    let started = of_kind(&events, pb::WatchEventKind::RunStarted);
    for run in &started {
        let due = run.due_at.as_ref().expect("a scheduled run").seconds_f64();
        assert!(due <= paused_at, "a run due after the pause: {run:?}");
    }
    let first = &started[0].task_id;
    let ended_first = of_kind(&events, pb::WatchEventKind::RunEnded).into_iter().find(|e| &e.task_id == first).cloned();
    assert_eq!(ended_first.map(|e| e.new_documents), Some(7), "the run in flight found every card");
    assert_eq!(app.client.get_task(first).await.expect("task").status(), TaskStatus::Succeeded);

    // Resumed, it runs again, for due times after the resumption.
    let resumed = app.client.resume_watch(&created.id).await.expect("resumed");
    assert!(!resumed.paused && resumed.next_run_at.is_some());
    let resumed_at = resumed.updated_at.expect("updated_at").seconds_f64();
    wait_events(&app.client, &created.id, "a run after resuming", |events| {
        of_kind(events, pb::WatchEventKind::RunStarted)
            .iter()
            .any(|e| e.due_at.as_ref().is_some_and(|d| d.seconds_f64() > resumed_at))
    })
    .await;
    app.client.pause_watch(&created.id).await.expect("pause again");
    app.stop().await;
}

/// Seconds since the epoch, for comparing times.
trait Seconds {
    fn seconds_f64(&self) -> f64;
}

impl Seconds for prost_types::Timestamp {
    fn seconds_f64(&self) -> f64 {
        self.seconds as f64 + f64::from(self.nanos) / 1e9
    }
}

async fn deleting_a_watch_keeps_the_tasks_of_its_runs(backend: Backend) {
    let site = FixtureSite::start(spec()).await;
    let app = TestApp::spawn_on(&site, &backend).await;
    let created =
        app.client.create_watch(watch("Short-lived", &["56"], &["ovin"], interval(86_400))).await.expect("created");
    let (run, _) = run_and_wait(&app.client, &created.id).await;
    app.client.delete_watch(&created.id).await.expect("deleted");
    assert_eq!(code(app.client.get_watch(&created.id).await), Code::NotFound);
    assert_eq!(code(app.client.delete_watch(&created.id).await), Code::NotFound);
    let task = app.client.get_task(&run.id).await.expect("the task stays");
    assert_eq!((task.watch_id.as_str(), task.status()), (created.id.as_str(), TaskStatus::Succeeded));
    assert_eq!(app.documents(&run.id).await.len(), 4, "with what it found");
    let listed = app
        .client
        .list_tasks(pb::ListTasksRequest { watch_id: created.id.clone(), ..Default::default() })
        .await
        .expect("list");
    assert_eq!(listed.tasks.len(), 1, "still listed under its watch's id");
    app.stop().await;
}

async fn invalid_watches_are_refused_naming_each_field(backend: Backend) {
    let site = FixtureSite::start(spec()).await;
    let app = TestApp::spawn_on(&site, &backend).await;
    let client = &app.client;

    let mut bad = watch(" ", &["Atlantide"], &["bovin"], cron("0 25 * * *", "Europe/Pariss"));
    bad.webhook = Some(pb::Webhook { url: "ftp://example.org/hook".into(), secret: "short".into() });
    bad.email = Some(pb::EmailDigest { to: vec!["veille@example.org".into()] });
    let fields = bad_fields(client.create_watch(bad).await);
    assert_eq!(
        fields,
        [
            "watch.email.to",
            "watch.name",
            "watch.task.prefectures[0]",
            "watch.schedule.cron.time_zone",
            "watch.schedule.cron.expression",
            "watch.webhook.url",
            "watch.webhook.secret",
        ]
    );
    let short = pb::Schedule {
        kind: Some(pb::schedule::Kind::Interval(prost_types::Duration { seconds: 0, nanos: 500_000_000 })),
    };
    assert_eq!(
        bad_fields(client.create_watch(watch("n", &["56"], &["bovin"], short)).await),
        ["watch.schedule.interval"]
    );
    let negative = interval(-5);
    assert_eq!(
        bad_fields(client.create_watch(watch("n", &["56"], &["bovin"], negative)).await),
        ["watch.schedule.interval"]
    );
    let no_schedule = pb::Watch { schedule: None, ..watch("n", &["56"], &["bovin"], interval(60)) };
    assert_eq!(bad_fields(client.create_watch(no_schedule).await), ["watch.schedule"]);
    let mut with_request_id = watch("n", &["56"], &["bovin"], interval(60));
    with_request_id.task.as_mut().expect("task").request_id = "mine".into();
    assert_eq!(bad_fields(client.create_watch(with_request_id).await), ["watch.task.request_id"]);
    let missing = client.watches().create_watch(pb::CreateWatchRequest { watch: None }).await;
    assert_eq!(bad_fields(missing), ["watch"]);

    let unknown = "0192e3c4-5b6a-7c8d-9e0f-1a2b3c4d5e6f";
    assert_eq!(code(client.get_watch(unknown).await), Code::NotFound);
    assert_eq!(code(client.pause_watch(unknown).await), Code::NotFound);
    assert_eq!(code(client.resume_watch(unknown).await), Code::NotFound);
    assert_eq!(code(client.run_watch_now(unknown).await), Code::NotFound);
    let news =
        client.list_watch_news(pb::ListWatchNewsRequest { watch_id: unknown.into(), ..Default::default() }).await;
    assert_eq!(code(news), Code::NotFound);
    assert_eq!(bad_fields(client.get_watch("not-an-id").await), ["watch_id"]);
    let bad_page = pb::ListWatchNewsRequest {
        watch_id: unknown.into(),
        page_token: "garbage".into(),
        page_size: -1,
        ..Default::default()
    };
    assert_eq!(bad_fields(client.list_watch_news(bad_page).await), ["page_size", "page_token"]);
    let bad_filter = pb::ListTasksRequest { watch_id: "nope".into(), ..Default::default() };
    assert_eq!(bad_fields(client.list_tasks(bad_filter).await), ["watch_id"]);
    app.stop().await;
}

async fn an_update_replaces_only_the_fields_its_mask_names(backend: Backend) {
    let site = FixtureSite::start(spec()).await;
    let app = TestApp::spawn_on(&site, &backend).await;
    let mut created = watch("Veille", &["56"], &["bovin"], cron("0 7 * * MON-FRI", "Europe/Paris"));
    created.webhook = Some(pb::Webhook { url: "http://127.0.0.1:9/hook".into(), secret: "s".repeat(20) });
    let created = app.client.create_watch(created).await.expect("created");
    assert_eq!(created.webhook.as_ref().map(|w| w.secret.as_str()), Some(""), "the secret is never sent back");

    let renamed = pb::Watch { name: "Veille Bretagne".into(), ..Default::default() };
    let updated = app.client.update_watch(&created.id, renamed, &["name"]).await.expect("renamed");
    assert_eq!(updated.name, "Veille Bretagne");
    assert_eq!((updated.schedule.clone(), updated.task.clone()), (created.schedule.clone(), created.task.clone()));
    assert_eq!(updated.next_run_at, created.next_run_at, "the same schedule, the same next run");

    // A full replacement from what GetWatch returned keeps the secret (sent
    // back empty) and moves the next run with a new schedule.
    let mut round_trip = app.client.get_watch(&created.id).await.expect("get");
    round_trip.schedule = Some(interval(3600));
    let replaced = app.client.update_watch(&created.id, round_trip, &[]).await.expect("replaced");
    assert!(replaced.webhook.is_some(), "the webhook and its secret are kept");
    assert_ne!(replaced.next_run_at, created.next_run_at);

    let wrong = app.client.update_watch(&created.id, pb::Watch::default(), &["paused", "name"]).await;
    assert_eq!(bad_fields(wrong), ["update_mask.paths[0]"]);
    let cleared = app.client.update_watch(&created.id, pb::Watch::default(), &["webhook"]).await.expect("no webhook");
    assert!(cleared.webhook.is_none());
    let invalid = pb::Watch { schedule: Some(cron("every day", "")), ..Default::default() };
    assert_eq!(
        bad_fields(app.client.update_watch(&created.id, invalid, &["schedule"]).await),
        ["watch.schedule.cron.expression"]
    );
    let events = app.client.watch_events(&created.id).await.expect("events");
    assert_eq!(of_kind(&events, pb::WatchEventKind::Updated).len(), 3);
    app.stop().await;
}

async fn a_service_streaming_watch_events_receives_each_runs_news(backend: Backend) {
    let site = FixtureSite::start(spec()).await;
    let app = TestApp::spawn_on(&site, &backend).await;
    let created =
        app.client.create_watch(watch("Streamed", &["29"], &["bovin"], interval(86_400))).await.expect("created");
    // Every watch's events, from now on.
    let mut stream = app.client.stream_watch_events("", None).await.expect("stream");
    let task = app.client.run_watch_now(&created.id).await.expect("run");
    let ended = tokio::time::timeout(DEADLINE, async {
        while let Some(event) = stream.next().await {
            let event = event.expect("event");
            if event.kind() == pb::WatchEventKind::RunEnded {
                return event;
            }
        }
        panic!("the stream ended")
    })
    .await
    .expect("a RUN_ENDED event within the deadline");
    assert_eq!(
        (ended.watch_id.as_str(), ended.task_id.as_str(), ended.new_documents),
        (created.id.as_str(), task.id.as_str(), 7)
    );
    let links: HashSet<String> = ended.documents.iter().map(|d| d.link.clone()).collect();
    assert_eq!(links, crate::fixture::links(&site.cards(FINISTERE, "bovin")));

    // From a time: the stored events first, in order.
    let since = created.created_at;
    let mut replay = app.client.stream_watch_events(&created.id, since).await.expect("replay");
    let mut kinds = Vec::new();
    while kinds.len() < 3 {
        let event =
            tokio::time::timeout(DEADLINE, replay.next()).await.expect("within the deadline").expect("an event");
        kinds.push(event.expect("event").kind());
    }
    assert_eq!(kinds, [pb::WatchEventKind::Created, pb::WatchEventKind::RunStarted, pb::WatchEventKind::RunEnded]);
    app.stop().await;
}
