//! One search: one keyword on one site, page by page. The caller drives it
//! with [`Search::next_page`] and decides what to do with each page's cards;
//! the engine knows neither the store nor the API.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;
use url::Url;

use crate::domain::Card;
use crate::scrape::fetch::{FetchError, Fetcher};
use crate::scrape::filter::CardFilter;
use crate::scrape::parser_pool::ParserPool;
use crate::scrape::profile::{CompiledProfile, PREFECTURE_PROFILE, Profiles, SiteBase, canonical_origin};

/// How a search went. A search that failed part-way keeps what its earlier
/// pages gave and says why it stopped in `error`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperationReport {
    pub pages_fetched: u32,
    /// Distinct cards kept by the filter.
    pub items_found: u64,
    pub duration: Duration,
    pub error: Option<String>,
}

/// One page of a search.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    /// The new cards the filter kept, in page order.
    pub cards: Vec<Card>,
    /// Where the search stands after this page: a search resumed from it
    /// goes on with the next page.
    pub state: SearchState,
}

/// How far a search went: enough to resume it at its next page without
/// counting anything twice.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SearchState {
    /// Offset of the next page to fetch.
    pub offset: u32,
    pub pages_fetched: u32,
    /// Distinct cards kept so far.
    pub items_found: u64,
}

/// Something a site's server did that the task's log should say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServerNotice {
    /// It answered 429 or 503: every request to it pauses for `pause`.
    SlowedDown { host: String, server: String, status: u16, pause: Duration },
}

/// Why a search stopped before its last page.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SearchError {
    /// The search was cancelled; what earlier pages gave stays the caller's.
    #[error("cancelled after {pages_fetched} pages")]
    Cancelled { pages_fetched: u32 },
    /// A page could not be fetched or read (after retries).
    #[error("{0}")]
    Failed(String),
}

/// Runs searches against the sites: one HTTP client and its limits for
/// all, and the profiles the sites follow.
#[derive(Debug, Clone)]
pub struct Scraper {
    fetcher: Fetcher,
    base: SiteBase,
    profiles: Profiles,
    parsers: ParserPool,
}

/// A site to search: its host name, where its pages are when not at the
/// host's root, and the profile it follows.
#[derive(Debug, Clone)]
pub struct Site {
    pub domain: String,
    pub base_url: Option<Url>,
    pub profile: Arc<CompiledProfile>,
}

impl Site {
    /// What relative links of its pages are resolved against: its base URL,
    /// or its canonical origin (whatever the address it was fetched from).
    fn link_base(&self) -> Result<Url, url::ParseError> {
        match &self.base_url {
            Some(base) => base.join(&format!("{}/", base.path().trim_end_matches('/'))),
            None => canonical_origin(&self.domain),
        }
    }
}

impl Scraper {
    pub fn new(fetcher: Fetcher, base: SiteBase, profiles: Profiles, parsers: ParserPool) -> Scraper {
        Scraper { fetcher, base, profiles, parsers }
    }

    pub fn profiles(&self) -> &Profiles {
        &self.profiles
    }

    /// The site of `domain` (its pages under `base_url` when given),
    /// following the profile named `profile` (the default profile when
    /// `None`); `None` when the profile or the base URL is unknown or invalid.
    pub fn site(&self, domain: &str, base_url: Option<&str>, profile: Option<&str>) -> Option<Site> {
        let profile = self.profiles.get(profile.unwrap_or(PREFECTURE_PROFILE))?.clone();
        let base_url = base_url.map(Url::parse).transpose().ok()?;
        Some(Site { domain: domain.to_owned(), base_url, profile })
    }

    /// A search of `site` for `keyword`, keeping the cards `filter` keeps.
    pub fn search(&self, site: &Site, keyword: &str, filter: CardFilter) -> Search {
        self.resume(site, keyword, filter, SearchState::default(), HashSet::new())
    }

    /// A search that goes on from `state`, the cards with the links in
    /// `seen` already met (a search resumed after a crash).
    pub fn resume(
        &self,
        site: &Site,
        keyword: &str,
        filter: CardFilter,
        state: SearchState,
        seen: HashSet<String>,
    ) -> Search {
        Search {
            fetcher: self.fetcher.clone(),
            base: self.base.clone(),
            parsers: self.parsers.clone(),
            site: site.clone(),
            keyword: keyword.to_owned(),
            filter,
            state,
            seen,
            notices: Vec::new(),
            started: Instant::now(),
            done: false,
        }
    }
}

/// A search in progress. Pages are fetched one after the other until a page
/// has no cards, a page only repeats cards already seen, or the profile's
/// maximum offset is passed.
#[derive(Debug)]
pub struct Search {
    fetcher: Fetcher,
    base: SiteBase,
    parsers: ParserPool,
    site: Site,
    keyword: String,
    filter: CardFilter,
    state: SearchState,
    /// Links of the cards met so far (before filtering).
    seen: HashSet<String>,
    /// What the servers asked of us since the caller last took them.
    notices: Vec<ServerNotice>,
    started: Instant,
    done: bool,
}

impl Search {
    /// The next page, or `None` once the search is over. Cancelling
    /// `cancel` aborts the request in flight.
    pub async fn next_page(&mut self, cancel: &CancellationToken) -> Result<Option<Page>, SearchError> {
        let profile = self.site.profile.clone();
        if self.done || self.state.offset > profile.profile.max_offset {
            self.done = true;
            return Ok(None);
        }
        let domain = self.site.domain.clone();
        let origin = self.site.link_base().map_err(|e| self.fail(format!("invalid site {domain:?}: {e}")))?;
        let url = self
            .base
            .url(
                &domain,
                self.site.base_url.as_ref(),
                &profile.page_path(&self.keyword, self.state.offset, self.filter.window()),
            )
            .map_err(|e| self.fail(format!("invalid page URL: {e}")))?;
        let body = match self.fetcher.get(&url, cancel, &mut self.notices).await {
            Ok(body) => body,
            Err(FetchError::Cancelled) => {
                return Err(SearchError::Cancelled { pages_fetched: self.state.pages_fetched });
            }
            Err(e) => return Err(self.fail(page_error(&url, &e))),
        };
        self.state.pages_fetched += 1;
        let cards = match self.parsers.parse(profile.clone(), body, origin).await {
            Ok(cards) => cards,
            Err(e) => return Err(self.fail(format!("{url}: {e}"))),
        };
        let fresh: Vec<Card> = cards.into_iter().filter(|c| self.seen.insert(c.link.clone())).collect();
        if fresh.is_empty() {
            // An empty page, or one that only repeats earlier cards: the end.
            self.done = true;
            return Ok(None);
        }
        let cards: Vec<Card> = fresh.into_iter().filter(|c| self.filter.keeps(c)).collect();
        self.state.items_found += cards.len() as u64;
        self.state.offset += profile.profile.page_step;
        Ok(Some(Page { cards, state: self.state.clone() }))
    }

    /// What the sites' servers asked of us (pauses) since the last call,
    /// whether the pages they answered were read or not.
    pub fn take_notices(&mut self) -> Vec<ServerNotice> {
        std::mem::take(&mut self.notices)
    }

    /// How the search went, ending with `error` if it failed.
    pub fn report(&self, error: Option<String>) -> OperationReport {
        OperationReport {
            pages_fetched: self.state.pages_fetched,
            items_found: self.state.items_found,
            duration: self.started.elapsed(),
            error,
        }
    }

    fn fail(&mut self, message: String) -> SearchError {
        self.done = true;
        SearchError::Failed(message)
    }
}

fn page_error(url: &Url, error: &FetchError) -> String {
    format!("{url}: {error}")
}
