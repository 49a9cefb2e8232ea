//! `/metrics` read by a Prometheus text parser after a task, and logs of a
//! run with tokens that hold no token: real `scrape-server` processes, so
//! that their metrics and logs are theirs alone.

use std::process::Stdio;

use scrape_client::pb;
use tokio::io::AsyncBufReadExt;

use super::{TokensFile, client_with};
use crate::fixture::{FixtureSite, SiteSpec};
use crate::helpers::{DEADLINE, binary, collect_stream, listening_address};

/// A server process with the tokens file, its stderr kept.
struct Process {
    child: tokio::process::Child,
    address: String,
    _stdout: crate::helpers::ServerOutput,
    _dir: tempfile::TempDir,
}

async fn spawn(site: &FixtureSite, tokens: &TokensFile, extra: &[&str], log: &str) -> Process {
    let dir = tempfile::tempdir().expect("a directory");
    let mut child = tokio::process::Command::new(binary("scrape-server"))
        .arg("--listen=127.0.0.1:0")
        .arg(format!("--database-url=sqlite://{}", dir.path().join("s.db").display()))
        .arg(format!("--site-base-url={}", site.base_url()))
        .arg(format!("--tokens-file={}", tokens.path.display()))
        .args(["--per-host-delay-ms=0", "--per-host-concurrency=8", "--retries=0"])
        .arg(format!("--export-dir={}", dir.path().join("exports").display()))
        .args(extra)
        .env("RUST_LOG", log)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("scrape-server starts");
    let stdout = child.stdout.take().expect("stdout");
    let mut stdout = tokio::io::BufReader::new(stdout).lines();
    let address = listening_address(&mut stdout).await;
    Process { child, address, _stdout: stdout, _dir: dir }
}

impl Process {
    /// Stops it (SIGTERM) and returns what it logged.
    async fn stop(self) -> String {
        let pid = self.child.id().expect("running").to_string();
        std::process::Command::new("kill").args(["-TERM", &pid]).status().expect("kill");
        let out = tokio::time::timeout(DEADLINE, self.child.wait_with_output()).await.expect("exits").expect("output");
        String::from_utf8_lossy(&out.stderr).into_owned()
    }
}

async fn run_a_task(address: &str, tokens: &TokensFile) -> pb::Task {
    let operator = client_with(address, Some(&tokens.operator)).await;
    let request = pb::StartTaskRequest {
        keywords: vec!["bovin".into(), "porcin".into()],
        prefectures: vec!["56".into(), "29".into()],
        ..Default::default()
    };
    let task = operator.start_task(request).await.expect("started");
    let end = collect_stream(&operator, &task.id).await;
    assert_eq!(end.last().expect("an end").status(), pb::TaskStatus::Succeeded);
    task
}

fn value(metrics: &prometheus_parse::Scrape, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    metrics.samples.iter().find_map(|s| {
        let matches = s.metric == name && labels.iter().all(|(k, v)| s.labels.get(k) == Some(*v));
        matches.then(|| match s.value {
            prometheus_parse::Value::Counter(v)
            | prometheus_parse::Value::Gauge(v)
            | prometheus_parse::Value::Untyped(v) => v,
            prometheus_parse::Value::Histogram(ref buckets) => buckets.last().map_or(0.0, |b| b.count),
            prometheus_parse::Value::Summary(_) => 0.0,
        })
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn metrics_read_by_a_prometheus_parser_count_the_task_its_operations_and_its_fetches() {
    let site = FixtureSite::start(SiteSpec::standard()).await;
    let tokens = TokensFile::new();
    let server = spawn(&site, &tokens, &[], "warn").await;
    let task = run_a_task(&server.address, &tokens).await;

    let http = crate::dashboard::http::http1();
    let anonymous = http.get(format!("{}/metrics", server.address)).send().await.expect("an answer");
    assert_eq!(anonymous.status(), 401, "a viewer token is needed");
    let answer =
        http.get(format!("{}/metrics", server.address)).bearer_auth(&tokens.viewer).send().await.expect("the metrics");
    assert_eq!(answer.status(), 200);
    assert!(answer.headers()["content-type"].to_str().expect("text").starts_with("text/plain; version=0.0.4"));
    let text = answer.text().await.expect("the text");
    let lines = text.lines().map(|l| Ok(l.to_owned()));
    let metrics = prometheus_parse::Scrape::parse(lines).expect("valid Prometheus text");

    assert_eq!(value(&metrics, "scrape_tasks", &[("status", "succeeded")]), Some(1.0), "{text}");
    assert_eq!(value(&metrics, "scrape_tasks", &[("status", "running")]), Some(0.0));
    assert_eq!(value(&metrics, "scrape_queue_depth", &[]), Some(0.0));
    assert_eq!(value(&metrics, "scrape_operations_total", &[("outcome", "done")]), Some(4.0), "{text}");
    let morbihan_pages =
        (site.pages("www.morbihan.gouv.fr", "bovin") + site.pages("www.morbihan.gouv.fr", "porcin")) as f64;
    assert_eq!(
        value(&metrics, "scrape_fetches_total", &[("host", "127.0.0.1"), ("status", "200")])
            .map(|v| v >= morbihan_pages),
        Some(true),
        "every domain is on the fixture's host: {text}"
    );
    let fetched = site.total_hits() as f64;
    assert_eq!(value(&metrics, "scrape_fetch_duration_seconds", &[]), Some(fetched), "one latency per fetch: {text}");
    assert!(value(&metrics, "scrape_fetched_bytes_total", &[("host", "127.0.0.1")]).is_some_and(|b| b > 0.0));
    assert_eq!(value(&metrics, "scrape_active_streams", &[("kind", "grpc_progress")]), Some(0.0), "{text}");
    assert!(text.contains("# TYPE scrape_fetch_duration_seconds histogram"), "{text}");
    let _ = task;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn json_logs_of_a_run_with_tokens_name_callers_but_hold_no_token() {
    let site = FixtureSite::start(SiteSpec::standard()).await;
    let tokens = TokensFile::new();
    let server = spawn(&site, &tokens, &["--log-format=json"], "debug").await;
    let task = run_a_task(&server.address, &tokens).await;
    // A refused call, a viewer's reads, gRPC-Web and a dashboard sign-in.
    let stranger = client_with(&server.address, Some("forged-token-value")).await;
    assert!(stranger.list_tasks(pb::ListTasksRequest::default()).await.is_err());
    let viewer = client_with(&server.address, Some(&tokens.viewer)).await;
    viewer.get_task(&task.id).await.expect("get");
    let http =
        crate::dashboard::http::http1_builder().redirect(reqwest::redirect::Policy::none()).build().expect("a client");
    let form = crate::dashboard::http::Session::open(&http, &server.address, "/sign-in").await;
    let signed = http
        .post(format!("{}/sign-in", server.address))
        .header("cookie", &form.cookie)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(crate::dashboard::http::form_body(&[("csrf", form.csrf.as_str()), ("token", tokens.operator.as_str())]))
        .send()
        .await
        .expect("an answer");
    assert_eq!(signed.status(), 303, "signed in");
    let logs = server.stop().await;

    assert!(!logs.is_empty());
    for line in logs.lines() {
        let json: serde_json::Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        assert!(json.get("level").is_some(), "{line}");
    }
    for secret in [tokens.viewer.as_str(), &tokens.operator, &tokens.other_operator, "forged-token-value"] {
        assert!(!logs.contains(secret), "a token is in the logs");
        let digest = scrape_server::auth::tokens::digest_hex(secret);
        assert!(!logs.contains(&digest), "a token's digest is in the logs");
    }
    assert!(!logs.to_ascii_lowercase().contains("bearer "), "no authorization header");
    assert!(!logs.contains("scrape_session=v1."), "no session cookie");
    assert!(logs.contains("\"caller\":\"ci\""), "calls are logged by the token's name");
    assert!(
        logs.contains("\"name\":\"rpc\"")
            && logs.contains("\"name\":\"task\"")
            && logs.contains("\"name\":\"operation\"")
    );
}
