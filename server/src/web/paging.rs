//! Previous and next pages of a list paged by keyset cursors. A cursor
//! leads forward only, so a page's address carries, beside its own page
//! token, the tokens of the pages before it (its trail): "previous" goes to
//! the last of them, which is exactly the page shown before, started where
//! it started; "next" adds the current token to the trail.

use maud::{Markup, html};

use crate::web::params::Params;

/// Separates the tokens of a trail: page tokens are url-safe base64, which
/// never holds a dot.
const SEPARATOR: char = '.';

/// Where a list stands: the token of the page shown (none for the first),
/// and the tokens of the pages before it but the first.
#[derive(Debug, Clone)]
pub struct Trail<'a> {
    /// The query fields of the page token and of the trail.
    fields: (&'static str, &'static str),
    current: Option<&'a str>,
    earlier: Vec<&'a str>,
}

impl<'a> Trail<'a> {
    /// The trail of a page whose token is in query field `token` and whose
    /// earlier tokens are in field `trail`.
    pub fn read(params: &'a Params, token: &'static str, trail: &'static str) -> Trail<'a> {
        let current = params.get(token);
        let earlier = match current {
            Some(_) => {
                params.get(trail).map_or_else(Vec::new, |t| t.split(SEPARATOR).filter(|t| !t.is_empty()).collect())
            }
            // The first page has nothing before it.
            None => Vec::new(),
        };
        Trail { fields: (token, trail), current, earlier }
    }

    /// The page's number, from 1.
    pub fn number(&self) -> usize {
        if self.current.is_some() { self.earlier.len() + 2 } else { 1 }
    }

    /// The query changes that lead to the first page.
    pub fn to_first(&self) -> [(&'static str, Option<String>); 2] {
        [(self.fields.0, None), (self.fields.1, None)]
    }

    /// The query changes that lead to the page before this one, `None` on
    /// the first page.
    pub fn to_previous(&self) -> Option<[(&'static str, Option<String>); 2]> {
        self.current?;
        let (token, trail) = self.fields;
        Some(match self.earlier.split_last() {
            None => self.to_first(),
            Some((last, before)) => [(token, Some((*last).to_owned())), (trail, joined(before))],
        })
    }

    /// The query changes that lead to the page after this one, whose token
    /// is `next`.
    pub fn to_next(&self, next: &str) -> [(&'static str, Option<String>); 2] {
        let mut earlier = self.earlier.clone();
        earlier.extend(self.current);
        [(self.fields.0, Some(next.to_owned())), (self.fields.1, joined(&earlier))]
    }
}

fn joined(tokens: &[&str]) -> Option<String> {
    (!tokens.is_empty()).then(|| tokens.join(&SEPARATOR.to_string()))
}

/// A query string of `params` with `changes` made.
fn href(base: &str, params: &Params, changes: &[(&'static str, Option<String>)], anchor: &str) -> String {
    let changes: Vec<(&str, Option<&str>)> = changes.iter().map(|(n, v)| (*n, v.as_deref())).collect();
    format!("{base}{}{anchor}", params.with_all(&changes))
}

/// The links between the pages of a list at `base` (`anchor` appended):
/// first, previous, the page's number, next.
pub fn nav(label: &str, base: &str, params: &Params, trail: &Trail<'_>, next: Option<&str>, anchor: &str) -> Markup {
    let previous = trail.to_previous();
    html! {
        @if previous.is_some() || next.is_some() {
            nav.pages aria-label=(label) {
                @if trail.number() > 2 { a.first href=(href(base, params, &trail.to_first(), anchor)) { "« First page" } }
                @if let Some(changes) = &previous { a rel="prev" href=(href(base, params, changes, anchor)) { "← Previous page" } }
                span.page-number { "Page " (trail.number()) }
                @if let Some(next) = next { a rel="next" href=(href(base, params, &trail.to_next(next), anchor)) { "Next page →" } }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_then_previous_comes_back_to_each_earlier_page_exactly() {
        let first = Params::default();
        let trail = Trail::read(&first, "page", "trail");
        assert_eq!(trail.number(), 1);
        assert!(trail.to_previous().is_none());
        let query = first.with_all(&[("page", Some("B")), ("trail", None)]);
        let second = Params::parse(query.trim_start_matches('?').as_bytes());
        let trail = Trail::read(&second, "page", "trail");
        assert_eq!(trail.number(), 2);
        assert_eq!(trail.to_next("C"), [("page", Some("C".into())), ("trail", Some("B".into()))]);
        assert_eq!(trail.to_previous(), Some([("page", None), ("trail", None)]), "the first page");
        let fourth = Params::parse(b"q=x&page=D&trail=B.C");
        let trail = Trail::read(&fourth, "page", "trail");
        assert_eq!(trail.number(), 4);
        assert_eq!(trail.to_previous(), Some([("page", Some("C".into())), ("trail", Some("B".into()))]));
        assert_eq!(trail.to_next("E"), [("page", Some("E".into())), ("trail", Some("B.C.D".into()))]);
        assert_eq!(href("/", &fourth, &trail.to_first(), "#list"), "/?q=x#list");
    }

    #[test]
    fn a_trail_without_a_page_token_is_the_first_page() {
        let params = Params::parse(b"trail=B.C");
        let trail = Trail::read(&params, "page", "trail");
        assert_eq!(trail.number(), 1);
        assert!(trail.to_previous().is_none());
    }
}
