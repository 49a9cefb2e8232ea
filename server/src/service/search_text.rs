//! What `ListTasks.query` matches: a task's search text, written once when
//! the task is created, whether a query names a place, and whether it may
//! begin a task id.

use crate::domain::text::fold;
use crate::domain::{TaskId, TaskSpec};
use crate::service::TaskService;

impl TaskService {
    /// The id as it is written, then the keywords and the names and codes
    /// of the prefectures and regions searched (left out for a task over
    /// every prefecture, which any place name matches), folded; parts are
    /// separated by ` | ` so that words match within one part, and the text
    /// starts and ends with a space so that every word has a space on
    /// either side.
    pub(super) fn search_text(&self, id: TaskId, spec: &TaskSpec) -> String {
        let mut parts: Vec<String> = spec.keywords.iter().map(str::to_owned).collect();
        let every_prefecture = spec.regions.is_empty() && spec.prefectures.is_empty();
        for code in spec.targets.iter().filter(|_| !every_prefecture) {
            if let Some(p) = self.catalog.prefecture_by_code(code) {
                parts.push(format!("{} {}", p.code, p.name));
            }
        }
        for code in &spec.regions {
            parts.push(self.catalog.region_name(code).to_owned());
        }
        let folded: Vec<String> = parts.iter().map(|p| fold(p)).collect();
        format!(" {id} | {} ", folded.join(" | "))
    }

    /// Whether a folded query is whole words of a prefecture's or region's
    /// name or code.
    pub(super) fn names_a_place(&self, query: &str) -> bool {
        let words = format!(" {query} ");
        let within = |text: &str| format!(" {} ", fold(text)).contains(&words);
        let hit = |code: &str, name: &str| within(code) || within(name);
        self.catalog.prefectures().iter().any(|p| hit(&p.code, &p.name))
            || self.catalog.regions().iter().any(|r| hit(&r.code, &r.name))
    }
}

/// The query as the start of a task id, when it can be one: four characters
/// or more, only hexadecimal digits and hyphens (lower-cased).
pub(super) fn id_prefix(query: &str) -> Option<String> {
    let query = query.trim().to_ascii_lowercase();
    (query.len() >= 4 && query.len() <= 36 && query.chars().all(|c| c.is_ascii_hexdigit() || c == '-')).then_some(query)
}

#[cfg(test)]
mod tests {
    use super::id_prefix;

    #[test]
    fn only_hexadecimal_digits_and_hyphens_can_begin_an_id() {
        assert_eq!(id_prefix("0192E3c4-5b"), Some("0192e3c4-5b".to_owned()));
        assert_eq!(id_prefix("cafe"), Some("cafe".to_owned()));
        assert_eq!(id_prefix("019"), None, "too short to mean an id");
        assert_eq!(id_prefix("bovin"), None);
        assert_eq!(id_prefix("0192 e3"), None);
    }
}
