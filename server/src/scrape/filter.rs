//! Which cards a task keeps: the `days_limit` and `exclude_keywords` options.

use chrono::{Days, NaiveDate};

use crate::domain::Card;
use crate::domain::Keywords;
use crate::domain::text::fold;

/// Drops cards dated before a cut-off, and cards mentioning an excluded word.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CardFilter {
    /// Cards dated before this day are dropped; undated cards are kept.
    pub oldest: Option<NaiveDate>,
    /// Folded excluded words, matched inside the folded title and description.
    pub excluded: Vec<String>,
    /// The day the task runs (the end of its date window).
    pub today: Option<NaiveDate>,
}

impl CardFilter {
    /// The filter of a task run on `today`.
    pub fn new(days_limit: Option<u32>, exclude_keywords: &Keywords, today: NaiveDate) -> CardFilter {
        CardFilter {
            oldest: days_limit.and_then(|days| today.checked_sub_days(Days::new(u64::from(days)))),
            excluded: exclude_keywords.iter().map(fold).filter(|w| !w.is_empty()).collect(),
            today: Some(today),
        }
    }

    /// The first and last days of publication a task with a days limit
    /// wants, to ask of the sites that can filter by date.
    pub fn window(&self) -> Option<(NaiveDate, NaiveDate)> {
        Some((self.oldest?, self.today?))
    }

    /// Whether the card is kept.
    pub fn keeps(&self, card: &Card) -> bool {
        if let (Some(oldest), Some(date)) = (self.oldest, card.published_on)
            && date < oldest
        {
            return false;
        }
        if self.excluded.is_empty() {
            return true;
        }
        let text = format!(" {} {} ", fold(&card.title), fold(&card.description));
        !self.excluded.iter().any(|word| text.contains(word.as_str()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn card(title: &str, description: &str, date: Option<(i32, u32, u32)>) -> Card {
        Card {
            link: "https://x/y".into(),
            title: title.into(),
            description: description.into(),
            date_label: String::new(),
            published_on: date.and_then(|(y, m, d)| NaiveDate::from_ymd_opt(y, m, d)),
        }
    }

    #[test]
    fn days_limit_drops_older_cards_and_keeps_undated_ones() {
        let today = NaiveDate::from_ymd_opt(2025, 3, 31).expect("date");
        let filter = CardFilter::new(Some(30), &Keywords::default(), today);
        assert!(filter.keeps(&card("a", "", Some((2025, 3, 1)))));
        assert!(!filter.keeps(&card("a", "", Some((2025, 2, 28)))));
        assert!(filter.keeps(&card("a", "", None)));
    }

    #[test]
    fn excluded_words_match_title_or_description_ignoring_case_and_accents() {
        let today = NaiveDate::from_ymd_opt(2025, 3, 31).expect("date");
        let excluded = Keywords::from_stored(vec!["Méthanisation".into(), "porc".into()]);
        let filter = CardFilter::new(None, &excluded, today);
        assert!(!filter.keeps(&card("Unité de METHANISATION", "", None)));
        assert!(!filter.keeps(&card("Arrêté", "élevage porcin", None)));
        assert!(filter.keeps(&card("Élevage bovin", "vaches laitières", None)));
    }
}
