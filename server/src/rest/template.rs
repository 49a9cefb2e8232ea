//! Path templates of HTTP rules (`/v1/tasks/{task_id}:stop`): parsed once,
//! then matched against request paths, giving the value of each variable.
//!
//! Only what the API's rules need is accepted: literal segments, variables
//! taking one whole segment (`{field}` or `{field=*}`, the field possibly a
//! dotted path), and a final `:verb`. Anything else is refused when the
//! server starts, so a rule the server cannot serve is never silently
//! ignored.

use std::fmt;

use percent_encoding::percent_decode_str;

/// One segment of a template.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Literal(String),
    /// A variable bound to this field path (`watch.id` → `["watch", "id"]`).
    Variable(String),
}

/// A parsed path template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    segments: Vec<Segment>,
    verb: Option<String>,
}

/// A template the server cannot serve.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("path template {template:?}: {reason}")]
pub struct TemplateError {
    template: String,
    reason: &'static str,
}

impl Template {
    /// Parses `text` (which starts with `/`).
    pub fn parse(text: &str) -> Result<Template, TemplateError> {
        let fail = |reason| TemplateError { template: text.to_owned(), reason };
        let rest = text.strip_prefix('/').ok_or_else(|| fail("must start with /"))?;
        // The verb follows the last colon outside braces.
        let (path, verb) = match rest.rfind(':') {
            Some(at) if !rest[at..].contains('}') => (&rest[..at], Some(rest[at + 1..].to_owned())),
            _ => (rest, None),
        };
        if verb.as_deref().is_some_and(|v| v.is_empty() || v.contains('/')) {
            return Err(fail("a verb is a name after the last colon"));
        }
        let mut segments = Vec::new();
        for part in path.split('/') {
            if let Some(inner) = part.strip_prefix('{').and_then(|p| p.strip_suffix('}')) {
                let field = match inner.split_once('=') {
                    Some((field, "*")) => field,
                    Some(_) => return Err(fail("only {field} and {field=*} variables are supported")),
                    None => inner,
                };
                let valid = !field.is_empty()
                    && field
                        .split('.')
                        .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'));
                if !valid {
                    return Err(fail("a variable names a field"));
                }
                segments.push(Segment::Variable(field.to_owned()));
            } else if part.is_empty() || part.contains(['{', '}', '*']) {
                return Err(fail("segments are names or whole {field} variables"));
            } else {
                segments.push(Segment::Literal(part.to_owned()));
            }
        }
        Ok(Template { segments, verb })
    }

    /// The field paths of the variables, in order.
    pub fn variables(&self) -> impl Iterator<Item = &str> {
        self.segments.iter().filter_map(|s| match s {
            Segment::Variable(field) => Some(field.as_str()),
            Segment::Literal(_) => None,
        })
    }

    /// The value of each variable (percent-decoded) when `path` matches.
    pub fn matches(&self, path: &str) -> Option<Vec<(String, String)>> {
        let rest = path.strip_prefix('/')?;
        // As in the rules, a colon in the last segment starts its verb.
        let (rest, verb) = match rest.rsplit_once(':') {
            Some((rest, verb)) if !verb.contains('/') => (rest, Some(verb)),
            _ => (rest, None),
        };
        if verb != self.verb.as_deref() {
            return None;
        }
        let parts: Vec<&str> = rest.split('/').collect();
        if parts.len() != self.segments.len() {
            return None;
        }
        let mut values = Vec::new();
        for (segment, part) in self.segments.iter().zip(parts) {
            match segment {
                Segment::Literal(literal) if literal == part => {}
                Segment::Literal(_) => return None,
                Segment::Variable(_) if part.is_empty() => return None,
                Segment::Variable(field) => {
                    let value = percent_decode_str(part).decode_utf8().ok()?;
                    values.push((field.clone(), value.into_owned()));
                }
            }
        }
        Some(values)
    }
}

/// The template as OpenAPI writes paths: `{field}` for each variable.
impl fmt::Display for Template {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for segment in &self.segments {
            match segment {
                Segment::Literal(literal) => write!(f, "/{literal}")?,
                Segment::Variable(field) => write!(f, "/{{{field}}}")?,
            }
        }
        if let Some(verb) = &self.verb {
            write!(f, ":{verb}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn template(text: &str) -> Template {
        Template::parse(text).expect("a valid template")
    }

    fn pairs(values: &[(&str, &str)]) -> Vec<(String, String)> {
        values.iter().map(|(f, v)| ((*f).to_owned(), (*v).to_owned())).collect()
    }

    #[test]
    fn variables_take_one_segment_and_verbs_must_match() {
        let stop = template("/v1/tasks/{task_id}:stop");
        assert_eq!(stop.matches("/v1/tasks/abc:stop"), Some(pairs(&[("task_id", "abc")])));
        assert_eq!(stop.matches("/v1/tasks/abc"), None);
        assert_eq!(stop.matches("/v1/tasks/abc:restart"), None);
        assert_eq!(stop.matches("/v1/tasks/:stop"), None, "an empty variable");
        let get = template("/v1/tasks/{task_id}");
        assert_eq!(get.matches("/v1/tasks/abc"), Some(pairs(&[("task_id", "abc")])));
        assert_eq!(get.matches("/v1/tasks/abc:stop"), None, "a verb the template has not");
        assert_eq!(get.matches("/v1/tasks/abc/results"), None);
        assert_eq!(get.matches("/v1/tasks"), None);
        let all = template("/v1/tasks:stopAll");
        assert_eq!(all.matches("/v1/tasks:stopAll"), Some(vec![]));
        assert_eq!(all.matches("/v1/tasks"), None);
        assert_eq!(template("/v1/tasks").matches("/v1/tasks:stopAll"), None);
    }

    #[test]
    fn values_are_percent_decoded() {
        let region = template("/v1/regions/{region}/prefectures");
        assert_eq!(
            region.matches("/v1/regions/Provence-Alpes-C%C3%B4te%20d'Azur/prefectures"),
            Some(pairs(&[("region", "Provence-Alpes-Côte d'Azur")]))
        );
        assert_eq!(template("/v1/watches/{watch.id=*}").variables().collect::<Vec<_>>(), ["watch.id"]);
    }

    #[test]
    fn templates_print_as_openapi_paths_and_unsupported_ones_are_refused() {
        assert_eq!(template("/v1/tasks/{task_id=*}:export").to_string(), "/v1/tasks/{task_id}:export");
        for bad in ["v1/tasks", "/v1/{name=tasks/*}", "/v1/**", "/v1//tasks", "/v1/tasks:", "/v1/{}", "/v1/x{id}"] {
            assert!(Template::parse(bad).is_err(), "{bad}");
        }
    }
}
