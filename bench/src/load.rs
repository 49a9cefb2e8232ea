//! A bounded load test of the release server: many clients, each with its
//! own operator token, start, stream, list and stop tasks for a fixed
//! time; then every started task is accounted for (listed once, ended,
//! nothing lost or doubled) and the server's memory is read again once the
//! load is gone.

use std::collections::HashSet;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::Context;
use scrape_client::{Client, ConnectOptions, pb};
use scrape_server::auth::{Role, new_token};
use serde_json::json;
use tokio_stream::StreamExt;

use crate::process::Server;
use crate::stats::{percentiles, round};

/// How long memory is watched once every task has ended: long enough for
/// the server to close the database connections the load opened.
const SETTLE_SECONDS: usize = 50;

/// Prefectures the tasks pick from.
const PLACES: [&str; 8] = ["56", "29", "22", "35", "2A", "2B", "44", "14"];

/// What one client did.
#[derive(Debug, Default)]
struct Tally {
    started: Vec<String>,
    refused: usize,
    stops: usize,
    lists: usize,
    stream_messages: usize,
    errors: Vec<String>,
    start_latency: Vec<Duration>,
    list_latency: Vec<Duration>,
}

pub async fn run(bin: &Path, dir: &Path, clients: usize, seconds: u64, rounds: usize) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir)?;
    let site = crate::slow_site::start(Duration::from_millis(20)).await?;
    let mut tokens = Vec::new();
    let mut lines = String::new();
    for n in 0..clients {
        let made = new_token(Role::Operator, &format!("client-{n}"))?;
        lines.push_str(&made.line);
        lines.push('\n');
        tokens.push(made.token);
    }
    let tokens_file = dir.join("load-tokens");
    std::fs::write(&tokens_file, lines)?;
    let database = dir.join("load.db");
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", database.display()));
    }
    let args = [
        format!("--database-url=sqlite://{}", database.display()),
        format!("--site-base-url={site}"),
        format!("--tokens-file={}", tokens_file.display()),
        "--workers=4".into(),
        "--concurrency=32".into(),
        "--per-host-concurrency=32".into(),
        "--per-host-delay-ms=0".into(),
        format!("--export-dir={}", dir.join("load-exports").display()),
    ];
    let server = Server::spawn(bin, &args, &dir.join("load.log")).await?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let idle = server.memory()?;
    let admin = Client::connect_with(
        &server.address,
        &ConnectOptions { token: Some(tokens[0].clone()), ..ConnectOptions::default() },
    )
    .await?;

    let mut summaries = Vec::new();
    let mut broken = false;
    for round_no in 0..rounds {
        let summary = load_round(&server, &admin, &tokens, round_no, seconds).await?;
        broken |= summary["lost"] != 0 || summary["doubled"] != 0 || summary["not_started_by_a_client"] != 0;
        broken |= summary["succeeded_without_every_operation"] != 0 || summary["errors"] != 0;
        summaries.push(summary);
    }
    server.stop().await?;

    let summary = json!({
        "measure": "load",
        "clients": clients,
        "seconds": seconds,
        "rss_mb_idle": round(idle.resident),
        "heap_mb_idle": round(idle.anonymous),
        "file_backed_mb_idle": round(idle.file),
        "rounds": summaries,
    });
    println!("{summary}");
    anyhow::ensure!(!broken, "the load lost, doubled or broke tasks: {summary}");
    Ok(())
}

/// One round: the clients load the server for `seconds`; then every task
/// left is stopped, each started task is accounted for, and memory is
/// sampled every 5 s for SETTLE_SECONDS.
async fn load_round(
    server: &Server,
    admin: &Client,
    tokens: &[String],
    round_no: usize,
    seconds: u64,
) -> anyhow::Result<serde_json::Value> {
    let before: HashSet<String> = all_tasks(admin).await?.into_iter().map(|t| t.id).collect();
    let until = Instant::now() + Duration::from_secs(seconds);
    let mut handles = Vec::new();
    for (n, token) in tokens.iter().enumerate() {
        let options = ConnectOptions { token: Some(token.clone()), ..ConnectOptions::default() };
        let client = Client::connect_with(&server.address, &options).await?;
        handles.push(tokio::spawn(drive(client, format!("load-{round_no}-{n}"), n, until)));
    }
    let mut tally = Tally::default();
    for handle in handles {
        let one = handle.await?;
        tally.started.extend(one.started);
        tally.refused += one.refused;
        tally.stops += one.stops;
        tally.lists += one.lists;
        tally.stream_messages += one.stream_messages;
        tally.errors.extend(one.errors);
        tally.start_latency.extend(one.start_latency);
        tally.list_latency.extend(one.list_latency);
    }
    let end_of_load = server.memory()?;

    // Then: stop what is left, wait for every task to end, account for each.
    admin.stop_all_tasks().await?;
    let ended_by = Instant::now() + Duration::from_secs(120);
    let listed = loop {
        let listed = all_tasks(admin).await?;
        if listed.iter().all(|t| is_terminal(t.status())) {
            break listed;
        }
        anyhow::ensure!(Instant::now() < ended_by, "tasks still active two minutes after the load");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let started: HashSet<&str> = tally.started.iter().map(String::as_str).collect();
    let ids: Vec<&str> = listed.iter().map(|t| t.id.as_str()).collect();
    let unique: HashSet<&str> = ids.iter().copied().collect();
    let lost = started.iter().filter(|id| !unique.contains(**id)).count();
    // Tasks of earlier rounds are listed too: those are not unknown.
    let unknown = unique.iter().filter(|id| !started.contains(**id) && !before.contains(**id)).count();
    let doubled = ids.len() - unique.len();
    let of_this_round = |t: &&pb::Task| started.contains(t.id.as_str());
    let by_status =
        |status: pb::TaskStatus| listed.iter().filter(of_this_round).filter(|t| t.status() == status).count();
    let unfinished_successes = listed
        .iter()
        .filter(of_this_round)
        .filter(|t| t.status() == pb::TaskStatus::Succeeded)
        .filter(|t| t.progress.as_ref().is_none_or(|p| p.completed_operations != p.total_operations))
        .count();
    let mut settling = Vec::new();
    for _ in 0..SETTLE_SECONDS / 5 {
        tokio::time::sleep(Duration::from_secs(5)).await;
        settling.push(server.memory()?);
    }
    Ok(json!({
        "round": round_no + 1,
        "started": tally.started.len(),
        "started_unique": started.len(),
        "refused_by_quota": tally.refused,
        "stops": tally.stops,
        "lists": tally.lists,
        "stream_messages": tally.stream_messages,
        "errors": tally.errors.len(),
        "first_errors": tally.errors.iter().take(5).collect::<Vec<_>>(),
        "listed_after": ids.len(),
        "lost": lost,
        "doubled": doubled,
        "not_started_by_a_client": unknown,
        "succeeded": by_status(pb::TaskStatus::Succeeded),
        "cancelled": by_status(pb::TaskStatus::Cancelled),
        "failed": by_status(pb::TaskStatus::Failed),
        "succeeded_without_every_operation": unfinished_successes,
        "start_latency": percentiles(tally.start_latency),
        "list_latency": percentiles(tally.list_latency),
        "rss_mb": {
            "end_of_load": round(end_of_load.resident),
            "peak": round(settling.last().map_or(end_of_load.peak, |m| m.peak)),
            "every_5s_after": settling.iter().map(|m| round(m.resident)).collect::<Vec<_>>(),
        },
        "heap_mb": {
            "end_of_load": round(end_of_load.anonymous),
            "every_5s_after": settling.iter().map(|m| round(m.anonymous)).collect::<Vec<_>>(),
        },
    }))
}

/// One client until `until`: start a task, follow its stream a little,
/// list the newest tasks, and stop every other task it started.
async fn drive(client: Client, name: String, n: usize, until: Instant) -> Tally {
    let mut tally = Tally::default();
    let mut round_no = 0usize;
    while Instant::now() < until {
        round_no += 1;
        let request = pb::StartTaskRequest {
            keywords: vec!["bovin".into(), "porcin".into()],
            prefectures: vec![
                PLACES[(n + round_no) % PLACES.len()].into(),
                PLACES[(n + 3 * round_no) % PLACES.len()].into(),
            ],
            request_id: format!("{name}-{round_no}"),
            ..Default::default()
        };
        let at = Instant::now();
        let task = match client.start_task(request).await {
            Ok(task) => task,
            Err(status) if status.code() == tonic::Code::ResourceExhausted => {
                tally.refused += 1;
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
            Err(status) => {
                tally.errors.push(format!("start: {status}"));
                continue;
            }
        };
        tally.start_latency.push(at.elapsed());
        tally.started.push(task.id.clone());
        match client.stream_progress(&task.id).await {
            Ok(mut stream) => {
                let read = tokio::time::timeout(Duration::from_millis(300), async {
                    let mut seen = 0;
                    while let Some(Ok(progress)) = stream.next().await {
                        seen += 1;
                        if seen >= 3 || is_terminal(progress.status()) {
                            break;
                        }
                    }
                    seen
                })
                .await;
                tally.stream_messages += read.unwrap_or(1);
            }
            Err(status) => tally.errors.push(format!("stream: {status}")),
        }
        let at = Instant::now();
        match client.list_tasks(pb::ListTasksRequest { page_size: 20, ..Default::default() }).await {
            Ok(_) => {
                tally.lists += 1;
                tally.list_latency.push(at.elapsed());
            }
            Err(status) => tally.errors.push(format!("list: {status}")),
        }
        if round_no.is_multiple_of(2) {
            match client.stop_task(&task.id).await {
                Ok(_) => tally.stops += 1,
                Err(status) if status.code() == tonic::Code::FailedPrecondition => {}
                Err(status) => tally.errors.push(format!("stop: {status}")),
            }
        }
    }
    tally
}

async fn all_tasks(client: &Client) -> anyhow::Result<Vec<pb::Task>> {
    let mut all = Vec::new();
    let mut page_token = String::new();
    loop {
        let page = client
            .list_tasks(pb::ListTasksRequest { page_size: 1000, page_token, ..Default::default() })
            .await
            .context("listing the tasks")?;
        all.extend(page.tasks);
        if page.next_page_token.is_empty() {
            return Ok(all);
        }
        page_token = page.next_page_token;
    }
}

fn is_terminal(status: pb::TaskStatus) -> bool {
    scrape_client::is_terminal(status)
}
