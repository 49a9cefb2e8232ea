//! Metrics in the Prometheus text format, served at `/metrics`: counters
//! and histograms recorded where things happen (the fetcher, the runner,
//! the streams), gauges of the tasks by status and of the queue read from
//! the store when `/metrics` is scraped. The `metrics` crate records them;
//! its Prometheus exporter renders the text.
//!
//! The recorder is global to the process: it is installed once, by the
//! first server built in it.

use std::sync::OnceLock;
use std::time::Duration;

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use crate::domain::TaskStatus;

/// Pages fetched, by host and HTTP status (or `timeout`, `connect`,
/// `transport`, `too_large`, `redirects` when no status came back).
pub const FETCHES: &str = "scrape_fetches_total";
/// Time of each fetch attempt, body included.
pub const FETCH_SECONDS: &str = "scrape_fetch_duration_seconds";
/// Attempts made again after a transient failure, by host.
pub const FETCH_RETRIES: &str = "scrape_fetch_retries_total";
/// Pauses a site asked for with 429 or 503, by host and status.
pub const SERVER_PAUSES: &str = "scrape_server_pauses_total";
/// Bytes of the page bodies received, by host.
pub const FETCHED_BYTES: &str = "scrape_fetched_bytes_total";
/// Operations recorded, by outcome: `done` or `failed`.
pub const OPERATIONS: &str = "scrape_operations_total";
/// Open progress and export streams (gRPC) and dashboard event streams, by kind.
pub const ACTIVE_STREAMS: &str = "scrape_active_streams";
/// Tasks in the database, by status.
pub const TASKS: &str = "scrape_tasks";
/// Pending tasks: the queue the workers claim from.
pub const QUEUE_DEPTH: &str = "scrape_queue_depth";

/// Upper bounds of the fetch latency histogram, in seconds.
const FETCH_BUCKETS: [f64; 12] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0];

static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// Installs the recorder (once per process) and returns what renders it;
/// `None` if another recorder was installed first.
pub fn install() -> Option<&'static PrometheusHandle> {
    HANDLE
        .get_or_init(|| {
            let builder = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Full(FETCH_SECONDS.to_owned()), &FETCH_BUCKETS)
                .ok()?;
            let handle = builder.install_recorder().ok()?;
            describe();
            keep_up(handle.clone());
            Some(handle)
        })
        .as_ref()
}

/// How often the recorded histogram samples are folded into their buckets.
const UPKEEP_EVERY: Duration = Duration::from_secs(5);

/// The exporter keeps every histogram sample until it is folded into the
/// buckets, which a scrape of `/metrics` or an upkeep does: without one,
/// a server nobody scrapes would hold every fetch time it ever measured.
/// A thread of its own, since the recorder outlives any one runtime.
fn keep_up(handle: PrometheusHandle) {
    let spawned = std::thread::Builder::new().name("metrics-upkeep".into()).spawn(move || {
        loop {
            std::thread::sleep(UPKEEP_EVERY);
            handle.run_upkeep();
        }
    });
    if let Err(e) = spawned {
        tracing::warn!(error = %e, "no metrics upkeep thread: histogram samples wait for /metrics scrapes");
    }
}

fn describe() {
    metrics::describe_counter!(FETCHES, "Pages fetched, by host and HTTP status (or failure kind)");
    metrics::describe_histogram!(FETCH_SECONDS, metrics::Unit::Seconds, "Time of each fetch attempt, body included");
    metrics::describe_counter!(FETCH_RETRIES, "Fetch attempts made again after a transient failure, by host");
    metrics::describe_counter!(SERVER_PAUSES, "Pauses a site asked for with 429 or 503, by host and status");
    metrics::describe_counter!(FETCHED_BYTES, metrics::Unit::Bytes, "Bytes of page bodies received, by host");
    metrics::describe_counter!(OPERATIONS, "Operations recorded, by outcome (done, failed)");
    metrics::describe_gauge!(ACTIVE_STREAMS, "Open progress, export and dashboard event streams, by kind");
    metrics::describe_gauge!(TASKS, "Tasks in the database, by status");
    metrics::describe_gauge!(QUEUE_DEPTH, "Pending tasks waiting for a worker");
}

/// The Prometheus text, with the task gauges set from `counts` (tasks by
/// status, as the store counts them).
pub fn render(counts: &[(TaskStatus, u64)]) -> String {
    let Some(handle) = install() else { return String::new() };
    for status in TaskStatus::ALL {
        let n = counts.iter().find(|(s, _)| *s == status).map_or(0, |(_, n)| *n);
        metrics::gauge!(TASKS, "status" => status.as_str()).set(n as f64);
        if status == TaskStatus::Pending {
            metrics::gauge!(QUEUE_DEPTH).set(n as f64);
        }
    }
    handle.render()
}

/// A page answered with `status` after `elapsed`.
pub fn fetch_answered(host: &str, status: u16, elapsed: Duration) {
    metrics::counter!(FETCHES, "host" => host.to_owned(), "status" => status.to_string()).increment(1);
    metrics::histogram!(FETCH_SECONDS).record(elapsed.as_secs_f64());
}

/// A page that brought no status back (`kind`: timeout, connect…).
pub fn fetch_failed(host: &str, kind: &'static str, elapsed: Duration) {
    metrics::counter!(FETCHES, "host" => host.to_owned(), "status" => kind).increment(1);
    metrics::histogram!(FETCH_SECONDS).record(elapsed.as_secs_f64());
}

pub fn fetched_bytes(host: &str, bytes: usize) {
    metrics::counter!(FETCHED_BYTES, "host" => host.to_owned()).increment(bytes as u64);
}

/// A retry; `status` 429 or 503 is also a pause the site asked for.
pub fn fetch_retried(host: &str, status: Option<u16>) {
    metrics::counter!(FETCH_RETRIES, "host" => host.to_owned()).increment(1);
    if let Some(status @ (429 | 503)) = status {
        metrics::counter!(SERVER_PAUSES, "host" => host.to_owned(), "status" => status.to_string()).increment(1);
    }
}

/// An operation recorded, failed or not.
pub fn operation_recorded(failed: bool) {
    metrics::counter!(OPERATIONS, "outcome" => if failed { "failed" } else { "done" }).increment(1);
}

/// Counts one open stream of `kind` for as long as it lives.
#[derive(Debug)]
pub struct StreamGauge(&'static str);

impl StreamGauge {
    pub fn open(kind: &'static str) -> StreamGauge {
        metrics::gauge!(ACTIVE_STREAMS, "kind" => kind).increment(1.0);
        StreamGauge(kind)
    }
}

impl Drop for StreamGauge {
    fn drop(&mut self) {
        metrics::gauge!(ACTIVE_STREAMS, "kind" => self.0).decrement(1.0);
    }
}
