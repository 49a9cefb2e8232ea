//! Fetching pages: timeouts, a bounded body, bounded redirects, retries with
//! exponential backoff and full jitter, `Retry-After`, charset decoding, and
//! cancellation that aborts the request in flight.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::{CONTENT_TYPE, HeaderMap, RETRY_AFTER};
use tokio_util::sync::CancellationToken;
use url::Url;

use crate::scrape::limits::Limits;
use crate::scrape::resolve::Resolver;
use crate::scrape::search::ServerNotice;

/// Redirects followed before a page fails with "too many redirects".
pub const DEFAULT_MAX_REDIRECTS: usize = 5;
/// First pause before a retry; it doubles at each retry.
pub const DEFAULT_RETRY_BASE_DELAY: Duration = Duration::from_millis(500);
/// Longest pause between two attempts, whatever the doubling says.
pub const DEFAULT_RETRY_MAX_DELAY: Duration = Duration::from_secs(30);
/// Longest `Retry-After` honoured.
pub const DEFAULT_RETRY_AFTER_CAP: Duration = Duration::from_secs(120);

/// How pages are fetched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchConfig {
    /// Sent with every request, so site operators know who is calling.
    pub user_agent: String,
    /// Whole-request deadline, body included.
    pub request_timeout: Duration,
    pub connect_timeout: Duration,
    /// A larger page is an operation error, never an out-of-memory.
    pub max_body_bytes: usize,
    pub max_redirects: usize,
    /// Retries after the first attempt, for retryable failures only.
    pub retries: u32,
    /// First backoff; each retry doubles it, up to `retry_max_delay`.
    pub retry_base_delay: Duration,
    pub retry_max_delay: Duration,
    /// Longest `Retry-After` honoured; a longer one is cut to this.
    pub retry_after_cap: Duration,
}

impl Default for FetchConfig {
    fn default() -> Self {
        FetchConfig {
            user_agent: default_user_agent(),
            request_timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            max_body_bytes: 8 * 1024 * 1024,
            max_redirects: DEFAULT_MAX_REDIRECTS,
            retries: 3,
            retry_base_delay: DEFAULT_RETRY_BASE_DELAY,
            retry_max_delay: DEFAULT_RETRY_MAX_DELAY,
            retry_after_cap: DEFAULT_RETRY_AFTER_CAP,
        }
    }
}

/// `scrape-tasks/<version> (+<repository>)`.
pub fn default_user_agent() -> String {
    format!("scrape-tasks/{} (+{})", env!("CARGO_PKG_VERSION"), env!("CARGO_PKG_REPOSITORY"))
}

/// Why a page could not be fetched (after retries, for retryable causes).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FetchError {
    #[error("cancelled")]
    Cancelled,
    #[error("HTTP status {0}")]
    Status(u16),
    #[error("timed out")]
    Timeout,
    #[error("connection failed: {0}")]
    Connect(String),
    #[error("too many redirects")]
    Redirects,
    /// A redirect left the site: it is never followed.
    #[error("redirected off-site to {0}")]
    OffSite(String),
    #[error("response body larger than {0} bytes")]
    BodyTooLarge(usize),
    #[error("transport error: {0}")]
    Transport(String),
}

impl FetchError {
    /// Failures worth another attempt: the site may answer next time.
    fn is_retryable(&self) -> bool {
        match self {
            FetchError::Status(code) => matches!(code, 408 | 429) || (500..600).contains(code),
            FetchError::Timeout | FetchError::Connect(_) | FetchError::Transport(_) => true,
            FetchError::Cancelled | FetchError::Redirects | FetchError::OffSite(_) | FetchError::BodyTooLarge(_) => {
                false
            }
        }
    }

    /// A short name of the failure, for metrics.
    fn kind(&self) -> &'static str {
        match self {
            FetchError::Cancelled => "cancelled",
            FetchError::Status(_) => "status",
            FetchError::Timeout => "timeout",
            FetchError::Connect(_) => "connect",
            FetchError::Redirects => "redirects",
            FetchError::OffSite(_) => "off_site",
            FetchError::BodyTooLarge(_) => "too_large",
            FetchError::Transport(_) => "transport",
        }
    }

    fn from_reqwest(err: &reqwest::Error) -> FetchError {
        if err.is_timeout() {
            FetchError::Timeout
        } else if err.is_redirect() {
            match find_cause::<OffSite>(err) {
                Some(off) => FetchError::OffSite(off.0.clone()),
                None => FetchError::Redirects,
            }
        } else if err.is_connect() {
            FetchError::Connect(root_cause(err))
        } else {
            FetchError::Transport(root_cause(err))
        }
    }
}

/// A redirect to another host, another scheme than http(s), or another
/// server of the same host.
#[derive(Debug, thiserror::Error)]
#[error("redirected off-site to {0}")]
struct OffSite(String);

/// Follows at most `max` redirects, and only on the site first asked: the
/// same host (an IP literal included), http or https, on the same port or
/// from http to https on their default ports. Anything else stops the
/// request, so a site cannot send the engine to another host (an internal
/// service, a metadata address).
fn on_site_redirects(max: usize) -> reqwest::redirect::Policy {
    reqwest::redirect::Policy::custom(move |attempt| {
        let Some(first) = attempt.previous().first() else { return attempt.follow() };
        let target = attempt.url();
        let same_host = target.host_str().is_some() && target.host_str() == first.host_str();
        let same_server = target.port_or_known_default() == first.port_or_known_default()
            || (first.scheme() == "http"
                && first.port().is_none()
                && target.scheme() == "https"
                && target.port().is_none());
        if !matches!(target.scheme(), "http" | "https") || !same_host || !same_server {
            let host = target.host_str().map_or_else(|| target.scheme().to_owned(), str::to_owned);
            let where_to = match target.port() {
                Some(port) => format!("{host}:{port}"),
                None => host,
            };
            attempt.error(OffSite(where_to))
        } else if attempt.previous().len() > max {
            // The first of the previous URLs is the one asked, not a redirect.
            attempt.error(TooManyRedirects)
        } else {
            attempt.follow()
        }
    })
}

/// More redirects than allowed.
#[derive(Debug, thiserror::Error)]
#[error("too many redirects")]
struct TooManyRedirects;

/// The first error of type `E` in the chain of `err`.
fn find_cause<'a, E: std::error::Error + 'static>(err: &'a (dyn std::error::Error + 'static)) -> Option<&'a E> {
    let mut cause = Some(err);
    while let Some(e) = cause {
        if let Some(found) = e.downcast_ref::<E>() {
            return Some(found);
        }
        cause = e.source();
    }
    None
}

fn root_cause(err: &(dyn std::error::Error + 'static)) -> String {
    let mut cause = err;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause.to_string()
}

/// A failed attempt, with the delay the server asked for, if any.
struct Attempt {
    error: FetchError,
    retry_after: Option<Duration>,
}

impl Attempt {
    fn failed(error: FetchError) -> Attempt {
        Attempt { error, retry_after: None }
    }
}

/// Whether the server itself asked to be left alone for a while.
fn server_asked_to_wait(error: &FetchError) -> bool {
    matches!(error, FetchError::Status(429 | 503))
}

/// The HTTP client of the engine, shared by all operations.
#[derive(Debug, Clone)]
pub struct Fetcher {
    client: reqwest::Client,
    limits: Arc<Limits>,
    resolver: Resolver,
    config: Arc<FetchConfig>,
}

impl Fetcher {
    pub fn new(config: FetchConfig, limits: Arc<Limits>, resolver: Resolver) -> Result<Fetcher, reqwest::Error> {
        // Another part of the process may have installed it already.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = reqwest::Client::builder()
            .user_agent(config.user_agent.clone())
            .timeout(config.request_timeout)
            .connect_timeout(config.connect_timeout)
            .redirect(on_site_redirects(config.max_redirects))
            .pool_max_idle_per_host(limits.config().per_host_concurrency.max(1))
            .dns_resolver(resolver.clone())
            .build()?;
        Ok(Fetcher { client, limits, resolver, config: Arc::new(config) })
    }

    /// Fetches `url` as text, retrying what is worth retrying, within the
    /// limits of its host and of the server it resolves to; what the server
    /// asked of us (a pause) is added to `notices`. Cancelling `cancel`
    /// aborts the request in flight or the wait between attempts.
    pub async fn get(
        &self,
        url: &Url,
        cancel: &CancellationToken,
        notices: &mut Vec<ServerNotice>,
    ) -> Result<String, FetchError> {
        let host = url.host_str().unwrap_or_default().to_owned();
        let mut attempt = 0;
        loop {
            let outcome = tokio::select! {
                biased;
                () = cancel.cancelled() => return Err(FetchError::Cancelled),
                outcome = async {
                    let server = self.resolver.server_of(&host).await.map_err(|e| (None, Attempt::failed(FetchError::Connect(e))))?;
                    let _permit = self.limits.acquire(&host, server).await;
                    match self.attempt(url).await {
                        Ok(body) => Ok((server, body)),
                        Err(failure) => Err((Some(server), failure)),
                    }
                } => outcome,
            };
            let (server, failure) = match outcome {
                Ok((server, body)) => {
                    self.limits.server(server).succeeded();
                    return Ok(body);
                }
                Err(failed) => failed,
            };
            let paused = server.and_then(|server| self.slow_down(&host, server, &failure, attempt));
            if let Some(notice) = paused {
                notices.push(notice);
            }
            if !failure.error.is_retryable() || attempt >= self.config.retries {
                return Err(failure.error);
            }
            let status = if let FetchError::Status(code) = failure.error { Some(code) } else { None };
            crate::metrics::fetch_retried(&host, status);
            // A server that asked for a pause makes every request to it wait
            // the pause out: the retry need not wait on its own.
            let delay = if server_asked_to_wait(&failure.error) {
                Duration::ZERO
            } else {
                self.retry_delay(failure.retry_after, attempt)
            };
            tracing::debug!(%url, error = %failure.error, ?delay, attempt, "retrying");
            tokio::select! {
                biased;
                () = cancel.cancelled() => return Err(FetchError::Cancelled),
                () = tokio::time::sleep(delay) => {}
            }
            attempt += 1;
        }
    }

    /// What a failed attempt tells the server's gate: a 429 or 503 pauses
    /// the whole server (for its `Retry-After`, or the backoff), a timeout
    /// or a reset halves how many requests it gets at once. A pause that
    /// starts is reported.
    fn slow_down(&self, host: &str, server: IpAddr, failure: &Attempt, attempt: u32) -> Option<ServerNotice> {
        let gate = self.limits.server(server);
        match &failure.error {
            FetchError::Status(status @ (429 | 503)) => {
                let pause = self.retry_delay(failure.retry_after, attempt);
                let started = gate.pause(pause);
                tracing::info!(host, %server, status, ?pause, "the server asked to slow down");
                started.then(|| ServerNotice::SlowedDown {
                    host: host.to_owned(),
                    server: server.to_string(),
                    status: *status,
                    pause,
                })
            }
            FetchError::Timeout | FetchError::Transport(_) => {
                let limit = gate.congested();
                tracing::info!(host, %server, limit, "the server is slow or dropped the connection: fewer requests at once");
                None
            }
            _ => None,
        }
    }

    /// The pause before the next attempt: the site's `Retry-After`, up to
    /// the cap, else the backoff.
    fn retry_delay(&self, retry_after: Option<Duration>, attempt: u32) -> Duration {
        match retry_after {
            Some(asked) => asked.min(self.config.retry_after_cap),
            None => self.backoff(attempt),
        }
    }

    /// Full jitter: a uniform delay between zero and the exponential ceiling.
    fn backoff(&self, attempt: u32) -> Duration {
        let ceiling =
            self.config.retry_base_delay.saturating_mul(2u32.saturating_pow(attempt)).min(self.config.retry_max_delay);
        ceiling.mul_f64(fastrand::f64())
    }

    async fn attempt(&self, url: &Url) -> Result<String, Attempt> {
        let started = std::time::Instant::now();
        let outcome = self.attempt_untimed(url).await;
        // Metrics, by host: the status or failure kind, latency and bytes.
        let host = url.host_str().unwrap_or_default();
        match &outcome {
            Ok(body) => {
                crate::metrics::fetch_answered(host, 200, started.elapsed());
                crate::metrics::fetched_bytes(host, body.len());
            }
            Err(Attempt { error: FetchError::Status(code), .. }) => {
                crate::metrics::fetch_answered(host, *code, started.elapsed());
            }
            Err(Attempt { error, .. }) => crate::metrics::fetch_failed(host, error.kind(), started.elapsed()),
        }
        outcome
    }

    async fn attempt_untimed(&self, url: &Url) -> Result<String, Attempt> {
        let fail = |error| Attempt { error, retry_after: None };
        let mut response = self.client.get(url.clone()).send().await.map_err(|e| fail(FetchError::from_reqwest(&e)))?;
        let status = response.status();
        if !status.is_success() {
            let retry_after = if status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error() {
                retry_after(response.headers())
            } else {
                None
            };
            return Err(Attempt { error: FetchError::Status(status.as_u16()), retry_after });
        }
        let limit = self.config.max_body_bytes;
        if response.content_length().is_some_and(|len| len > limit as u64) {
            return Err(fail(FetchError::BodyTooLarge(limit)));
        }
        let content_type = response.headers().get(CONTENT_TYPE).and_then(|v| v.to_str().ok()).map(str::to_owned);
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| fail(FetchError::from_reqwest(&e)))? {
            if body.len() + chunk.len() > limit {
                return Err(fail(FetchError::BodyTooLarge(limit)));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(decode(&body, content_type.as_deref()))
    }
}

/// `Retry-After` as seconds or as an HTTP date.
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    (at.with_timezone(&chrono::Utc) - chrono::Utc::now()).to_std().ok().or(Some(Duration::ZERO))
}

/// Decodes a page by the charset its `Content-Type` declares, else by its
/// `<meta charset>`, else as UTF-8 (invalid bytes replaced).
pub fn decode(body: &[u8], content_type: Option<&str>) -> String {
    let declared = content_type.and_then(charset_param).or_else(|| meta_charset(body));
    let encoding =
        declared.and_then(|label| encoding_rs::Encoding::for_label(label.as_bytes())).unwrap_or(encoding_rs::UTF_8);
    let (text, _, _) = encoding.decode(body);
    text.into_owned()
}

fn charset_param(content_type: &str) -> Option<String> {
    content_type.split(';').skip(1).find_map(|param| {
        let (name, value) = param.split_once('=')?;
        name.trim().eq_ignore_ascii_case("charset").then(|| value.trim().trim_matches('"').to_owned())
    })
}

/// The charset of a `<meta charset=…>` or `<meta http-equiv … content="…; charset=…">`
/// in the first kilobytes of the page.
fn meta_charset(body: &[u8]) -> Option<String> {
    let head = &body[..body.len().min(4096)];
    let head = String::from_utf8_lossy(head).to_ascii_lowercase();
    let at = head.find("charset=")? + "charset=".len();
    let value: String = head[at..]
        .trim_start_matches(['"', '\''])
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | ':' | '.'))
        .collect();
    (!value.is_empty()).then_some(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_are_decoded_by_their_declared_charset() {
        let latin1 = b"<p>\xc9levage porcin \xe0 Plo\xebrmel</p>";
        assert_eq!(decode(latin1, Some("text/html; charset=ISO-8859-1")), "<p>Élevage porcin à Ploërmel</p>");
        let meta = b"<html><head><meta charset=\"windows-1252\"></head><body>\x93volaille\x94</body></html>";
        assert!(decode(meta, Some("text/html")).contains("\u{201c}volaille\u{201d}"));
        assert_eq!(decode("déjà".as_bytes(), None), "déjà");
    }

    #[test]
    fn retry_after_is_read_as_seconds_or_a_date() {
        let mut headers = HeaderMap::new();
        headers.insert(RETRY_AFTER, "7".parse().expect("header"));
        assert_eq!(retry_after(&headers), Some(Duration::from_secs(7)));
        headers.insert(RETRY_AFTER, "Wed, 21 Oct 2015 07:28:00 GMT".parse().expect("header"));
        assert_eq!(retry_after(&headers), Some(Duration::ZERO));
        headers.insert(RETRY_AFTER, "soon".parse().expect("header"));
        assert_eq!(retry_after(&headers), None);
    }

    /// `Retry-After` as an HTTP date, `ahead` from now.
    fn retry_at(ahead: chrono::TimeDelta) -> HeaderMap {
        let at = chrono::Utc::now() + ahead;
        let mut headers = HeaderMap::new();
        headers.insert(RETRY_AFTER, at.format("%a, %d %b %Y %H:%M:%S GMT").to_string().parse().expect("header"));
        headers
    }

    #[test]
    fn retry_after_as_a_date_in_the_future_is_the_time_left_until_then() {
        let wait = retry_after(&retry_at(chrono::TimeDelta::seconds(30))).expect("a date");
        // HTTP dates are to the second; the bounds leave seconds for a slow run.
        assert!(wait > Duration::from_secs(20) && wait <= Duration::from_secs(30), "{wait:?}");
    }

    fn fetcher(config: FetchConfig) -> Fetcher {
        let limits = Arc::new(crate::scrape::Limits::new(crate::scrape::LimitsConfig {
            per_server_concurrency: 1,
            per_server_delay: Duration::ZERO,
            concurrency: 1,
            per_host_concurrency: 1,
            per_host_delay: Duration::ZERO,
        }));
        Fetcher::new(config, limits, Resolver::new(Vec::new())).expect("client")
    }

    #[test]
    fn a_retry_after_longer_than_the_cap_is_cut_to_the_cap() {
        let fetcher = fetcher(FetchConfig::default());
        let hour = Duration::from_secs(3600);
        assert_eq!(fetcher.retry_delay(Some(hour), 0), DEFAULT_RETRY_AFTER_CAP);
        let date = retry_after(&retry_at(chrono::TimeDelta::hours(1)));
        assert_eq!(fetcher.retry_delay(date, 0), DEFAULT_RETRY_AFTER_CAP);
        let within = DEFAULT_RETRY_AFTER_CAP - Duration::from_secs(1);
        assert_eq!(fetcher.retry_delay(Some(within), 0), within, "a shorter one is honoured as it is");
        // Without one, the pause is the backoff's.
        assert!(fetcher.retry_delay(None, 0) <= DEFAULT_RETRY_BASE_DELAY);
        assert!(fetcher.retry_delay(None, 30) <= DEFAULT_RETRY_MAX_DELAY);
    }

    #[test]
    fn backoff_is_full_jitter_under_a_doubling_capped_ceiling() {
        let fetcher = fetcher(FetchConfig {
            retry_base_delay: Duration::from_millis(100),
            retry_max_delay: Duration::from_millis(1000),
            ..FetchConfig::default()
        });
        for attempt in 0..8 {
            let ceiling = Duration::from_millis(100 * 2u64.pow(attempt)).min(Duration::from_millis(1000));
            let delays: Vec<Duration> = (0..200).map(|_| fetcher.backoff(attempt)).collect();
            assert!(delays.iter().all(|d| *d <= ceiling), "attempt {attempt}");
            // Full jitter spreads the delays over the whole range.
            assert!(delays.iter().any(|d| *d < ceiling / 4) && delays.iter().any(|d| *d > ceiling * 3 / 4));
        }
    }

    #[test]
    fn only_transient_failures_are_retried() {
        for code in [408, 429, 500, 502, 503, 504] {
            assert!(FetchError::Status(code).is_retryable(), "{code}");
        }
        for code in [400, 401, 403, 404, 410] {
            assert!(!FetchError::Status(code).is_retryable(), "{code}");
        }
        assert!(FetchError::Timeout.is_retryable());
        assert!(!FetchError::BodyTooLarge(1).is_retryable());
        assert!(!FetchError::Redirects.is_retryable());
    }
}
