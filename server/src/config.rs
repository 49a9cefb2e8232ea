//! Server configuration: flags, each with an environment fallback, and
//! defaults that serve on 127.0.0.1:50051 with `sqlite://scrape.db`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;

use crate::runner::{RunnerConfig, default_owner};
use crate::scheduler::{RetryPolicy, SchedulerConfig, SmtpConfig};
use crate::scrape::fetch::default_user_agent;
use crate::scrape::{FetchConfig, LimitsConfig};
use crate::store::PoolConfig;

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
            user_agent: default_user_agent(),
            request_timeout_secs: 30,
            retries: 3,
            retry_base_delay_ms: 500,
            max_page_bytes: 8 * 1024 * 1024,
            database_timeout_ms: 5000,
            catalog: None,
            lease_secs: 30,
            shutdown_grace_secs: 10,
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
        ])
        .expect("valid flags");
        assert_eq!(parsed.workers, 0);
        assert_eq!(parsed.limits().per_host_delay, Duration::ZERO);
        assert_eq!(parsed.limits().per_host_concurrency, 3);
        assert!(Config::try_parse_from(["scrape-server", "--concurrency=0"]).is_err());
    }
}
