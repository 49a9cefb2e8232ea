//! One operation: search one site for one keyword, follow the result pages
//! until one has no cards, and hand each page's kept cards to a sink.

use std::collections::HashSet;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;

use crate::scrape::fetch::{FetchError, Fetcher};
use crate::scrape::filter::CardFilter;
use crate::scrape::parse::{Card, parse_cards};
use crate::scrape::profile::{CompiledProfile, SiteBase, canonical_origin};

/// Where the cards of each page go (the store, in the server).
pub trait PageSink: Send {
    /// Stores one page's cards; an error ends the operation with that error.
    fn store(&mut self, cards: Vec<Card>) -> impl Future<Output = Result<(), String>> + Send;
}

/// How an operation went. An operation that failed part-way keeps what its
/// earlier pages stored and says why it stopped in `error`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperationReport {
    pub pages_fetched: u32,
    /// Distinct cards kept by the filter.
    pub items_found: u64,
    pub duration: Duration,
    pub error: Option<String>,
}

/// The operation was cancelled; pages already stored stay stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("operation cancelled after {pages_fetched} pages")]
pub struct Cancelled {
    pub pages_fetched: u32,
}

/// Runs operations against sites of one profile.
#[derive(Debug, Clone)]
pub struct Scraper {
    fetcher: Fetcher,
    profile: Arc<CompiledProfile>,
    base: SiteBase,
}

impl Scraper {
    pub fn new(fetcher: Fetcher, profile: CompiledProfile, base: SiteBase) -> Scraper {
        Scraper { fetcher, profile: Arc::new(profile), base }
    }

    /// Searches `domain` for `keyword`. Pages are fetched one after the other
    /// until a page has no cards, a page only repeats cards already seen, or
    /// the profile's maximum offset is passed.
    pub async fn run_operation<S: PageSink>(
        &self,
        domain: &str,
        keyword: &str,
        filter: &CardFilter,
        cancel: &CancellationToken,
        sink: &mut S,
    ) -> Result<OperationReport, Cancelled> {
        let started = Instant::now();
        let profile = &self.profile.profile;
        let mut report = OperationReport { pages_fetched: 0, items_found: 0, duration: Duration::ZERO, error: None };
        let mut seen = HashSet::new();
        let mut offset = 0;
        report.error = match canonical_origin(domain) {
            Err(e) => Some(format!("invalid domain {domain:?}: {e}")),
            Ok(origin) => loop {
                if offset > profile.max_offset {
                    break None;
                }
                let url = match self.base.url(domain, &self.profile.page_path(keyword, offset)) {
                    Ok(url) => url,
                    Err(e) => break Some(format!("invalid page URL: {e}")),
                };
                let body = match self.fetcher.get(&url, cancel).await {
                    Ok(body) => body,
                    Err(FetchError::Cancelled) => return Err(Cancelled { pages_fetched: report.pages_fetched }),
                    Err(e) => break Some(format!("{url}: {e}")),
                };
                report.pages_fetched += 1;
                let cards = parse_cards(&self.profile, &body, &origin);
                if cards.is_empty() {
                    break None;
                }
                let fresh: Vec<Card> = cards.into_iter().filter(|c| seen.insert(c.link.clone())).collect();
                if fresh.is_empty() {
                    break None;
                }
                let kept: Vec<Card> = fresh.into_iter().filter(|c| filter.keeps(c)).collect();
                report.items_found += kept.len() as u64;
                if !kept.is_empty()
                    && let Err(e) = sink.store(kept).await
                {
                    break Some(format!("storing the results of {url} failed: {e}"));
                }
                offset += profile.page_step;
            },
        };
        report.duration = started.elapsed();
        Ok(report)
    }
}
