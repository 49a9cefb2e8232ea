//! Health-check latency while the workers parse hostile pages: a site
//! whose every result page is thousands of `<div>` deep (a tree builder
//! takes seconds on it), four operations at a time, and a client checking
//! health every 10 ms. Run against two server binaries, it shows whether
//! parsing can stall the service. Prints one JSON object per measurement.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use scrape_client::pb;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use crate::process::Server;
use crate::stats::percentiles;

/// Four prefectures: one operation each, four at a time.
const PREFECTURES: [&str; 4] = ["56", "29", "22", "35"];

pub async fn run(server_bin: &Path, work_dir: &Path, depth: usize, seconds: u64, label: &str) -> anyhow::Result<()> {
    std::fs::create_dir_all(work_dir)?;
    let base = start_site(depth).await?;
    let help = std::process::Command::new(server_bin).arg("--help").output()?;
    let help = String::from_utf8_lossy(&help.stdout);
    let mut args = vec![
        format!("--database-url=sqlite://{}", work_dir.join(format!("stall-{label}.db")).display()),
        format!("--site-base-url={base}"),
        format!("--export-dir={}", work_dir.join("exports").display()),
        "--workers=4".into(),
        "--concurrency=32".into(),
        "--per-host-concurrency=32".into(),
        "--per-host-delay-ms=0".into(),
        "--retries=0".into(),
    ];
    // Older binaries have no per-server limits.
    if help.contains("--per-server-concurrency") {
        args.extend(["--per-server-concurrency=32".into(), "--per-server-delay-ms=0".into()]);
    }
    let _ = std::fs::remove_file(work_dir.join(format!("stall-{label}.db")));
    let server = Server::spawn_on_free_port(server_bin, &args, &work_dir.join(format!("stall-{label}.log"))).await?;

    let idle = probe(&server, Duration::from_secs(2), None).await?;
    println!("{}", serde_json::json!({ "measure": "health_idle", "binary": label, "latency": percentiles(idle.0) }));

    let busy = probe(&server, Duration::from_secs(seconds), Some(&server.client)).await?;
    println!(
        "{}",
        serde_json::json!({
            "measure": "health_while_parsing_hostile_pages",
            "binary": label,
            "depth": depth,
            "tasks_ended": busy.1,
            "latency": percentiles(busy.0),
        })
    );
    Ok(())
}

/// Checks health every 10 ms for `window`, while (with `load`) tasks of
/// four operations over the hostile site are started one after the other;
/// returns the latencies and how many tasks ended.
async fn probe(
    server: &Server,
    window: Duration,
    load: Option<&scrape_client::Client>,
) -> anyhow::Result<(Vec<Duration>, usize)> {
    let ended = Arc::new(AtomicUsize::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let loader = load.cloned().map(|client| {
        let (ended, stop) = (ended.clone(), stop.clone());
        tokio::spawn(async move {
            while !stop.load(Ordering::SeqCst) {
                let request = pb::StartTaskRequest {
                    keywords: vec!["bovin".into()],
                    prefectures: PREFECTURES.iter().map(|p| (*p).to_owned()).collect(),
                    ..Default::default()
                };
                let Ok(task) = client.start_task(request).await else { return };
                if client.follow(&task.id, |_| {}).await.is_ok() {
                    ended.fetch_add(1, Ordering::SeqCst);
                }
            }
        })
    });
    let until = Instant::now() + window;
    let mut latencies = Vec::new();
    let mut ticks = tokio::time::interval(Duration::from_millis(10));
    while Instant::now() < until {
        ticks.tick().await;
        let sent = Instant::now();
        anyhow::ensure!(server.client.health().await?, "the server stopped serving");
        latencies.push(sent.elapsed());
    }
    stop.store(true, Ordering::SeqCst);
    if let Some(loader) = loader {
        loader.abort();
    }
    Ok((latencies, ended.load(Ordering::SeqCst)))
}

/// A site whose every page holds one card under `depth` nested `<div>`.
async fn start_site(depth: usize) -> anyhow::Result<String> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let body = format!(
        "<!DOCTYPE html><html><body><main>{}<div class=\"fr-card\"><h3 class=\"fr-card__title\"><a href=\"/profond\">Profond</a></h3></div>{}</main></body></html>",
        "<div>".repeat(depth),
        "</div>".repeat(depth)
    );
    let response = Arc::new(format!(
        "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    ));
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let response = response.clone();
            tokio::spawn(async move {
                let mut buf = vec![0; 8192];
                if stream.read(&mut buf).await.is_ok() {
                    let _ = stream.write_all(response.as_bytes()).await;
                }
            });
        }
    });
    Ok(format!("http://{addr}/{{domain}}"))
}
