//! `scrape-bench`: the measurements `bench/run.sh` needs beyond whole-command
//! timings — the parse floor of the engine, the server at scale, and a
//! bounded load test.

mod load;
mod parse;
mod process;
mod scale;
mod seed;
mod slow_site;
mod stall;
mod stats;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(name = "scrape-bench", about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Per-page parse time of the engine on the fixture's workload pages, on one core.
    Parse {
        manifest: PathBuf,
        site_dir: PathBuf,
        #[arg(long, default_value = "bovin,porcin,volaille")]
        keywords: String,
        #[arg(long, default_value_t = 3)]
        repeat: usize,
    },
    /// The server at scale: ListTasks latency over many stored tasks, 1,000
    /// progress subscribers, StartTask from 32 clients, start-up time, idle RSS.
    /// Prints one JSON object per measurement.
    Scale {
        /// The release `scrape-server` binary to measure.
        #[arg(long)]
        server_bin: PathBuf,
        /// Where databases and logs go.
        #[arg(long)]
        work_dir: PathBuf,
        /// Numbers of stored tasks for the ListTasks measurements.
        #[arg(long, default_value = "10000 100000 1000000")]
        sizes: String,
        /// An admin URL of a PostgreSQL server to measure on too (a database is created).
        #[arg(long)]
        postgres: Option<String>,
    },
    /// Health-check latency (p50/p99) while four operations at a time fetch
    /// pages nested `--depth` deep, against one server binary.
    Stall {
        #[arg(long)]
        server_bin: PathBuf,
        #[arg(long)]
        work_dir: PathBuf,
        #[arg(long, default_value_t = 20_000)]
        depth: usize,
        /// How long to measure under load, in seconds.
        #[arg(long, default_value_t = 20)]
        seconds: u64,
        /// A name for the binary in the output.
        #[arg(long, default_value = "server")]
        label: String,
    },
    /// A bounded load test: CLIENTS clients, each with its own operator token,
    /// start, stream, list and stop tasks for SECONDS; then every started task
    /// must be listed once and ended, and memory is sampled for some seconds;
    /// ROUNDS times on one server. Prints one JSON object; fails if a task
    /// was lost or doubled.
    Load {
        /// The release `scrape-server` binary to load.
        #[arg(long)]
        server_bin: PathBuf,
        /// Where the database, tokens file and log go.
        #[arg(long)]
        work_dir: PathBuf,
        #[arg(long, default_value_t = 32)]
        clients: usize,
        #[arg(long, default_value_t = 30)]
        seconds: u64,
        /// How many times the load is repeated on the same server (memory
        /// after each round shows whether it keeps growing).
        #[arg(long, default_value_t = 2)]
        rounds: usize,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Parse { manifest, site_dir, keywords, repeat } => parse::run(&manifest, &site_dir, &keywords, repeat),
        Command::Scale { server_bin, work_dir, sizes, postgres } => {
            let sizes = sizes.split_whitespace().map(str::parse).collect::<Result<Vec<usize>, _>>()?;
            scale::run(&server_bin, &work_dir, &sizes, postgres.as_deref()).await
        }
        Command::Stall { server_bin, work_dir, depth, seconds, label } => {
            stall::run(&server_bin, &work_dir, depth, seconds, &label).await
        }
        Command::Load { server_bin, work_dir, clients, seconds, rounds } => {
            load::run(&server_bin, &work_dir, clients, seconds, rounds).await
        }
    }
}
