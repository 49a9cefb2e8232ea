//! Publication dates as the sites write them: numeric (`12/03/2025`,
//! `3.7.2024`), or spelled out in the site's language with its month names
//! and day ordinals ("Publié le 1er mars 2025"). The words belong to the
//! site profile; the French ones are built in.

use chrono::NaiveDate;

use crate::domain::text::fold;

/// The words a site spells dates with, folded (lower case, no accents).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DateWords {
    /// January first.
    pub months: [String; 12],
    /// Suffixes a day number may carry (`1er`).
    pub day_suffixes: Vec<String>,
}

impl DateWords {
    /// French, as the prefecture sites write it.
    pub fn french() -> DateWords {
        let months = [
            "janvier",
            "fevrier",
            "mars",
            "avril",
            "mai",
            "juin",
            "juillet",
            "aout",
            "septembre",
            "octobre",
            "novembre",
            "decembre",
        ];
        DateWords { months: months.map(str::to_owned), day_suffixes: vec!["er".to_owned()] }
    }

    /// The first date found in `label`, if any.
    pub fn parse(&self, label: &str) -> Option<NaiveDate> {
        numeric_date(label).or_else(|| self.spelled_date(label))
    }

    /// `12 mars 2025`, `1er mars 2025`.
    fn spelled_date(&self, label: &str) -> Option<NaiveDate> {
        let folded = fold(label);
        let words: Vec<&str> = folded.split(' ').collect();
        words.windows(3).find_map(|w| {
            let day = self.day_suffixes.iter().find_map(|s| w[0].strip_suffix(s.as_str())).unwrap_or(w[0]);
            let day: u32 = day.parse().ok()?;
            let month = self.months.iter().position(|m| m == w[1])? as u32 + 1;
            let year: i32 = w[2].parse().ok().filter(|y| (1000..=9999).contains(y))?;
            NaiveDate::from_ymd_opt(year, month, day)
        })
    }
}

/// `DD/MM/YYYY` (or `D/M/YYYY`, with `/`, `.` or `-` between the parts).
fn numeric_date(label: &str) -> Option<NaiveDate> {
    let bytes = label.as_bytes();
    let mut start = 0;
    while start < bytes.len() {
        if bytes[start].is_ascii_digit()
            && (start == 0 || !bytes[start - 1].is_ascii_digit())
            && let Some(date) = numeric_date_at(&label[start..])
        {
            return Some(date);
        }
        start += 1;
    }
    None
}

fn numeric_date_at(text: &str) -> Option<NaiveDate> {
    let mut parts = [0u32; 3];
    let mut rest = text;
    for (i, part) in parts.iter_mut().enumerate() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        let max = if i == 2 { 4 } else { 2 };
        if digits == 0 || digits > max || (i == 2 && digits != 4) {
            return None;
        }
        *part = rest[..digits].parse().ok()?;
        rest = &rest[digits..];
        if i < 2 {
            rest = rest.strip_prefix(['/', '.', '-'])?;
        }
    }
    if rest.bytes().next().is_some_and(|b| b.is_ascii_digit()) {
        return None;
    }
    NaiveDate::from_ymd_opt(parts[2] as i32, parts[1], parts[0])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ymd(y: i32, m: u32, d: u32) -> Option<NaiveDate> {
        NaiveDate::from_ymd_opt(y, m, d)
    }

    fn parse_date(label: &str) -> Option<NaiveDate> {
        DateWords::french().parse(label)
    }

    #[test]
    fn the_three_label_formats_parse() {
        assert_eq!(parse_date("Publié le 12/03/2025"), ymd(2025, 3, 12));
        assert_eq!(parse_date("Mis à jour le 05/10/2025"), ymd(2025, 10, 5));
        assert_eq!(parse_date("Le 01/02/2025"), ymd(2025, 2, 1));
    }

    #[test]
    fn spelled_out_and_loose_dates_parse() {
        assert_eq!(parse_date("Publié le 1er mars 2025"), ymd(2025, 3, 1));
        assert_eq!(parse_date("Mis à jour le 15 AOÛT 2024"), ymd(2024, 8, 15));
        assert_eq!(parse_date("  Le\u{a0}3/7/2024 "), ymd(2024, 7, 3));
        assert_eq!(parse_date("Le 03.07.2024"), ymd(2024, 7, 3));
    }

    #[test]
    fn no_date_or_an_impossible_one_gives_none() {
        assert_eq!(parse_date(""), None);
        assert_eq!(parse_date("Publié récemment"), None);
        assert_eq!(parse_date("Le 31/02/2025"), None);
        assert_eq!(parse_date("Réf. 123/45/67890"), None);
        assert_eq!(parse_date("Le 12/03/25"), None);
    }

    #[test]
    fn another_language_brings_its_own_words() {
        let months = [
            "january",
            "february",
            "march",
            "april",
            "may",
            "june",
            "july",
            "august",
            "september",
            "october",
            "november",
            "december",
        ];
        let english = DateWords { months: months.map(str::to_owned), day_suffixes: vec!["st".into(), "th".into()] };
        assert_eq!(english.parse("Published 1st March 2025"), ymd(2025, 3, 1));
        assert_eq!(english.parse("Publié le 1er mars 2025"), None);
    }
}
