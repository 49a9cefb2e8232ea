//! What a page may cost to parse. An HTML tree builder's time grows with the
//! square of the nesting depth (a hostile page of 100,000 nested `<div>`
//! took close to a minute), so a page is measured with a quick scan of its
//! tags first, and refused when it is deeper or larger than the budget.

/// The limits a page must stay within to be parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParseBudget {
    /// Deepest element nesting accepted (real result pages nest about 30).
    pub max_depth: usize,
    /// Most elements accepted in the parsed region.
    pub max_elements: usize,
    /// Most result cards taken from one page.
    pub max_cards: usize,
}

/// Deepest nesting accepted by default.
pub const DEFAULT_MAX_DEPTH: usize = 512;
/// Most elements accepted by default.
pub const DEFAULT_MAX_ELEMENTS: usize = 200_000;
/// Most cards taken from one page by default (real pages hold ten).
pub const DEFAULT_MAX_CARDS: usize = 200;

impl Default for ParseBudget {
    fn default() -> Self {
        ParseBudget { max_depth: DEFAULT_MAX_DEPTH, max_elements: DEFAULT_MAX_ELEMENTS, max_cards: DEFAULT_MAX_CARDS }
    }
}

/// Why a page was not (entirely) read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OverBudget {
    #[error("elements nested deeper than {max} (the page was not parsed)")]
    TooDeep { max: usize },
    #[error("more than {max} elements (the page was not parsed)")]
    TooManyElements { max: usize },
    #[error("more than {max} result cards on one page")]
    TooManyCards { max: usize },
}

/// Elements that never have content.
const VOID: [&str; 14] =
    ["area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source", "track", "wbr"];
/// Elements whose end tag may be left out: an open one closes when the next
/// sibling starts, so they do not deepen the tree.
const OPTIONAL_END: [&str; 13] =
    ["p", "li", "dt", "dd", "option", "optgroup", "tr", "td", "th", "thead", "tbody", "tfoot", "colgroup"];
/// Elements whose content is text, not tags.
const RAW_TEXT: [&str; 4] = ["script", "style", "textarea", "title"];

impl ParseBudget {
    /// Checks `html` against the depth and element limits, in one pass over
    /// its bytes (no tree is built).
    pub fn check(&self, html: &str) -> Result<(), OverBudget> {
        let bytes = html.as_bytes();
        let (mut depth, mut elements, mut at) = (0usize, 0usize, 0usize);
        while let Some(offset) = memchr::memchr(b'<', &bytes[at..]) {
            at += offset + 1;
            let rest = &bytes[at..];
            if rest.starts_with(b"!--") {
                at += memchr::memmem::find(rest, b"-->").map_or(rest.len(), |end| end + 3);
                continue;
            }
            let closing = rest.first() == Some(&b'/');
            let name_start = usize::from(closing);
            let name_len = rest[name_start..].iter().take_while(|b| b.is_ascii_alphanumeric()).count();
            if name_len == 0 || !rest[name_start].is_ascii_alphabetic() {
                continue;
            }
            let name = std::str::from_utf8(&rest[name_start..name_start + name_len]).unwrap_or_default();
            let name = name.to_ascii_lowercase();
            let tag_end = memchr::memchr(b'>', rest).unwrap_or(rest.len());
            let self_closing = tag_end > 0 && rest[tag_end - 1] == b'/';
            at += tag_end;
            let name = name.as_str();
            if closing {
                if !VOID.contains(&name) && !OPTIONAL_END.contains(&name) {
                    depth = depth.saturating_sub(1);
                }
                continue;
            }
            elements += 1;
            if elements > self.max_elements {
                return Err(OverBudget::TooManyElements { max: self.max_elements });
            }
            if RAW_TEXT.contains(&name) {
                at += end_of_raw_text(&bytes[at..], name.as_bytes());
                continue;
            }
            if self_closing || VOID.contains(&name) || OPTIONAL_END.contains(&name) {
                continue;
            }
            depth += 1;
            if depth > self.max_depth {
                return Err(OverBudget::TooDeep { max: self.max_depth });
            }
        }
        Ok(())
    }
}

/// Where the raw text of an element named `name` ends: at its end tag, in
/// any case (or at the end of the page).
fn end_of_raw_text(text: &[u8], name: &[u8]) -> usize {
    let mut from = 0;
    while let Some(offset) = memchr::memmem::find(&text[from..], b"</") {
        let at = from + offset;
        let candidate = &text[at + 2..];
        if candidate.len() >= name.len() && candidate[..name.len()].eq_ignore_ascii_case(name) {
            return at;
        }
        from = at + 2;
    }
    text.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nested(depth: usize) -> String {
        format!("{}x{}", "<div>".repeat(depth), "</div>".repeat(depth))
    }

    #[test]
    fn a_page_deeper_than_the_budget_is_refused_before_any_tree_is_built() {
        let budget = ParseBudget::default();
        assert_eq!(budget.check(&nested(100_000)), Err(OverBudget::TooDeep { max: DEFAULT_MAX_DEPTH }));
        assert_eq!(budget.check(&nested(DEFAULT_MAX_DEPTH)), Ok(()));
        assert_eq!(budget.check(&nested(DEFAULT_MAX_DEPTH + 1)), Err(OverBudget::TooDeep { max: DEFAULT_MAX_DEPTH }));
    }

    #[test]
    fn siblings_unclosed_paragraphs_void_and_raw_text_elements_do_not_deepen_the_page() {
        let budget = ParseBudget { max_depth: 5, ..ParseBudget::default() };
        let siblings = "<div><p>a</p></div>".repeat(10_000);
        assert_eq!(budget.check(&siblings), Ok(()));
        let sloppy = format!("<div>{}</div>", "<p>texte <br> <img src=x> <input/>".repeat(1000));
        assert_eq!(budget.check(&sloppy), Ok(()));
        let script = format!("<main><script>{}</script><!-- {} --></main>", "<div>".repeat(100), "<div>".repeat(100));
        assert_eq!(budget.check(&script), Ok(()));
    }

    #[test]
    fn a_page_with_too_many_elements_is_refused() {
        let budget = ParseBudget { max_elements: 1000, ..ParseBudget::default() };
        assert_eq!(budget.check(&"<span>x</span>".repeat(1001)), Err(OverBudget::TooManyElements { max: 1000 }));
        assert_eq!(budget.check(&"<span>x</span>".repeat(1000)), Ok(()));
    }
}
