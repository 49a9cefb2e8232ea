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
        self.with_all(&[(name, value)])
    }

    /// A query string of these pairs with each named field replaced by its
    /// value (or removed when `None`), in the order given.
    pub fn with_all(&self, changes: &[(&str, Option<&str>)]) -> String {
        let mut out = url::form_urlencoded::Serializer::new(String::new());
        let changed = |name: &str| changes.iter().any(|(n, _)| *n == name);
        for (n, v) in self.0.iter().filter(|(n, v)| !changed(n) && !v.is_empty()) {
            out.append_pair(n, v);
        }
        for (name, value) in changes {
            if let Some(value) = value {
                out.append_pair(name, value);
            }
        }
        let query = out.finish();
        if query.is_empty() { String::new() } else { format!("?{query}") }
    }

    /// These pairs without the fields named.
    pub fn without(&self, names: &[&str]) -> Params {
        Params(self.0.iter().filter(|(n, _)| !names.contains(&n.as_str())).cloned().collect())
    }
}

/// A local path (see [`local_path`]) with its query field `name` set to
/// `value`, the rest of its query kept.
pub fn with_field(path: &str, name: &str, value: &str) -> String {
    let (path, query) = path.split_once('?').unwrap_or((path, ""));
    format!("{path}{}", Params::parse(query.as_bytes()).with(name, Some(value)))
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
    fn fields_are_replaced_removed_or_added_and_the_rest_kept() {
        let p = Params::parse(b"status=failed&order=status&page=P&trail=A.B");
        assert_eq!(p.with_all(&[("page", Some("Q")), ("trail", None)]), "?status=failed&order=status&page=Q");
        assert_eq!(p.without(&["page", "trail"]).with("size", Some("10")), "?status=failed&order=status&size=10");
        assert_eq!(with_field("/?status=failed&done=old", "done", "new"), "/?status=failed&done=new");
        assert_eq!(with_field("/tasks/x", "done", "a b"), "/tasks/x?done=a+b");
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
