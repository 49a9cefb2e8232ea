//! Keywords: the words a task searches for, or excludes, validated once.

use std::collections::HashSet;

use crate::domain::Violations;
use crate::domain::text::{HIDDEN_OR_CONTROL, fold, is_hidden_or_control};

/// Longest keyword (or exclude keyword) accepted, in characters.
pub const MAX_KEYWORD_LEN: usize = 100;
/// Most keywords (or exclude keywords) in one task.
pub const MAX_KEYWORDS: usize = 50;

/// Trimmed, short, printable words, each with a letter or digit, without
/// repeats (compared case- and accent-insensitively), in the order given.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Keywords(Vec<String>);

impl Keywords {
    /// Checks the words of request field `field`; every bad one is a
    /// violation of `field[i]`, repeats are dropped.
    pub fn parse(field: &str, raw: Vec<String>, violations: &mut Violations) -> Keywords {
        Keywords::parse_at_most(field, raw, MAX_KEYWORDS, violations)
    }

    /// [`Keywords::parse`] with at most `max` words (the server's limit).
    pub fn parse_at_most(field: &str, raw: Vec<String>, max: usize, violations: &mut Violations) -> Keywords {
        if raw.len() > max {
            violations.add(field, format!("at most {max} are accepted, got {}", raw.len()));
            return Keywords::default();
        }
        let mut seen = HashSet::new();
        let mut out = Vec::new();
        for (i, word) in raw.iter().enumerate() {
            let word = word.trim();
            let path = format!("{field}[{i}]");
            if word.is_empty() {
                violations.add(path, "must not be blank");
            } else if word.chars().count() > MAX_KEYWORD_LEN {
                violations.add(path, format!("must be at most {MAX_KEYWORD_LEN} characters"));
            } else if word.chars().any(is_hidden_or_control) {
                violations.add(path, HIDDEN_OR_CONTROL);
            } else if fold(word).is_empty() {
                violations.add(path, "must contain at least one letter or digit");
            } else if seen.insert(fold(word)) {
                out.push(word.to_owned());
            }
        }
        Keywords(out)
    }

    /// Words read back from the store, which only holds validated ones.
    pub fn from_stored(words: Vec<String>) -> Keywords {
        Keywords(words)
    }

    pub fn as_slice(&self) -> &[String] {
        &self.0
    }

    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(String::as_str)
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The task's own spelling of a word given in any case or accents.
    pub fn spelling_of(&self, word: &str) -> Option<&str> {
        let folded = fold(word);
        self.iter().find(|k| fold(k) == folded)
    }

    /// The words joined with `separator`, for people.
    pub fn join(&self, separator: &str) -> String {
        self.0.join(separator)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(list: &[&str]) -> Vec<String> {
        list.iter().map(|w| (*w).to_owned()).collect()
    }

    #[test]
    fn repeats_are_kept_once_in_their_first_spelling() {
        let mut violations = Violations::new();
        let keywords = Keywords::parse("keywords", words(&["Élevage", " elevage ", "porcin"]), &mut violations);
        assert!(violations.is_empty());
        assert_eq!(keywords.as_slice(), ["Élevage", "porcin"]);
        assert_eq!(keywords.spelling_of("ELEVAGE"), Some("Élevage"));
        assert_eq!(keywords.spelling_of("bovin"), None);
    }

    #[test]
    fn each_bad_word_is_reported_at_its_index() {
        let mut violations = Violations::new();
        let long = "x".repeat(MAX_KEYWORD_LEN + 1);
        Keywords::parse("keywords", words(&["", &long, "ok", "bad\u{7}", "--"]), &mut violations);
        let fields: Vec<_> = violations.0.iter().map(|v| v.field.as_str()).collect();
        assert_eq!(fields, ["keywords[0]", "keywords[1]", "keywords[3]", "keywords[4]"]);
    }

    #[test]
    fn bidi_overrides_and_zero_width_characters_are_refused() {
        let mut violations = Violations::new();
        let kept = Keywords::parse(
            "exclude_keywords",
            words(&["bo\u{202E}vin", "\u{200B}porcin", "vol\u{FEFF}aille", "\u{2066}x\u{2069}", "ovin"]),
            &mut violations,
        );
        assert_eq!(kept.as_slice(), ["ovin"]);
        let fields: Vec<_> = violations.0.iter().map(|v| v.field.as_str()).collect();
        assert_eq!(
            fields,
            ["exclude_keywords[0]", "exclude_keywords[1]", "exclude_keywords[2]", "exclude_keywords[3]"]
        );
        assert!(violations.0.iter().all(|v| v.description.contains("invisible")));
    }

    #[test]
    fn too_many_words_is_one_violation() {
        let mut violations = Violations::new();
        let many = vec!["w".to_owned(); MAX_KEYWORDS + 1];
        assert!(Keywords::parse("exclude_keywords", many, &mut violations).is_empty());
        assert_eq!(violations.0.len(), 1);
        assert_eq!(violations.0[0].field, "exclude_keywords");
    }
}

#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::*;
    use crate::domain::text::is_hidden_or_control;

    proptest! {
        #[test]
        fn kept_words_are_trimmed_short_visible_and_distinct_and_every_other_is_reported(
            raw in prop::collection::vec(prop_oneof![3 => "[ a-zA-Zé-]{0,8}", 1 => any::<String>()], 0..12)
        ) {
            let mut violations = Violations::new();
            let kept = Keywords::parse("keywords", raw.clone(), &mut violations);
            let mut folded = std::collections::HashSet::new();
            for word in kept.iter() {
                prop_assert_eq!(word.trim(), word);
                prop_assert!((1..=MAX_KEYWORD_LEN).contains(&word.chars().count()));
                prop_assert!(!word.chars().any(is_hidden_or_control), "{:?}", word);
                prop_assert!(folded.insert(fold(word)), "a repeat: {:?}", word);
            }
            // Each word is kept, dropped as a repeat, or reported at its index.
            prop_assert!(kept.len() + violations.0.len() <= raw.len());
            for v in &violations.0 {
                let index: usize = v.field.trim_start_matches("keywords[").trim_end_matches(']').parse().expect("an index");
                prop_assert!(index < raw.len());
            }
        }
    }
}
