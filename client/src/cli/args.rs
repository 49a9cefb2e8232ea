//! The commands and flags of `scrapectl`.

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Start, watch, stop and list scraping tasks on a scrape-tasks server.
#[derive(Debug, Parser)]
#[command(name = "scrapectl", version, about, max_term_width = 100)]
pub struct Cli {
    /// Server address.
    #[arg(long, global = true, env = "SCRAPE_SERVER", default_value = crate::DEFAULT_SERVER)]
    pub server: String,

    /// Output for people (tables, progress bars) or for scripts (JSON).
    #[arg(long, short, global = true, value_enum, default_value_t = Output::Table)]
    pub output: Output,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Output {
    Table,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Start a task: keywords × prefectures (all, or some regions or prefectures).
    Start(StartArgs),
    /// Follow a task's progress until it ends.
    Watch {
        /// Task id.
        id: String,
    },
    /// Stop a pending or running task (results found so far are kept).
    Stop {
        /// Task id.
        id: String,
    },
    /// Show a task: parameters, progress, timestamps, totals.
    Get {
        /// Task id.
        id: String,
    },
    /// List tasks, newest first.
    List(ListArgs),
    /// Show a task's event log.
    Events {
        /// Task id.
        id: String,
    },
    /// List the regions.
    Regions,
    /// List the prefectures, optionally of one region.
    Prefectures {
        /// Region name or code.
        #[arg(long, short)]
        region: Option<String>,
    },
}

#[derive(Debug, Args)]
pub struct StartArgs {
    /// Keywords to search for; repeat the flag or separate with commas.
    #[arg(long = "keyword", short = 'k', value_name = "WORDS", required = true, value_delimiter = ',')]
    pub keywords: Vec<String>,
    /// Regions to search (name or INSEE code).
    #[arg(long = "region", short = 'r', value_name = "REGION", value_delimiter = ',')]
    pub regions: Vec<String>,
    /// Prefectures to search (name or INSEE code, e.g. 56 or Morbihan).
    #[arg(long = "prefecture", short = 'p', value_name = "PREFECTURE", value_delimiter = ',')]
    pub prefectures: Vec<String>,
    /// Skip cards mentioning one of these words.
    #[arg(long = "exclude", short = 'x', value_name = "WORDS", value_delimiter = ',')]
    pub exclude: Vec<String>,
    /// Skip cards dated more than this many days ago.
    #[arg(long, value_name = "DAYS")]
    pub days_limit: Option<u32>,
    /// Write an export with this file name into the server's export directory.
    #[arg(long, value_name = "FILE_NAME")]
    pub export_file: Option<String>,
    /// Format of the export.
    #[arg(long, value_enum, requires = "export_file")]
    pub export_format: Option<ExportFormat>,
    /// Idempotency key: starting again with the same id returns the same task.
    #[arg(long)]
    pub request_id: Option<String>,
    /// Show a live progress bar until the task ends.
    #[arg(long, short)]
    pub watch: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    Pretty,
    Json,
    Csv,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// Only tasks with these statuses (pending, running, succeeded, failed, cancelled).
    #[arg(long = "status", short = 's', value_enum, value_delimiter = ',')]
    pub statuses: Vec<Status>,
    /// Match a task id, keyword or prefecture.
    #[arg(long, short)]
    pub query: Option<String>,
    /// Tasks per page.
    #[arg(long, default_value_t = 20)]
    pub limit: i32,
    /// Continue from a previous page (printed under the table).
    #[arg(long)]
    pub page_token: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Status {
    Pending,
    Running,
    Succeeded,
    Failed,
    Cancelled,
}
