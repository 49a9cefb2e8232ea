//! How a list of tasks is ordered: `ListTasks.order_by`, in the form of
//! Google's AIP-132 (`"created_at desc"`, `"status"`), one field at a time.

use std::fmt;

use crate::domain::Violations;

/// What the tasks of a list are sorted by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SortKey {
    /// When the task was created.
    CreatedAt,
    /// The status's name (`cancelled` < `failed` < `pending` < `running` <
    /// `succeeded`), which groups the tasks of each status.
    Status,
    /// The keywords, folded (case and accents aside), as listed.
    Keywords,
}

impl SortKey {
    pub const ALL: [SortKey; 3] = [SortKey::CreatedAt, SortKey::Status, SortKey::Keywords];

    /// The field's name in `order_by`.
    pub fn field(self) -> &'static str {
        match self {
            SortKey::CreatedAt => "created_at",
            SortKey::Status => "status",
            SortKey::Keywords => "keywords",
        }
    }

    fn from_field(name: &str) -> Option<SortKey> {
        SortKey::ALL.into_iter().find(|key| key.field() == name)
    }
}

/// The order of a list of tasks: one key, up or down. Tasks that tie on
/// the key (same status, same keywords) come newest first, then by id, so
/// that the order is total and keyset pages never skip nor repeat a task.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TaskOrder {
    pub key: SortKey,
    pub descending: bool,
}

impl Default for TaskOrder {
    fn default() -> TaskOrder {
        TaskOrder::NEWEST_FIRST
    }
}

impl TaskOrder {
    /// The default: newest first.
    pub const NEWEST_FIRST: TaskOrder = TaskOrder { key: SortKey::CreatedAt, descending: true };

    /// Every order a list can have.
    pub const ALL: [TaskOrder; 6] = [
        TaskOrder { key: SortKey::CreatedAt, descending: true },
        TaskOrder { key: SortKey::CreatedAt, descending: false },
        TaskOrder { key: SortKey::Status, descending: false },
        TaskOrder { key: SortKey::Status, descending: true },
        TaskOrder { key: SortKey::Keywords, descending: false },
        TaskOrder { key: SortKey::Keywords, descending: true },
    ];

    /// The order of request field `order_by`: empty for newest first, else
    /// a field name, optionally followed by `desc` (or `asc`), with any
    /// spacing. Anything else is a violation of `order_by`.
    pub fn parse(value: &str, violations: &mut Violations) -> TaskOrder {
        let fields = || SortKey::ALL.map(SortKey::field).join(", ");
        let words: Vec<&str> = value.split_whitespace().collect();
        if words.is_empty() {
            return TaskOrder::NEWEST_FIRST;
        }
        if value.contains(',') {
            violations
                .add("order_by", format!("orders by one field only (ties come newest first): one of {}", fields()));
            return TaskOrder::NEWEST_FIRST;
        }
        let descending = match words.get(1..) {
            Some([]) | Some(["asc"]) => false,
            Some(["desc"]) => true,
            _ => {
                violations
                    .add("order_by", format!("{value:?} is not a field followed by nothing, \"asc\" or \"desc\""));
                return TaskOrder::NEWEST_FIRST;
            }
        };
        match SortKey::from_field(words[0]) {
            Some(key) => TaskOrder { key, descending },
            None => {
                violations.add("order_by", format!("cannot order by {:?}: order by one of {}", words[0], fields()));
                TaskOrder::NEWEST_FIRST
            }
        }
    }

    /// The canonical `order_by` text of this order (`"status desc"`,
    /// `"keywords"`), which [`TaskOrder::parse`] reads back.
    pub fn as_str(self) -> &'static str {
        match (self.key, self.descending) {
            (SortKey::CreatedAt, true) => "created_at desc",
            (SortKey::CreatedAt, false) => "created_at",
            (SortKey::Status, true) => "status desc",
            (SortKey::Status, false) => "status",
            (SortKey::Keywords, true) => "keywords desc",
            (SortKey::Keywords, false) => "keywords",
        }
    }

    /// The same key the other way.
    pub fn reversed(self) -> TaskOrder {
        TaskOrder { descending: !self.descending, ..self }
    }
}

impl fmt::Display for TaskOrder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What the tasks are sorted by under [`SortKey::Keywords`]: the keywords,
/// folded, one space apart, at most this many characters (enough to tell
/// lists apart, and short enough for an index).
pub const KEYWORDS_KEY_LEN: usize = 100;

/// The sort key of a task's keywords (see [`KEYWORDS_KEY_LEN`]).
pub fn keywords_key<'a>(keywords: impl IntoIterator<Item = &'a str>) -> String {
    let folded: Vec<String> = keywords.into_iter().map(crate::domain::text::fold).collect();
    folded.join(" ").chars().take(KEYWORDS_KEY_LEN).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<TaskOrder, Vec<String>> {
        let mut violations = Violations::new();
        let order = TaskOrder::parse(text, &mut violations);
        if violations.is_empty() { Ok(order) } else { Err(violations.0.into_iter().map(|v| v.field).collect()) }
    }

    #[test]
    fn every_order_reads_back_from_its_text_and_spacing_does_not_matter() {
        for order in TaskOrder::ALL {
            assert_eq!(parse(order.as_str()), Ok(order));
        }
        assert_eq!(parse(""), Ok(TaskOrder::NEWEST_FIRST));
        assert_eq!(parse("  status   desc "), Ok(TaskOrder { key: SortKey::Status, descending: true }));
        assert_eq!(parse("keywords asc"), Ok(TaskOrder { key: SortKey::Keywords, descending: false }));
    }

    #[test]
    fn unknown_fields_directions_and_several_fields_are_violations_of_order_by() {
        for bad in ["name", "status up", "status desc desc", "status, created_at desc", "Status", "desc"] {
            assert_eq!(parse(bad), Err(vec!["order_by".to_owned()]), "{bad}");
        }
    }

    #[test]
    fn keywords_sort_by_their_folded_words_within_a_bounded_key() {
        assert_eq!(keywords_key(["Élevage", "porcin"]), "elevage porcin");
        let long = "x".repeat(80);
        assert_eq!(keywords_key([long.as_str(), long.as_str()]).chars().count(), KEYWORDS_KEY_LEN);
    }
}
