//! The watch requests of the API, checked once for every front end: list
//! pages, news pages and the fields an update replaces.

use chrono::{DateTime, Utc};

use crate::domain::{Document, PageSize, TaskId, Violations, Watch, WatchId};
use crate::service::page_token::{InvalidPageToken, decode, encode, optional};
use crate::store::{NewsCursor, NewsFilter, WatchCursor};

/// A valid `ListWatches`.
#[derive(Debug, Clone)]
pub struct WatchListing {
    pub size: PageSize,
    pub(crate) cursor: Option<WatchCursor>,
}

impl WatchListing {
    pub fn parse(page_size: i64, page_token: &str) -> Result<WatchListing, Violations> {
        let mut violations = Violations::new();
        let size = PageSize::parse(page_size, &mut violations);
        let cursor = token(watch_cursor(page_token), &mut violations);
        violations.into_result(WatchListing { size, cursor })
    }
}

/// `ListWatchNews` as received.
#[derive(Debug, Clone, Default)]
pub struct NewsListRequest<'a> {
    pub watch_id: &'a str,
    pub since: Option<DateTime<Utc>>,
    pub task_id: &'a str,
    pub page_size: i64,
    pub page_token: &'a str,
}

/// A valid `ListWatchNews`.
#[derive(Debug, Clone)]
pub struct NewsListing {
    pub watch: WatchId,
    pub filter: NewsFilter,
    pub size: PageSize,
    pub(crate) cursor: Option<NewsCursor>,
}

impl NewsListing {
    pub fn parse(request: NewsListRequest<'_>) -> Result<NewsListing, Violations> {
        let mut violations = Violations::new();
        let watch = WatchId::parse_field("watch_id", request.watch_id).map_err(|v| violations.0.extend(v.0)).ok();
        let task = if request.task_id.trim().is_empty() {
            None
        } else {
            TaskId::parse_field("task_id", request.task_id).map_err(|v| violations.0.extend(v.0)).ok()
        };
        let size = PageSize::parse(request.page_size, &mut violations);
        let cursor = token(news_cursor(request.page_token), &mut violations);
        match watch {
            Some(watch) if violations.is_empty() => {
                Ok(NewsListing { watch, filter: NewsFilter { since: request.since, task }, size, cursor })
            }
            _ => Err(violations),
        }
    }
}

/// A part of a watch an update replaces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WatchField {
    Name,
    Task,
    Schedule,
    Webhook,
    Email,
}

impl WatchField {
    pub const ALL: [WatchField; 5] =
        [WatchField::Name, WatchField::Task, WatchField::Schedule, WatchField::Webhook, WatchField::Email];

    pub fn as_str(self) -> &'static str {
        match self {
            WatchField::Name => "name",
            WatchField::Task => "task",
            WatchField::Schedule => "schedule",
            WatchField::Webhook => "webhook",
            WatchField::Email => "email",
        }
    }

    /// The fields an update mask names (`update_mask.paths`): each path is a
    /// field or one of its parts (`schedule.cron` replaces the schedule);
    /// an empty mask replaces every field.
    pub fn parse_mask(paths: &[String]) -> Result<Vec<WatchField>, Violations> {
        let mut violations = Violations::new();
        let mut fields = Vec::new();
        for (i, path) in paths.iter().enumerate() {
            let head = path.trim().split('.').next().unwrap_or_default();
            match WatchField::ALL.into_iter().find(|f| f.as_str() == head) {
                Some(field) if !fields.contains(&field) => fields.push(field),
                Some(_) => {}
                None => violations.add(
                    format!("update_mask.paths[{i}]"),
                    format!(
                        "{path:?} is not a field of a watch that can be updated: name, task, schedule, webhook, email"
                    ),
                ),
            }
        }
        if fields.is_empty() {
            fields = WatchField::ALL.to_vec();
        }
        violations.into_result(fields)
    }
}

fn token<T>(decoded: Result<Option<T>, InvalidPageToken>, violations: &mut Violations) -> Option<T> {
    decoded.unwrap_or_else(|e| {
        violations.add("page_token", e.to_string());
        None
    })
}

pub fn watch_token(last: &Watch) -> String {
    let cursor = WatchCursor::after(last);
    encode("watches", &[cursor.created_at.to_string(), cursor.id])
}

fn watch_cursor(token: &str) -> Result<Option<WatchCursor>, InvalidPageToken> {
    optional(token, |token| {
        let [created_at, id] = decode("watches", token)?;
        let id: WatchId = id.parse().map_err(|_| InvalidPageToken)?;
        Ok(WatchCursor { created_at: created_at.parse().map_err(|_| InvalidPageToken)?, id: id.to_string() })
    })
}

pub fn news_token(last: &Document) -> String {
    let cursor = NewsCursor::after(last);
    encode("news", &[cursor.first_seen_at.to_string(), cursor.link])
}

fn news_cursor(token: &str) -> Result<Option<NewsCursor>, InvalidPageToken> {
    optional(token, |token| {
        let [first_seen_at, link] = decode("news", token)?;
        Ok(NewsCursor { first_seen_at: first_seen_at.parse().map_err(|_| InvalidPageToken)?, link })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_update_mask_names_fields_or_their_parts_and_an_empty_one_means_every_field() {
        let paths = ["schedule.cron.expression".to_owned(), "name".to_owned(), "schedule".to_owned()];
        assert_eq!(WatchField::parse_mask(&paths).ok(), Some(vec![WatchField::Schedule, WatchField::Name]));
        assert_eq!(WatchField::parse_mask(&[]).ok(), Some(WatchField::ALL.to_vec()));
        let err = WatchField::parse_mask(&["paused".to_owned()]).expect_err("not updatable");
        assert_eq!(err.0[0].field, "update_mask.paths[0]");
    }

    #[test]
    fn news_listings_need_a_watch_id_and_refuse_foreign_tokens() {
        let err = NewsListing::parse(NewsListRequest { page_token: "abc", ..Default::default() }).expect_err("invalid");
        let fields: Vec<&str> = err.0.iter().map(|v| v.field.as_str()).collect();
        assert_eq!(fields, ["watch_id", "page_token"]);
    }
}
