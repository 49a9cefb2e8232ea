//! scrape-tasks at scale, on the release server binary.

use std::path::Path;
use std::time::{Duration, Instant};

use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use scrape_client::{Client, pb};
use serde_json::json;
use tokio_stream::StreamExt;

use crate::process::Server;
use crate::seed;
use crate::stats::{percentiles, round};

/// Requests per ListTasks measurement.
const LIST_SAMPLES: usize = 200;
const SUBSCRIBERS: usize = 1000;
const START_CLIENTS: usize = 32;
const STARTS_PER_CLIENT: usize = 100;

pub async fn run(bin: &Path, dir: &Path, sizes: &[usize], postgres: Option<&str>) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir)?;
    startup(bin, dir).await?;
    subscribers(bin, dir).await?;
    starts(bin, dir, &sqlite_url(dir, "starts"), "sqlite").await?;
    if let Some(admin) = postgres {
        let url = fresh_postgres(admin, "starts").await?;
        starts(bin, dir, &url, "postgres").await?;
    }
    for &size in sizes {
        list_tasks(bin, dir, &sqlite_url(dir, &format!("list-{size}")), "sqlite", size).await?;
        if let Some(admin) = postgres {
            let url = fresh_postgres(admin, &format!("list_{size}")).await?;
            list_tasks(bin, dir, &url, "postgres", size).await?;
        }
    }
    Ok(())
}

fn sqlite_url(dir: &Path, name: &str) -> String {
    let path = dir.join(format!("{name}.db"));
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    format!("sqlite://{}", path.display())
}

async fn fresh_postgres(admin: &str, name: &str) -> anyhow::Result<String> {
    let database = format!("scrape_bench_{name}");
    let mut conn = AsyncPgConnection::establish(admin).await?;
    // One statement per call: DROP and CREATE DATABASE refuse a transaction block.
    diesel::sql_query(format!("DROP DATABASE IF EXISTS {database} WITH (FORCE)")).execute(&mut conn).await?;
    diesel::sql_query(format!("CREATE DATABASE {database}")).execute(&mut conn).await?;
    let mut url = url::Url::parse(admin)?;
    url.set_path(&database);
    Ok(url.to_string())
}

fn emit(value: serde_json::Value) {
    println!("{value}");
}

/// Time from spawn to SERVING, and memory once idle, over fresh databases.
async fn startup(bin: &Path, dir: &Path) -> anyhow::Result<()> {
    let mut times = Vec::new();
    let mut idle = Vec::new();
    for n in 0..5 {
        let url = sqlite_url(dir, &format!("startup-{n}"));
        let server = Server::spawn(bin, &[format!("--database-url={url}")], &dir.join("startup.log")).await?;
        times.push(server.startup);
        tokio::time::sleep(Duration::from_millis(500)).await;
        idle.push(server.memory_mb()?.0);
        server.stop().await?;
    }
    idle.sort_by(f64::total_cmp);
    emit(
        json!({"measure": "startup", "database": "sqlite", "to_serving": percentiles(times), "idle_rss_mb": round(idle[idle.len() / 2])}),
    );
    Ok(())
}

/// One running task watched by a thousand progress streams.
async fn subscribers(bin: &Path, dir: &Path) -> anyhow::Result<()> {
    let site = crate::slow_site::start(Duration::from_millis(300)).await?;
    let args = [
        format!("--database-url={}", sqlite_url(dir, "subscribers")),
        format!("--site-base-url={site}"),
        "--workers=1".into(),
        "--concurrency=32".into(),
        "--per-host-concurrency=32".into(),
        "--per-host-delay-ms=0".into(),
        "--per-server-concurrency=32".into(),
        "--per-server-delay-ms=0".into(),
    ];
    let server = Server::spawn(bin, &args, &dir.join("subscribers.log")).await?;
    let (_, peak_before) = server.memory_mb()?;
    let cpu_before = server.cpu_seconds()?;
    let task =
        server.client.start_task(pb::StartTaskRequest { keywords: vec!["bovin".into()], ..Default::default() }).await?;
    // Ten connections, a hundred streams each (HTTP/2 multiplexing).
    let mut clients = Vec::new();
    for _ in 0..10 {
        clients.push(Client::connect(&server.address).await?);
    }
    let started = Instant::now();
    let mut watchers = tokio::task::JoinSet::new();
    for n in 0..SUBSCRIBERS {
        let client = clients[n % clients.len()].clone();
        let id = task.id.clone();
        watchers.spawn(async move {
            let mut stream = client.stream_progress(&id).await?;
            let (mut messages, mut last) = (0usize, None);
            while let Some(progress) = stream.next().await {
                messages += 1;
                last = Some(progress?.status());
            }
            anyhow::Ok((messages, last))
        });
    }
    let (mut saw_end, mut messages) = (0, 0);
    while let Some(result) = watchers.join_next().await {
        let (n, last) = result??;
        messages += n;
        if last == Some(pb::TaskStatus::Succeeded) {
            saw_end += 1;
        }
    }
    let window = started.elapsed();
    let (_, peak) = server.memory_mb()?;
    let cpu = server.cpu_seconds()? - cpu_before;
    server.stop().await?;
    emit(json!({
        "measure": "stream_progress",
        "subscribers": SUBSCRIBERS,
        "saw_terminal_state": saw_end,
        "messages_per_subscriber": round(messages as f64 / SUBSCRIBERS as f64),
        "window_s": round(window.as_secs_f64()),
        "server_peak_rss_mb": round(peak),
        "server_peak_rss_before_mb": round(peak_before),
        "server_cpu_s": round(cpu),
    }));
    Ok(())
}

/// StartTask from 32 concurrent clients (tasks stay queued: no workers).
async fn starts(bin: &Path, dir: &Path, url: &str, backend: &str) -> anyhow::Result<()> {
    // 3,200 tasks stay pending here: no quota, to measure the inserts alone.
    let args = [format!("--database-url={url}"), "--workers=0".into(), "--max-pending-tasks=0".into()];
    let server = Server::spawn(bin, &args, &dir.join(format!("starts-{backend}.log"))).await?;
    let started = Instant::now();
    let mut clients = tokio::task::JoinSet::new();
    for c in 0..START_CLIENTS {
        let address = server.address.clone();
        clients.spawn(async move {
            let client = Client::connect(&address).await?;
            let mut latencies = Vec::with_capacity(STARTS_PER_CLIENT);
            for n in 0..STARTS_PER_CLIENT {
                let t = Instant::now();
                client
                    .start_task(pb::StartTaskRequest {
                        keywords: vec![format!("bovin{c}x{n}")],
                        prefectures: vec!["56".into()],
                        ..Default::default()
                    })
                    .await?;
                latencies.push(t.elapsed());
            }
            anyhow::Ok(latencies)
        });
    }
    let mut latencies = Vec::new();
    while let Some(result) = clients.join_next().await {
        latencies.extend(result??);
    }
    let elapsed = started.elapsed().as_secs_f64();
    let total = latencies.len();
    server.stop().await?;
    emit(json!({
        "measure": "start_task",
        "database": backend,
        "clients": START_CLIENTS,
        "tasks": total,
        "tasks_per_s": round(total as f64 / elapsed),
        "latency": percentiles(latencies),
    }));
    Ok(())
}

/// ListTasks pages over `size` stored tasks.
async fn list_tasks(bin: &Path, dir: &Path, url: &str, backend: &str, size: usize) -> anyhow::Result<()> {
    let seeding = Instant::now();
    seed::tasks(url, size).await?;
    let seeded_in = seeding.elapsed();
    // 3,200 tasks stay pending here: no quota, to measure the inserts alone.
    let args = [format!("--database-url={url}"), "--workers=0".into(), "--max-pending-tasks=0".into()];
    let server = Server::spawn(bin, &args, &dir.join(format!("list-{backend}-{size}.log"))).await?;
    let client = &server.client;
    let page = |request: pb::ListTasksRequest| async move {
        let t = Instant::now();
        let response = client.list_tasks(request).await?;
        anyhow::Ok((t.elapsed(), response.tasks.len()))
    };
    let full_page = |request: pb::ListTasksRequest| async move {
        let (elapsed, found) = page(request).await?;
        anyhow::ensure!(found > 0, "an empty page");
        anyhow::Ok(elapsed)
    };
    let mut rng = 0x2545_f491_4f6c_dd1d_u64;
    let mut random_time = || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        let micros = seed::BASE_MICROS + 1000 * (1 + (rng % size as u64) as i64);
        prost_timestamp(micros)
    };
    let mut kinds: Vec<(&str, Vec<Duration>)> = Vec::new();
    let mut first = Vec::new();
    let mut failed = Vec::new();
    let mut deep = Vec::new();
    let mut next = Vec::new();
    let mut query = Vec::new();
    for _ in 0..LIST_SAMPLES {
        first.push(full_page(pb::ListTasksRequest { page_size: 50, ..Default::default() }).await?);
        failed.push(
            full_page(pb::ListTasksRequest {
                page_size: 50,
                statuses: vec![pb::TaskStatus::Failed as i32],
                ..Default::default()
            })
            .await?,
        );
        deep.push(
            full_page(pb::ListTasksRequest {
                page_size: 50,
                created_before: Some(random_time()),
                ..Default::default()
            })
            .await?,
        );
        let t = Instant::now();
        let one = client.list_tasks(pb::ListTasksRequest { page_size: 50, ..Default::default() }).await?;
        let second = client
            .list_tasks(pb::ListTasksRequest { page_size: 50, page_token: one.next_page_token, ..Default::default() })
            .await?;
        anyhow::ensure!(!second.tasks.is_empty());
        next.push(t.elapsed() / 2);
    }
    let (mut rare, mut by_id, mut by_prefix) = (Vec::new(), Vec::new(), Vec::new());
    let oldest = seed::task_id(1);
    // Its first two groups, as copied from a narrow table: only it starts so.
    let oldest_prefix = oldest[..13].to_owned();
    for _ in 0..20 {
        query.push(
            full_page(pb::ListTasksRequest { page_size: 50, query: "volaille".into(), ..Default::default() }).await?,
        );
        // One task in 100,000 has this keyword.
        rare.push(page(pb::ListTasksRequest { page_size: 50, query: "caprin".into(), ..Default::default() }).await?.0);
        // A pasted task id, of the oldest task.
        let (elapsed, found) =
            page(pb::ListTasksRequest { page_size: 50, query: oldest.clone(), ..Default::default() }).await?;
        anyhow::ensure!(found == 1, "the id search found {found} tasks");
        by_id.push(elapsed);
        let (elapsed, found) =
            page(pb::ListTasksRequest { page_size: 50, query: oldest_prefix.clone(), ..Default::default() }).await?;
        anyhow::ensure!(found == 1, "the id prefix search found {found} tasks");
        by_prefix.push(elapsed);
    }
    kinds.push(("first_page", first));
    kinds.push(("status_failed", failed));
    kinds.push(("page_at_random_depth", deep));
    kinds.push(("next_page_token", next));
    kinds.push(("text_query_common", query));
    kinds.push(("text_query_rare", rare));
    kinds.push(("task_id_query", by_id));
    kinds.push(("task_id_prefix_query", by_prefix));
    server.stop().await?;
    let mut result = json!({
        "measure": "list_tasks",
        "database": backend,
        "tasks": size,
        "seeded_in_s": round(seeded_in.as_secs_f64()),
        "page_size": 50,
    });
    for (kind, samples) in kinds {
        result[kind] = percentiles(samples);
    }
    emit(result);
    Ok(())
}

fn prost_timestamp(micros: i64) -> prost_types::Timestamp {
    prost_types::Timestamp { seconds: micros / 1_000_000, nanos: ((micros % 1_000_000) * 1000) as i32 }
}
