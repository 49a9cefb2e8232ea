//! Server configuration: flags, each with an environment fallback, and
//! defaults that serve on 127.0.0.1:50051 with `sqlite://scrape.db`, and
//! the `token new` command.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, Subcommand, ValueEnum};

use crate::domain::SpecLimits;
use crate::runner::{RunnerConfig, default_owner};
use crate::scheduler::{RetryPolicy, SchedulerConfig, SmtpConfig};
use crate::scrape::fetch::default_user_agent;
use crate::scrape::{FetchConfig, LimitsConfig, ParseBudget, Pin};
use crate::service::ServiceLimits;
use crate::store::{PendingQuota, PoolConfig};

/// scrape-server: runs web-scraping tasks and streams their progress over gRPC.
#[derive(Debug, Clone, Parser)]
#[command(name = "scrape-server", version, about, max_term_width = 100)]
pub struct Config {
    /// Address to serve gRPC, gRPC-Web and the web dashboard on.
    #[arg(long, env = "SCRAPE_LISTEN", default_value = "127.0.0.1:50051")]
    pub listen: SocketAddr,

    /// sqlite://FILE (embedded, one server per file) or postgres://… (several replicas).
    #[arg(long, env = "DATABASE_URL", default_value = "sqlite://scrape.db")]
    pub database_url: String,

    /// Fetch every site from this URL template instead of https://{domain}, e.g.
    /// http://127.0.0.1:8088/{domain} for a local mirror.
    #[arg(long, env = "SCRAPE_SITE_BASE_URL")]
    pub site_base_url: Option<String>,

    /// Directory where task exports are written.
    #[arg(long, env = "SCRAPE_EXPORT_DIR", default_value = "./exports")]
    pub export_dir: PathBuf,

    /// Tasks run at once by this server (0: an API-only replica).
    #[arg(long, env = "SCRAPE_WORKERS", default_value_t = 4)]
    pub workers: usize,

    /// Requests in flight, all hosts together.
    #[arg(long, env = "SCRAPE_CONCURRENCY", default_value_t = 32, value_parser = clap::value_parser!(u32).range(1..=4096))]
    pub concurrency: u32,

    /// Requests in flight to one host.
    #[arg(long, env = "SCRAPE_PER_HOST_CONCURRENCY", default_value_t = 2, value_parser = clap::value_parser!(u32).range(1..=1024))]
    pub per_host_concurrency: u32,

    /// Minimum delay between the starts of two requests to one host, in milliseconds (0: none).
    #[arg(long, env = "SCRAPE_PER_HOST_DELAY_MS", default_value_t = 250)]
    pub per_host_delay_ms: u64,

    /// Requests in flight to one server address, all the host names that
    /// resolve to it together (most prefecture sites share one server);
    /// timeouts and resets lower it for a while.
    #[arg(long, env = "SCRAPE_PER_SERVER_CONCURRENCY", default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..=1024))]
    pub per_server_concurrency: u32,

    /// Minimum delay between the starts of two requests to one server
    /// address, in milliseconds (0: none).
    #[arg(long, env = "SCRAPE_PER_SERVER_DELAY_MS", default_value_t = 250)]
    pub per_server_delay_ms: u64,

    /// Resolve NAME to ADDRESS instead of asking the DNS, like curl's
    /// option (`*` for every name); repeat for several names. For mirrors
    /// and tests.
    #[arg(long = "resolve", env = "SCRAPE_RESOLVE", value_name = "NAME=ADDRESS", value_delimiter = ',')]
    pub resolve: Vec<Pin>,

    /// User-Agent sent to the sites.
    #[arg(long, env = "SCRAPE_USER_AGENT", default_value_t = default_user_agent())]
    pub user_agent: String,

    /// Deadline of one HTTP request, body included, in seconds.
    #[arg(long, env = "SCRAPE_REQUEST_TIMEOUT_SECS", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..))]
    pub request_timeout_secs: u64,

    /// Retries of a page after a transient failure (timeouts, 429, 5xx…).
    #[arg(long, env = "SCRAPE_RETRIES", default_value_t = 3)]
    pub retries: u32,

    /// First pause before a retry, in milliseconds; it doubles at each retry (with full jitter).
    #[arg(long, env = "SCRAPE_RETRY_BASE_DELAY_MS", default_value_t = 500)]
    pub retry_base_delay_ms: u64,

    /// Largest page accepted, in bytes; a larger one fails its operation.
    #[arg(long, env = "SCRAPE_MAX_PAGE_BYTES", default_value_t = 8 * 1024 * 1024)]
    pub max_page_bytes: usize,

    /// Most result cards taken from one page; a page with more fails its
    /// operation (real pages hold ten).
    #[arg(long, env = "SCRAPE_MAX_CARDS_PER_PAGE", default_value_t = crate::scrape::budget::DEFAULT_MAX_CARDS, value_parser = clap::value_parser!(usize))]
    pub max_cards_per_page: usize,

    /// How long a database call waits for a connection or a lock before
    /// answering UNAVAILABLE, in milliseconds.
    #[arg(long, env = "SCRAPE_DATABASE_TIMEOUT_MS", default_value_t = 5000, value_parser = clap::value_parser!(u64).range(10..))]
    pub database_timeout_ms: u64,

    /// A catalog file replacing or extending the built-in prefectures.
    #[arg(long, env = "SCRAPE_CATALOG")]
    pub catalog: Option<PathBuf>,

    /// How long a task's claim holds without a heartbeat, in seconds.
    #[arg(long, env = "SCRAPE_LEASE_SECS", default_value_t = 30, value_parser = clap::value_parser!(u64).range(2..))]
    pub lease_secs: u64,

    /// On shutdown, how long operations in flight may finish, in seconds.
    #[arg(long, env = "SCRAPE_SHUTDOWN_GRACE_SECS", default_value_t = 10)]
    pub shutdown_grace_secs: u64,

    /// Tokens the server accepts, one line each: `ROLE NAME SHA256HEX` (ROLE is
    /// viewer or operator; see `scrape-server token new`). Without it every call
    /// is allowed, and only a loopback address may be served.
    #[arg(long, env = "SCRAPE_TOKENS_FILE", help_heading = "Security")]
    pub tokens_file: Option<PathBuf>,

    /// Serve an address other hosts can reach without a tokens file (a warning is logged).
    #[arg(long, env = "SCRAPE_INSECURE_NO_AUTH", help_heading = "Security")]
    pub insecure_no_auth: bool,

    /// Host headers the dashboard, /metrics and gRPC-Web answer, comma-separated
    /// (`name` for any port, `name:port` for one); others get 421. Default: the
    /// listen address, localhost, 127.0.0.1 and [::1], with the listening port.
    #[arg(long, env = "SCRAPE_ALLOWED_HOSTS", value_delimiter = ',', help_heading = "Security")]
    pub allowed_hosts: Vec<String>,

    /// PEM certificate chain: serve gRPC, gRPC-Web and the dashboard over TLS (with --tls-key).
    #[arg(long, env = "SCRAPE_TLS_CERT", requires = "tls_key", help_heading = "Security")]
    pub tls_cert: Option<PathBuf>,

    /// PEM private key of --tls-cert.
    #[arg(long, env = "SCRAPE_TLS_KEY", requires = "tls_cert", help_heading = "Security")]
    pub tls_key: Option<PathBuf>,

    /// PEM certificates of the CAs whose client certificates are required (mutual TLS).
    #[arg(long, env = "SCRAPE_TLS_CLIENT_CA", requires = "tls_cert", help_heading = "Security")]
    pub tls_client_ca: Option<PathBuf>,

    /// Keywords (and exclude keywords) per task.
    #[arg(long, env = "SCRAPE_MAX_KEYWORDS", default_value_t = crate::domain::keywords::MAX_KEYWORDS,
          value_parser = at_least_one, help_heading = "Limits")]
    pub max_keywords: usize,

    /// Operations (prefectures × keywords) per task.
    #[arg(long, env = "SCRAPE_MAX_OPERATIONS_PER_TASK", default_value_t = crate::domain::spec::DEFAULT_MAX_OPERATIONS,
          value_parser = at_least_one, help_heading = "Limits")]
    pub max_operations_per_task: usize,

    /// Pending tasks in the whole service (0: no limit); StartTask beyond it is RESOURCE_EXHAUSTED.
    #[arg(long, env = "SCRAPE_MAX_PENDING_TASKS", default_value_t = 1000, help_heading = "Limits")]
    pub max_pending_tasks: usize,

    /// Pending tasks started with one token (0: no limit).
    #[arg(long, env = "SCRAPE_MAX_PENDING_TASKS_PER_TOKEN", default_value_t = 100, help_heading = "Limits")]
    pub max_pending_tasks_per_token: usize,

    /// Concurrent HTTP/2 streams (calls) per connection.
    #[arg(long, env = "SCRAPE_MAX_STREAMS_PER_CONNECTION", default_value_t = 128,
          value_parser = clap::value_parser!(u32).range(1..), help_heading = "Limits")]
    pub max_streams_per_connection: u32,

    /// How long a new connection may take to finish its TLS handshake and send
    /// its HTTP/2 preface or first HTTP/1 request head, in seconds.
    #[arg(long, env = "SCRAPE_HANDSHAKE_TIMEOUT_SECS", default_value_t = 10,
          value_parser = clap::value_parser!(u64).range(1..), help_heading = "Limits")]
    pub handshake_timeout_secs: u64,

    /// Log lines as text for people, or one JSON object per line.
    #[arg(long, env = "SCRAPE_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,

    /// SMTP relay for the email digests of watches: smtp://HOST:PORT (plain),
    /// smtp://USER:PASSWORD@HOST:587?tls=required (STARTTLS) or smtps://HOST:465 (TLS).
    #[arg(long, env = "SCRAPE_SMTP_URL", requires = "smtp_from")]
    pub smtp_url: Option<String>,

    /// The From address of the email digests, e.g. "Veille <veille@example.org>".
    #[arg(long, env = "SCRAPE_SMTP_FROM", requires = "smtp_url")]
    pub smtp_from: Option<String>,

    /// Attempts at delivering a watch's notification (webhook or email) before giving up.
    #[arg(long, env = "SCRAPE_NOTIFY_ATTEMPTS", default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..=100))]
    pub notify_attempts: u32,

    /// Pause after a failed delivery, in milliseconds; it doubles after each failure (at most 6 h).
    #[arg(long, env = "SCRAPE_NOTIFY_RETRY_BASE_MS", default_value_t = 30_000)]
    pub notify_retry_base_ms: u64,

    #[command(subcommand)]
    pub command: Option<Command>,
}

/// A count of at least one.
fn at_least_one(text: &str) -> Result<usize, String> {
    match text.trim().parse::<usize>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err("must be a whole number, at least 1".to_owned()),
    }
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

/// Commands other than serving.
#[derive(Debug, Clone, Subcommand)]
pub enum Command {
    /// Tokens for the tokens file.
    #[command(subcommand)]
    Token(TokenCommand),
}

#[derive(Debug, Clone, Subcommand)]
pub enum TokenCommand {
    /// Print a fresh random token, and the line of the tokens file that accepts it.
    New {
        /// viewer (reads) or operator (also starts, stops, restarts, deletes).
        #[arg(long, value_parser = ["viewer", "operator"])]
        role: String,
        /// Who holds it (letters, digits, '.', '_', '-'): shown in logs, never the token.
        #[arg(long)]
        name: String,
    },
}

impl Default for Config {
    /// The defaults of the flags, without reading the environment.
    fn default() -> Self {
        Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 50051)),
            database_url: "sqlite://scrape.db".into(),
            site_base_url: None,
            export_dir: PathBuf::from("./exports"),
            workers: 4,
            concurrency: 32,
            per_host_concurrency: 2,
            per_host_delay_ms: 250,
            per_server_concurrency: 4,
            per_server_delay_ms: 250,
            resolve: Vec::new(),
            user_agent: default_user_agent(),
            request_timeout_secs: 30,
            retries: 3,
            retry_base_delay_ms: 500,
            max_page_bytes: 8 * 1024 * 1024,
            max_cards_per_page: crate::scrape::budget::DEFAULT_MAX_CARDS,
            database_timeout_ms: 5000,
            catalog: None,
            lease_secs: 30,
            shutdown_grace_secs: 10,
            tokens_file: None,
            insecure_no_auth: false,
            allowed_hosts: Vec::new(),
            tls_cert: None,
            tls_key: None,
            tls_client_ca: None,
            max_keywords: crate::domain::keywords::MAX_KEYWORDS,
            max_operations_per_task: crate::domain::spec::DEFAULT_MAX_OPERATIONS,
            max_pending_tasks: 1000,
            max_pending_tasks_per_token: 100,
            max_streams_per_connection: 128,
            handshake_timeout_secs: 10,
            log_format: LogFormat::Text,
            command: None,
            smtp_url: None,
            smtp_from: None,
            notify_attempts: 10,
            notify_retry_base_ms: 30_000,
        }
    }
}

impl Config {
    pub fn limits(&self) -> LimitsConfig {
        LimitsConfig {
            concurrency: self.concurrency as usize,
            per_host_concurrency: self.per_host_concurrency as usize,
            per_host_delay: Duration::from_millis(self.per_host_delay_ms),
            per_server_concurrency: self.per_server_concurrency as usize,
            per_server_delay: Duration::from_millis(self.per_server_delay_ms),
        }
    }

    pub fn fetch(&self) -> FetchConfig {
        FetchConfig {
            user_agent: self.user_agent.clone(),
            request_timeout: Duration::from_secs(self.request_timeout_secs),
            retries: self.retries,
            retry_base_delay: Duration::from_millis(self.retry_base_delay_ms),
            max_body_bytes: self.max_page_bytes,
            ..FetchConfig::default()
        }
    }

    /// What a page may cost to parse.
    pub fn parse_budget(&self) -> ParseBudget {
        ParseBudget { max_cards: self.max_cards_per_page.max(1), ..ParseBudget::default() }
    }

    pub fn service_limits(&self) -> ServiceLimits {
        let limit = |n: usize| (n > 0).then_some(n);
        ServiceLimits {
            spec: SpecLimits { max_keywords: self.max_keywords, max_operations: self.max_operations_per_task },
            pending: PendingQuota {
                total: limit(self.max_pending_tasks),
                per_token: limit(self.max_pending_tasks_per_token),
            },
        }
    }

    pub fn pool(&self) -> PoolConfig {
        PoolConfig { acquire_timeout: Duration::from_millis(self.database_timeout_ms), ..PoolConfig::default() }
    }

    pub fn runner(&self) -> RunnerConfig {
        let lease = Duration::from_secs(self.lease_secs);
        RunnerConfig {
            workers: self.workers,
            operation_concurrency: self.concurrency as usize,
            lease,
            heartbeat: lease / 3,
            poll_interval: Duration::from_secs(2).min(lease / 3),
            shutdown_grace: Duration::from_secs(self.shutdown_grace_secs),
            owner: default_owner(),
            export_dir: self.export_dir.clone(),
        }
    }

    pub fn scheduler(&self) -> SchedulerConfig {
        SchedulerConfig {
            retry: RetryPolicy {
                attempts: self.notify_attempts,
                base_delay: Duration::from_millis(self.notify_retry_base_ms),
            },
            smtp: match (&self.smtp_url, &self.smtp_from) {
                (Some(url), Some(from)) => Some(SmtpConfig { url: url.clone(), from: from.clone() }),
                _ => None,
            },
            user_agent: self.user_agent.clone(),
            ..SchedulerConfig::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_arguments_give_the_documented_defaults() {
        let parsed = Config::try_parse_from(["scrape-server"]).expect("defaults parse");
        let defaults = Config::default();
        // The environment of the test run may set some variables: compare
        // only what it does not.
        if std::env::var_os("SCRAPE_LISTEN").is_none() {
            assert_eq!(parsed.listen, defaults.listen);
        }
        if std::env::var_os("DATABASE_URL").is_none() {
            assert_eq!(parsed.database_url, "sqlite://scrape.db");
        }
        assert_eq!(defaults.listen.to_string(), "127.0.0.1:50051");
    }

    #[test]
    fn every_documented_flag_is_accepted() {
        let parsed = Config::try_parse_from([
            "scrape-server",
            "--listen=0.0.0.0:6000",
            "--database-url=postgres://u@h/db",
            "--site-base-url=http://127.0.0.1:8088/{domain}",
            "--export-dir=/tmp/x",
            "--workers=0",
            "--concurrency=8",
            "--per-host-concurrency=3",
            "--per-host-delay-ms=0",
            "--per-server-concurrency=6",
            "--per-server-delay-ms=100",
            "--resolve=www.morbihan.gouv.fr=127.0.0.1,*=127.0.0.2",
        ])
        .expect("valid flags");
        assert_eq!(parsed.workers, 0);
        assert_eq!(parsed.limits().per_host_delay, Duration::ZERO);
        assert_eq!(parsed.limits().per_host_concurrency, 3);
        assert_eq!(parsed.limits().per_server_concurrency, 6);
        assert_eq!(parsed.resolve.len(), 2);
        assert!(Config::try_parse_from(["scrape-server", "--concurrency=0"]).is_err());
    }

    #[test]
    fn security_and_limit_flags_are_accepted() {
        let parsed = Config::try_parse_from([
            "scrape-server",
            "--tokens-file=/etc/scrape/tokens",
            "--allowed-hosts=scrape.example.org,10.0.0.5:50051",
            "--tls-cert=cert.pem",
            "--tls-key=key.pem",
            "--tls-client-ca=ca.pem",
            "--max-keywords=10",
            "--max-operations-per-task=500",
            "--max-pending-tasks=0",
            "--max-pending-tasks-per-token=5",
            "--max-streams-per-connection=16",
            "--handshake-timeout-secs=3",
            "--log-format=json",
        ])
        .expect("valid flags");
        assert_eq!(parsed.allowed_hosts, ["scrape.example.org", "10.0.0.5:50051"]);
        let limits = parsed.service_limits();
        assert_eq!(limits.spec.max_operations, 500);
        assert_eq!(limits.pending.total, None, "0 is no limit");
        assert_eq!(limits.pending.per_token, Some(5));
        assert_eq!(parsed.log_format, LogFormat::Json);
        assert!(
            Config::try_parse_from(["scrape-server", "--tls-cert=cert.pem"]).is_err(),
            "a certificate needs its key"
        );
        let token = Config::try_parse_from(["scrape-server", "token", "new", "--role", "viewer", "--name", "ci"])
            .expect("the token command");
        assert!(matches!(token.command, Some(Command::Token(TokenCommand::New { .. }))));
        assert!(Config::try_parse_from(["scrape-server", "token", "new", "--role", "admin", "--name", "x"]).is_err());
    }
}
