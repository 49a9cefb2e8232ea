//! The flags of `scrapectl watch`: follow a task (`scrapectl watch TASK_ID`,
//! as before watches existed), or manage watches with a subcommand.

use clap::{ArgGroup, Args, Subcommand};

use crate::cli::args::parse_age;

/// `scrapectl watch TASK_ID`, or `scrapectl watch SUBCOMMAND`.
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true, arg_required_else_help = true)]
pub struct WatchArgs {
    /// A task id: follow the task until it ends (a progress bar, or one JSON line per update).
    #[arg(value_name = "TASK_ID")]
    pub task_id: Option<String>,

    #[command(subcommand)]
    pub command: Option<WatchCommand>,
}

/// Watches: tasks started on a schedule, each run telling what is new.
#[derive(Debug, Subcommand)]
pub enum WatchCommand {
    /// Create a watch: a task (keywords × places) run on a cron schedule or at an interval.
    Create(CreateArgs),
    /// List watches, newest first, with their next run and last news.
    List {
        /// Watches per page.
        #[arg(long, default_value_t = 20)]
        limit: i32,
        /// Continue from a previous page.
        #[arg(long)]
        page_token: Option<String>,
    },
    /// Show a watch: its task, schedule, next run, last run and notifications.
    Get {
        /// Watch id.
        id: String,
    },
    /// Stop a watch's future runs (a run in flight ends normally).
    Pause {
        /// Watch id.
        id: String,
    },
    /// Resume a paused watch: its next run is the schedule's next time from now.
    Resume {
        /// Watch id.
        id: String,
    },
    /// Start a run now, outside the schedule.
    Run {
        /// Watch id.
        id: String,
        /// Follow the run's task until it ends.
        #[arg(long, short)]
        follow: bool,
    },
    /// List a watch's news: the documents its runs found first, newest first.
    News {
        /// Watch id.
        id: String,
        /// Only news since this time: an age (24h, 7d) or a date (2026-12-01, 2026-12-01T07:00:00Z).
        #[arg(long, value_parser = parse_since)]
        since: Option<prost_types::Timestamp>,
        /// Only the news of this run (its task id).
        #[arg(long, short)]
        task: Option<String>,
        /// Documents per page.
        #[arg(long, default_value_t = 50)]
        limit: i32,
        /// Continue from a previous page.
        #[arg(long)]
        page_token: Option<String>,
    },
    /// Show a watch's log: runs, their news, notifications and their failures.
    Events {
        /// Watch id.
        id: String,
    },
    /// Delete a watch with its news and log (the tasks of its runs are kept).
    Delete {
        /// Watch id.
        id: String,
    },
}

#[derive(Debug, Args)]
#[command(group(ArgGroup::new("schedule").required(true).args(["cron", "every"])))]
pub struct CreateArgs {
    /// What the watch is called.
    #[arg(long)]
    pub name: String,
    /// Keywords to search for; repeat the flag or separate with commas.
    #[arg(long = "keyword", short = 'k', value_name = "WORDS", required = true, value_delimiter = ',')]
    pub keywords: Vec<String>,
    /// Regions to search (name or INSEE code).
    #[arg(long = "region", short = 'r', value_name = "REGION", value_delimiter = ',')]
    pub regions: Vec<String>,
    /// Prefectures to search (name or INSEE code).
    #[arg(long = "prefecture", short = 'p', value_name = "PREFECTURE", value_delimiter = ',')]
    pub prefectures: Vec<String>,
    /// Skip cards mentioning one of these words.
    #[arg(long = "exclude", short = 'x', value_name = "WORDS", value_delimiter = ',')]
    pub exclude: Vec<String>,
    /// Skip cards dated more than this many days ago.
    #[arg(long, value_name = "DAYS")]
    pub days_limit: Option<u32>,
    /// A cron expression: minute hour day-of-month month day-of-week, e.g. "0 7 * * MON-FRI".
    #[arg(long, value_name = "EXPRESSION")]
    pub cron: Option<String>,
    /// The time zone of the cron expression (UTC when not given).
    #[arg(long, value_name = "ZONE", requires = "cron")]
    pub time_zone: Option<String>,
    /// Run at this interval instead: 30s, 15m, 1h, 1d.
    #[arg(long, value_name = "INTERVAL", value_parser = parse_age)]
    pub every: Option<std::time::Duration>,
    /// POST each run's news to this URL.
    #[arg(long, value_name = "URL", requires = "webhook_secret")]
    pub webhook_url: Option<String>,
    /// The webhook's signing secret (at least 16 characters).
    #[arg(long, env = "SCRAPE_WEBHOOK_SECRET", hide_env_values = true, requires = "webhook_url")]
    pub webhook_secret: Option<String>,
    /// Email a digest of each run's news to these addresses (the server needs --smtp-url).
    #[arg(long = "email", value_name = "ADDRESS", value_delimiter = ',')]
    pub email: Vec<String>,
}

/// `24h`, `7d` (that long ago), or a date or time in RFC 3339.
pub fn parse_since(text: &str) -> Result<prost_types::Timestamp, String> {
    let text = text.trim();
    if let Ok(age) = parse_age(text) {
        let at = std::time::SystemTime::now().checked_sub(age).ok_or_else(|| format!("{text:?}: too long ago"))?;
        return Ok(prost_types::Timestamp::from(at));
    }
    let at = chrono::DateTime::parse_from_rfc3339(text)
        .map(|t| t.to_utc())
        .or_else(|_| {
            chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
                .map(|d| d.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc())
        })
        .map_err(|_| format!("{text:?}: give an age (24h, 7d) or a date (2026-12-01 or 2026-12-01T07:00:00Z)"))?;
    Ok(prost_types::Timestamp {
        seconds: at.timestamp(),
        nanos: i32::try_from(at.timestamp_subsec_nanos()).unwrap_or(0),
    })
}
