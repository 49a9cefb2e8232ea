//! Page sizes of the list calls.

use crate::domain::Violations;

/// How many items a page of a list holds: at least one, at most
/// [`PageSize::MAX`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageSize(usize);

impl PageSize {
    /// What a request that names no size gets.
    pub const DEFAULT: PageSize = PageSize(50);
    /// Largest page accepted.
    pub const MAX: usize = 1000;

    /// A size chosen by the server itself (clamped into range).
    pub const fn fixed(size: usize) -> PageSize {
        PageSize(if size == 0 {
            1
        } else if size > PageSize::MAX {
            PageSize::MAX
        } else {
            size
        })
    }

    /// A size sent by a client: 0 means the default; negative or above the
    /// maximum is a violation of `page_size`.
    pub fn parse(value: i64, violations: &mut Violations) -> PageSize {
        match usize::try_from(value) {
            Ok(0) => PageSize::DEFAULT,
            Ok(n) if n <= PageSize::MAX => PageSize(n),
            _ => {
                violations.add(
                    "page_size",
                    format!("must be between 0 (default {}) and {}", PageSize::DEFAULT.0, PageSize::MAX),
                );
                PageSize::DEFAULT
            }
        }
    }

    pub fn get(self) -> usize {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_is_the_default_and_out_of_range_is_a_violation() {
        let mut violations = Violations::new();
        assert_eq!(PageSize::parse(0, &mut violations), PageSize::DEFAULT);
        assert_eq!(PageSize::parse(7, &mut violations).get(), 7);
        assert_eq!(PageSize::parse(PageSize::MAX as i64, &mut violations).get(), PageSize::MAX);
        assert!(violations.is_empty());
        PageSize::parse(-1, &mut violations);
        PageSize::parse(PageSize::MAX as i64 + 1, &mut violations);
        assert_eq!(violations.0.len(), 2);
        assert_eq!(PageSize::fixed(0).get(), 1);
    }
}
