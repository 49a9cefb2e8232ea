//! What `scrapectl` prints for a person and for a script: tables that fit
//! the terminal, errors as JSON, quiet ends on a closed pipe, partial
//! failures, and reconnecting while the server restarts.

use std::process::{Output, Stdio};
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader, Lines};
use tokio::process::{ChildStdout, Command};

use crate::fixture::{Fault, FixtureSite, SiteSpec};
use crate::helpers::{Backend, DEADLINE, TestApp, binary};

const MORBIHAN: &str = "www.morbihan.gouv.fr";
const FINISTERE: &str = "www.finistere.gouv.fr";

/// `scrapectl --server <app>`, with no width or server from the environment.
fn scrapectl(app: &TestApp, args: &[&str]) -> Command {
    let mut command = Command::new(binary("scrapectl"));
    command
        .arg("--server")
        .arg(&app.address)
        .args(args)
        .env_remove("SCRAPE_SERVER")
        .env_remove("COLUMNS")
        .kill_on_drop(true);
    command
}

async fn output(mut command: Command) -> Output {
    tokio::time::timeout(DEADLINE, command.output())
        .await
        .expect("scrapectl ends within the deadline")
        .expect("scrapectl runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Runs `command` with its standard output closed by the reader before
/// anything is written, as `| head` does once it has read enough.
async fn with_closed_stdout(mut command: Command) -> Output {
    let mut child = command.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("scrapectl starts");
    drop(child.stdout.take());
    tokio::time::timeout(DEADLINE, child.wait_with_output())
        .await
        .expect("scrapectl ends within the deadline")
        .expect("scrapectl runs")
}

/// The next line of a JSON Lines stream, parsed; `None` at its end.
async fn next_json(lines: &mut Lines<BufReader<ChildStdout>>) -> Option<Value> {
    let line = tokio::time::timeout(DEADLINE, lines.next_line())
        .await
        .expect("a line or the end within the deadline")
        .expect("read standard output")?;
    Some(serde_json::from_str(&line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}")))
}

/// Waits until `condition` holds, checking it every few milliseconds.
async fn until(condition: impl Fn() -> bool) {
    tokio::time::timeout(DEADLINE, async {
        while !condition() {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
    .expect("the condition holds within the deadline");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_task_list_in_120_columns_keeps_every_id_whole_and_wide_puts_each_task_on_one_line() {
    let site = FixtureSite::start(SiteSpec::standard()).await;
    let app = TestApp::spawn_tuned(&site, &Backend::Sqlite, |config| config.workers = 0).await;
    let keywords = ["méthanisation", "installation classée", "épandage", "élevage porcin", "déclaration"];
    let mut ids = Vec::new();
    for n in 0..3 {
        let mut words: Vec<_> = keywords.iter().map(|k| (*k).to_owned()).collect();
        words.push(format!("mot{n}"));
        let words: Vec<&str> = words.iter().map(String::as_str).collect();
        ids.push(app.start(&["56", "29"], &words).await.id);
    }

    let mut list = scrapectl(&app, &["list"]);
    list.env("COLUMNS", "120");
    let out = output(list).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let table = text(&out.stdout);
    for line in table.lines() {
        assert!(line.chars().count() <= 120, "wider than 120 columns: {line}\n{table}");
    }
    for id in &ids {
        assert!(table.lines().any(|line| line.contains(id.as_str())), "{id} is not whole on one line:\n{table}");
    }
    assert!(!table.lines().any(|line| line.contains(&keywords.join(", "))), "the keywords wrap to fit:\n{table}");

    let mut wide = scrapectl(&app, &["list", "--wide"]);
    wide.env("COLUMNS", "120");
    let out = output(wide).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let table = text(&out.stdout);
    for (n, id) in ids.iter().enumerate() {
        let row = table.lines().find(|line| line.contains(id.as_str())).unwrap_or_else(|| panic!("{id}:\n{table}"));
        assert!(row.contains(&format!("{}, mot{n}", keywords.join(", "))), "{row}");
        assert!(row.chars().count() > 120, "--wide ignores the width: {row}");
    }
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn under_json_output_a_refused_request_is_a_json_error_naming_each_field_on_stderr() {
    let site = FixtureSite::start(SiteSpec::standard()).await;
    let app = TestApp::spawn(&site).await;

    let out = output(scrapectl(&app, &["-o", "json", "start", "-k", "bovin", "-p", "Atlantide"])).await;
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(out.stdout.is_empty(), "standard output carries results only: {}", text(&out.stdout));
    let error: Value = serde_json::from_slice(&out.stderr).unwrap_or_else(|e| panic!("{e}: {}", text(&out.stderr)));
    assert_eq!(error["error"]["code"], "INVALID_ARGUMENT");
    assert!(error["error"]["message"].as_str().is_some_and(|m| m.contains("Atlantide")), "{error}");
    let violations = error["error"]["field_violations"].as_array().expect("field violations");
    assert!(
        violations.iter().any(|v| v["field"] == "prefectures[0]"
            && v["description"].as_str().is_some_and(|d| d.contains("unknown prefecture \"Atlantide\""))),
        "{error}"
    );

    let out = output(scrapectl(&app, &["-o", "json", "stop", "0192e3c4-5b6a-7c8d-9e0f-1a2b3c4d5e6f"])).await;
    assert_eq!(out.status.code(), Some(1));
    let error: Value = serde_json::from_slice(&out.stderr).unwrap_or_else(|e| panic!("{e}: {}", text(&out.stderr)));
    assert_eq!(error["error"]["code"], "NOT_FOUND");
    assert_eq!(error["error"]["field_violations"], serde_json::json!([]));
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn output_closed_by_its_reader_ends_list_export_and_watch_quietly() {
    let site = FixtureSite::start(SiteSpec::standard()).await;
    let stuck = FixtureSite::page_path(MORBIHAN, "porcin", 1);
    site.set_fault(&stuck, Fault::Hang);
    let app = TestApp::spawn_tuned(&site, &Backend::Sqlite, |config| config.shutdown_grace_secs = 0).await;
    let done = app.start(&["56", "29"], &["bovin"]).await;
    app.progress_until_end(&done.id).await;

    for args in [vec!["list"], vec!["export", done.id.as_str(), "--format", "csv"], vec!["-o", "json", "get", &done.id]]
    {
        let out = with_closed_stdout(scrapectl(&app, &args)).await;
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", text(&out.stderr));
        assert_eq!(text(&out.stderr), "", "{args:?} says nothing of the closed pipe");
    }

    // A task that never ends: the watch stops at its first update instead of
    // following the task.
    let endless = app.start(&["56"], &["porcin"]).await;
    let out = with_closed_stdout(scrapectl(&app, &["-o", "json", "watch", &endless.id])).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(text(&out.stderr), "");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_task_that_succeeds_with_failed_operations_is_told_apart_and_watch_exits_4() {
    let site = FixtureSite::start(SiteSpec::standard()).await;
    site.set_fault(
        &FixtureSite::page_path(FINISTERE, "bovin", 1),
        Fault::Status { status: 404, times: usize::MAX, retry_after: None },
    );
    let app = TestApp::spawn(&site).await;

    let out = output(scrapectl(&app, &["start", "-k", "bovin", "-p", "56,29", "--watch"])).await;
    assert_eq!(out.status.code(), Some(4), "{}", text(&out.stderr));
    let shown = text(&out.stdout);
    assert!(shown.contains("succeeded, 1 of 2 operations failed"), "{shown}");

    let task = app.start(&["29", "56"], &["bovin"]).await;
    let out = output(scrapectl(&app, &["watch", &task.id])).await;
    assert_eq!(out.status.code(), Some(4), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("succeeded, 1 of 2 operations failed"), "{}", text(&out.stdout));
    let out = output(scrapectl(&app, &["-o", "json", "watch", &task.id])).await;
    assert_eq!(out.status.code(), Some(4), "the same exit code for scripts");
    let last: Value = serde_json::from_str(text(&out.stdout).lines().last().expect("a line")).expect("JSON");
    assert_eq!((last["status"].as_str(), last["failed_operations"].as_u64()), (Some("succeeded"), Some(1)));

    for args in [vec!["get", task.id.as_str()], vec!["list", "--wide"]] {
        let out = output(scrapectl(&app, &args)).await;
        assert!(out.status.success(), "{args:?}");
        assert!(text(&out.stdout).contains("succeeded, 1 of 2 operations failed"), "{args:?}: {}", text(&out.stdout));
    }
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_watch_says_it_is_reconnecting_while_the_server_restarts_then_follows_the_task_to_its_end() {
    let site = FixtureSite::start(SiteSpec::standard()).await;
    let stuck = FixtureSite::page_path(MORBIHAN, "bovin", 1);
    site.set_fault(&stuck, Fault::Hang);
    // The restarted server listens on the same address, as a real one does.
    let listen = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port").local_addr().expect("address");
    let app = TestApp::spawn_tuned(&site, &Backend::Sqlite, |config| {
        config.listen = listen;
        config.shutdown_grace_secs = 0;
    })
    .await;
    let task = app.start(&["56"], &["bovin"]).await;
    until(|| site.hits(&stuck) > 0).await;

    let mut watch = scrapectl(&app, &["-o", "json", "watch", &task.id])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("scrapectl starts");
    let mut lines = BufReader::new(watch.stdout.take().expect("stdout")).lines();
    let first = next_json(&mut lines).await.expect("a first update");
    assert_eq!(first["status"], "running", "{first}");

    // The page answers from now on; the request already in flight never does,
    // so the task cannot end before the restart.
    site.clear_fault(&stuck);
    let app = app.restart().await;

    let mut rest = Vec::new();
    while let Some(line) = next_json(&mut lines).await {
        rest.push(line);
    }
    let status = tokio::time::timeout(DEADLINE, watch.wait()).await.expect("scrapectl ends").expect("wait");
    assert!(status.success(), "{status:?}: {rest:?}");
    let reconnecting = rest.iter().position(|line| line["reconnecting"] == true).expect("a reconnecting line");
    let announced = &rest[reconnecting];
    assert_eq!(announced["task_id"], task.id.as_str());
    assert!(announced["attempt"].as_u64().is_some_and(|n| n >= 1), "{announced}");
    assert!(announced["code"].is_string() && announced["retry_in_seconds"].is_number(), "{announced}");
    let after: Vec<_> = rest[reconnecting..].iter().filter(|line| line.get("reconnecting").is_none()).collect();
    let last = after.last().expect("progress after reconnecting");
    assert_eq!((last["status"].as_str(), last["items_found"].as_u64()), (Some("succeeded"), Some(23)), "{rest:?}");
    app.stop().await;
}
