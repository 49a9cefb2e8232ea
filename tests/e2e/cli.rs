//! `scrapectl` against a real server: the commands people and scripts use.

use std::process::Output;

use serde_json::Value;

use crate::fixture::{FixtureSite, SiteSpec};
use crate::helpers::{Backend, TestApp, binary, on_both_backends};

async fn scrapectl(app: &TestApp, args: &[&str]) -> Output {
    let mut command = tokio::process::Command::new(binary("scrapectl"));
    command.arg("--server").arg(&app.address).args(args).env_remove("SCRAPE_SERVER");
    tokio::time::timeout(crate::helpers::DEADLINE, command.output())
        .await
        .expect("scrapectl ends within the deadline")
        .expect("scrapectl runs")
}

fn json(output: &Output) -> Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    })
}

async fn scrapectl_starts_watches_gets_and_lists_tasks_as_json(backend: Backend) {
    let site = FixtureSite::start(SiteSpec::standard()).await;
    let app = TestApp::spawn_on(&site, &backend).await;

    let out = scrapectl(&app, &["-o", "json", "start", "-k", "bovin,porcin", "-p", "Morbihan", "--watch"]).await;
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let updates: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|line| serde_json::from_str(line).expect("one JSON object per line"))
        .collect();
    let last = updates.last().expect("updates");
    assert_eq!(last["status"], "succeeded");
    assert_eq!(last["completed_operations"], 2);
    assert_eq!(last["items_found"], 23 + 10);
    let id = last["task_id"].as_str().expect("task id").to_owned();

    let got = json(&scrapectl(&app, &["-o", "json", "get", &id]).await);
    assert_eq!(got["id"], id.as_str());
    assert_eq!(got["status"], "succeeded");
    assert_eq!(got["parameters"]["target_prefectures"], serde_json::json!(["56"]));
    assert_eq!(got["summary"]["items_found"], 33);
    assert!(got["completed_at"].is_string());

    let listed = json(&scrapectl(&app, &["-o", "json", "list", "--status", "succeeded"]).await);
    assert_eq!(listed["tasks"][0]["id"], id.as_str());

    let table = scrapectl(&app, &["list"]).await;
    assert!(table.status.success());
    let text = String::from_utf8_lossy(&table.stdout);
    assert!(text.contains(&id) && text.contains("succeeded") && text.contains("100% 2/2"), "{text}");
    app.stop().await;
}

async fn scrapectl_explains_a_refused_request_field_by_field(backend: Backend) {
    let site = FixtureSite::start(SiteSpec::standard()).await;
    let app = TestApp::spawn_on(&site, &backend).await;
    let out = scrapectl(&app, &["start", "-k", "bovin", "-p", "Atlantide"]).await;
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("prefectures[0]: unknown prefecture \"Atlantide\""), "{stderr}");

    let out = scrapectl(&app, &["stop", "0192e3c4-5b6a-7c8d-9e0f-1a2b3c4d5e6f"]).await;
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not found"));
    app.stop().await;
}

async fn scrapectl_manages_tasks_and_reads_their_results(backend: Backend) {
    let site = FixtureSite::start(SiteSpec::standard()).await;
    let app = TestApp::spawn_on(&site, &backend).await;
    let task = app.start(&["56", "29"], &["bovin"]).await;
    app.progress_until_end(&task.id).await;

    let results = json(&scrapectl(&app, &["-o", "json", "results", &task.id, "--prefecture", "Morbihan"]).await);
    assert_eq!(results.as_array().map(Vec::len), Some(1));
    assert_eq!(results[0]["items_found"], 23);

    let docs =
        json(&scrapectl(&app, &["-o", "json", "documents", "--task", &task.id, "-p", "29", "--limit", "100"]).await);
    assert_eq!(docs["documents"].as_array().map(Vec::len), Some(7));

    let export = scrapectl(&app, &["export", &task.id, "--format", "csv"]).await;
    assert!(export.status.success());
    let rows = csv::Reader::from_reader(export.stdout.as_slice()).records().count();
    assert_eq!(rows, 23 + 7);

    let restarted = json(&scrapectl(&app, &["-o", "json", "restart", &task.id]).await);
    assert_eq!(restarted["status"], "pending");
    app.progress_until_end(&task.id).await;
    let out = scrapectl(&app, &["stop", "--all"]).await;
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "stopped 0 task(s)");

    let purged = json(&scrapectl(&app, &["-o", "json", "purge", "--older-than", "30d"]).await);
    assert_eq!(purged["deleted_count"], 0, "the task is not 30 days old");
    let deleted = scrapectl(&app, &["delete", &task.id]).await;
    assert!(deleted.status.success());
    let listed = json(&scrapectl(&app, &["-o", "json", "list"]).await);
    assert_eq!(listed["tasks"].as_array().map(Vec::len), Some(0));

    let health = scrapectl(&app, &["health"]).await;
    assert_eq!(String::from_utf8_lossy(&health.stdout).trim(), "SERVING");
    let completions = scrapectl(&app, &["completions", "bash"]).await;
    assert!(String::from_utf8_lossy(&completions.stdout).contains("scrapectl"));
    app.stop().await;
}

on_both_backends!(
    scrapectl_starts_watches_gets_and_lists_tasks_as_json,
    scrapectl_explains_a_refused_request_field_by_field,
    scrapectl_manages_tasks_and_reads_their_results
);
