//! `scrapectl watch …` against a real server: watches created, listed,
//! read, run, paused, resumed and deleted, their news read — and
//! `scrapectl watch TASK_ID` still following a task.

use std::process::Output;

use serde_json::Value;

use crate::fixture::{FixtureSite, SiteSpec, links};
use crate::helpers::{Backend, TestApp, binary, on_both_backends};
use crate::watch_helpers::{MORBIHAN, wait_watch};

on_both_backends!(
    scrapectl_manages_watches_and_reads_their_news,
    scrapectl_watch_with_a_task_id_still_follows_the_task
);

async fn scrapectl(app: &TestApp, args: &[&str]) -> Output {
    let mut command = tokio::process::Command::new(binary("scrapectl"));
    command.arg("--server").arg(&app.address).args(args).env_remove("SCRAPE_SERVER").env("COLUMNS", "200");
    tokio::time::timeout(crate::helpers::DEADLINE, command.output())
        .await
        .expect("scrapectl ends within the deadline")
        .expect("scrapectl runs")
}

fn json(output: &Output) -> Value {
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&output.stdout)))
}

async fn scrapectl_manages_watches_and_reads_their_news(backend: Backend) {
    let site = FixtureSite::start(SiteSpec { counts: vec![(MORBIHAN, "bovin", 6)] }).await;
    let app = TestApp::spawn_on(&site, &backend).await;
    let created = json(
        &scrapectl(
            &app,
            &[
                "-o",
                "json",
                "watch",
                "create",
                "--name",
                "Veille 56",
                "-k",
                "bovin",
                "-p",
                "Morbihan",
                "--cron",
                "0 7 * * MON-FRI",
                "--time-zone",
                "Europe/Paris",
            ],
        )
        .await,
    );
    let id = created["id"].as_str().expect("an id").to_owned();
    assert_eq!(created["schedule"]["cron"]["time_zone"], "Europe/Paris");
    assert_eq!(created["task"]["prefectures"], serde_json::json!(["56"]));
    assert!(created["next_run_at"].is_string());

    let refused = scrapectl(
        &app,
        &["watch", "create", "--name", "x", "-k", "bovin", "--cron", "0 7 * *", "--time-zone", "Mars/Olympus"],
    )
    .await;
    assert_eq!(refused.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains("watch.schedule.cron.time_zone") && stderr.contains("watch.schedule.cron.expression"),
        "{stderr}"
    );

    let table = scrapectl(&app, &["watch", "list"]).await;
    let text = String::from_utf8_lossy(&table.stdout);
    assert!(
        text.contains(&id) && text.contains("Veille 56") && text.contains("0 7 * * MON-FRI (Europe/Paris)"),
        "{text}"
    );

    let run = json(&scrapectl(&app, &["-o", "json", "watch", "run", &id]).await);
    let task_id = run["id"].as_str().expect("the run's task").to_owned();
    wait_watch(&app.client, &id, "the run ended", |w| crate::watch_helpers::ended(w, &task_id)).await;
    let got = json(&scrapectl(&app, &["-o", "json", "watch", "get", &id]).await);
    assert_eq!(got["last_run"]["task_id"], task_id.as_str());
    assert_eq!(got["last_run"]["new_documents"], 6);
    let news = json(&scrapectl(&app, &["-o", "json", "watch", "news", &id, "--since", "1h"]).await);
    let linked: std::collections::HashSet<String> = news["documents"]
        .as_array()
        .expect("documents")
        .iter()
        .map(|d| d["link"].as_str().expect("a link").to_owned())
        .collect();
    assert_eq!(linked, links(&site.cards(MORBIHAN, "bovin")));
    let none = json(&scrapectl(&app, &["-o", "json", "watch", "news", &id, "--since", "2099-01-01"]).await);
    assert_eq!(none["documents"].as_array().map(Vec::len), Some(0));

    let paused = json(&scrapectl(&app, &["-o", "json", "watch", "pause", &id]).await);
    assert_eq!((paused["paused"].as_bool(), paused["next_run_at"].is_null()), (Some(true), true));
    let resumed = json(&scrapectl(&app, &["-o", "json", "watch", "resume", &id]).await);
    assert_eq!(resumed["paused"], false);
    let events = json(&scrapectl(&app, &["-o", "json", "watch", "events", &id]).await);
    let kinds: Vec<&str> =
        events.as_array().expect("events").iter().map(|e| e["kind"].as_str().expect("a kind")).collect();
    assert_eq!(kinds, ["created", "run_started", "run_ended", "paused", "resumed"]);

    let deleted = scrapectl(&app, &["watch", "delete", &id]).await;
    assert!(deleted.status.success());
    assert_eq!(scrapectl(&app, &["watch", "get", &id]).await.status.code(), Some(1));
    app.stop().await;
}

async fn scrapectl_watch_with_a_task_id_still_follows_the_task(backend: Backend) {
    let site = FixtureSite::start(SiteSpec::standard()).await;
    let app = TestApp::spawn_on(&site, &backend).await;
    let task = app.start(&["56"], &["bovin"]).await;
    let out = scrapectl(&app, &["-o", "json", "watch", &task.id]).await;
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let last: Value = String::from_utf8_lossy(&out.stdout)
        .lines()
        .last()
        .map(|line| serde_json::from_str(line).expect("one JSON object per line"))
        .expect("updates");
    assert_eq!((last["task_id"].as_str(), last["status"].as_str()), (Some(task.id.as_str()), Some("succeeded")));
    app.stop().await;
}
