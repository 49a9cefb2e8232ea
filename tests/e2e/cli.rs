//! `scrapectl` against a real server: the commands people and scripts use.

use std::process::Output;

use serde_json::Value;

use crate::fixture::{FixtureSite, SiteSpec};
use crate::helpers::{TestApp, binary};

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

#[tokio::test(flavor = "multi_thread")]
async fn scrapectl_starts_watches_gets_and_lists_tasks_as_json() {
    let site = FixtureSite::start(SiteSpec::standard()).await;
    let app = TestApp::spawn(&site).await;

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

#[tokio::test(flavor = "multi_thread")]
async fn scrapectl_explains_a_refused_request_field_by_field() {
    let site = FixtureSite::start(SiteSpec::standard()).await;
    let app = TestApp::spawn(&site).await;
    let out = scrapectl(&app, &["start", "-k", "bovin", "-p", "Atlantide"]).await;
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("prefectures[0]: unknown prefecture \"Atlantide\""), "{stderr}");

    let out = scrapectl(&app, &["stop", "0192e3c4-5b6a-7c8d-9e0f-1a2b3c4d5e6f"]).await;
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not found"));
    app.stop().await;
}
