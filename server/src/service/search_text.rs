//! What `ListTasks.query` matches: a task's search text, written once when
//! the task is created, and whether a query names a place.

use crate::domain::text::fold;
use crate::domain::{TaskId, TaskSpec};
use crate::service::TaskService;

impl TaskService {
    /// The id, keywords, and the names and codes of the prefectures and
    /// regions searched (left out for a task over every prefecture, which
    /// any place name matches), folded.
    pub(super) fn search_text(&self, id: TaskId, spec: &TaskSpec) -> String {
        let mut parts = vec![id.to_string()];
        parts.extend(spec.keywords.iter().map(str::to_owned));
        let every_prefecture = spec.regions.is_empty() && spec.prefectures.is_empty();
        for code in spec.targets.iter().filter(|_| !every_prefecture) {
            if let Some(p) = self.catalog.prefecture_by_code(code) {
                parts.push(format!("{} {}", p.code, p.name));
            }
        }
        for code in &spec.regions {
            parts.push(self.catalog.region_name(code).to_owned());
        }
        format!(" {} ", parts.iter().map(|p| fold(p)).collect::<Vec<_>>().join(" | "))
    }

    /// Whether a folded query appears in a prefecture's or region's name or code.
    pub(super) fn names_a_place(&self, query: &str) -> bool {
        let hit = |code: &str, name: &str| fold(code).contains(query) || fold(name).contains(query);
        self.catalog.prefectures().iter().any(|p| hit(&p.code, &p.name))
            || self.catalog.regions().iter().any(|r| hit(&r.code, &r.name))
    }
}
