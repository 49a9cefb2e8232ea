//! Query strings and form bodies as lists of name–value pairs: HTML sends a
//! field once per selected option (`status=running&status=failed`), which a
//! struct-shaped decoder cannot take.

/// The decoded pairs of a query string or an `application/x-www-form-urlencoded` body.
#[derive(Debug, Clone, Default)]
pub struct Params(Vec<(String, String)>);

impl Params {
    /// Decodes a query string or a form body.
    pub fn parse(encoded: &[u8]) -> Params {
        Params(url::form_urlencoded::parse(encoded).into_owned().collect())
    }

    /// The pairs of an optional query string (none: no pairs).
    pub fn from_query(query: Option<String>) -> Params {
        query.map(|q| Params::parse(q.as_bytes())).unwrap_or_default()
    }

    /// The first value of a field, trimmed; empty values count as absent.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(n, _)| n == name).map(|(_, v)| v.trim()).filter(|v| !v.is_empty())
    }

    /// The first value of a field as sent (empty when absent).
    pub fn raw(&self, name: &str) -> &str {
        self.0.iter().find(|(n, _)| n == name).map_or("", |(_, v)| v.as_str())
    }

    /// Every non-empty value of a field, in order.
    pub fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.0.iter().filter(move |(n, _)| n == name).map(|(_, v)| v.trim()).filter(|v| !v.is_empty())
    }

    /// These pairs and one more: a form the server fills in.
    pub fn plus(mut self, name: &str, value: &str) -> Params {
        self.0.push((name.to_owned(), value.to_owned()));
        self
    }

    /// A query string of these pairs with `name` replaced by `value` (or
    /// removed when `None`): links that keep the current filters.
    pub fn with(&self, name: &str, value: Option<&str>) -> String {
        let mut out = url::form_urlencoded::Serializer::new(String::new());
        for (n, v) in self.0.iter().filter(|(n, v)| n != name && !v.is_empty()) {
            out.append_pair(n, v);
        }
        if let Some(value) = value {
            out.append_pair(name, value);
        }
        let query = out.finish();
        if query.is_empty() { String::new() } else { format!("?{query}") }
    }
}

/// Splits a comma-separated field into its items, as typed: blank items are
/// kept so that validation can point at them.
pub fn comma_list(value: &str) -> Vec<String> {
    if value.trim().is_empty() {
        return Vec::new();
    }
    value.split(',').map(|item| item.trim().to_owned()).collect()
}

/// A path on this site to go back to after an action, or `fallback`: never
/// another site (`//host`, `https://…`).
pub fn local_path(next: Option<&str>, fallback: String) -> String {
    match next {
        Some(path) if path.starts_with('/') && !path.starts_with("//") && !path.contains(['\\', '\r', '\n']) => {
            path.to_owned()
        }
        _ => fallback,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_fields_keep_every_value() {
        let p = Params::parse(b"status=running&status=&status=failed&q=+Morbihan+");
        assert_eq!(p.all("status").collect::<Vec<_>>(), ["running", "failed"]);
        assert_eq!(p.get("q"), Some("Morbihan"));
        assert_eq!(p.get("missing"), None);
        assert_eq!(p.with("page", Some("T")), "?status=running&status=failed&q=+Morbihan+&page=T");
    }

    #[test]
    fn comma_lists_keep_blank_items_for_validation() {
        assert_eq!(comma_list(" bovin, porcin "), ["bovin", "porcin"]);
        assert_eq!(comma_list("bovin,,"), ["bovin", "", ""]);
        assert!(comma_list("  ").is_empty());
    }

    #[test]
    fn only_local_paths_are_followed() {
        let fallback = || "/".to_owned();
        assert_eq!(local_path(Some("/tasks?status=running"), fallback()), "/tasks?status=running");
        for bad in ["//evil.example", "https://evil.example", "/\\evil", "tasks"] {
            assert_eq!(local_path(Some(bad), fallback()), "/", "{bad}");
        }
    }
}
