//! Field-by-field explanations of invalid input.

use std::fmt;

/// One invalid field: its path in the request (`keywords[2]`,
/// `export.file_name`) and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldViolation {
    pub field: String,
    pub description: String,
}

/// Every problem found in one request, so a client can fix them all at once.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Violations(pub Vec<FieldViolation>);

impl Violations {
    /// Most violations an answer lists: a request with thousands of bad
    /// values gets the first ones and a count of the rest, not an answer
    /// larger than itself.
    pub const MAX_SHOWN: usize = 20;

    pub fn new() -> Violations {
        Violations::default()
    }

    /// A single violation.
    pub fn one(field: impl Into<String>, description: impl Into<String>) -> Violations {
        let mut v = Violations::new();
        v.add(field, description);
        v
    }

    pub fn add(&mut self, field: impl Into<String>, description: impl Into<String>) {
        self.0.push(FieldViolation { field: field.into(), description: description.into() });
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The violations an answer lists: the first [`Violations::MAX_SHOWN`].
    pub fn shown(&self) -> &[FieldViolation] {
        &self.0[..self.0.len().min(Violations::MAX_SHOWN)]
    }

    /// How many violations [`Violations::shown`] leaves out.
    pub fn not_shown(&self) -> usize {
        self.0.len().saturating_sub(Violations::MAX_SHOWN)
    }

    /// "N more problems not listed", when some are left out.
    pub fn more_note(&self) -> Option<String> {
        let more = self.not_shown();
        (more > 0).then(|| format!("{more} more problem(s) not listed"))
    }

    /// `result`, with these violations (found earlier in the same request)
    /// put before its own: every problem of a request is reported at once.
    pub fn and<T>(mut self, result: Result<T, Violations>) -> Result<T, Violations> {
        match result {
            Ok(value) if self.is_empty() => Ok(value),
            Ok(_) => Err(self),
            Err(more) => {
                self.0.extend(more.0);
                Err(self)
            }
        }
    }

    /// `Ok(value)` when nothing was found wrong.
    pub fn into_result<T>(self, value: T) -> Result<T, Violations> {
        if self.is_empty() { Ok(value) } else { Err(self) }
    }
}

impl fmt::Display for Violations {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, v) in self.shown().iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{}: {}", v.field, v.description)?;
        }
        match self.more_note() {
            Some(note) => write!(f, "; and {note}"),
            None => Ok(()),
        }
    }
}

impl std::error::Error for Violations {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_answer_lists_twenty_violations_and_counts_the_rest() {
        let mut violations = Violations::new();
        for i in 0..10_000 {
            violations.add(format!("prefectures[{i}]"), "unknown prefecture");
        }
        assert_eq!(violations.shown().len(), Violations::MAX_SHOWN);
        assert_eq!(violations.not_shown(), 10_000 - Violations::MAX_SHOWN);
        let text = violations.to_string();
        assert!(text.starts_with("prefectures[0]: unknown prefecture; prefectures[1]"), "{text}");
        assert!(text.contains("prefectures[19]") && !text.contains("prefectures[20]"), "{text}");
        assert!(text.ends_with("; and 9980 more problem(s) not listed"), "{text}");
        assert!(text.len() < 1000, "{} bytes", text.len());
    }

    #[test]
    fn a_short_list_is_shown_whole() {
        let violations = Violations::one("keywords", "at least one keyword is required");
        assert_eq!(violations.to_string(), "keywords: at least one keyword is required");
        assert_eq!(violations.more_note(), None);
    }
}
