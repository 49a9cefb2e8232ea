//! Where the engine's pages go while an operation runs: kept in memory and
//! written with the operation's record in one transaction when it ends (or,
//! when it is stopped, written alone so that what it found stays).

use crate::scrape::{Card, PageSink};

/// The cards of one operation so far (at most the profile's page limit
/// times the cards of a page).
#[derive(Debug, Default)]
pub(super) struct CollectedCards {
    pub cards: Vec<Card>,
}

impl PageSink for CollectedCards {
    async fn store(&mut self, cards: Vec<Card>) -> Result<(), String> {
        self.cards.extend(cards);
        Ok(())
    }
}
