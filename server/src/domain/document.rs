//! Publications: a result card as read from a search page, and a document
//! as stored once some task found it.

use chrono::{DateTime, NaiveDate, Utc};

/// One result card, with every text whitespace-collapsed. Missing parts are
/// empty (or `None` for the date): a card is kept whenever it has a link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Card {
    /// Absolute URL of the publication.
    pub link: String,
    pub title: String,
    pub description: String,
    /// The date text as shown, e.g. "Publié le 12/03/2025".
    pub date_label: String,
    pub published_on: Option<NaiveDate>,
}

/// A stored document, as one task found it. A document is unique by its
/// link across all tasks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document {
    pub link: String,
    pub title: String,
    pub description: String,
    pub published_on: Option<NaiveDate>,
    pub date_label: String,
    /// The prefecture and keyword under which it was found.
    pub prefecture_code: String,
    pub keyword: String,
    /// Every keyword that found it (in the task listed, or in any task),
    /// sorted.
    pub keywords: Vec<String>,
    /// When any task first stored it.
    pub first_seen_at: DateTime<Utc>,
}

impl Document {
    /// The publication date as `YYYY-MM-DD`, empty when the page gave none.
    pub fn published_on_text(&self) -> String {
        self.published_on.map(|d| d.format("%Y-%m-%d").to_string()).unwrap_or_default()
    }
}
