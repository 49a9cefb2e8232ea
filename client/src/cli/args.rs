//! The commands and flags of `scrapectl`.

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Start, watch, stop and list scraping tasks, and schedule watches, on a scrape-tasks server.
#[derive(Debug, Parser)]
#[command(name = "scrapectl", version, about, max_term_width = 100)]
pub struct Cli {
    /// Server address.
    #[arg(long, global = true, env = "SCRAPE_SERVER", default_value = crate::DEFAULT_SERVER)]
    pub server: String,

    /// Token sent with every call (`authorization: Bearer`); prefer the
    /// environment variable, which other users cannot see in the process list.
    #[arg(long, global = true, env = "SCRAPE_TOKEN", hide_env_values = true)]
    pub token: Option<String>,

    /// PEM certificate of the CA that signed the server's certificate (for https:// servers;
    /// default: the system's roots).
    #[arg(long, global = true, env = "SCRAPE_TLS_CA")]
    pub tls_ca: Option<std::path::PathBuf>,

    /// PEM certificate of this client, for servers that require one (with --tls-key).
    #[arg(long, global = true, env = "SCRAPE_TLS_CERT", requires = "tls_key")]
    pub tls_cert: Option<std::path::PathBuf>,

    /// PEM private key of --tls-cert.
    #[arg(long, global = true, env = "SCRAPE_TLS_KEY", requires = "tls_cert")]
    pub tls_key: Option<std::path::PathBuf>,

    /// Output for people (tables, progress bars) or for scripts (JSON).
    #[arg(long, short, global = true, value_enum, default_value_t = Output::Table)]
    pub output: Output,

    /// Tables as wide as their content: nothing is wrapped to fit the terminal
    /// (by default tables fit `COLUMNS` or the terminal, ids and links kept whole).
    #[arg(long, global = true)]
    pub wide: bool,

    #[command(subcommand)]
    pub command: Command,
}

impl Cli {
    /// The token and TLS material given.
    pub fn connect_options(&self) -> crate::ConnectOptions {
        crate::ConnectOptions {
            token: self.token.clone(),
            tls_ca: self.tls_ca.clone(),
            tls_identity: self.tls_cert.clone().zip(self.tls_key.clone()),
        }
    }
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
    /// Follow a task until it ends (`watch TASK_ID`), or manage watches: tasks
    /// run on a schedule that report what is new (`watch create|list|get|pause|resume|run|news|events|delete`).
    Watch(crate::cli::watch_args::WatchArgs),
    /// Stop a pending or running task (results found so far are kept), or all of them.
    Stop {
        /// Task id.
        #[arg(required_unless_present = "all", conflicts_with = "all")]
        id: Option<String>,
        /// Stop every pending or running task.
        #[arg(long)]
        all: bool,
    },
    /// Run a finished task again; its previous results are replaced.
    Restart {
        /// Task id.
        id: String,
    },
    /// Delete a task that is not running, with its results.
    Delete {
        /// Task id.
        id: String,
    },
    /// Delete finished tasks (all finished ones unless --status narrows it).
    Purge {
        /// Only tasks completed longer ago than this: 30d, 12h, 2w, 90m.
        #[arg(long, value_parser = parse_age)]
        older_than: Option<std::time::Duration>,
        /// Only tasks with these statuses (succeeded, failed, cancelled).
        #[arg(long = "status", short = 's', value_enum, value_delimiter = ',')]
        statuses: Vec<Status>,
    },
    /// Show the result of each operation (prefecture × keyword) of a task.
    Results {
        /// Task id.
        id: String,
        /// Only this prefecture (name or code).
        #[arg(long, short)]
        prefecture: Option<String>,
        /// Only this keyword.
        #[arg(long, short)]
        keyword: Option<String>,
    },
    /// List documents: those of a task, or all of them.
    Documents {
        /// Only those this task found.
        #[arg(long, short)]
        task: Option<String>,
        /// Only this keyword.
        #[arg(long, short)]
        keyword: Option<String>,
        /// Only this prefecture (name or code).
        #[arg(long, short)]
        prefecture: Option<String>,
        /// Words to find in the title or description.
        #[arg(long, short)]
        query: Option<String>,
        /// Documents per page.
        #[arg(long, default_value_t = 50)]
        limit: i32,
        /// Continue from a previous page.
        #[arg(long)]
        page_token: Option<String>,
    },
    /// Write a task's export to standard output.
    Export {
        /// Task id.
        id: String,
        /// Format of the export.
        #[arg(long, short, value_enum, default_value_t = ExportFormat::Json)]
        format: ExportFormat,
    },
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions { shell: clap_complete::Shell },
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
    /// Check that the server is serving (exit code 1 if not).
    Health,
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
    /// The order: "created_at desc" (the default), "created_at", "status",
    /// "status desc", "keywords" or "keywords desc".
    #[arg(long)]
    pub order_by: Option<String>,
    /// Continue from a previous page (printed under the table).
    #[arg(long)]
    pub page_token: Option<String>,
}

/// `30d`, `12h`, `2w`, `90m`, `45s`.
pub fn parse_age(text: &str) -> Result<std::time::Duration, String> {
    let text = text.trim();
    let split = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let n: u64 = number.parse().map_err(|_| format!("{text:?}: expected a number and a unit, e.g. 30d"))?;
    let seconds = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        "w" => 604_800,
        _ => return Err(format!("{text:?}: the unit is one of s, m, h, d, w")),
    };
    Ok(std::time::Duration::from_secs(n.saturating_mul(seconds)))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Status {
    Pending,
    Running,
    Succeeded,
    Failed,
    Cancelled,
}
