//! Where pages are parsed: a bounded pool of blocking threads, one per
//! core, never the async runtime's own threads. However long a page takes,
//! health checks, stops, progress streams, the dashboard and lease renewals
//! keep being served; pages beyond the pool's size wait their turn.

use std::sync::Arc;

use tokio::sync::Semaphore;
use url::Url;

use crate::domain::Card;
use crate::scrape::budget::{OverBudget, ParseBudget};
use crate::scrape::parse::parse_cards;
use crate::scrape::profile::CompiledProfile;

/// Why a page gave no cards.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error(transparent)]
    OverBudget(#[from] OverBudget),
    #[error("the parser stopped unexpectedly: {0}")]
    Crashed(String),
}

/// Parses pages on at most `threads` blocking threads at once.
#[derive(Debug, Clone)]
pub struct ParserPool {
    slots: Arc<Semaphore>,
    budget: ParseBudget,
}

impl ParserPool {
    /// A pool of `threads` (0: one per core).
    pub fn new(threads: usize, budget: ParseBudget) -> ParserPool {
        let threads = if threads == 0 { std::thread::available_parallelism().map_or(2, |n| n.get()) } else { threads };
        ParserPool { slots: Arc::new(Semaphore::new(threads)), budget }
    }

    /// The cards of `html`, parsed on a blocking thread.
    pub async fn parse(
        &self,
        profile: Arc<CompiledProfile>,
        html: String,
        origin: Url,
    ) -> Result<Vec<Card>, ParseError> {
        let _slot = self.slots.acquire().await.map_err(|e| ParseError::Crashed(e.to_string()))?;
        let budget = self.budget;
        let parsed = tokio::task::spawn_blocking(move || parse_cards(&profile, &html, &origin, &budget)).await;
        match parsed {
            Ok(cards) => Ok(cards?),
            Err(e) => Err(ParseError::Crashed(e.to_string())),
        }
    }
}
